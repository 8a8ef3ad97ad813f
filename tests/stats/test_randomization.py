"""paired_randomization against brute-force enumeration, permutation_test, and its type-I error
under simulated null hypotheses (mean and F1 metrics)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from assay.stats import (RandomizationResult, kappa_from_confusion, paired_bootstrap,
                         paired_randomization, permutation_test)


def rate(sums):
    return sums[..., 1] / sums[..., 0]


def f1(sums):
    """F1 from summed one-hot (tp, fp, fn, tn) cells; nan when there is no positive at all."""
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), np.nan)


def _rate_stats(values):
    values = np.asarray(values, dtype=float)
    return np.c_[np.ones(len(values)), values]


def _confusion(truth, pred):
    cells = np.zeros((len(truth), 4))
    cells[np.arange(len(truth)), np.select([truth & pred, ~truth & pred, truth & ~pred], [0, 1, 2], 3)] = 1
    return cells


def _brute(b, c, metric, alternative="two-sided", groups=None):
    """Every swap vector, by loops over the units (clusters swap as a whole)."""
    labels = list(range(len(b))) if groups is None else list(dict.fromkeys(groups))
    members = [[i for i in range(len(b)) if (i if groups is None else groups[i]) == g] for g in labels]
    obs = float(metric(c.sum(0)) - metric(b.sum(0)))
    hits = 0
    for swap in itertools.product((0, 1), repeat=len(labels)):
        bb, cc = b.copy(), c.copy()
        for s, items in zip(swap, members):
            if s:
                bb[items], cc[items] = c[items], b[items]
        d = float(metric(cc.sum(0)) - metric(bb.sum(0)))
        if alternative == "two-sided":
            hits += abs(d) >= abs(obs) - 1e-9
        elif alternative == "greater":
            hits += d >= obs - 1e-9
        else:
            hits += d <= obs + 1e-9
    return hits / 2 ** len(labels)


@pytest.mark.parametrize("n,expected", [(1, 1.0), (2, 0.5), (3, 0.25), (5, 2 / 32), (10, 2 / 1024)])
def test_every_item_gaining_gives_two_over_two_to_the_n(n, expected):
    # the audit's case: the bootstrap p-value said 2e-4 for n = 1; the randomization test says 1
    got = paired_randomization(_rate_stats([0] * n), _rate_stats([1] * n), rate)
    assert isinstance(got, RandomizationResult)
    assert got.exact and got.pvalue == expected and got.n_resamples == 2 ** n
    assert (got.n, got.n_units, got.difference, got.n_undefined) == (n, n, 1.0, 0)
    assert paired_bootstrap([0.0] * n, [1.0] * n, n_resamples=999).degenerate
    one_sided = paired_randomization(_rate_stats([0] * n), _rate_stats([1] * n), rate,
                                     alternative="greater")
    assert one_sided.pvalue == 1 / 2 ** n


@pytest.mark.parametrize("seed", range(4))
def test_rate_stats_equal_permutation_test_exact(seed):
    rng = np.random.default_rng(seed)
    base = rng.random(11)
    cand = base + rng.normal(0.1, 0.2, 11)
    got = paired_randomization(_rate_stats(base), _rate_stats(cand), rate)
    ref = permutation_test(base, cand)
    assert got.exact and ref.exact
    assert got.pvalue == ref.pvalue
    assert got.difference == pytest.approx(ref.mean_difference)


@pytest.mark.parametrize("seed", range(3))
def test_rate_stats_equal_permutation_test_monte_carlo(seed):
    # the same random swap bits from the same seed: identical p-values, not just close ones
    rng = np.random.default_rng(10 + seed)
    base = (rng.random(60) < 0.5).astype(float)
    cand = np.where(rng.random(60) < 0.6, base, rng.random(60) < 0.7).astype(float)
    got = paired_randomization(_rate_stats(base), _rate_stats(cand), rate, n_resamples=3000, seed=seed)
    ref = permutation_test(base, cand, n_resamples=3000, seed=seed)
    assert not got.exact and got.n_resamples == 3000
    assert got.pvalue == ref.pvalue


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_f1_matches_brute_force(alternative):
    rng = np.random.default_rng(3)
    truth = rng.random(9) < 0.5
    b = _confusion(truth, np.where(rng.random(9) < 0.6, truth, ~truth))
    c = _confusion(truth, np.where(rng.random(9) < 0.8, truth, ~truth))
    got = paired_randomization(b, c, f1, alternative=alternative)
    assert got.pvalue == pytest.approx(_brute(b, c, f1, alternative))
    assert got.difference == pytest.approx(f1(c.sum(0)) - f1(b.sum(0)))


def test_kappa_matches_brute_force():
    rng = np.random.default_rng(4)
    human = rng.integers(0, 3, 10)

    def onehot(pred):
        out = np.zeros((10, 9))
        out[np.arange(10), human * 3 + pred] = 1
        return out

    b = onehot(np.where(rng.random(10) < 0.5, human, rng.integers(0, 3, 10)))
    c = onehot(np.where(rng.random(10) < 0.9, human, rng.integers(0, 3, 10)))
    kappa = lambda s: kappa_from_confusion(s, 3)
    assert paired_randomization(b, c, kappa).pvalue == pytest.approx(_brute(b, c, kappa))


def test_clusters_swap_as_a_whole():
    rng = np.random.default_rng(5)
    groups = [f"paper{i % 4}" for i in range(12)]  # 4 papers, 3 reviews each, interleaved
    b = _rate_stats(rng.random(12) < 0.4)
    c = _rate_stats(rng.random(12) < 0.8)
    got = paired_randomization(b, c, rate, groups=groups)
    assert (got.n, got.n_units, got.n_resamples) == (12, 4, 16)
    assert got.pvalue == pytest.approx(_brute(b, c, rate, groups=groups))
    singletons = paired_randomization(b, c, rate, groups=list(range(12)))
    assert singletons.pvalue == paired_randomization(b, c, rate).pvalue


def test_undefined_metric():
    # base and candidate each have one positive item: some swaps leave one side with no positive
    truth = np.array([True, False, False, False])
    b = _confusion(truth, np.array([False, True, False, False]))
    c = _confusion(truth, np.array([True, False, False, False]))
    got = paired_randomization(b, c, f1)
    assert got.difference == 1.0 and got.n_undefined == 0
    nothing = _confusion(np.zeros(4, bool), np.zeros(4, bool))  # F1 undefined on both sides
    mixed = paired_randomization(nothing, c, f1)
    assert math.isnan(mixed.difference) and math.isnan(mixed.pvalue)
    assert mixed.n_undefined > 0


def test_monte_carlo_seeded_and_never_zero():
    b, c = _rate_stats([0] * 40), _rate_stats([1] * 40)
    got = paired_randomization(b, c, rate, n_resamples=500, seed=1)
    assert not got.exact and got.pvalue == 1 / 501  # only the observed assignment is as extreme
    assert got == paired_randomization(b, c, rate, n_resamples=500, seed=1)
    forced = paired_randomization(b[:5], c[:5], rate, exact_max_units=0, n_resamples=200, seed=2)
    assert not forced.exact and forced.n_resamples == 200


def test_monte_carlo_close_to_exact():
    rng = np.random.default_rng(6)
    truth = rng.random(18) < 0.5
    b = _confusion(truth, np.where(rng.random(18) < 0.6, truth, ~truth))
    c = _confusion(truth, np.where(rng.random(18) < 0.85, truth, ~truth))
    exact = paired_randomization(b, c, f1, exact_max_units=18)
    mc = paired_randomization(b, c, f1, n_resamples=40_000, seed=3)
    assert exact.exact and not mc.exact and 0.01 < exact.pvalue < 0.99
    assert mc.pvalue == pytest.approx(exact.pvalue, abs=0.01)


def _type_one_error(draw, metric, n, datasets, n_resamples=999, alpha=0.05, seed=0):
    rng = np.random.default_rng(seed)
    rejections = 0
    for i in range(datasets):
        first, second = draw(rng, n)
        swap = rng.random(n) < 0.5  # H0: base and candidate exchangeable within each item
        b = np.where(swap[:, None], second, first)
        c = np.where(swap[:, None], first, second)
        p = paired_randomization(b, c, metric, n_resamples=n_resamples, seed=i).pvalue
        rejections += p <= alpha  # nan (undefined metric) never rejects
    return rejections / datasets


def _scores(rng, n):
    # paired continuous scores with item effects and a skewed noise; the two models' noise
    # distributions are the same (exchangeable), the items are not
    item = rng.gamma(2.0, 1.0, n)
    return _rate_stats(item + rng.exponential(1.0, n)), _rate_stats(item + rng.exponential(1.0, n))


def _labels(rng, n):
    # binary judgements: the pair of predictions is exchangeable, accuracy 0.75 each
    truth = rng.random(n) < 0.4
    return (_confusion(truth, np.where(rng.random(n) < 0.75, truth, ~truth)),
            _confusion(truth, np.where(rng.random(n) < 0.75, truth, ~truth)))


@pytest.mark.parametrize("n", [5, 10, 20])
@pytest.mark.parametrize("name,draw,metric", [("mean", _scores, rate), ("f1", _labels, f1)])
def test_type_one_error_at_most_alpha(n, name, draw, metric):
    # 5,000 null datasets each (exact for n = 5, 10; 999 random swaps for n = 20). Measured:
    # mean 0.0000 / 0.0522 / 0.0478, F1 0.0000 / 0.0036 / 0.0248 at n = 5 / 10 / 20 (the exact
    # test's attainable level at n = 10 is 25/512 = 0.0488; n = 5 cannot reach 0.05 at all).
    # The bootstrap p-value on the same mean data at n = 5 rejected 18% of the time.
    datasets = 5000
    rate_ = _type_one_error(draw, metric, n, datasets)
    assert rate_ <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / datasets), (name, n, rate_)


@pytest.mark.parametrize("call,name", [
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((4, 2)), rate), "same shape"),
    (lambda: paired_randomization(np.ones((0, 2)), np.ones((0, 2)), rate), "base_stats"),
    (lambda: paired_randomization([[1, np.nan]], [[1, 1]], rate), r"base_stats\[0\]"),
    (lambda: paired_randomization([["a", 1]], [[1, 1]], rate), "base_stats"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), "mean"), "from_sums"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), lambda s: s), "from_sums"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), rate, alternative="up"), "alternative"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), rate, n_resamples=0), "n_resamples"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), rate, seed=-1), "seed"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), rate, exact_max_units=30),
     "exact_max_units"),
    (lambda: paired_randomization(np.ones((3, 2)), np.ones((3, 2)), rate, groups=[1, 2]), "groups"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_one_sided_pvalues_come_from_the_same_swaps():
    """pvalue_greater / pvalue_less equal what a separate call with that alternative gives."""
    rng = np.random.default_rng(8)
    for n in (6, 40):  # exact and Monte Carlo
        b = np.c_[np.ones(n), rng.random(n) < 0.5]
        c = np.c_[np.ones(n), rng.random(n) < 0.7]
        ratio = lambda s: s[..., 1] / s[..., 0]
        both = paired_randomization(b, c, ratio, n_resamples=999, seed=3)
        for side, got in (("greater", both.pvalue_greater), ("less", both.pvalue_less)):
            assert got == paired_randomization(b, c, ratio, n_resamples=999, seed=3,
                                               alternative=side).pvalue
