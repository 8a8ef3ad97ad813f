"""Confidence intervals for a single proportion (Wilson score) and the normal quantile they share.

The standard library's NormalDist gives the quantile, so these need neither scipy nor its import time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from assay.stats._checks import confidence, shown


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float


def z_two_sided(confidence_level: float) -> float:
    """The standard-normal quantile z with P(|Z| <= z) = confidence_level."""
    return NormalDist().inv_cdf(0.5 + confidence_level / 2)


def wilson_interval(successes: int, n: int, *, confidence_level: float = 0.95) -> Interval:
    """Wilson score interval for successes out of n (Wilson 1927; same as statsmodels
    proportion_confint(method="wilson")). Unlike the Wald interval it stays inside [0, 1] and is
    not degenerate at 0 or n successes."""
    _check_counts(successes, n)
    z = z_two_sided(confidence(confidence_level))
    return wilson_from_z(successes, n, z)


def wilson_from_z(successes: int, n: int, z: float) -> Interval:
    """The Wilson interval for a precomputed z (used by the paired interval, which needs two)."""
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(estimate=p, low=max(0.0, centre - half), high=min(1.0, centre + half))


def _check_counts(successes: int, n: int) -> None:
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
            raise ValueError(f"{name} must be an integer, got {shown(value)}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
