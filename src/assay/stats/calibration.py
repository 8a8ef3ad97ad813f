"""Expected calibration error and reliability bins: does a stated confidence of 0.8 come true 80% of
the time? (For a classifier: its confidence in the predicted label against whether it was right.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assay.stats._checks import as_bools, as_floats, count, same_length


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One equal-width confidence bin [low, high) (the last one includes 1.0)."""

    low: float
    high: float
    n: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """ECE = sum over bins of n_b / n * |accuracy_b - mean_confidence_b|; bins holds the non-empty
    bins in increasing order (empty bins carry no information and would need nan fields)."""

    ece: float
    n: int
    bins: tuple[ReliabilityBin, ...]


def calibration(probabilities, outcomes, *, n_bins: int = 10) -> CalibrationResult:
    """Reliability bins and ECE over n_bins equal-width bins of [0, 1].

    Bin edges are numpy.linspace(0, 1, n_bins + 1) and a value goes to the bin whose [low, high)
    holds it: the bins of sklearn.calibration.calibration_curve(strategy="uniform") except for a
    value exactly on an inner edge, which sklearn puts in the bin below ((low, high]).
    """
    probs = as_floats("probabilities", probabilities)
    hits = as_bools("outcomes", outcomes)
    same_length("probabilities", probs, "outcomes", hits)
    n_bins = count("n_bins", n_bins)
    outside = np.flatnonzero((probs < 0) | (probs > 1))
    if len(outside):
        i = int(outside[0])
        raise ValueError(f"probabilities[{i}] must be in [0, 1], got {probs[i]!r}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.searchsorted(edges[1:-1], probs, side="right")
    sizes = np.bincount(which, minlength=n_bins)
    conf = np.bincount(which, weights=probs, minlength=n_bins)
    acc = np.bincount(which, weights=hits.astype(np.float64), minlength=n_bins)
    bins = tuple(ReliabilityBin(low=float(edges[i]), high=float(edges[i + 1]), n=int(sizes[i]),
                                mean_confidence=float(conf[i] / sizes[i]), accuracy=float(acc[i] / sizes[i]))
                 for i in np.flatnonzero(sizes))
    ece = sum(b.n * abs(b.accuracy - b.mean_confidence) for b in bins) / len(probs)
    return CalibrationResult(ece=float(ece), n=len(probs), bins=bins)
