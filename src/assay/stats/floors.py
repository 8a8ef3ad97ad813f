"""The shuffle floor: how similar an output is to a RANDOM item's reference, on average.

A relevance score (e.g. embedding similarity of a generated review to the paper's real review) means
something only by its gap over this floor: generic text scores well against every reference.
"""

from __future__ import annotations

import numpy as np

from assay.stats._checks import shown


def shuffle_floor(similarity) -> float:
    """Mean of the off-diagonal of an N x N similarity matrix (N >= 2).

    similarity[i][j]: score of output i against the reference of item j; the diagonal holds the
    matched pairs, the off-diagonal every mismatched pair, i.e. the exact expectation over all
    shufflings of the references (no sampling needed).
    """
    try:
        matrix = np.asarray(similarity, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"similarity must be an N x N matrix of numbers, got {shown(similarity)}") from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"similarity must be a square N x N matrix with N >= 2, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("similarity must hold finite numbers; it contains nan or inf")
    n = matrix.shape[0]
    return float((matrix.sum() - np.trace(matrix)) / (n * (n - 1)))
