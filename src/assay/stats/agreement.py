"""Agreement between two raters over a fixed label set: Cohen's kappa and its bootstrap interval.

Used for judge models (A / B / TIE against human labels, or a judge against itself with the answer
order swapped). The label set is declared, so a slice that is all TIE keeps its 3x3 shape instead of
collapsing to one label, and kappa is computed on the same footing for every slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assay.stats._checks import (as_sequence, codes, confidence, count, label_list, rng_from,
                                  same_length)
from assay.stats._resample import index_chunks, percentile_interval


@dataclass(frozen=True, slots=True)
class KappaResult:
    """Cohen's kappa with a percentile bootstrap interval.

    n_dropped: resamples where kappa was undefined (expected agreement 1, e.g. every resampled item
    TIE for both raters); they are left out of the interval.
    """

    kappa: float
    ci_low: float
    ci_high: float
    n: int
    n_resamples: int
    confidence_level: float
    n_dropped: int


def _pair_codes(rater_a, rater_b, labels) -> tuple[np.ndarray, int]:
    as_sequence("rater_a", rater_a)
    as_sequence("rater_b", rater_b)
    same_length("rater_a", rater_a, "rater_b", rater_b)
    labels = label_list(labels)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    return codes("rater_a", rater_a, index) * k + codes("rater_b", rater_b, index), k


def cohen_kappa(rater_a, rater_b, *, labels) -> float:
    """Cohen's kappa = (p_o - p_e) / (1 - p_e) over the declared labels.

    Equals sklearn cohen_kappa_score(rater_a, rater_b, labels=labels). A value outside `labels`
    (e.g. None for a parse failure) is a ValueError: add an explicit label for it (it then counts
    as a disagreement with every other label) or drop the item. When the expected agreement is 1
    (both raters used one and the same label for every item) kappa is undefined and the result is
    nan, as sklearn's default replace_undefined_by=np.nan.
    """
    pairs, k = _pair_codes(rater_a, rater_b, labels)
    return float(kappa_from_counts(np.bincount(pairs, minlength=k * k)[None, :], k)[0])


def kappa_from_counts(counts: np.ndarray, k: int) -> np.ndarray:
    """Kappa for each row of flattened (k x k) confusion counts, in exact integer arithmetic
    (n * agreed - sum(row * col)) / (n^2 - sum(row * col)); nan where the denominator is 0."""
    table = counts.reshape(-1, k, k).astype(np.int64)
    n = table.sum(axis=(1, 2))
    agreed = np.trace(table, axis1=1, axis2=2)
    chance = (table.sum(axis=2) * table.sum(axis=1)).sum(axis=1)
    num = (n * agreed - chance).astype(np.float64)
    den = (n * n - chance).astype(np.float64)
    return np.divide(num, den, out=np.full(len(table), np.nan), where=den != 0)


def kappa_bootstrap(rater_a, rater_b, *, labels, n_resamples: int = 2000,
                    confidence_level: float = 0.95, seed: int = 0) -> KappaResult:
    """Cohen's kappa with a percentile bootstrap CI over items (vectorized; seeded)."""
    pairs, k = _pair_codes(rater_a, rater_b, labels)
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    kappa = float(kappa_from_counts(np.bincount(pairs, minlength=k * k)[None, :], k)[0])
    samples = _bootstrap_kappas(pairs, k, n_resamples, rng_from(seed))
    valid = samples[~np.isnan(samples)]
    low, high = percentile_interval(valid, level)
    return KappaResult(kappa=kappa, ci_low=low, ci_high=high, n=len(pairs), n_resamples=n_resamples,
                       confidence_level=level, n_dropped=int(len(samples) - len(valid)))


def _bootstrap_kappas(pairs: np.ndarray, k: int, n_resamples: int, rng) -> np.ndarray:
    out = []
    cells = k * k
    for idx in index_chunks(rng, len(pairs), n_resamples):
        rows = len(idx)
        offsets = (np.arange(rows, dtype=np.int64) * cells)[:, None]
        counts = np.bincount((pairs[idx] + offsets).ravel(), minlength=rows * cells)
        out.append(kappa_from_counts(counts.reshape(rows, cells), k))
    return np.concatenate(out)


def kappa_from_confusion(counts, n_labels: int) -> np.ndarray:
    """Cohen's kappa from confusion-matrix cell counts, vectorized over leading axes.

    counts: array (..., n_labels * n_labels), cell i * n_labels + j = items rater_a put in label i
    and rater_b in label j (row-major). Returns kappa (...), nan where there are no items or the
    expected agreement is 1 (as cohen_kappa). This is what a bootstrap of kappa resamples: the
    cells are per-item sums, so sums_bootstrap can draw 10,000 resamples in one matrix product.
    """
    if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 2:
        raise ValueError(f"n_labels must be an integer >= 2, got {n_labels!r}")
    arr = np.asarray(counts, dtype=np.float64)
    if arr.shape[-1] != n_labels * n_labels:
        raise ValueError(f"counts must have {n_labels * n_labels} cells on the last axis, got "
                         f"shape {arr.shape}")
    cells = arr.reshape(arr.shape[:-1] + (n_labels, n_labels))
    total = cells.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.trace(cells, axis1=-2, axis2=-1) / total
        expected = (cells.sum(axis=-1) * cells.sum(axis=-2)).sum(axis=-1) / total ** 2
        kappa = (observed - expected) / (1 - expected)
    return np.where((total > 0) & (expected < 1), kappa, np.nan)
