"""Paired pass/fail comparison: McNemar's exact test with a paired confidence interval, the noise
floor of two runs of one model, and the smallest difference McNemar can detect at a given n.

Pass/fail outcomes of two models on the SAME items are paired: only the discordant items (one passed,
the other failed) carry information about the difference, which is why an unpaired z-test on the two
rates is wrong for this (it ignores the pairing and is usually far too conservative or too liberal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from assay.stats._checks import as_bools, confidence, probability, same_length, shown
from assay.stats.intervals import wilson_from_z, z_two_sided

# Exact integer arithmetic up to this many discordant pairs (~30 ms at 10,000; the cost grows as
# n^2); beyond it scipy's incomplete beta (its import costs ~0.4 s, paid only then).
_EXACT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar's exact test of two paired pass/fail runs.

    b: items base passed and candidate failed (lost); c: base failed and candidate passed (gained).
    difference = candidate_rate - base_rate = (c - b) / n, with Newcombe's paired score interval.
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
    discordant. The interval of the difference is Newcombe's (1998) method 10: a hybrid score
    interval built from the two Wilson intervals with the phi correlation of the 2x2 table; it stays
    in [-1, 1] and behaves at small n and at 0/100% rates, where the paired Wald interval does not.
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
                         difference=(c - b) / n, ci_low=low, ci_high=high, confidence_level=level)


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
    if n > _EXACT_LIMIT:
        return _incomplete_beta_pvalue(m, n)
    term, tail = 1, 1
    for i in range(m):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, (2 * tail) / (1 << n))


def _incomplete_beta_pvalue(m: int, n: int) -> float:
    """2 * P(X <= m) for X ~ Binomial(n, 1/2) from scipy's binomial CDF (regularized incomplete
    beta); scipy.special is imported only here, for more than 10,000 discordant pairs."""
    from scipy.special import bdtr

    return min(1.0, 2 * float(bdtr(m, n, 0.5)))


def newcombe_interval(both: int, b: int, c: int, neither: int, level: float) -> tuple[float, float]:
    """Newcombe (1998) method 10 interval for candidate_rate - base_rate from the paired 2x2 table.

    both: passed on both; b: base only; c: candidate only; neither: failed on both.
    """
    n = both + b + c + neither
    z = z_two_sided(level)
    p1, p2 = (both + b) / n, (both + c) / n
    w1, w2 = wilson_from_z(both + b, n, z), wilson_from_z(both + c, n, z)
    denom = (both + b) * (c + neither) * (both + c) * (b + neither)
    phi = (both * neither - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    d1_low, d1_high = p1 - w1.low, w1.high - p1
    d2_low, d2_high = p2 - w2.low, w2.high - p2
    down = math.sqrt(max(0.0, d2_low ** 2 - 2 * phi * d2_low * d1_high + d1_high ** 2))
    up = math.sqrt(max(0.0, d2_high ** 2 - 2 * phi * d2_high * d1_low + d1_low ** 2))
    diff = p2 - p1
    return max(-1.0, diff - down), min(1.0, diff + up)


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


def min_detectable_difference(n: int, discordance_rate: float, *, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """Smallest true |candidate_rate - base_rate| that McNemar's test detects with the given power.

    Connor (1987) normal approximation: n = (z_{1-alpha/2} sqrt(psi) + z_{power} sqrt(psi - d^2))^2 / d^2
    with psi the discordance rate (share of items on which the two models differ). Solved for d, the
    positive root of (n + zb^2) d^2 - 2 za sqrt(n psi) d + (za^2 - zb^2) psi = 0. Returns math.inf
    when no difference up to psi (all discordant items one way) reaches the power. Example: n=100,
    psi=0.2 gives ~0.124, so a 6-point change is undetectable with 100 items.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {shown(n)}")
    if not isinstance(discordance_rate, (int, float)) or not 0 < discordance_rate <= 1:
        raise ValueError(f"discordance_rate must be in (0, 1], got {shown(discordance_rate)}")
    za = z_two_sided(1 - probability("alpha", alpha))
    if not isinstance(power, (int, float)) or not 0.5 <= power < 1:
        raise ValueError(f"power must be in [0.5, 1) (usually 0.8 or 0.9), got {shown(power)}")
    zb = NormalDist().inv_cdf(power)
    psi = float(discordance_rate)
    disc = psi * zb * zb * (n - za * za + zb * zb)
    if disc < 0:
        return math.inf
    d = (za * math.sqrt(n * psi) + math.sqrt(disc)) / (n + zb * zb)
    return d if d <= psi else math.inf
