"""Paired bootstrap of a difference between two models on the same items, for any metric.

The mean (accuracy of pass/fail, mean relevance, mean score) is fully vectorized; any other metric
(macro-F1, kappa, a ratio...) is a function of the per-item values, called on each resample. Items
that share a group (several reviews of one paper) are resampled as whole clusters, since they are
not independent and item-level resampling would make the interval too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assay.stats._checks import (as_floats, as_sequence, confidence, count, rng_from, same_length,
                                  shown)
from assay.stats._resample import index_chunks, percentile_interval

# At most this many distinct per-item differences (and at most a quarter of the items) -> the
# exact multinomial shortcut for the mean.
_FEW_VALUES = 64


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Paired bootstrap of statistic(candidate) - statistic(base).

    base, candidate, difference: the statistic on the full data. ci_low/ci_high: percentile
    interval of the resampled differences. pvalue: two-sided bootstrap p-value for difference = 0
    (see paired_bootstrap). n_groups: the number of resampled units (clusters, or n items without
    groups). n_dropped: resamples whose statistic was nan, left out of the interval and p-value.
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


def paired_bootstrap(base: Sequence, candidate: Sequence, statistic: Callable[[list], float] | None = None,
                     *, n_resamples: int = 10_000, confidence_level: float = 0.95,
                     groups: Sequence | None = None, seed: int = 0) -> BootstrapResult:
    """Bootstrap CI and p-value of statistic(candidate) - statistic(base) over the same resamples.

    base, candidate: per-item values, aligned item by item. statistic: None for the mean (numbers
    or booleans; vectorized), or a function of the list of resampled per-item values (any objects,
    e.g. (true, predicted) pairs for macro-F1) returning a float. groups: per-item cluster labels;
    whole clusters are resampled. Resample r uses the same indices for base and candidate.

    pvalue = min(1, 2 * min(1 + #{d* <= 0}, 1 + #{d* >= 0}) / (R + 1)) over the R valid resampled
    differences d*: twice the smaller tail beyond 0, with the +1 correction so it is never 0. It is
    (up to the +1) the smallest 1 - confidence_level at which the percentile interval excludes 0.
    """
    as_sequence("base", base)
    as_sequence("candidate", candidate)
    same_length("base", base, "candidate", candidate)
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    if statistic is not None and not callable(statistic):
        raise ValueError("statistic must be a function of the per-item values or None, "
                         f"got {shown(statistic)}")
    units = _units(groups, len(base))
    rng = rng_from(seed)
    if statistic is None:
        b, c = as_floats("base", base), as_floats("candidate", candidate)
        point = (float(b.mean()), float(c.mean()))
        diffs = _mean_differences(b, c, units, n_resamples, rng)
    else:
        point = (_call(statistic, list(base)), _call(statistic, list(candidate)))
        diffs = _statistic_differences(base, candidate, statistic, units, n_resamples, rng)
    return _result(len(base), point, diffs, n_resamples, level, units)


def sums_bootstrap(base_stats, candidate_stats, from_sums: Callable[[np.ndarray], np.ndarray], *,
                   n_resamples: int = 10_000, confidence_level: float = 0.95,
                   groups: Sequence | None = None, seed: int = 0) -> BootstrapResult:
    """Paired bootstrap of a metric that is a function of per-item sums, fully vectorized.

    Many metrics are a function of sums over items of small per-item vectors (sufficient
    statistics): accuracy and rates (hits, count), F1 (tp, fp, fn), Cohen's kappa (the cells of
    the confusion matrix). base_stats, candidate_stats: arrays of shape (n, k), one row per item;
    the metric is from_sums(stats.sum(axis=0)), and from_sums must map (..., k) to (...).

    The resamples are those of paired_bootstrap with the same seed and groups (same index draws),
    so the result equals paired_bootstrap(statistic=lambda rows: from_sums(sum(rows))), but each
    chunk of resamples is one matrix product (multiplicities @ stats) instead of a Python call.
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
    units = _units(groups, len(b))
    if units is not None:  # a cluster's statistics are the sums over its items
        order, starts, _ = units
        b, c = np.add.reduceat(b[order], starts), np.add.reduceat(c[order], starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = (float(from_sums(b.sum(axis=0))), float(from_sums(c.sum(axis=0))))
        diffs = np.concatenate([from_sums(m @ c) - from_sums(m @ b) for m in
                                _multiplicities(rng_from(seed), len(b), n_resamples)])
    return _result(len(base_stats), point,
                   diffs.astype(np.float64), n_resamples, level, units)


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
    for idx in index_chunks(rng, size, n_resamples):
        rows = idx.shape[0]
        flat = (np.arange(rows, dtype=np.int64)[:, None] * size + idx).ravel()
        yield np.bincount(flat, minlength=rows * size).reshape(rows, size).astype(np.float64)


def _units(groups: Sequence | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For cluster resampling: (item order sorted by cluster, cluster starts, cluster sizes), with
    clusters numbered in order of first appearance."""
    if groups is None:
        return None
    as_sequence("groups", groups)
    if len(groups) != n:
        raise ValueError(f"groups must have one label per item ({n}), got {len(groups)}")
    index: dict = {}
    try:
        inverse = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=n)
    except TypeError:
        raise ValueError(f"groups must hold hashable labels (str, int), got {shown(groups)}") from None
    order = np.argsort(inverse, kind="stable")
    sizes = np.bincount(inverse)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return order, starts, sizes


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
            units) -> BootstrapResult:
    valid = diffs[~np.isnan(diffs)]
    low, high = percentile_interval(valid, level)
    return BootstrapResult(n=n, base=point[0], candidate=point[1], difference=point[1] - point[0],
                           ci_low=low, ci_high=high, pvalue=bootstrap_pvalue(valid),
                           n_resamples=n_resamples, confidence_level=level,
                           n_groups=n if units is None else len(units[2]),
                           n_dropped=int(len(diffs) - len(valid)))


def bootstrap_pvalue(diffs: np.ndarray) -> float:
    """Two-sided p-value for 0 from resampled differences (see paired_bootstrap); nan if none."""
    if len(diffs) == 0:
        return math.nan
    below = int(np.count_nonzero(diffs <= 0))
    above = int(np.count_nonzero(diffs >= 0))
    return min(1.0, 2 * (1 + min(below, above)) / (len(diffs) + 1))
