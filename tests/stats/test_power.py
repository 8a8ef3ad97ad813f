"""mcnemar_power against brute-force enumeration and simulation; the exact and Connor MDDs;
mdd_from_standard_error and detectability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from assay.stats import (Detectability, detectability, mcnemar_power, mcnemar_pvalue,
                         mdd_from_standard_error, min_detectable_difference)


def _power_by_enumeration(n, psi, d, alpha=0.05, alternative="two-sided"):
    """Sum over every (b lost, c gained) table of its multinomial probability when the exact
    test (scipy's binomtest on the discordant items) rejects."""
    p_gain, p_lose, p_same = (psi + d) / 2, (psi - d) / 2, 1 - psi
    total = 0.0
    for b in range(n + 1):
        for c in range(n + 1 - b):
            if b + c == 0:
                continue
            p = binomtest(c, b + c, 0.5, alternative=alternative).pvalue
            if p <= alpha:
                log = (math.lgamma(n + 1) - math.lgamma(b + 1) - math.lgamma(c + 1)
                       - math.lgamma(n - b - c + 1))
                total += math.exp(log) * p_lose ** b * p_gain ** c * p_same ** (n - b - c)
    return total


@pytest.mark.parametrize("n,psi,d,alternative", [
    (12, 0.5, 0.3, "two-sided"), (25, 0.3, 0.1, "two-sided"), (25, 0.3, -0.2, "two-sided"),
    (30, 0.2, 0.0, "two-sided"), (20, 1.0, 0.6, "two-sided"), (25, 0.4, 0.2, "greater"),
    (25, 0.4, -0.2, "less"), (25, 0.4, -0.2, "greater"), (18, 0.3, 0.3, "two-sided"),
])
def test_exact_power_matches_enumeration(n, psi, d, alternative):
    got = mcnemar_power(n, psi, d, alternative=alternative)
    assert got == pytest.approx(_power_by_enumeration(n, psi, d, alternative=alternative), abs=1e-10)


def test_size_under_the_null_is_at_most_alpha():
    for n in (10, 40, 100, 400):
        assert mcnemar_power(n, 0.3, 0.0) <= 0.05


def test_exact_power_by_simulation():
    # 40,000 simulated 100-item tables at Connor's MDD, tested with mcnemar_pvalue
    rng = np.random.default_rng(0)
    d = min_detectable_difference(100, 0.2, method="normal")
    cells = rng.multinomial(100, [(0.2 - d) / 2, (0.2 + d) / 2, 0.8], size=40_000)
    rejected = np.mean([mcnemar_pvalue(int(b), int(c)) <= 0.05 for b, c, _ in cells])
    assert rejected == pytest.approx(mcnemar_power(100, 0.2, d), abs=0.007)


def test_connor_is_optimistic_for_the_exact_test():
    # the audit's figures: at Connor's 80%-power MDD the exact test has ~0.77 power at n=100,
    # psi=0.2, and ~0.71 at n=16 (psi=0.9; 0.70 at psi=1)
    d = min_detectable_difference(100, 0.2, method="normal")
    assert round(d, 3) == 0.124
    assert mcnemar_power(100, 0.2, d) == pytest.approx(0.768, abs=0.001)
    assert mcnemar_power(100, 0.2, d) < 0.8
    assert mcnemar_power(16, 0.9, min_detectable_difference(16, 0.9, method="normal")) == \
        pytest.approx(0.713, abs=0.001)
    assert mcnemar_power(16, 1.0, min_detectable_difference(16, 1.0, method="normal")) < 0.8


@pytest.mark.parametrize("n,psi", [(100, 0.2), (16, 0.9), (50, 0.5), (400, 0.1), (2000, 0.05),
                                   (10_000, 0.1)])
def test_exact_mdd_reaches_the_power_and_is_the_smallest(n, psi):
    d = min_detectable_difference(n, psi)
    assert 0 < d <= psi
    assert mcnemar_power(n, psi, d) >= 0.8
    assert mcnemar_power(n, psi, d * (1 - 1e-6)) < 0.8 or d < 1e-9
    assert d >= min_detectable_difference(n, psi, method="normal") - 1e-3  # exact is not smaller
    assert min_detectable_difference(n, psi, power=0.9) > d


def test_exact_mdd_one_sided_and_inf():
    d2 = min_detectable_difference(100, 0.2)
    d1 = min_detectable_difference(100, 0.2, alternative="greater")
    assert d1 < d2 and mcnemar_power(100, 0.2, d1, alternative="greater") >= 0.8
    assert min_detectable_difference(100, 0.2, alternative="less") == d1
    # 5 items: 5 gains out of 5 give p = 1/16 > 0.05, so nothing is detectable
    assert min_detectable_difference(5, 1.0) == math.inf
    assert min_detectable_difference(3, 0.1) == math.inf


def test_mdd_from_standard_error():
    assert mdd_from_standard_error(0.05) == pytest.approx((1.959963984540054 + 0.8416212335729143) * 0.05)
    assert mdd_from_standard_error(0.05, alternative="greater") == pytest.approx(
        (1.6448536269514722 + 0.8416212335729143) * 0.05)
    assert mdd_from_standard_error(0.0) == 0.0
    assert mdd_from_standard_error(1.0, alpha=0.01, power=0.9) == pytest.approx(2.5758293 + 1.2815516,
                                                                                abs=1e-6)


def test_detectability():
    exact = detectability(100, discordance_rate=0.2)
    assert isinstance(exact, Detectability)
    assert (exact.n, exact.method, exact.discordance_rate) == (100, "exact-mcnemar", 0.2)
    assert exact.standard_error is None
    assert exact.mdd == min_detectable_difference(100, 0.2)
    se = detectability(80, standard_error=0.03, alpha=0.01, power=0.9)
    assert (se.method, se.alpha, se.power, se.discordance_rate) == ("normal-se", 0.01, 0.9, None)
    assert se.mdd == mdd_from_standard_error(0.03, alpha=0.01, power=0.9)
    with pytest.raises(ValueError, match="exactly one"):
        detectability(10)
    with pytest.raises(ValueError, match="exactly one"):
        detectability(10, discordance_rate=0.2, standard_error=0.1)


@pytest.mark.parametrize("call,name", [
    (lambda: mcnemar_power(0, 0.2, 0.1), "n"),
    (lambda: mcnemar_power(10, 0, 0.1), "discordance_rate"),
    (lambda: mcnemar_power(10, 0.2, 0.3), "difference"),
    (lambda: mcnemar_power(10, 0.2, 0.1, alpha=1.0), "alpha"),
    (lambda: mcnemar_power(10, 0.2, 0.1, alternative="up"), "alternative"),
    (lambda: min_detectable_difference(10, 0.2, method="magic"), "method"),
    (lambda: min_detectable_difference(10, 0.2, power=1.0), "power"),
    (lambda: mdd_from_standard_error(-1.0), "standard_error"),
    (lambda: mdd_from_standard_error(float("nan")), "standard_error"),
    (lambda: detectability(0, standard_error=0.1), "n"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
