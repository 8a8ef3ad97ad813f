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
