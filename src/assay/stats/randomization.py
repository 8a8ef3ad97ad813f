"""Paired randomization test for any metric computed from per-item sufficient statistics.

This is the p-value for every metric that is not a McNemar pass/fail rate (a mean score, F1, kappa,
a ratio of sums). Under the null hypothesis the two models are exchangeable on each item: which of
the two outputs is called "base" and which "candidate" is a fair coin. Swapping the labels of a unit
(an item, or a whole cluster of items) moves that unit's statistics from one side to the other, so
every swap vector s gives C* = C + s @ (b_u - c_u) and B* = B - s @ (b_u - c_u), and the metric of
each is one vectorized call. The p-value is the share of swaps at least as extreme as the observed
difference: exact (all 2^units swaps) for few units, Monte Carlo otherwise. Unlike a p-value read
off a bootstrap interval it is valid at any n: with every one of n items gaining, p = 2 / 2^n.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assay.stats._checks import count, rng_from, shown
from assay.stats._resample import all_swaps, cluster_units, swap_chunks

ALTERNATIVES = ("two-sided", "greater", "less")
_MAX_EXACT_UNITS = 24      # 2^24 swap vectors is the most enumeration is allowed to cost
_TIE_TOLERANCE = 1e-9      # relative: swaps equal to the observed difference up to rounding count


@dataclass(frozen=True, slots=True)
class RandomizationResult:
    """Paired randomization test of metric(candidate) - metric(base) = 0.

    n: items; n_units: exchangeable units (clusters when groups were given, else n). base,
    candidate, difference: the metric on the full data. pvalue: share of the swaps with a
    difference at least as extreme (exact: hits / 2^n_units, at least 2 / 2^n_units two-sided
    since the identity and the full swap are both as extreme; Monte Carlo: (1 + hits) /
    (1 + n_resamples), never 0); nan when the observed difference is undefined. n_resamples: the
    swaps used (2^n_units when exact). n_undefined: swaps whose metric was nan, counted as not as
    extreme (which can only make the test conservative). pvalue_greater, pvalue_less: the two
    one-sided p-values from the same swaps (what ``alternative`` "greater" / "less" would give),
    so a caller needing both directions pays for one set of swaps.
    """

    n: int
    n_units: int
    base: float
    candidate: float
    difference: float
    pvalue: float
    n_resamples: int
    exact: bool
    alternative: str
    n_undefined: int
    pvalue_greater: float = float("nan")
    pvalue_less: float = float("nan")


def paired_randomization(base_stats, candidate_stats, from_sums: Callable[[np.ndarray], np.ndarray],
                         *, groups: Sequence | None = None, n_resamples: int = 10_000, seed: int = 0,
                         alternative: str = "two-sided",
                         exact_max_units: int = 16) -> RandomizationResult:
    """Paired randomization (swap) test for a metric computed from per-item sums.

    base_stats, candidate_stats: arrays (n, k) of per-item sufficient statistics (a rate: (1, hit);
    F1: one-hot (tp, fp, fn, tn); kappa: the one-hot confusion cell); the metric is
    from_sums(stats.sum(axis=0)) and from_sums must map (..., k) to (...) (nan where undefined).
    groups: per-item cluster labels; a cluster's statistics are the sums of its rows and it is
    swapped as a whole. alternative: "two-sided" (|d*| >= |d|), "greater" (candidate better:
    d* >= d) or "less" (d* <= d). Exact enumeration when the units number at most
    exact_max_units (at most 24), else n_resamples random swaps drawn from seed. With k = 2 rate
    statistics the p-value equals permutation_test's on the per-item values, Monte Carlo included.
    """
    b, c = _stats_pair(base_stats, candidate_stats)
    if not callable(from_sums):
        raise ValueError(f"from_sums must be a function of the summed statistics, got {shown(from_sums)}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {shown(alternative)}")
    n_resamples = count("n_resamples", n_resamples)
    exact_max_units = count("exact_max_units", exact_max_units, minimum=0)
    if exact_max_units > _MAX_EXACT_UNITS:
        raise ValueError(f"exact_max_units must be at most {_MAX_EXACT_UNITS} (2^units swaps are "
                         f"enumerated), got {exact_max_units}")
    rng = rng_from(seed)
    n = len(b)
    units = cluster_units(groups, n)
    if units is not None:
        order, starts, _ = units
        b, c = np.add.reduceat(b[order], starts), np.add.reduceat(c[order], starts)
    base_sum, cand_sum = b.sum(axis=0), c.sum(axis=0)
    point = _metric(from_sums, np.stack([base_sum, cand_sum]))
    observed = float(point[1] - point[0])
    exact = len(b) <= exact_max_units
    total = 1 << len(b) if exact else n_resamples
    swaps = all_swaps(len(b)) if exact else swap_chunks(rng, len(b), n_resamples)
    hits, undefined = _count_extreme(swaps, b - c, base_sum, cand_sum, from_sums, observed,
                                     _tolerance(point, observed))

    def p_of(k: int) -> float:
        if np.isnan(observed):
            return float("nan")
        return min(1.0, k / total if exact else (1 + k) / (1 + n_resamples))
    return RandomizationResult(n=n, n_units=len(b), base=float(point[0]), candidate=float(point[1]),
                               difference=observed, pvalue=p_of(hits[alternative]),
                               n_resamples=total, exact=exact, alternative=alternative,
                               n_undefined=undefined, pvalue_greater=p_of(hits["greater"]),
                               pvalue_less=p_of(hits["less"]))


def _stats_pair(base_stats, candidate_stats) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, stats in (("base_stats", base_stats), ("candidate_stats", candidate_stats)):
        try:
            arr = np.asarray(stats, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a numeric (items, k) array, got {shown(stats)}") from None
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty (items, k) array, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            i = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
            raise ValueError(f"{name}[{i}] must hold finite numbers, got {shown(arr[i].tolist())}")
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise ValueError(f"base_stats and candidate_stats must have the same shape (paired items), "
                         f"got {out[0].shape} and {out[1].shape}")
    return out[0], out[1]


def _metric(from_sums, sums: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.asarray(from_sums(sums), dtype=np.float64)
    if values.shape != sums.shape[:-1]:
        raise ValueError(f"from_sums must map (..., k) to (...): given shape {sums.shape} it "
                         f"returned shape {values.shape}")
    return values


def _tolerance(point: np.ndarray, observed: float) -> float:
    """Swaps that reproduce the observed difference up to float rounding (the full swap gives
    -observed only up to rounding) must count as ties: a tolerance relative to the metric's scale."""
    scale = np.nanmax(np.abs(np.append(point, observed))) if np.isfinite(point).any() else 0.0
    return _TIE_TOLERANCE * float(scale)


def _count_extreme(swaps, delta, base_sum, cand_sum, from_sums, observed: float,
                   tol: float) -> tuple[dict[str, int], int]:
    """How many swaps are as extreme as observed, for each alternative, and how many undefined."""
    hits = dict.fromkeys(ALTERNATIVES, 0)
    undefined = 0
    for s in swaps:
        moved = s @ delta
        d = _metric(from_sums, cand_sum + moved) - _metric(from_sums, base_sum - moved)
        undefined += int(np.count_nonzero(np.isnan(d)))
        hits["two-sided"] += int(np.count_nonzero(np.abs(d) >= abs(observed) - tol))
        hits["greater"] += int(np.count_nonzero(d >= observed - tol))
        hits["less"] += int(np.count_nonzero(d <= observed + tol))
    return hits, undefined
