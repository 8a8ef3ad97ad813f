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


def tost(ci_low: float, ci_high: float, margin: float) -> bool:
    """Equivalence by two one-sided tests (Schuirmann 1987) read off an interval: True when the
    whole interval lies strictly inside (-margin, +margin). At level alpha TOST needs the
    (1 - 2 alpha) interval (a 90% interval for alpha = 0.05); pass that one."""
    for name, value in (("ci_low", ci_low), ("ci_high", ci_high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError(f"{name} must be a number, got {shown(value)}")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < math.inf:
        raise ValueError(f"margin must be a positive number (the equivalence bound), got {shown(margin)}")
    if ci_low > ci_high:
        raise ValueError(f"ci_low must be <= ci_high, got {ci_low} > {ci_high}")
    return -margin < ci_low and ci_high < margin
