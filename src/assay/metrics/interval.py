"""The confidence interval of one model's value of a metric (not of a difference): what a
threshold goal (``accuracy >= 0.80``) is judged on, and what a slice's table row shows.

A rate gets Wilson's score interval (exact enough at small n and at 0 or 100%); every other
metric a percentile bootstrap of its summed statistics, whole clusters resampled when the metric
declares a cluster key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..records import ORIGINAL, greedy_record, score
from ._core import Item, Metric


def cluster_labels(metric: Metric, items: Sequence[Item], ids: Sequence[str]) -> list[str] | None:
    """Per-item cluster labels from the metric's cluster key (an item without one is its own),
    or None when no two items share a cluster (then the items are the units)."""
    if metric.cluster is None:
        return None
    out = []
    for item, item_id in zip(items, ids):
        got = score(greedy_record(item, ORIGINAL), metric.cluster)
        out.append(f"c:{got}" if got is not None else f"i:{item_id}")
    return out if len(set(out)) < len(out) else None


def value_interval(metric: Metric, items, *, confidence_level: float = 0.95,
                   n_resamples: int = 2_000, seed: int = 0,
                   groups: Sequence[str] | None = None) -> dict:
    """{"n", "value", "ci_low", "ci_high", "method"} of the metric on these items (a list of
    item record lists, or the metric's statistics matrix of them)."""
    stats = items if isinstance(items, np.ndarray) else metric.matrix(items)
    sums = stats.sum(axis=0)
    n = int(sums[0]) if len(stats) else 0
    value = float(metric.of_sums(sums)) if len(stats) else math.nan
    if n == 0 or not math.isfinite(value):
        return {"n": n, "value": value, "ci_low": math.nan, "ci_high": math.nan, "method": None}
    if metric.kind == "rate" and groups is None:
        from ..stats import wilson_interval

        w = wilson_interval(int(round(sums[1])), n, confidence_level=confidence_level)
        return {"n": n, "value": value, "ci_low": w.low, "ci_high": w.high, "method": "wilson"}
    low, high = _bootstrap(metric, stats, groups, confidence_level, n_resamples, seed)
    return {"n": n, "value": value, "ci_low": low, "ci_high": high,
            "method": "cluster bootstrap" if groups is not None else "bootstrap"}


def _bootstrap(metric: Metric, stats: np.ndarray, groups, level: float, n_resamples: int,
               seed: int) -> tuple[float, float]:
    """Percentile interval of the metric over resamples of units (items, or whole clusters);
    each chunk of resamples is one product of draw counts and unit statistics."""
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
        units = np.zeros((inverse.max() + 1, stats.shape[1]))
        np.add.at(units, inverse, stats)
    else:
        units = stats
    rng = np.random.default_rng(seed)
    k = len(units)
    rows = max(1, (1 << 21) // k)
    values = []
    for start in range(0, n_resamples, rows):
        r = min(rows, n_resamples - start)
        draws = rng.integers(0, k, size=(r, k)) + (np.arange(r) * k)[:, None]
        counts = np.bincount(draws.ravel(), minlength=r * k).reshape(r, k)
        values.append(metric.of_sums(counts @ units))
    v = np.concatenate(values)
    v = v[np.isfinite(v)]
    if not len(v):
        return math.nan, math.nan
    alpha = (1 - level) / 2
    return float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha))
