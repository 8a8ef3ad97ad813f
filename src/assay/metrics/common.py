"""Metric constructors that several tasks share: reading a greedy score, the majority-label
baseline, a constant, the gap between two shares, and the expected calibration error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..records import ORIGINAL, greedy_record
from ._core import Item, Metric, custom


def scores_of(item: Item, pass_: str = ORIGINAL) -> dict | None:
    """The scores of the item's greedy record of ``pass_``, or None."""
    row = greedy_record(item, pass_)
    return None if row is None else row["scores"]


def from_scores(fn: Callable[[dict], Any], pass_: str = ORIGINAL) -> Callable[[Item], Any]:
    """item -> fn(greedy scores), None when the item has no scored greedy record."""
    def value(item: Item):
        s = scores_of(item, pass_)
        return None if s is None else fn(s)
    return value


def greedy_score(key: str, transform: Callable[[Any], Any] | None = None) -> Callable[[Item], Any]:
    """item -> its greedy score ``key`` (None when absent), optionally transformed."""
    def value(item: Item):
        s = scores_of(item)
        got = None if s is None else s.get(key)
        return got if got is None or transform is None else transform(got)
    return value


def majority(name: str, key: str, labels: Sequence[str]) -> Metric:
    """Accuracy of always answering the most frequent gold label (a baseline)."""
    labels = tuple(labels)
    return custom(name, from_scores(lambda s: tuple(float(s[key] == v) for v in labels)),
                  len(labels), lambda s: s.max(axis=-1) / s.sum(axis=-1), direction="none",
                  role="descriptive")


def constant(name: str, value: float) -> Metric:
    """A fixed baseline (chance, a published figure)."""
    return custom(name, lambda item: (1.0,), 1, lambda s: s[..., 0] * 0 + value,
                  direction="none", role="descriptive")


def share_gap(name: str, predicted: Callable[[dict], bool], actual: Callable[[dict], bool],
              **kw) -> Metric:
    """|share predicted - share actual| over the scored items (lower is better)."""
    stats = from_scores(lambda s: (1.0, float(predicted(s)), float(actual(s))))
    return custom(name, stats, 3, lambda s: np.abs(s[..., 1] - s[..., 2]) / s[..., 0],
                  direction="lower", **kw)


def calibration_error(name: str, probability: str, outcome: Callable[[dict], bool],
                      n_bins: int = 10, **kw) -> Metric:
    """Expected calibration error of the greedy score ``probability`` against ``outcome``, over
    n_bins equal-width bins of [0, 1] (the binning of assay.stats.calibration): per item its
    bin's (count, probability, outcome), so the ECE is a function of sums."""
    inner = np.linspace(0, 1, n_bins + 1)[1:-1]

    def stats(item: Item):
        s = scores_of(item)
        if s is None or s.get(probability) is None:
            return None
        p = float(s[probability])
        k = min(int(np.searchsorted(inner, p, side="right")), n_bins - 1)
        out = np.zeros(3 * n_bins)
        out[3 * k:3 * k + 3] = (1.0, p, float(outcome(s)))
        return out

    def ece(s):
        cells = s.reshape(s.shape[:-1] + (n_bins, 3))
        return np.abs(cells[..., 2] - cells[..., 1]).sum(axis=-1) / cells[..., 0].sum(axis=-1)
    return custom(name, stats, 3 * n_bins, ece, direction="lower", **kw)


def reliability_bins(metric: Metric, sums: np.ndarray) -> dict[str, Any]:
    """The ECE and its reliability bins from a calibration_error metric's summed statistics."""
    n_bins = metric.width // 3
    if sums[0] == 0:
        return {"available": False}
    cells = sums[1:].reshape(n_bins, 3)
    edges = np.linspace(0, 1, n_bins + 1)
    bins = [{"low": float(edges[k]), "high": float(edges[k + 1]), "n": int(n),
             "mean_confidence": float(p / n), "accuracy": float(y / n)}
            for k, (n, p, y) in enumerate(cells) if n > 0]
    return {"ece": float(metric.of_sums(sums)), "n": int(sums[0]), "bins": bins}
