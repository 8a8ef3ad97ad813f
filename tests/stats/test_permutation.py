"""permutation_test against brute-force enumeration and scipy.stats.permutation_test."""

import itertools

import numpy as np
import pytest
from scipy import stats

from assay.stats import PermutationResult, permutation_test


def _brute(base, cand):
    d = [c - b for b, c in zip(base, cand)]
    obs = abs(sum(d) / len(d))
    hits = total = 0
    for signs in itertools.product((1, -1), repeat=len(d)):
        total += 1
        hits += abs(sum(s * x for s, x in zip(signs, d)) / len(d)) >= obs - 1e-12
    return hits / total


@pytest.mark.parametrize("seed", range(4))
def test_exact_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    base = list(rng.random(10))
    cand = list(np.array(base) + rng.normal(0.1, 0.2, 10))
    got = permutation_test(base, cand)
    assert isinstance(got, PermutationResult)
    assert got.exact and got.n_resamples == 1024
    assert got.pvalue == pytest.approx(_brute(base, cand))
    assert got.mean_difference == pytest.approx(np.mean(cand) - np.mean(base))


def test_exact_matches_scipy():
    rng = np.random.default_rng(1)
    base, cand = rng.random(12), rng.random(12) + 0.2
    ref = stats.permutation_test((cand, base), lambda x, y: np.mean(x - y), permutation_type="samples",
                                 n_resamples=np.inf)
    assert permutation_test(base, cand).pvalue == pytest.approx(ref.pvalue)


def test_ties_and_zero_differences():
    # differences of 0 do not move; a symmetric set of differences gives p = 1
    got = permutation_test([0, 0, 0, 0], [1, -1, 0, 0])
    assert got.pvalue == 1.0 and got.mean_difference == 0.0
    assert permutation_test([1, 1, 1], [1, 1, 1]).pvalue == 1.0
    # all three improve by 1: only the all-plus and all-minus assignments reach |mean| = 1
    assert permutation_test([0, 0, 0], [1, 1, 1]).pvalue == pytest.approx(2 / 8)


def _exact_by_numpy(d):
    n = len(d)
    bits = (np.arange(1 << n)[:, None] >> np.arange(n)) & 1
    means = ((1 - 2 * bits) @ d) / n
    return float(np.mean(np.abs(means) >= abs(d.mean()) - 1e-12))


def test_monte_carlo_close_to_exact():
    rng = np.random.default_rng(2)
    base = rng.random(18)  # n = 18 > 16: Monte Carlo
    cand = base + rng.normal(0.08, 0.2, 18)
    exact = _exact_by_numpy(cand - base)
    got = permutation_test(base, cand, n_resamples=40_000, seed=3)
    assert not got.exact and got.n_resamples == 40_000
    assert 0.02 < exact < 0.5  # a case where the comparison is informative
    assert got.pvalue == pytest.approx(exact, abs=0.008)  # ~3.5 Monte Carlo standard errors


def test_boundary_and_seed():
    rng = np.random.default_rng(3)
    base, cand = rng.random(17), rng.random(17)
    assert permutation_test(base[:16], cand[:16]).exact
    first = permutation_test(base, cand, n_resamples=500, seed=1)
    assert not first.exact and first == permutation_test(base, cand, n_resamples=500, seed=1)
    assert first.pvalue >= 1 / 501


@pytest.mark.parametrize("call,name", [
    (lambda: permutation_test([1, 2], [1]), "base and candidate"),
    (lambda: permutation_test([], []), "base"),
    (lambda: permutation_test([1], ["x"]), "candidate"),
    (lambda: permutation_test([1], [1], n_resamples=0), "n_resamples"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
