"""Paired pass/fail comparison: McNemar's exact test (two-sided, one-sided and mid-p) with Newcombe's
paired confidence interval, and the noise floor of two runs of one model.

Pass/fail outcomes of two models on the SAME items are paired: only the discordant items (one passed,
the other failed) carry information about the difference, which is why an unpaired z-test on the two
rates is wrong for this (it ignores the pairing and is usually far too conservative or too liberal).
The power of the test and the smallest detectable difference live in assay.stats.power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from assay.stats._checks import as_bools, confidence, same_length, shown
from assay.stats.intervals import wilson_from_z, z_two_sided
from assay.stats.power import min_detectable_difference  # noqa: F401  (its historical home)

# Exact integer arithmetic up to this many discordant pairs (~30 ms at 10,000; the cost grows as
# n^2); beyond it scipy's incomplete beta (its import costs ~0.4 s, paid only then).
_EXACT_LIMIT = 10_000

ALTERNATIVES = ("two-sided", "greater", "less")


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar's exact test of two paired pass/fail runs.

    b: items base passed and candidate failed (lost); c: base failed and candidate passed (gained).
    difference = candidate_rate - base_rate = (c - b) / n, with Newcombe's (1998) method-10 interval.
    pvalue: exact two-sided (binomial test of c out of b + c at 1/2). midp: the two-sided mid-p
    value (pvalue minus P(X = observed)), less conservative, not exact; 1.0 with no discordant item.
    """

    n: int
    b: int
    c: int
    n_discordant: int
    pvalue: float
    base_rate: float
    candidate_rate: float
    difference: float
    ci_low: float
    ci_high: float
    confidence_level: float
    midp: float = 1.0


@dataclass(frozen=True, slots=True)
class NoiseFloorResult:
    """Two runs of the same model on the same items: how much the outcome moves by chance alone.

    flip_rate: share of items whose pass/fail outcome differs between the runs. difference =
    rate(run2) - rate(run1) (spurious by construction) with its paired interval; a candidate change
    inside [ci_low, ci_high] (or smaller than the flip rate allows) is indistinguishable from noise.
    """

    n: int
    n_flipped: int
    flip_rate: float
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float


def mcnemar(base, candidate, *, confidence_level: float = 0.95) -> McNemarResult:
    """Exact two-sided McNemar test (binomial test of c out of b + c at 1/2) for paired booleans.

    The p-value equals scipy.stats.binomtest(c, b + c, 0.5).pvalue and is 1.0 when no item is
    discordant; midp is the mid-p version. The interval of the difference is Newcombe's (1998)
    method 10 (see newcombe_interval). For a one-sided test use mcnemar_pvalue(r.b, r.c,
    alternative="greater") (candidate better).
    """
    base_arr, cand_arr = as_bools("base", base), as_bools("candidate", candidate)
    same_length("base", base_arr, "candidate", cand_arr)
    level = confidence(confidence_level)
    n = len(base_arr)
    both = int(np.count_nonzero(base_arr & cand_arr))
    b = int(np.count_nonzero(base_arr & ~cand_arr))
    c = int(np.count_nonzero(~base_arr & cand_arr))
    low, high = newcombe_interval(both, b, c, n - both - b - c, level)
    return McNemarResult(n=n, b=b, c=c, n_discordant=b + c, pvalue=binomial_pvalue_half(c, b + c),
                         base_rate=(both + b) / n, candidate_rate=(both + c) / n,
                         difference=(c - b) / n, ci_low=low, ci_high=high, confidence_level=level,
                         midp=mcnemar_midp(b, c))


def mcnemar_pvalue(b: int, c: int, alternative: str = "two-sided") -> float:
    """Exact McNemar p-value from the discordant counts: b items lost, c gained by the candidate.

    Conditional on m = b + c discordant items, c ~ Binomial(m, 1/2) under the null.
    "two-sided": 2 * P(X <= min(b, c)) capped at 1 (= binomial_pvalue_half(c, m)); "greater"
    (candidate better): P(X >= c); "less" (candidate worse): P(X <= c). 1.0 when m = 0.
    """
    b, c = _discordant("b", b), _discordant("c", c)
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {shown(alternative)}")
    m = b + c
    if alternative == "two-sided":
        return binomial_pvalue_half(c, m)
    # P(X >= c) = P(X <= m - c) = P(X <= b) by the symmetry of Binomial(m, 1/2)
    return cdf_half(b if alternative == "greater" else c, m)


def mcnemar_midp(b: int, c: int) -> float:
    """Two-sided mid-p McNemar value: 2 * (P(X < k) + P(X = k) / 2) with k = min(b, c) and
    X ~ Binomial(b + c, 1/2), capped at 1; 1.0 when b + c = 0 (Fagerland et al. 2013 recommend it
    as the less conservative test; it is not guaranteed to hold its level)."""
    b, c = _discordant("b", b), _discordant("c", c)
    m, k = b + c, min(b, c)
    if m == 0 or 2 * k >= m:
        return 1.0
    below = cdf_half(k - 1, m) if k > 0 else 0.0
    return min(1.0, 2 * below + _pmf_half(k, m))


def _discordant(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a count (integer >= 0), got {shown(value)}")
    return int(value)


def binomial_pvalue_half(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of k successes in n trials at p = 1/2.

    At p = 1/2 the distribution is symmetric, so scipy's two-sided rule (sum of the outcomes no more
    likely than k) is twice the smaller tail, capped at 1. Computed with exact integers up to
    10,000 discordant pairs (correct to the last bit, no scipy import), scipy's bdtr beyond.
    """
    if n == 0:
        return 1.0
    m = min(k, n - k)
    if 2 * m >= n:
        return 1.0
    return min(1.0, 2 * cdf_half(m, n))


def cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2): exact integers up to 10,000 trials, scipy's bdtr beyond."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if n > _EXACT_LIMIT:
        from scipy.special import bdtr

        return float(bdtr(k, n, 0.5))
    term, tail = 1, 1
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return tail / (1 << n)


def _pmf_half(k: int, n: int) -> float:
    """P(X = k) for X ~ Binomial(n, 1/2)."""
    if n > _EXACT_LIMIT:
        return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        - n * math.log(2))
    return math.comb(n, k) / (1 << n)


def newcombe_interval(both: int, b: int, c: int, neither: int, level: float) -> tuple[float, float]:
    """Newcombe (1998) method 10 interval for candidate_rate - base_rate from the paired 2x2 table.

    both: passed on both; b: base only; c: candidate only; neither: failed on both. The square-and-add
    hybrid of the two marginal Wilson intervals, with the correlation of the two proportions
    estimated by Newcombe's continuity-corrected phi* (see newcombe_phi). Without the correction
    (method 8) the interval collapses to [0, 0] when no item is discordant; with it, 27/0/0/27 gives
    [-0.0351, 0.0351] as in the paper's Table III, all of whose 18 method-10 rows it reproduces.
    """
    n = both + b + c + neither
    z = z_two_sided(level)
    p1, p2 = (both + b) / n, (both + c) / n
    w1, w2 = wilson_from_z(both + b, n, z), wilson_from_z(both + c, n, z)
    phi = newcombe_phi(both, b, c, neither)
    d1_low, d1_high = p1 - w1.low, w1.high - p1
    d2_low, d2_high = p2 - w2.low, w2.high - p2
    down = math.sqrt(max(0.0, d2_low ** 2 - 2 * phi * d2_low * d1_high + d1_high ** 2))
    up = math.sqrt(max(0.0, d2_high ** 2 - 2 * phi * d2_high * d1_low + d1_low ** 2))
    diff = p2 - p1
    return max(-1.0, diff - down), min(1.0, diff + up)


def newcombe_phi(both: int, b: int, c: int, neither: int) -> float:
    """Newcombe's phi*: the phi correlation of the 2x2 table with the numerator AD - BC replaced by
    max(AD - BC - N/2, 0) when AD > BC (a continuity correction; negative AD - BC is kept as it is),
    and 0 when any margin is empty. Exact integer arithmetic up to the final square root."""
    n = both + b + c + neither
    margins = (both + b) * (c + neither) * (both + c) * (b + neither)
    if margins == 0:
        return 0.0
    cross = both * neither - b * c
    if cross > 0:
        cross2 = max(2 * cross - n, 0)  # 2 * (AD - BC - N/2), kept integer
        return cross2 / (2 * math.sqrt(margins))
    return cross / math.sqrt(margins)


def noise_floor(run1, run2, *, confidence_level: float = 0.95) -> NoiseFloorResult:
    """The noise floor from two runs of ONE model (e.g. sampled decoding twice, or two seeds).

    Any difference between the runs is noise; a base-vs-candidate difference of similar size is not
    evidence of a change. Uses the same exact test and Newcombe interval as mcnemar.
    """
    # checked here too so that errors name run1/run2 rather than base/candidate
    first, second = as_bools("run1", run1), as_bools("run2", run2)
    same_length("run1", first, "run2", second)
    result = mcnemar(first, second, confidence_level=confidence_level)
    return NoiseFloorResult(n=result.n, n_flipped=result.n_discordant,
                            flip_rate=result.n_discordant / result.n, difference=result.difference,
                            ci_low=result.ci_low, ci_high=result.ci_high, pvalue=result.pvalue)
