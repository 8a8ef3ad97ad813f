"""Paired permutation (sign-flip) test for continuous per-item scores of two models.

Under the null hypothesis that the two models are exchangeable on each item, the sign of each
per-item difference is a fair coin; the p-value is the share of sign assignments whose mean
difference is at least as extreme as the observed one. Exact (all 2^n assignments) for n <= 16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assay.stats._checks import as_floats, count, rng_from, same_length
from assay.stats._resample import swap_chunks

EXACT_MAX_N = 16


@dataclass(frozen=True, slots=True)
class PermutationResult:
    """Sign-flip test of mean(candidate - base) = 0.

    pvalue: exact share of the 2^n sign assignments with |mean| >= |observed| when exact, else
    (1 + hits) / (1 + n_resamples) over random assignments (never 0). n_resamples: 2^n when exact.
    """

    n: int
    mean_difference: float
    pvalue: float
    n_resamples: int
    exact: bool


def permutation_test(base, candidate, *, n_resamples: int = 10_000, seed: int = 0) -> PermutationResult:
    """Two-sided paired sign-flip test on per-item differences candidate - base.

    Matches scipy.stats.permutation_test(..., permutation_type="samples") on the mean difference
    (exact for n <= 16, Monte Carlo with n_resamples random sign vectors otherwise).
    """
    b, c = as_floats("base", base), as_floats("candidate", candidate)
    same_length("base", b, "candidate", c)
    n_resamples = count("n_resamples", n_resamples)
    diff = c - b
    observed = float(diff.mean())
    # a tolerance so that assignments equal to the observed one up to float rounding count as hits
    threshold = abs(observed) - 1e-9 * float(np.abs(diff).mean())
    if len(diff) <= EXACT_MAX_N:
        means = _all_sign_means(diff)
        hits = int(np.count_nonzero(np.abs(means) >= threshold))
        return PermutationResult(n=len(diff), mean_difference=observed, pvalue=hits / len(means),
                                 n_resamples=len(means), exact=True)
    hits = _random_sign_hits(diff, threshold, n_resamples, rng_from(seed))
    return PermutationResult(n=len(diff), mean_difference=observed,
                             pvalue=(1 + hits) / (1 + n_resamples), n_resamples=n_resamples, exact=False)


def _all_sign_means(diff: np.ndarray) -> np.ndarray:
    """Mean of signs * diff for every one of the 2^n sign vectors."""
    n = len(diff)
    bits = (np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n)) & 1
    return ((1 - 2 * bits) @ diff) / n


def _random_sign_hits(diff: np.ndarray, threshold: float, n_resamples: int, rng) -> int:
    """How many random sign vectors give |mean| >= threshold; flipping the chosen items subtracts
    twice their sum from the total, one float64 matrix-vector product per chunk (0.16 s for
    10,000 x 10,000 here, against 0.89 s drawing rng.random per sign)."""
    n, total = len(diff), float(diff.sum())
    hits = 0
    for flips in swap_chunks(rng, n, n_resamples):
        means = (total - 2 * (flips @ diff)) / n
        hits += int(np.count_nonzero(np.abs(means) >= threshold))
    return hits
