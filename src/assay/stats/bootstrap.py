"""Paired bootstrap of a difference between two models on the same items, for any metric.

The mean (accuracy of pass/fail, mean relevance, mean score) is fully vectorized; any other metric
(macro-F1, kappa, a ratio...) is a function of the per-item values, called on each resample. Items
that share a group (several reviews of one paper) are resampled as whole clusters, since they are
not independent and item-level resampling would make the interval too narrow.

The interval is BCa (bias-corrected and accelerated, Efron 1987; the acceleration from the jackknife
that leaves one unit out) wherever it is stable, and the percentile interval otherwise; the result
says which. The bootstrap p-value kept on the result is NOT a valid test at small n (with n=1 and a
gain it gives p = 2e-4); tests come from mcnemar (pass/fail) and paired_randomization (any other
metric). When the resampled differences do not vary (every item moved by the same amount) the
result is degenerate: the interval is the point and there is no p-value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from assay.stats._checks import (as_floats, as_sequence, confidence, count, rng_from, same_length,
                                  shown)
from assay.stats._resample import cluster_units as _units
from assay.stats._resample import index_chunks, percentile_interval
from assay.stats.intervals import Interval

# At most this many distinct per-item differences (and at most a quarter of the items) -> the
# exact multinomial shortcut for the mean.
_FEW_VALUES = 64
# "auto" uses BCa from this many resampled units on (below it the jackknife is too coarse).
_BCA_MIN_UNITS = 10
CI_METHODS = ("auto", "bca", "percentile")


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Paired bootstrap of statistic(candidate) - statistic(base).

    base, candidate, difference: the statistic on the full data. ci_low/ci_high: the interval of
    the resampled differences, by `method` ("bca" or "percentile"). pvalue: the two-sided
    bootstrap p-value for difference = 0 (see paired_bootstrap), kept for compatibility: it is NOT
    a valid test at small n; use mcnemar / paired_randomization. degenerate: the resampled
    differences do not vary (fewer than 2 distinct values, or a spread within rounding): the
    interval is then the point and pvalue is nan. n_groups: the number of resampled units
    (clusters, or n items without groups). n_dropped: resamples whose statistic was nan, left out
    of the interval and p-value.
    """

    n: int
    base: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float
    n_resamples: int
    confidence_level: float
    n_groups: int
    n_dropped: int = 0
    method: str = "percentile"
    degenerate: bool = False


def paired_bootstrap(base: Sequence, candidate: Sequence, statistic: Callable[[list], float] | None = None,
                     *, n_resamples: int = 10_000, confidence_level: float = 0.95,
                     groups: Sequence | None = None, seed: int = 0,
                     ci_method: str = "auto") -> BootstrapResult:
    """Bootstrap CI of statistic(candidate) - statistic(base) over the same resamples.

    base, candidate: per-item values, aligned item by item. statistic: None for the mean (numbers
    or booleans; vectorized), or a function of the list of resampled per-item values (any objects,
    e.g. (true, predicted) pairs for macro-F1) returning a float. groups: per-item cluster labels;
    whole clusters are resampled. Resample r uses the same indices for base and candidate.

    ci_method: "auto" (BCa for the mean when stable and at least 10 units, else percentile),
    "bca" (BCa whenever its z0 and acceleration are finite; only for the mean) or "percentile".
    A function statistic always gets the percentile interval (its jackknife would call it n
    times); for BCa of such a metric write it from sums and use sums_bootstrap.

    pvalue = min(1, 2 * min(1 + #{d* <= 0}, 1 + #{d* >= 0}) / (R + 1)) over the R valid resampled
    differences d*: twice the smaller tail beyond 0, with the +1 correction so it is never 0. It is
    (up to the +1) the smallest 1 - confidence_level at which the percentile interval excludes 0.
    It is NOT a valid test at small n (n=1 with a gain gives 2e-4): kept for compatibility only.
    """
    as_sequence("base", base)
    as_sequence("candidate", candidate)
    same_length("base", base, "candidate", candidate)
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    if statistic is not None and not callable(statistic):
        raise ValueError("statistic must be a function of the per-item values or None, "
                         f"got {shown(statistic)}")
    ci_method = _ci_method(ci_method)
    if statistic is not None and ci_method == "bca":
        raise ValueError("ci_method='bca' needs the mean (statistic=None) or a metric from sums "
                         "(use sums_bootstrap); a function statistic gets ci_method='percentile'")
    units = _units(groups, len(base))
    rng = rng_from(seed)
    if statistic is None:
        b, c = as_floats("base", base), as_floats("candidate", candidate)
        point = (float(b.mean()), float(c.mean()))
        diffs = _mean_differences(b, c, units, n_resamples, rng)
        ones = np.ones(len(b))
        jack = _jackknife(*_unit_sums(np.c_[ones, b], np.c_[ones, c], units), _ratio)
    else:
        point = (_call(statistic, list(base)), _call(statistic, list(candidate)))
        diffs = _statistic_differences(base, candidate, statistic, units, n_resamples, rng)
        jack, ci_method = None, "percentile"
    return _result(len(base), point, diffs, n_resamples, level, units, jack, ci_method)


def sums_bootstrap(base_stats, candidate_stats, from_sums: Callable[[np.ndarray], np.ndarray], *,
                   n_resamples: int = 10_000, confidence_level: float = 0.95,
                   groups: Sequence | None = None, seed: int = 0,
                   ci_method: str = "auto") -> BootstrapResult:
    """Paired bootstrap of a metric that is a function of per-item sums, fully vectorized.

    Many metrics are a function of sums over items of small per-item vectors (sufficient
    statistics): accuracy and rates (hits, count), F1 (tp, fp, fn), Cohen's kappa (the cells of
    the confusion matrix). base_stats, candidate_stats: arrays of shape (n, k), one row per item;
    the metric is from_sums(stats.sum(axis=0)), and from_sums must map (..., k) to (...).

    The resamples are those of paired_bootstrap with the same seed and groups (same index draws),
    so the result equals paired_bootstrap(statistic=lambda rows: from_sums(sum(rows))), but each
    chunk of resamples is one matrix product (multiplicities @ stats) instead of a Python call.

    ci_method: "auto" (default) gives BCa when it is stable (z0 finite, i.e. not every resample on
    one side of the estimate; a finite jackknife acceleration; at least 10 units) and the
    percentile interval otherwise; "bca" drops the 10-unit condition; "percentile" forces it. The
    jackknife leaves one unit out: the sums minus that unit's row, one vectorized call. The
    resamples (and so the percentile interval) do not depend on ci_method.
    """
    b = _stats_matrix("base_stats", base_stats)
    c = _stats_matrix("candidate_stats", candidate_stats)
    if b.shape != c.shape:
        raise ValueError(f"base_stats and candidate_stats must have the same shape, got "
                         f"{b.shape} and {c.shape}")
    if not callable(from_sums):
        raise ValueError(f"from_sums must be a function, got {shown(from_sums)}")
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    ci_method = _ci_method(ci_method)
    units = _units(groups, len(b))
    b, c = _unit_sums(b, c, units)  # a cluster's statistics are the sums over its items
    with np.errstate(divide="ignore", invalid="ignore"):
        point = (float(from_sums(b.sum(axis=0))), float(from_sums(c.sum(axis=0))))
        diffs = np.concatenate([from_sums(m @ c) - from_sums(m @ b) for m in
                                _seeded_multiplicities(seed, len(b), n_resamples)])
    return _result(len(base_stats), point, diffs.astype(np.float64), n_resamples, level, units,
                   _jackknife(b, c, from_sums), ci_method)


def _ci_method(ci_method) -> str:
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}, got {shown(ci_method)}")
    return ci_method


def _unit_sums(b: np.ndarray, c: np.ndarray, units) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit statistics: the rows themselves, or the sums of each cluster's rows."""
    if units is None:
        return b, c
    order, starts, _ = units
    return np.add.reduceat(b[order], starts), np.add.reduceat(c[order], starts)


def _ratio(sums: np.ndarray) -> np.ndarray:
    """The mean from (count, total) sums."""
    return sums[..., 1] / sums[..., 0]


def _jackknife(b: np.ndarray, c: np.ndarray, from_sums) -> np.ndarray | None:
    """Leave-one-unit-out differences metric(C - c_u) - metric(B - b_u), one vectorized call;
    None with fewer than 2 units."""
    if len(b) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        out = from_sums(c.sum(axis=0) - c) - from_sums(b.sum(axis=0) - b)
    return np.asarray(out, dtype=np.float64)


def _stats_matrix(name: str, stats) -> np.ndarray:
    arr = np.asarray(stats, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (items, k) array, got shape {arr.shape}")
    return arr


def _multiplicities(rng, size: int, n_resamples: int):
    """Per chunk, how many times each unit was drawn: (rows, size) from the same index draws as
    index_chunks, so resample r is identical to paired_bootstrap's resample r."""
    for counts in _count_chunks(rng, size, n_resamples):
        yield counts.astype(np.float64)


def _count_chunks(rng, size: int, n_resamples: int):
    for idx in index_chunks(rng, size, n_resamples):
        rows = idx.shape[0]
        flat = (np.arange(rows, dtype=np.int64)[:, None] * size + idx).ravel()
        yield np.bincount(flat, minlength=rows * size).reshape(rows, size)


# A comparison bootstraps every metric with the same seed over the same items, so the draws of
# a (seed, size, n_resamples) are made once and kept as 16-bit counts (a count never exceeds
# size), the most recently used first, up to this many bytes in all; larger draws are made
# afresh each time.
_MEMO_BYTES = 48 << 20
_memo: dict[tuple[int, int, int], tuple[np.ndarray, ...]] = {}


def _seeded_multiplicities(seed, size: int, n_resamples: int):
    """_multiplicities(rng_from(seed), ...), the same matrices, memoized when small enough."""
    rng = rng_from(seed)  # checks the seed
    if size > np.iinfo(np.uint16).max or size * n_resamples * 2 > _MEMO_BYTES:
        return _multiplicities(rng, size, n_resamples)
    key = (int(seed), size, n_resamples)
    chunks = _memo.pop(key, None)
    if chunks is None:
        chunks = tuple(c.astype(np.uint16) for c in _count_chunks(rng, size, n_resamples))
        for c in chunks:
            c.flags.writeable = False
    _memo[key] = chunks  # now the most recent
    while sum(c.nbytes for v in _memo.values() for c in v) > _MEMO_BYTES:
        del _memo[next(iter(_memo))]
    return (m.astype(np.float64) for m in chunks)


def clear_memo() -> None:
    """Forget the memoized draws (a benchmark times each call from a fresh start)."""
    _memo.clear()


def _mean_differences(b: np.ndarray, c: np.ndarray, units, n_resamples: int, rng) -> np.ndarray:
    """Resampled mean(candidate) - mean(base) = mean of the resampled per-item differences."""
    if units is not None:
        return _cluster_mean_differences(b, c, units, n_resamples, rng)
    diff = c - b
    values, counts = np.unique(diff, return_counts=True)
    if len(values) <= _FEW_VALUES and 4 * len(values) <= len(diff):
        return _few_values_means(values, counts, len(diff), n_resamples, rng)
    return _gathered_means(diff, n_resamples, rng)


def _few_values_means(values: np.ndarray, counts: np.ndarray, n: int, n_resamples: int, rng) -> np.ndarray:
    """Exact shortcut when the differences take few distinct values (pass/fail: -1, 0, 1).

    Drawing n items with replacement and summing is the same, in distribution, as drawing how many
    times each distinct value is hit, Multinomial(n, counts / n): R * k draws instead of R * n.
    """
    hits = rng.multinomial(n, counts / n, size=n_resamples)
    return (hits @ values) / n


def _gathered_means(diff: np.ndarray, n_resamples: int, rng) -> np.ndarray:
    """General case: gather the per-item differences through each row of the index matrix.

    float32 halves the memory traffic; its pairwise sums are accurate to ~1e-7 relative, far below
    bootstrap noise."""
    n = len(diff)
    small = diff.astype(np.float32)
    return np.concatenate([small[idx].sum(axis=1, dtype=np.float32).astype(np.float64) / n
                           for idx in index_chunks(rng, n, n_resamples)])


def _cluster_mean_differences(b: np.ndarray, c: np.ndarray, units, n_resamples: int, rng) -> np.ndarray:
    """Cluster bootstrap of the mean: draw clusters, then (sum of drawn sums) / (drawn items)."""
    order, starts, sizes = units
    sum_b = np.add.reduceat(b[order], starts)
    sum_c = np.add.reduceat(c[order], starts)
    sizes_f = sizes.astype(np.float64)
    out = []
    for idx in index_chunks(rng, len(sizes), n_resamples):
        m = sizes_f[idx].sum(axis=1)
        out.append(sum_c[idx].sum(axis=1) / m - sum_b[idx].sum(axis=1) / m)
    return np.concatenate(out)


def _statistic_differences(base, candidate, statistic, units, n_resamples: int, rng) -> np.ndarray:
    """Resampled statistic(candidate) - statistic(base), the statistic called on Python lists."""
    b, c = _objects(base), _objects(candidate)
    out = np.empty(n_resamples)
    size = len(base) if units is None else len(units[2])
    r = 0
    for idx in index_chunks(rng, size, n_resamples):
        for row in idx:
            items = row if units is None else _cluster_items(row, units)
            out[r] = _call(statistic, c[items].tolist()) - _call(statistic, b[items].tolist())
            r += 1
    return out


def _cluster_items(clusters: np.ndarray, units) -> np.ndarray:
    """Item indices of the drawn clusters, concatenated (a cluster drawn twice appears twice)."""
    order, starts, sizes = units
    lengths = sizes[clusters]
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return order[np.repeat(starts[clusters], lengths) + offsets]


def _objects(values: Sequence) -> np.ndarray:
    """A 1-d object array holding the values as they are (lists stay lists, not a 2-d array)."""
    arr = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        arr[i] = value
    return arr


def _call(statistic, values: list) -> float:
    value = statistic(values)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"statistic must return a number, returned {shown(value)}") from None


def _result(n: int, point: tuple[float, float], diffs: np.ndarray, n_resamples: int, level: float,
            units, jack: np.ndarray | None = None, ci_method: str = "percentile") -> BootstrapResult:
    valid = diffs[~np.isnan(diffs)]
    difference = point[1] - point[0]
    n_units = n if units is None else len(units[2])
    degenerate = _degenerate(valid, difference)
    method, pvalue = "percentile", math.nan
    if degenerate:
        low = high = difference if len(valid) else math.nan
    else:
        pvalue = bootstrap_pvalue(valid)
        bca = None
        if ci_method == "bca" or (ci_method == "auto" and n_units >= _BCA_MIN_UNITS):
            bca = bca_interval(valid, difference, jack, level)
        if bca is None:
            low, high = percentile_interval(valid, level)
        else:
            (low, high), method = bca, "bca"
    return BootstrapResult(n=n, base=point[0], candidate=point[1], difference=difference,
                           ci_low=low, ci_high=high, pvalue=pvalue,
                           n_resamples=n_resamples, confidence_level=level, n_groups=n_units,
                           n_dropped=int(len(diffs) - len(valid)), method=method,
                           degenerate=degenerate)


def _degenerate(valid: np.ndarray, difference: float) -> bool:
    """Fewer than two distinct resampled differences, or a spread within float rounding."""
    if len(valid) == 0:
        return True
    spread = float(valid.max() - valid.min())
    scale = max(abs(difference) if math.isfinite(difference) else 0.0, float(np.abs(valid).max()))
    return spread <= 1e-9 * scale


def bca_interval(values: np.ndarray, estimate: float, jackknife: np.ndarray | None,
                 level: float) -> tuple[float, float] | None:
    """BCa interval (Efron 1987) from bootstrap values, the full-data estimate and the jackknife
    (leave-one-unit-out) estimates; None where it is not defined (then use the percentile one).

    z0 = Phi^-1(share of values below the estimate, ties (up to rounding) counted half, as
    scipy.stats.bootstrap);
    a = sum(u^3) / (6 sum(u^2)^1.5) with u = mean(jackknife) - jackknife; the limits are the
    quantiles Phi(z0 + (z0 + z) / (1 - a (z0 + z))) at z = Phi^-1((1 -+ level) / 2). Not defined
    when every value is on one side of the estimate (z0 infinite), when the jackknife is missing,
    has a nan or does not vary (a undefined), or when 1 - a (z0 + z) <= 0.
    """
    if jackknife is None or not math.isfinite(estimate) or not np.isfinite(jackknife).all():
        return None
    # values equal to the estimate up to rounding are ties (a pass rate's resamples sit on a lattice
    # of 1/n, and the estimate computed another way may be one ulp off it)
    tol = 1e-9 * max(abs(estimate), float(np.abs(values).max()))
    share = (np.count_nonzero(values < estimate - tol)
             + np.count_nonzero(values <= estimate + tol)) / (2 * len(values))
    u = jackknife.mean() - jackknife
    spread = float(np.sum(u * u))
    if not 0 < share < 1 or spread <= 0:
        return None
    normal = NormalDist()
    z0, a = normal.inv_cdf(share), float(np.sum(u ** 3)) / (6 * spread ** 1.5)
    probs = []
    for z in (normal.inv_cdf((1 - level) / 2), normal.inv_cdf((1 + level) / 2)):
        denom = 1 - a * (z0 + z)
        if denom <= 0:
            return None
        probs.append(normal.cdf(z0 + (z0 + z) / denom))
    low, high = np.quantile(values, probs)
    return float(low), float(high)


def bootstrap_pvalue(diffs: np.ndarray) -> float:
    """Two-sided p-value for 0 from resampled differences (see paired_bootstrap); nan if none.
    Not a valid test at small n (it inverts the percentile interval): compatibility only."""
    if len(diffs) == 0:
        return math.nan
    below = int(np.count_nonzero(diffs <= 0))
    above = int(np.count_nonzero(diffs >= 0))
    return min(1.0, 2 * (1 + min(below, above)) / (len(diffs) + 1))


def sums_value_interval(stats, from_sums: Callable[[np.ndarray], np.ndarray], *,
                        n_resamples: int = 2_000, confidence_level: float = 0.95,
                        groups: Sequence | None = None, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of ONE model's metric from per-item sums (the one-sample
    sibling of sums_bootstrap: same draws, same cluster resampling, one matrix product per
    chunk). stats: (n, k) per-item statistics; the metric is from_sums(stats.sum(axis=0)).
    Resamples where the metric is nan are left out; an all-nan bootstrap gives nan bounds."""
    s = _stats_matrix("stats", stats)
    if not callable(from_sums):
        raise ValueError(f"from_sums must be a function, got {shown(from_sums)}")
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    units = _units(groups, len(s))
    if units is not None:  # a cluster's statistics are the sums over its items
        order, starts, _ = units
        s = np.add.reduceat(s[order], starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = float(from_sums(s.sum(axis=0)))
        values = np.concatenate([np.asarray(from_sums(m @ s), dtype=np.float64) for m in
                                 _seeded_multiplicities(seed, len(s), n_resamples)])
    low, high = percentile_interval(values[np.isfinite(values)], level)
    return Interval(estimate, low, high)
