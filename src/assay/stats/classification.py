"""Classification metrics over a fixed label set: macro-F1, binary metrics, and the baselines
(majority class, always positive) a model must beat before its score means anything.

The label set is always declared, never inferred from the data: a slice where one class is absent
keeps its shape, and a parse failure (a prediction outside the labels, e.g. None) counts as wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assay.stats._checks import as_sequence, codes, label_list, same_length, shown


@dataclass(frozen=True, slots=True)
class BinaryMetrics:
    """Counts and rates of a yes/no classifier against the truth.

    predicted_positive_rate = (tp + fp) / n (e.g. the accept rate the model predicts);
    true_positive_rate = (tp + fn) / n, the share of items whose TRUE label is positive (the
    prevalence, e.g. the real accept rate) -- not recall, which is `recall`.
    Undefined precision / recall / F1 (no positive predictions or no positives) are 0, as sklearn's
    zero_division=0.
    """

    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    predicted_positive_rate: float
    true_positive_rate: float


@dataclass(frozen=True, slots=True)
class Baseline:
    """A constant predictor: the label it always predicts and the scores it gets."""

    label: object
    accuracy: float
    macro_f1: float


def confusion(y_true, y_pred, labels) -> np.ndarray:
    """Confusion counts (true x predicted) over labels plus one last column for predictions outside
    the labels. y_true outside the labels is an error; y_pred outside them is a wrong answer."""
    as_sequence("y_true", y_true)
    as_sequence("y_pred", y_pred)
    same_length("y_true", y_true, "y_pred", y_pred)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    t = codes("y_true", y_true, index)
    p = codes("y_pred", y_pred, index, outside=k)
    return np.bincount(t * (k + 1) + p, minlength=k * (k + 1)).reshape(k, k + 1)


def macro_f1(y_true, y_pred, *, labels) -> float:
    """Unweighted mean of the per-label F1 over the declared labels.

    Equals sklearn f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0) on
    ordinary inputs. A prediction outside the labels (None for a parse failure) is a false negative
    for the item's true class and a false positive for no class.
    """
    labels = label_list(labels)
    return f1_from_confusion(confusion(y_true, y_pred, labels))


def f1_from_confusion(matrix: np.ndarray) -> float:
    """Macro-F1 from a (k, k+1) confusion matrix; F1 = 2tp / (2tp + fp + fn), 0 when undefined."""
    k = matrix.shape[0]
    tp = np.diagonal(matrix[:, :k]).astype(np.float64)
    fp = matrix[:, :k].sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1.mean())


def binary_metrics(y_true, y_pred, *, positive) -> BinaryMetrics:
    """Binary counts and rates with `positive` the positive label (e.g. True or "accept").

    An item is predicted positive when y_pred == positive, so a parse failure (None) is a negative
    prediction: a missed positive, or a (lucky) true negative. Map parse failures yourself if that
    is not what you want.
    """
    as_sequence("y_true", y_true)
    as_sequence("y_pred", y_pred)
    same_length("y_true", y_true, "y_pred", y_pred)
    truth = np.fromiter((v == positive for v in y_true), dtype=bool, count=len(y_true))
    pred = np.fromiter((v == positive for v in y_pred), dtype=bool, count=len(y_pred))
    return metrics_from_counts(int(np.count_nonzero(truth & pred)), int(np.count_nonzero(~truth & pred)),
                               int(np.count_nonzero(truth & ~pred)), int(np.count_nonzero(~truth & ~pred)))


def metrics_from_counts(tp: int, fp: int, fn: int, tn: int) -> BinaryMetrics:
    """BinaryMetrics from the four cells of the 2x2 table."""
    for name, value in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a count >= 0, got {shown(value)}")
    n = tp + fp + fn + tn
    if n == 0:
        raise ValueError("tp + fp + fn + tn is 0; need at least one item")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return BinaryMetrics(n=n, tp=tp, fp=fp, fn=fn, tn=tn, accuracy=(tp + tn) / n, precision=precision,
                         recall=recall, f1=f1, predicted_positive_rate=(tp + fp) / n,
                         true_positive_rate=(tp + fn) / n)


def majority_baseline(y_true, *, labels) -> Baseline:
    """Always predict the most frequent true label (ties go to the earlier label in `labels`).

    Its macro-F1 is the floor a classifier must clear ("hold the gap" over it), since on skewed
    data accuracy alone rewards predicting the majority class.
    """
    labels = label_list(labels)
    as_sequence("y_true", y_true)
    index = {label: i for i, label in enumerate(labels)}
    counts = np.bincount(codes("y_true", y_true, index), minlength=len(labels))
    top = int(np.argmax(counts))
    matrix = np.zeros((len(labels), len(labels) + 1), dtype=np.int64)
    matrix[:, top] = counts
    return Baseline(label=labels[top], accuracy=float(counts[top] / len(y_true)),
                    macro_f1=f1_from_confusion(matrix))


def always_positive_baseline(y_true, *, positive) -> BinaryMetrics:
    """The metrics of predicting `positive` for every item (recall 1, precision = prevalence)."""
    as_sequence("y_true", y_true)
    return binary_metrics(y_true, [positive] * len(y_true), positive=positive)


def macro_f1_from_confusion(counts, n_labels: int) -> np.ndarray:
    """Macro-F1 from confusion cells, vectorized over leading axes (for sums_bootstrap).

    counts: (..., n_labels * (n_labels + 1)), cell i * (n_labels + 1) + j = true label i and
    predicted label j, where j == n_labels is a prediction outside the labels (a parse failure:
    wrong for its true class, a false positive for none). Equals macro_f1 on the same items; nan
    where there are no items.
    """
    if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 1:
        raise ValueError(f"n_labels must be an integer >= 1, got {n_labels!r}")
    arr = np.asarray(counts, dtype=np.float64)
    if arr.shape[-1] != n_labels * (n_labels + 1):
        raise ValueError(f"counts must have {n_labels * (n_labels + 1)} cells on the last axis, "
                         f"got shape {arr.shape}")
    cells = arr.reshape(arr.shape[:-1] + (n_labels, n_labels + 1))
    inside = cells[..., :n_labels]
    tp = np.diagonal(inside, axis1=-2, axis2=-1)
    fn = cells.sum(axis=-1) - tp
    fp = inside.sum(axis=-2) - tp
    denom = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0).mean(axis=-1)
    return np.where(cells.sum(axis=(-2, -1)) > 0, f1, np.nan)
