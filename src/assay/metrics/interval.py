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
    item record lists, or the metric's statistics matrix of them): Wilson for a rate without
    clusters, else stats.sums_value_interval."""
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
    from ..stats import sums_value_interval

    iv = sums_value_interval(stats, metric.of_sums, n_resamples=n_resamples,
                             confidence_level=confidence_level, groups=groups, seed=seed)
    return {"n": n, "value": value, "ci_low": iv.low, "ci_high": iv.high,
            "method": "cluster bootstrap" if groups is not None else "bootstrap"}
