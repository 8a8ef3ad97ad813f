"""mcnemar, noise_floor and min_detectable_difference against scipy, statsmodels, the published
numbers and exact enumeration."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from assay.stats import (McNemarResult, NoiseFloorResult, mcnemar, mcnemar_midp, mcnemar_pvalue,
                         min_detectable_difference, noise_floor)
from assay.stats.paired import binomial_pvalue_half


def _runs(both, b, c, neither):
    """Paired outcomes with the given 2x2 cells (base passed & candidate passed, ...)."""
    base = [True] * both + [True] * b + [False] * c + [False] * neither
    cand = [True] * both + [False] * b + [True] * c + [False] * neither
    return base, cand


def test_published_13_lost_7_gained():
    # lgtm-575: form 14% -> 8% on 100 items, 20 discordant (13 lost, 7 gained), p = 0.263
    base, cand = _runs(1, 13, 7, 79)
    r = mcnemar(base, cand)
    assert isinstance(r, McNemarResult)
    assert (r.n, r.b, r.c, r.n_discordant) == (100, 13, 7, 20)
    assert round(r.pvalue, 3) == 0.263
    assert (r.base_rate, r.candidate_rate) == (0.14, 0.08)
    assert r.difference == pytest.approx(-0.06)
    assert r.ci_low < -0.06 < r.ci_high and r.ci_high > 0  # not a detectable change


def test_published_13_6():
    r = mcnemar(*_runs(0, 13, 6, 10))
    assert round(r.pvalue, 3) == 0.167


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (1, 0), (3, 3), (0, 10), (13, 7), (40, 61), (200, 260),
                                 (1, 30), (500, 430)])
def test_matches_binomtest_and_statsmodels(b, c):
    r = mcnemar(*_runs(5, b, c, 4))
    expected = binomtest(c, b + c, 0.5).pvalue if b + c else 1.0
    assert r.pvalue == pytest.approx(expected, rel=1e-12, abs=1e-300)
    table = [[5, b], [c, 4]]
    assert r.pvalue == pytest.approx(sm_mcnemar(table, exact=True).pvalue, rel=1e-9)


def test_exact_pvalue_everywhere_small_n():
    for n in range(1, 41):
        for k in range(n + 1):
            assert binomial_pvalue_half(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-12)


@pytest.mark.parametrize("k,n", [(4_800, 10_000), (5_000, 10_000), (10_000, 20_001), (49_500, 100_000),
                                 (48_000, 100_000), (7_000, 15_000)])
def test_large_discordant_count(k, n):
    # exact integers up to 10,000 discordant pairs, scipy.special.bdtr above
    assert binomial_pvalue_half(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9)


def test_symmetric_in_swap():
    base, cand = _runs(10, 13, 7, 70)
    r, s = mcnemar(base, cand), mcnemar(cand, base)
    assert (s.b, s.c, s.pvalue) == (r.c, r.b, r.pvalue)
    assert s.difference == -r.difference
    assert s.ci_low == pytest.approx(-r.ci_high) and s.ci_high == pytest.approx(-r.ci_low)


# Newcombe RG (1998), "Improved confidence intervals for the difference between binomial
# proportions based on paired data", Stat Med 17:2635-2650, Table III (pp. 2641-2642): the 95%
# limits of method 10 (Wilson marginals, continuity-corrected phi*) for theta = p1 - p2 =
# (f - g) / n, cells (e, f, g, h) = (both, base only, candidate only, neither), 4 decimals as
# printed. The 18 rows agree in four independent public transcriptions (two Python, two
# TypeScript test suites); row (20, 12, 2, 16) is also ratesci's test of pairbinci(method_RD =
# "MOVER_newc") and the audit's (issue 10) example. Method 8 (phi uncorrected) differs from these
# in 10 rows: e.g. (20, 12, 2, 16) -> [0.0618, 0.3242] and (27, 0, 0, 27) -> [0, 0].
TABLE_III_METHOD_10 = {
    (36, 12, 2, 0): (0.0569, 0.3404),
    (20, 12, 2, 16): (0.0562, 0.3292),
    (18, 12, 2, 18): (0.0562, 0.3290),
    (36, 14, 0, 0): (0.1528, 0.4167),
    (35, 14, 0, 1): (0.1461, 0.4175),
    (18, 14, 0, 18): (0.1441, 0.3963),
    (2, 97, 1, 0): (0.8721, 0.9854),
    (1, 97, 1, 1): (0.8736, 0.9850),  # eh <= fg: phi* = phi; computed 0.873672 (table rounds down)
    (0, 29, 1, 0): (0.6666, 0.9882),
    (2, 98, 0, 0): (0.9178, 0.9945),
    (1, 98, 0, 1): (0.9171, 0.9916),
    (0, 30, 0, 0): (0.8395, 1.0),
    (54, 0, 0, 0): (-0.0664, 0.0664),
    (53, 0, 0, 1): (-0.0729, 0.0729),
    (30, 0, 0, 24): (-0.0358, 0.0358),
    (29, 0, 0, 25): (-0.0354, 0.0354),
    (28, 0, 0, 26): (-0.0352, 0.0352),
    (27, 0, 0, 27): (-0.0351, 0.0351),
}
# Method 8 as printed in the same table, for the rows where it differs from method 10.
TABLE_III_METHOD_8 = {
    (20, 12, 2, 16): (0.0618, 0.3242), (18, 12, 2, 18): (0.0618, 0.3239),
    (35, 14, 0, 1): (0.1573, 0.4149), (18, 14, 0, 18): (0.1504, 0.3910),
    (1, 98, 0, 1): (0.9174, 0.9916), (53, 0, 0, 1): (-0.0640, 0.0640),
    (30, 0, 0, 24): (-0.0074, 0.0074), (29, 0, 0, 25): (-0.0049, 0.0049),
    (28, 0, 0, 26): (-0.0025, 0.0025), (27, 0, 0, 27): (0.0, 0.0),
}


@pytest.mark.parametrize("cells,published", sorted(TABLE_III_METHOD_10.items()))
def test_interval_reproduces_newcombe_table_iii_method_10(cells, published):
    # our difference is candidate - base = p2 - p1 = -theta, so the interval is (-U, -L)
    r = mcnemar(*_runs(*cells))
    assert -r.ci_high == pytest.approx(published[0], abs=1e-4)
    assert -r.ci_low == pytest.approx(published[1], abs=1e-4)
    assert r.ci_low <= r.difference <= r.ci_high
    # all but one row hold to the printed rounding (half a unit in the 4th decimal)
    if cells != (1, 97, 1, 1):
        assert -r.ci_high == pytest.approx(published[0], abs=5e-5)
        assert -r.ci_low == pytest.approx(published[1], abs=5e-5)


@pytest.mark.parametrize("cells,method_8", sorted(TABLE_III_METHOD_8.items()))
def test_interval_is_not_method_8(cells, method_8):
    # the check can fail: the uncorrected phi (the old code) misses these rows by > 1e-4
    r = mcnemar(*_runs(*cells))
    assert max(abs(-r.ci_high - method_8[0]), abs(-r.ci_low - method_8[1])) > 2e-4


def _method_10_by_formula(e, f, g, h, z=1.959963984540054):
    """Newcombe (1998) method 10 written a second time, separately, from the paper's formulas
    (Wilson limits l_i, u_i from the closed form; phi* with the N/2 correction)."""
    n = e + f + g + h

    def wilson(x):
        p = x / n
        mid, half = 2 * n * p + z * z, z * math.sqrt(z * z + 4 * n * p * (1 - p))
        return (mid - half) / (2 * (n + z * z)), (mid + half) / (2 * (n + z * z))

    p1, p2 = (e + f) / n, (e + g) / n
    (l1, u1), (l2, u2) = wilson(e + f), wilson(e + g)
    den = (e + f) * (g + h) * (e + g) * (f + h)
    a = e * h - f * g
    num = max(a - n / 2, 0) if a > 0 else a
    phi = num / math.sqrt(den) if den else 0.0
    theta = p1 - p2
    dl = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    eu = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return max(-1.0, theta - dl), min(1.0, theta + eu)


@pytest.mark.parametrize("cells", [(1, 13, 7, 79), (12, 9, 2, 21), (40, 5, 15, 40), (0, 3, 0, 0),
                                   (50, 0, 0, 50), (8, 2, 3, 0), (1, 0, 0, 1), (3, 1, 0, 2),
                                   (5, 0, 0, 5), (300, 41, 59, 600)])
def test_interval_matches_a_second_implementation(cells):
    low, high = _method_10_by_formula(*cells)
    r = mcnemar(*_runs(*cells))
    assert r.ci_low == pytest.approx(-high, abs=1e-12)
    assert r.ci_high == pytest.approx(-low, abs=1e-12)


@pytest.mark.parametrize("cells,published,source", [
    # Fagerland, Lydersen & Laake (2014) Stat Methods Med Res, Bentur et al. airway data: Newcombe
    # square-and-add with the corrected phi (also ratesci's and contingencytables' tests)
    ((1, 1, 7, 12), (-0.507, -0.026), 3),
    # Fagerland, Lydersen & Laake (2017) book, Cavo et al. 2012 (contingencytables' test)
    ((59, 6, 16, 80), (-0.1186, -0.0046), 4),
    # Tang, Ling & Tian (2010) example, as in ratesci's tests
    ((8, 3, 1, 2), (-0.1574, 0.4136), 4),
])
def test_interval_matches_other_published_examples(cells, published, source):
    r = mcnemar(*_runs(*cells))
    assert round(-r.ci_high, source) == published[0] and round(-r.ci_low, source) == published[1]


def test_no_discordant_pairs_is_not_a_zero_interval():
    r = mcnemar(*_runs(27, 0, 0, 27))
    assert r.difference == 0 and r.ci_low < 0 < r.ci_high
    assert (r.ci_low, r.ci_high) == pytest.approx((-0.0351, 0.0351), abs=5e-5)
    assert mcnemar(*_runs(1, 0, 0, 1)).ci_high > 0.5  # n = 2: phi* = 0, wide


def test_interval_widens_with_confidence():
    base, cand = _runs(12, 9, 2, 21)
    narrow, wide = mcnemar(base, cand, confidence_level=0.9), mcnemar(base, cand, confidence_level=0.99)
    assert wide.ci_low < narrow.ci_low <= narrow.difference <= narrow.ci_high < wide.ci_high


def test_interval_coverage_by_simulation():
    # the 95% interval should cover the true difference in roughly 95% of samples
    rng = np.random.default_rng(0)
    probs = [0.5, 0.1, 0.2, 0.2]  # both, b, c, neither: true difference 0.1
    hits = 0
    for cells in rng.multinomial(80, probs, size=400):
        r = mcnemar(*_runs(*cells))
        hits += r.ci_low <= 0.1 <= r.ci_high
    assert 0.91 <= hits / 400 <= 0.99


def test_accepts_numpy_and_ints():
    r = mcnemar(np.array([1, 0, 1]), [True, True, False])
    assert (r.b, r.c) == (1, 1)


@pytest.mark.parametrize("call,name", [
    (lambda: mcnemar([True], [True, False]), "base and candidate"),
    (lambda: mcnemar([], []), "base"),
    (lambda: mcnemar([True, None], [True, True]), r"base\[1\]"),
    (lambda: mcnemar([True], [0.5]), r"candidate\[0\]"),
    (lambda: mcnemar([True], ["yes"]), r"candidate\[0\]"),
    (lambda: mcnemar([True], [True], confidence_level=1.5), "confidence_level"),
    (lambda: mcnemar(True, [True]), "base"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_noise_floor_matches_mcnemar():
    run1, run2 = _runs(60, 6, 4, 30)
    got = noise_floor(run1, run2)
    ref = mcnemar(run1, run2)
    assert isinstance(got, NoiseFloorResult)
    assert (got.n, got.n_flipped, got.flip_rate) == (100, 10, 0.1)
    assert (got.difference, got.ci_low, got.ci_high, got.pvalue) == (ref.difference, ref.ci_low,
                                                                     ref.ci_high, ref.pvalue)
    assert got.difference == pytest.approx(-0.02)


@pytest.mark.parametrize("call,name", [
    (lambda: noise_floor([True], [True, False]), "run1 and run2"),
    (lambda: noise_floor([None], [True]), r"run1\[0\]"),
    (lambda: noise_floor([True], []), "run2"),
])
def test_noise_floor_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


Z95, Z80 = 1.959963984540054, 0.8416212335729143


def _connor_n(d, psi, za=Z95, zb=Z80):
    return (za * math.sqrt(psi) + zb * math.sqrt(psi - d * d)) ** 2 / (d * d)


def _power_by_enumeration(n, psi, delta, za=Z95):
    """Exact power of the (uncorrected, asymptotic) McNemar z-test |c - b| / sqrt(b + c) > za when
    items are gained with probability (psi + delta) / 2 and lost with (psi - delta) / 2."""
    p_gain, p_lose = (psi + delta) / 2, (psi - delta) / 2
    power = 0.0
    for b in range(n + 1):
        for c in range(n + 1 - b):
            if b + c and abs(c - b) / math.sqrt(b + c) > za:
                log_p = (math.lgamma(n + 1) - math.lgamma(b + 1) - math.lgamma(c + 1)
                         - math.lgamma(n - b - c + 1) + b * math.log(p_lose) + c * math.log(p_gain)
                         + (n - b - c) * math.log(1 - psi))
                power += math.exp(log_p)
    return power


@pytest.mark.parametrize("n,psi", [(100, 0.2), (400, 0.1), (1000, 0.3), (50, 0.5)])
def test_mdd_solves_connor_formula(n, psi):
    d = min_detectable_difference(n, psi, method="normal")
    assert 0 < d <= psi
    assert _connor_n(d, psi) == pytest.approx(n, rel=1e-9)


@pytest.mark.parametrize("n,psi", [(200, 0.2), (300, 0.15)])
def test_mdd_has_the_stated_power(n, psi):
    d = min_detectable_difference(n, psi, method="normal")
    assert _power_by_enumeration(n, psi, d) == pytest.approx(0.8, abs=0.03)


def test_mdd_supports_the_100_item_statement():
    # lgtm-575: 100 items, 20 discordant: the detectable change is ~12 points, so the observed
    # 6-point change (14% -> 8%) is undetectable; at 6 points the power is far below 80%
    d = min_detectable_difference(100, 0.2, method="normal")
    assert round(d, 3) == 0.124
    assert d > 0.06
    assert _power_by_enumeration(100, 0.2, 0.06) < 0.35
    assert min_detectable_difference(100, 0.2, power=0.9, method="normal") > d
    assert min_detectable_difference(400, 0.2, method="normal") < d


def test_mdd_undetectable_is_inf():
    assert min_detectable_difference(3, 0.1) == math.inf
    assert min_detectable_difference(3, 0.1, method="normal") == math.inf


@pytest.mark.parametrize("kwargs,name", [
    (dict(n=0, discordance_rate=0.2), "n"), (dict(n=10, discordance_rate=0), "discordance_rate"),
    (dict(n=10, discordance_rate=1.5), "discordance_rate"),
    (dict(n=10, discordance_rate=0.2, alpha=0), "alpha"),
    (dict(n=10, discordance_rate=0.2, power=0.3), "power"), (dict(n=2.5, discordance_rate=0.2), "n"),
])
def test_mdd_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        min_detectable_difference(**kwargs)


def test_midp_hand_computed():
    # 12 lost, 2 gained: exact = 2 (1 + 14 + 91) / 2^14; mid-p takes half of P(X = 2) = 91 / 2^14
    r = mcnemar(*_runs(10, 12, 2, 20))
    assert r.pvalue == pytest.approx(212 / 16384, rel=1e-15)
    assert r.midp == pytest.approx(121 / 16384, rel=1e-15)
    assert mcnemar_midp(12, 2) == mcnemar_midp(2, 12) == r.midp


def test_midp_against_scipy_everywhere_small_n():
    from scipy.stats import binom

    for m in range(0, 41):
        for c in range(m + 1):
            k = min(c, m - c)
            ref = 1.0 if m == 0 else min(1.0, 2 * (binom.cdf(k - 1, m, 0.5) + 0.5 * binom.pmf(k, m, 0.5)))
            got = mcnemar_midp(m - c, c)
            assert got == pytest.approx(ref, rel=1e-12, abs=1e-300)
            assert got <= binomial_pvalue_half(c, m)
    assert mcnemar_midp(0, 0) == 1.0 and mcnemar_midp(5, 5) == 1.0
    # beyond the exact-integer limit
    assert mcnemar_midp(5_000, 5_300) == pytest.approx(
        2 * (binom.cdf(4_999, 10_300, 0.5) + 0.5 * binom.pmf(5_000, 10_300, 0.5)), rel=1e-9)


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (3, 3), (2, 12), (12, 2), (40, 61), (7, 0), (0, 9),
                                 (5_000, 5_300), (5_300, 5_000)])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_one_sided_pvalue_matches_binomtest(b, c, alternative):
    expected = binomtest(c, b + c, 0.5, alternative=alternative).pvalue if b + c else 1.0
    assert mcnemar_pvalue(b, c, alternative=alternative) == pytest.approx(expected, rel=1e-9)


def test_one_sided_direction():
    # "greater" = the candidate is better = many gains (c)
    assert mcnemar_pvalue(1, 9, alternative="greater") < 0.05 < mcnemar_pvalue(1, 9, alternative="less")
    with pytest.raises(ValueError, match="alternative"):
        mcnemar_pvalue(1, 2, alternative="two_sided")
    with pytest.raises(ValueError, match="b must be a count"):
        mcnemar_pvalue(-1, 2)
    with pytest.raises(ValueError, match="c must be a count"):
        mcnemar_midp(1, 2.5)


def test_one_sided_positional_alternative():
    assert mcnemar_pvalue(1, 9, "greater") == mcnemar_pvalue(1, 9, alternative="greater") == 11 / 1024
