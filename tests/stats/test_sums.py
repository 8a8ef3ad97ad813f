"""sums_bootstrap and kappa_from_confusion against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from assay.stats import kappa_from_confusion, paired_bootstrap, sums_bootstrap

LABELS = ["A", "B", "TIE"]


def _onehot(a, b):
    out = np.zeros((len(a), 9))
    for i, (x, y) in enumerate(zip(a, b)):
        out[i, LABELS.index(x) * 3 + LABELS.index(y)] = 1
    return out


def test_kappa_from_confusion_matches_sklearn():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.choice(LABELS, 50).tolist()
        b = [x if rng.random() < 0.6 else rng.choice(LABELS) for x in a]
        got = kappa_from_confusion(_onehot(a, b).sum(axis=0), 3)
        assert got == pytest.approx(cohen_kappa_score(a, b, labels=LABELS))


def test_kappa_from_confusion_degenerate_and_vectorized():
    all_tie = _onehot(["TIE"] * 4, ["TIE"] * 4).sum(axis=0)
    assert math.isnan(kappa_from_confusion(all_tie, 3))
    assert math.isnan(kappa_from_confusion(np.zeros(9), 3))
    stack = np.stack([all_tie, _onehot(["A", "B"], ["A", "B"]).sum(axis=0)])
    out = kappa_from_confusion(stack, 3)
    assert out.shape == (2,) and math.isnan(out[0]) and out[1] == 1.0
    with pytest.raises(ValueError, match="counts must have 9 cells"):
        kappa_from_confusion(np.zeros(4), 3)


def test_sums_bootstrap_equals_the_generic_bootstrap_with_the_same_seed():
    rng = np.random.default_rng(0)
    human = rng.choice(LABELS, 80).tolist()
    base = [h if rng.random() < 0.5 else rng.choice(LABELS) for h in human]
    cand = [h if rng.random() < 0.8 else rng.choice(LABELS) for h in human]
    bs, cs = _onehot(human, base), _onehot(human, cand)
    fast = sums_bootstrap(bs, cs, lambda s: kappa_from_confusion(s, 3), n_resamples=300, seed=5,
                          ci_method="percentile")
    slow = paired_bootstrap(list(bs), list(cs),
                            lambda rows: float(kappa_from_confusion(np.sum(rows, axis=0), 3)),
                            n_resamples=300, seed=5)
    for field in ("base", "candidate", "difference", "ci_low", "ci_high", "pvalue"):
        assert getattr(fast, field) == pytest.approx(getattr(slow, field), abs=1e-12), field
    assert fast.base == pytest.approx(cohen_kappa_score(human, base, labels=LABELS))


def test_sums_bootstrap_clusters_match_the_generic_path():
    rng = np.random.default_rng(1)
    hits_b, hits_c = rng.random(40) < 0.5, rng.random(40) < 0.7
    groups = [i // 4 for i in range(40)]
    stat_b = np.stack([hits_b, np.ones(40)], axis=1)
    stat_c = np.stack([hits_c, np.ones(40)], axis=1)
    ratio = lambda s: s[..., 0] / s[..., 1]
    fast = sums_bootstrap(stat_b, stat_c, ratio, n_resamples=200, groups=groups, seed=2,
                          ci_method="percentile")
    slow = paired_bootstrap(list(stat_b), list(stat_c), lambda rows: float(ratio(np.sum(rows, 0))),
                            n_resamples=200, groups=groups, seed=2)
    assert (fast.ci_low, fast.ci_high, fast.n_groups) == pytest.approx(
        (slow.ci_low, slow.ci_high, slow.n_groups))


def test_sums_bootstrap_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        sums_bootstrap(np.ones((3, 2)), np.ones((4, 2)), lambda s: s[..., 0])
    with pytest.raises(ValueError, match="base_stats must be a non-empty"):
        sums_bootstrap(np.ones((0, 2)), np.ones((0, 2)), lambda s: s[..., 0])


def _bca(diffs, estimate, jack, level=0.95):
    """Efron's BCa written out from the resampled differences and the jackknife values."""
    from statistics import NormalDist

    nd = NormalDist()
    z0 = nd.inv_cdf((np.sum(diffs < estimate - 1e-12) + 0.5 * np.sum(np.abs(diffs - estimate) <= 1e-12))
                    / len(diffs))
    u = jack.mean() - jack
    a = np.sum(u ** 3) / (6 * np.sum(u ** 2) ** 1.5)
    qs = [nd.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
          for z in (nd.inv_cdf((1 - level) / 2), nd.inv_cdf((1 + level) / 2))]
    return tuple(np.quantile(diffs, qs))


def test_sums_bootstrap_bca_by_formula_kappa():
    rng = np.random.default_rng(7)
    human = rng.choice(LABELS, 60).tolist()
    base = [h if rng.random() < 0.5 else rng.choice(LABELS) for h in human]
    cand = [h if rng.random() < 0.75 else rng.choice(LABELS) for h in human]
    bs, cs = _onehot(human, base), _onehot(human, cand)
    kappa = lambda s: kappa_from_confusion(s, 3)
    got = sums_bootstrap(bs, cs, kappa, n_resamples=500, seed=4)
    idx = np.random.default_rng(4).integers(0, 60, size=(500, 60), dtype=np.int64)
    diffs = np.array([kappa(cs[row].sum(0)) - kappa(bs[row].sum(0)) for row in idx])
    keep = [np.arange(60) != i for i in range(60)]
    jack = np.array([kappa(cs[k].sum(0)) - kappa(bs[k].sum(0)) for k in keep])
    assert got.method == "bca" and not got.degenerate
    assert (got.ci_low, got.ci_high) == pytest.approx(_bca(diffs, got.difference, jack), abs=1e-12)
    pct = sums_bootstrap(bs, cs, kappa, n_resamples=500, seed=4, ci_method="percentile")
    assert pct.method == "percentile" and (pct.ci_low, pct.ci_high) != (got.ci_low, got.ci_high)
    assert pct.pvalue == got.pvalue  # the same resamples whatever the interval


def test_sums_bootstrap_bca_clusters_leave_a_cluster_out():
    rng = np.random.default_rng(8)
    groups = [i // 3 for i in range(36)]  # 12 clusters of 3
    stat_b = np.stack([rng.random(36) < 0.5, np.ones(36)], axis=1).astype(float)
    stat_c = np.stack([rng.random(36) < 0.7, np.ones(36)], axis=1).astype(float)
    ratio = lambda s: s[..., 0] / s[..., 1]
    got = sums_bootstrap(stat_b, stat_c, ratio, n_resamples=400, groups=groups, seed=5)
    cb, cc = stat_b.reshape(12, 3, 2).sum(1), stat_c.reshape(12, 3, 2).sum(1)
    idx = np.random.default_rng(5).integers(0, 12, size=(400, 12), dtype=np.int64)
    diffs = np.array([ratio(cc[row].sum(0)) - ratio(cb[row].sum(0)) for row in idx])
    jack = np.array([ratio(np.delete(cc, i, 0).sum(0)) - ratio(np.delete(cb, i, 0).sum(0))
                     for i in range(12)])
    assert got.method == "bca" and got.n_groups == 12
    assert (got.ci_low, got.ci_high) == pytest.approx(_bca(diffs, got.difference, jack), abs=1e-12)


def test_sums_bootstrap_falls_back_to_percentile():
    ratio = lambda s: s[..., 0] / s[..., 1]
    few = sums_bootstrap([[1, 1], [0, 1], [1, 1]], [[1, 1], [1, 1], [1, 1]], ratio, n_resamples=200)
    assert few.method == "percentile"  # 3 units: auto does not trust the jackknife
    # every resample on one side of the estimate: z0 infinite, so no BCa even when asked
    x = np.random.default_rng(9).random(12)
    spread = lambda s: (s[..., 0] / s[..., 1] - x.mean()) ** 2  # 0 on the full data, > 0 on resamples
    one_side = sums_bootstrap(np.c_[np.full(12, x.mean()), np.ones(12)], np.c_[x, np.ones(12)], spread,
                              n_resamples=300, ci_method="bca")
    assert one_side.difference == pytest.approx(0.0, abs=1e-15) and one_side.ci_low > -1e-12
    assert one_side.method == "percentile" and not one_side.degenerate
    same = sums_bootstrap([[1, 1]] * 12, [[1, 1]] * 12, ratio, n_resamples=50)
    assert same.degenerate and math.isnan(same.pvalue) and same.ci_low == same.ci_high == 0.0
