"""Per-item sufficient statistics for metrics built from sums over items (see Metric.item_stats).

A rate is from_sums((count, hits)); a mean is (count, total); kappa is the confusion cells. With
these a comparison bootstraps 10,000 resamples as matrix products (stats.sums_bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._protocol import ORIGINAL, Record


def greedy_record(item_records: Sequence[Record], pass_: str = ORIGINAL) -> Record | None:
    """The scored greedy record of one pass among one item's records, or None."""
    for r in item_records:
        if r["sample"] is None and r["pass"] == pass_ and r["scores"]:
            return r
    return None


def ratio(sums: np.ndarray) -> np.ndarray:
    """(count, hits or total) -> hits / count; nan where count is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 0] > 0, sums[..., 1] / sums[..., 0], np.nan)


def rate_stats(outcome: Callable[[Sequence[Record]], Any]) -> Callable[[Sequence[Record]], list]:
    """item_stats for a share (or mean): outcome(item records) -> None (not counted) or a value."""
    def stats(item_records: Sequence[Record]) -> list[float]:
        value = outcome(item_records)
        return [0.0, 0.0] if value is None else [1.0, float(value)]
    return stats


def confusion_stats(labels: Sequence[str], pair: Callable[[Sequence[Record]], Any]
                    ) -> Callable[[Sequence[Record]], np.ndarray]:
    """item_stats for an agreement statistic: pair(item records) -> (gold, predicted) or None;
    one-hot over the len(labels)^2 cells, row-major (gold index * L + predicted index)."""
    index = {label: i for i, label in enumerate(labels)}
    size = len(labels)

    def stats(item_records: Sequence[Record]) -> np.ndarray:
        out = np.zeros(size * size)
        got = pair(item_records)
        if got is not None and got[0] in index and got[1] in index:
            out[index[got[0]] * size + index[got[1]]] = 1.0
        return out
    return stats
