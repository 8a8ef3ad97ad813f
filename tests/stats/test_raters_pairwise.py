"""Multi-rater agreement against published worked examples, and the pairwise statistics against
direct fits (statsmodels GLM) and simulations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from assay.stats.pairwise import bradley_terry, lc_win_rate, win_rate
from assay.stats.raters import (agreement_bootstrap, fleiss_from_table, fleiss_kappa,
                                krippendorff_alpha)

N = None
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units
# example with missing values: alpha nominal 0.743, ordinal 0.815 (interval 0.849).
KRIPPENDORFF_2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
                     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
                     [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
                     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N]]
# Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses; kappa 0.430 (irr's kappam.fleiss
# gives 0.4302445).
FLEISS_1971 = [[4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
               [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
               [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
               [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
               [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
               [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
               [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
               [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]]
# The Wikipedia worked example (10 items, 14 raters, 5 categories): kappa 0.210.
WIKIPEDIA_TABLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                   [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                   [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_krippendorff_alpha_matches_the_2011_worked_example():
    labels = [1, 2, 3, 4, 5]
    assert krippendorff_alpha(KRIPPENDORFF_2011, labels=labels) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_2011, labels=labels,
                              level="ordinal") == pytest.approx(0.815, abs=5e-4)


def test_fleiss_kappa_matches_fleiss_1971_and_the_wikipedia_table():
    raters = [list(r) for r in zip(*FLEISS_1971)]  # raters x items
    assert fleiss_kappa(raters, labels=[1, 2, 3, 4, 5]) == pytest.approx(0.4302445, abs=1e-7)
    assert fleiss_from_table(WIKIPEDIA_TABLE) == pytest.approx(0.210, abs=5e-4)


def test_two_raters_alpha_nominal_approaches_scott_pi_and_bootstrap_brackets_the_value():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, 300)
    b = np.where(rng.random(300) < 0.7, a, rng.integers(0, 3, 300))
    labs = [0, 1, 2]
    res = agreement_bootstrap([a.tolist(), b.tolist()], labels=labs, n_resamples=400, seed=0)
    # two raters, nothing missing: Fleiss' kappa is Scott's pi, and alpha = 1 - (1 - pi)(n-1)/n
    # over the n = 600 pairable values (Krippendorff 2011, the small-sample correction)
    pi, n = res["fleiss_kappa"].value, 600
    assert res["krippendorff_alpha_nominal"].value == pytest.approx(1 - (1 - pi) * (n - 1) / n,
                                                                    abs=1e-12)
    for r in res.values():
        assert r.ci_low < r.value < r.ci_high and r.n_items == 300


def test_lc_win_rate_equals_a_direct_statsmodels_glm_fit():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    n = 300
    lc, lr = rng.integers(100, 3000, n), rng.integers(100, 3000, n)
    x = np.tanh((lc - lr) / np.std(lc - lr, ddof=1))
    p = 1 / (1 + np.exp(-(-0.4 + 1.5 * x)))
    y = np.where(rng.random(n) < 0.25, 0.5, (rng.random(n) < p).astype(float))
    res = lc_win_rate(y, lc, lr)
    with warnings.catch_warnings():  # soft targets: statsmodels warns, and fits the same MLE
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    assert res.converged
    assert res.intercept == pytest.approx(fit.params[0], abs=1e-8)
    assert res.length_coef == pytest.approx(fit.params[1], abs=1e-8)
    assert res.lc_win_rate == pytest.approx(1 / (1 + np.exp(-fit.params[0])), abs=1e-10)
    assert res.win_rate == pytest.approx(y.mean())
    assert res.length_correlation == pytest.approx(np.corrcoef(y, lc - lr)[0, 1])
    # the long answers won: controlling for length lowers the win rate
    assert res.lc_win_rate < res.win_rate


def test_win_rate_interval_covers_the_truth_at_about_its_level():
    rng = np.random.default_rng(2)
    hits = 0
    for rep in range(200):
        y = rng.choice([0, 0.5, 1], size=80, p=[0.3, 0.2, 0.5])  # true win rate 0.6
        r = win_rate(y, n_resamples=400, seed=rep)
        hits += r.ci_low <= 0.6 <= r.ci_high
    assert 0.88 <= hits / 200 <= 0.99


def test_bradley_terry_recovers_simulated_strengths():
    rng = np.random.default_rng(3)
    truth = {"ref": 0.0, "a": 1.0, "b": -0.5}
    comps = []
    for item in range(2000):
        for m in ("a", "b"):
            p = 1 / (1 + np.exp(-(truth[m] - truth["ref"])))
            comps.append((item, m, "ref", float(rng.random() < p)))
    res = bradley_terry(comps, ["ref", "a", "b"], n_resamples=200)
    assert res.strengths[0] == 0.0
    for j, m in enumerate(res.models):
        assert res.ci_low[j] - 0.02 <= truth[m] <= res.ci_high[j] + 0.02
        assert res.strengths[j] == pytest.approx(truth[m], abs=0.15)
