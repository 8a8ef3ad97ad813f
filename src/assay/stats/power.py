"""Prospective power and detectability: how large a change a comparison of n items can detect.

Used before training (`assay goals lock`) to say whether a goal is testable at all, and in reports
to put a "not significant" in proportion. For pass/fail metrics the power is that of the exact
McNemar test actually run (conditional binomial test of the discordant items), computed exactly by
summing over the number of discordant items; for other metrics it is the normal approximation from
a standard error. scipy is imported only by the exact McNemar power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from assay.stats._checks import probability, shown

ALTERNATIVES = ("two-sided", "greater", "less")
_GRID = 200          # grid points in (0, psi] before the bisection of the exact MDD
_BISECTIONS = 40


@dataclass(frozen=True, slots=True)
class Detectability:
    """The smallest true difference detectable with the given power at level alpha.

    mdd: that difference (in the metric's units; math.inf when no difference is detectable).
    method: "exact-mcnemar" (exact power of the exact McNemar test, from discordance_rate) or
    "normal-se" ((z_{1-alpha/2} + z_power) * standard_error). The unused input is None.
    """

    n: int
    mdd: float
    alpha: float
    power: float
    method: str
    discordance_rate: float | None
    standard_error: float | None = None


def mcnemar_power(n: int, discordance_rate: float, difference: float, *, alpha: float = 0.05,
                  alternative: str = "two-sided") -> float:
    """Exact power of the exact McNemar test at level alpha for n paired items.

    The number of discordant items is m ~ Binomial(n, psi) (psi = discordance_rate); given m, the
    candidate's gains are Binomial(m, (psi + d) / (2 psi)) with d = difference = candidate_rate -
    base_rate. The rejection region for each m is that of the exact conditional binomial test
    (mcnemar_pvalue(b, c, alternative) <= alpha), so the power is exact, not approximate:
    sum over m of P(m) * P(reject | m). "greater" tests candidate better, "less" candidate worse.
    """
    n, psi, alpha = _n(n), _psi(discordance_rate), probability("alpha", alpha)
    _alternative(alternative)
    if not isinstance(difference, (int, float)) or not abs(difference) <= psi:
        raise ValueError(f"difference must be a number with |difference| <= discordance_rate "
                         f"({psi}), got {shown(difference)}")
    return _exact_power(n, psi, float(difference), alpha, alternative)


def _exact_power(n: int, psi: float, d, alpha: float, alternative: str):
    """Exact power at each difference in d (a float, or an array: one column per difference).

    Only the discordant counts m carrying all but 1e-15 of the Binomial(n, psi) mass are summed
    (about 15 standard deviations around n * psi), which keeps n = 10,000 cheap."""
    from scipy.stats import binom

    lo, hi = binom.ppf(1e-15, n, psi), binom.isf(1e-15, n, psi)
    m = np.arange(int(max(0, lo - 1)), int(min(n, hi + 1)) + 1)[:, None]
    q = np.clip((psi + np.atleast_1d(np.asarray(d, dtype=np.float64))) / (2 * psi), 0.0, 1.0)[None, :]
    k = _critical_counts(m, alpha / 2 if alternative == "two-sided" else alpha)
    low = binom.cdf(k, m, q)                      # c <= k: candidate significantly worse
    high = binom.sf(m - k - 1, m, q)              # c >= m - k: candidate significantly better
    reject = {"two-sided": low + high, "greater": high, "less": low}[alternative]
    reject = np.where(k >= 0, reject, 0.0)
    out = np.minimum(1.0, binom.pmf(m[:, 0], n, psi) @ reject)
    return float(out[0]) if np.ndim(d) == 0 else out


def _critical_counts(m: np.ndarray, tail: float) -> np.ndarray:
    """For each m, the largest k with P(X <= k) <= tail for X ~ Binomial(m, 1/2); -1 if none."""
    from scipy.stats import binom

    k = binom.ppf(tail, m, 0.5).astype(np.int64)  # smallest k with P(X <= k) >= tail
    at = binom.cdf(k, m, 0.5)
    return np.where(at <= tail * (1 + 1e-12), k, k - 1)


def min_detectable_difference(n: int, discordance_rate: float, *, alpha: float = 0.05,
                              power: float = 0.8, method: str = "exact",
                              alternative: str = "two-sided") -> float:
    """Smallest true candidate_rate - base_rate that McNemar's test detects with the given power.

    method="exact" (default): the smallest d in (0, psi] whose exact power (mcnemar_power) reaches
    `power`, found on a grid of 200 points and refined by 40 bisections; math.inf
    when even d = psi (every discordant item a gain) falls short. method="normal": Connor (1987)
    n = (z_a sqrt(psi) + z_b sqrt(psi - d^2))^2 / d^2, solved for d (the positive root of
    (n + zb^2) d^2 - 2 za sqrt(n psi) d + (za^2 - zb^2) psi = 0); it is optimistic at small n:
    for n=100, psi=0.2 Connor gives ~0.124 where the exact test has only ~0.77 power.
    """
    n, psi = _n(n), _psi(discordance_rate)
    alpha = probability("alpha", alpha)
    power = _power(power)
    _alternative(alternative)
    if method == "normal":
        return _connor(n, psi, alpha, power, alternative)
    if method != "exact":
        raise ValueError(f"method must be 'exact' or 'normal', got {shown(method)}")
    if alternative == "less":
        alternative = "greater"  # the detectable size is the same in either direction
    return _exact_mdd(n, psi, alpha, power, alternative)


def _connor(n: int, psi: float, alpha: float, power: float, alternative: str) -> float:
    za = _z_alpha(alpha, alternative)
    zb = NormalDist().inv_cdf(power)
    disc = psi * zb * zb * (n - za * za + zb * zb)
    if disc < 0:
        return math.inf
    d = (za * math.sqrt(n * psi) + math.sqrt(disc)) / (n + zb * zb)
    return d if d <= psi else math.inf


def _exact_mdd(n: int, psi: float, alpha: float, power: float, alternative: str) -> float:
    if _exact_power(n, psi, psi, alpha, alternative) < power:
        return math.inf
    grid = psi * np.arange(1, _GRID + 1) / _GRID
    first = int(np.argmax(_exact_power(n, psi, grid, alpha, alternative) >= power))
    lo, hi = (float(grid[first - 1]) if first else 0.0), float(grid[first])
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if _exact_power(n, psi, mid, alpha, alternative) >= power:
            hi = mid
        else:
            lo = mid
    return hi  # the exact power at hi is >= power by construction


def mdd_from_standard_error(standard_error: float, *, alpha: float = 0.05, power: float = 0.8,
                            alternative: str = "two-sided") -> float:
    """Normal-approximation detectable difference (z_{1-alpha/2} + z_power) * standard_error
    (z_{1-alpha} for a one-sided alternative): the true difference an approximately normal
    estimate with this standard error detects with the given power."""
    if (isinstance(standard_error, bool) or not isinstance(standard_error, (int, float))
            or not math.isfinite(standard_error) or standard_error < 0):
        raise ValueError(f"standard_error must be a finite number >= 0, got {shown(standard_error)}")
    alpha, power = probability("alpha", alpha), _power(power)
    _alternative(alternative)
    return (_z_alpha(alpha, alternative) + NormalDist().inv_cdf(power)) * float(standard_error)


def detectability(n: int, *, discordance_rate: float | None = None,
                  standard_error: float | None = None, alpha: float = 0.05,
                  power: float = 0.8) -> Detectability:
    """How large a two-sided change n items can detect: from the exact McNemar power when the
    discordance rate is given (pass/fail metrics), else from a standard error. Give exactly one."""
    n = _n(n)
    if (discordance_rate is None) == (standard_error is None):
        raise ValueError("give exactly one of discordance_rate (pass/fail metric, exact McNemar) "
                         f"or standard_error (other metrics), got discordance_rate="
                         f"{shown(discordance_rate)} and standard_error={shown(standard_error)}")
    if discordance_rate is not None:
        mdd = min_detectable_difference(n, discordance_rate, alpha=alpha, power=power)
        return Detectability(n=n, mdd=mdd, alpha=float(alpha), power=float(power),
                             method="exact-mcnemar", discordance_rate=float(discordance_rate))
    mdd = mdd_from_standard_error(standard_error, alpha=alpha, power=power)
    return Detectability(n=n, mdd=mdd, alpha=float(alpha), power=float(power), method="normal-se",
                         discordance_rate=None, standard_error=float(standard_error))


def _z_alpha(alpha: float, alternative: str) -> float:
    return NormalDist().inv_cdf(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha)


def _n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {shown(n)}")
    return int(n)


def _psi(discordance_rate) -> float:
    if (isinstance(discordance_rate, bool) or not isinstance(discordance_rate, (int, float))
            or not 0 < discordance_rate <= 1):
        raise ValueError(f"discordance_rate must be in (0, 1], got {shown(discordance_rate)}")
    return float(discordance_rate)


def _power(power) -> float:
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0.5 <= power < 1:
        raise ValueError(f"power must be in [0.5, 1) (usually 0.8 or 0.9), got {shown(power)}")
    return float(power)


def _alternative(alternative) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {shown(alternative)}")
