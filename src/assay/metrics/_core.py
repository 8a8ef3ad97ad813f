"""Metrics declared once, from per-item sufficient statistics.

Every number a task reports is ``reduce(sum over items of item_stats(item))``: a rate is (count,
hits), a mean (count, total), an F1 or a kappa the cells of a confusion matrix. From that one
declaration follow the metric's value, its bootstrap (a matrix product per chunk of resamples),
its paired test (McNemar for a pass/fail rate, a paired randomization of items otherwise), its
slices (the same statistics on the items of one slice) and the count behind it. There is no
second implementation to keep equal to the first.

Column 0 of every statistics vector counts the item (1 when it contributes, 0 when the metric
does not apply to it); a metric's n is the number of items that count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ..records import ORIGINAL, Record, by_item, greedy_record, score

Item = Sequence[Record]
Direction = Literal["higher", "lower", "magnitude", "target", "none"]
Role = Literal["primary", "secondary", "descriptive"]
DIRECTIONS = ("higher", "lower", "magnitude", "target", "none")
ROLES = ("primary", "secondary", "descriptive")
# Directions with no "better" side: such a metric is described (value and CI), never tested.
UNTESTABLE = ("target", "none")

BINARY = ("accuracy", "precision", "recall", "f1")


@dataclass(frozen=True)
class Metric:
    """One number a task reports per model, and everything the comparison derives from it.

    direction: ``higher`` / ``lower`` is better; ``magnitude``: closer to 0 is better (a signed
    bias); ``target``: closer to the baseline is better (a predicted rate against the true rate);
    ``none``: no better side. role: ``primary`` (the task's headline: the confirmatory family
    when no goals are given), ``secondary`` (tested, exploratory), ``descriptive`` (value and CI
    only: latency, truncation, constants). cluster: a score key whose value groups items that
    share a source (reviews of one paper); the tests and intervals resample whole clusters.
    """

    name: str
    kind: str
    item_stats: Callable[[Item], Sequence[float] | None]
    width: int
    reduce: Callable[[np.ndarray], np.ndarray]
    direction: Direction = "higher"
    role: Role = "secondary"
    description: str = ""
    baseline: Metric | None = None
    cluster: str | None = None
    slice: tuple[str, str] | None = None
    outcome: Callable[[Item], Any] | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"metric '{self.name}': direction must be one of {DIRECTIONS}, "
                             f"got {self.direction!r}")
        if self.role not in ROLES:
            raise ValueError(f"metric '{self.name}': role must be one of {ROLES}, got "
                             f"{self.role!r}")
        if self.direction in UNTESTABLE and self.role != "descriptive":
            raise ValueError(f"metric '{self.name}': direction '{self.direction}' has no better "
                             "side, so its role must be 'descriptive'")
        if self.direction == "target" and self.baseline is None:
            raise ValueError(f"metric '{self.name}': direction 'target' needs a baseline (the "
                             "target)")

    @property
    def tested(self) -> bool:
        return self.role != "descriptive"

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    def vector(self, item: Item) -> np.ndarray:
        """The item's statistics with its count in column 0 (zeros when it does not count)."""
        out = np.zeros(self.width + 1)
        got = self.item_stats(item)
        if got is not None:
            out[0] = 1.0
            out[1:] = got
        return out

    def matrix(self, items: Sequence[Item]) -> np.ndarray:
        """(n items, 1 + width) statistics, one row per item (zeros where it does not count)."""
        out = np.zeros((len(items), self.width + 1))
        stats = self.item_stats
        for i, item in enumerate(items):
            got = stats(item)
            if got is not None:
                out[i, 0] = 1.0
                out[i, 1:] = got
        return out

    def of_sums(self, sums: np.ndarray) -> np.ndarray:
        """The metric from summed statistics, vectorized over leading axes; nan with no items."""
        arr = np.asarray(sums, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.asarray(self.reduce(arr), dtype=np.float64)
        return np.where(arr[..., 0] > 0, value, np.nan)

    def tested_of_sums(self, sums: np.ndarray) -> np.ndarray:
        """The quantity the paired test compares: the value, or its magnitude."""
        value = self.of_sums(sums)
        return np.abs(value) if self.direction == "magnitude" else value

    def value(self, records: Sequence[Record]) -> float:
        """The metric on one model's records (all passes and samples)."""
        return self.value_of_items(list(by_item(records).values()))

    def value_of_items(self, items: Sequence[Item]) -> float:
        return float(self.of_sums(self.matrix(items).sum(axis=0)))

    def compute(self, records: Sequence[Record]) -> float:  # the name earlier callers used
        return self.value(records)

    def by(self, key: str, value: str) -> Metric:
        """The same metric on the items whose greedy original score ``key`` equals ``value``."""
        inner = self.item_stats

        def stats(item: Item) -> Sequence[float] | None:
            got = score(greedy_record(item, ORIGINAL), key)
            return inner(item) if got is not None and str(got) == value else None

        sliced_baseline = (replace(self.baseline.by(key, value), name=self.baseline.name)
                           if self.baseline is not None else None)
        return replace(self, name=f"{self.name}/{value}", item_stats=stats,
                       baseline=sliced_baseline, slice=(key, value),
                       role="descriptive" if self.role == "descriptive" else "secondary",
                       outcome=_sliced_outcome(self.outcome, key, value))

    def improved(self, difference: float) -> bool | None:
        """Whether a difference of the tested quantity points the good way (None: no side)."""
        if not isinstance(difference, (int, float)) or not math.isfinite(difference) \
                or difference == 0:
            return None
        if self.direction == "higher":
            return difference > 0
        if self.direction in ("lower", "magnitude"):
            return difference < 0
        return None


def _sliced_outcome(outcome, key: str, value: str):
    if outcome is None:
        return None

    def sliced(item: Item):
        got = score(greedy_record(item, ORIGINAL), key)
        return outcome(item) if got is not None and str(got) == value else None
    return sliced


def _ratio(s: np.ndarray) -> np.ndarray:
    return s[..., 1] / s[..., 0]


def rate(name: str, outcome: Callable[[Item], Any], *, direction: Direction = "higher",
         role: Role = "secondary", description: str = "", baseline: Metric | None = None,
         cluster: str | None = None) -> Metric:
    """Share of items whose ``outcome(item)`` is true; None = the item does not count.

    Paired, a rate is tested with McNemar's exact test when the same items count for both models
    (a paired randomization of items otherwise)."""

    def stats(item: Item) -> tuple[float] | None:
        got = outcome(item)
        return None if got is None else (float(bool(got)),)
    return Metric(name, "rate", stats, 1, _ratio, direction, role, description, baseline,
                  cluster, outcome=outcome)


def mean(name: str, value: Callable[[Item], float | None], *, direction: Direction = "higher",
         role: Role = "secondary", description: str = "", baseline: Metric | None = None,
         cluster: str | None = None) -> Metric:
    """Mean of ``value(item)`` over the items where it is not None (sign-flip randomization)."""

    def stats(item: Item) -> tuple[float] | None:
        got = value(item)
        return None if got is None else (float(got),)
    return Metric(name, "mean", stats, 1, _ratio, direction, role, description, baseline,
                  cluster)


def confusion(name: str, labels: Sequence[str], pair: Callable[[Item], tuple | None],
              statistic: str | Callable[[np.ndarray], np.ndarray], *,
              direction: Direction = "higher", role: Role = "secondary", description: str = "",
              baseline: Metric | None = None, cluster: str | None = None) -> Metric:
    """A statistic of the confusion matrix of ``pair(item) -> (gold, predicted)`` or None.

    The cells are len(labels) x (len(labels) + 1), row-major by gold label; the last column
    holds predictions outside the labels (a parse failure: wrong for its gold class). statistic:
    ``kappa`` (Cohen's, over the items predicted inside the labels), ``macro_f1``, or with two
    labels (positive first) ``accuracy``, ``precision``, ``recall``, ``f1``; or a function of the
    cells (..., L * (L + 1)) -> (...).
    """
    labels = tuple(labels)
    size = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    reduce = _confusion_reduce(statistic, size, name)

    def stats(item: Item) -> np.ndarray | None:
        got = pair(item)
        if got is None or got[0] not in index:
            return None
        out = np.zeros(size * (size + 1))
        out[index[got[0]] * (size + 1) + index.get(got[1], size)] = 1.0
        return out
    return Metric(name, "confusion", stats, size * (size + 1), reduce, direction, role,
                  description, baseline, cluster)


def _confusion_reduce(statistic, size: int, name: str) -> Callable[[np.ndarray], np.ndarray]:
    if callable(statistic):
        return lambda s: statistic(s[..., 1:])
    if statistic == "kappa":
        from ..stats import kappa_from_confusion

        def kappa(s):
            cells = s[..., 1:].reshape(s.shape[:-1] + (size, size + 1))[..., :size]
            return kappa_from_confusion(cells.reshape(s.shape[:-1] + (size * size,)), size)
        return kappa
    if statistic == "macro_f1":
        from ..stats import macro_f1_from_confusion

        return lambda s: macro_f1_from_confusion(s[..., 1:], size)
    if statistic in BINARY and size == 2:
        return lambda s: binary_from_cells(s[..., 1:], statistic)
    raise ValueError(f"metric '{name}': statistic must be kappa, macro_f1, a function of the "
                     f"cells, or with two labels one of {BINARY}; got {statistic!r}")


def binary_from_cells(cells: np.ndarray, statistic: str) -> np.ndarray:
    """accuracy / precision / recall / F1 (label 0 positive) from 2 x 3 cells; 0 when the
    denominator is empty, as sklearn and binary_metrics report it."""
    c = np.asarray(cells, dtype=np.float64)
    tp, fn = c[..., 0], c[..., 1] + c[..., 2]
    fp, tn, other = c[..., 3], c[..., 4], c[..., 5]
    num, den = {"accuracy": (tp + tn, tp + fn + fp + tn + other),
                "precision": (tp, tp + fp), "recall": (tp, tp + fn),
                "f1": (2 * tp, 2 * tp + fp + fn)}[statistic]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, 0.0)


def custom(name: str, item_stats: Callable[[Item], Sequence[float] | None], width: int,
           from_sums: Callable[[np.ndarray], np.ndarray], *, direction: Direction = "higher",
           role: Role = "secondary", description: str = "", baseline: Metric | None = None,
           cluster: str | None = None) -> Metric:
    """Any metric that is a function of per-item sums: ``item_stats(item)`` gives ``width``
    numbers (None: the item does not count) and ``from_sums`` maps (..., width) -> (...)."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"metric '{name}': width must be an integer >= 1, got {width!r}")
    return Metric(name, "custom", item_stats, width, lambda s: from_sums(s[..., 1:]), direction,
                  role, description, baseline, cluster)


def gap_value(value, baseline, direction: str):
    """How far a value is on the good side of its baseline (negative: worse than the floor)."""
    if direction == "lower":
        return baseline - value
    if direction == "magnitude":
        return abs(baseline) - abs(value)
    if direction == "target":
        return -abs(value - baseline)
    return value - baseline


def gap_of(metric: Metric, name: str | None = None, *, role: Role = "descriptive",
           description: str = "") -> Metric:
    """The metric's gap over its baseline as a metric of its own (higher is better), over the
    two statistics side by side ([metric | baseline] columns): a comparison bootstraps it like
    any other metric, and it is never computed a second way."""
    base_line = metric.baseline
    if base_line is None:
        raise ValueError(f"metric '{metric.name}' has no baseline, so it has no gap")
    k1 = metric.width + 1

    def stats(item: Item):
        a, b = metric.vector(item), base_line.vector(item)
        return None if a[0] == 0 and b[0] == 0 else np.concatenate([a, b])

    def reduce(s):  # column 0 is the gap's own item count, then [metric | baseline]
        return gap_value(metric.of_sums(s[..., 1:1 + k1]), base_line.of_sums(s[..., 1 + k1:]),
                         metric.direction)
    return Metric(name or f"{metric.name} gap", "custom", stats, k1 + base_line.width + 1,
                  reduce, direction="higher" if role != "descriptive" else "none", role=role,
                  description=description)


def gap_matrix(stats: np.ndarray, baseline_stats: np.ndarray) -> np.ndarray:
    """The rows ``gap_of(metric).matrix`` gives, from the metric's and its baseline's matrices
    (so a comparison that has both does not score the items again): the gap's own count (the
    item counts for either), then the two side by side."""
    counts = ((stats[:, 0] > 0) | (baseline_stats[:, 0] > 0)).astype(np.float64)[:, None]
    return np.concatenate([counts, stats, baseline_stats], axis=1)


def primary(*metrics: Metric) -> list[Metric]:
    """The given metrics with role 'primary' (a task's headline metrics)."""
    return [replace(m, role="primary") for m in metrics]


def sliced(metrics: Sequence[Metric], key: str, values: Sequence[str]) -> list[Metric]:
    """Every metric on every slice value (name ``metric/value``)."""
    return [m.by(key, v) for v in values for m in metrics]
