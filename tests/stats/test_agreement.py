"""cohen_kappa and kappa_bootstrap against scikit-learn and a brute-force loop bootstrap."""

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from assay.stats import KappaResult, cohen_kappa, kappa_bootstrap

LABELS = ["A", "B", "TIE"]


def _correlated(seed, n, agree=0.7):
    rng = np.random.default_rng(seed)
    a = [LABELS[i] for i in rng.integers(0, 3, n)]
    b = [x if rng.random() < agree else LABELS[rng.integers(0, 3)] for x in a]
    return a, b


@pytest.mark.parametrize("seed", range(8))
def test_matches_sklearn(seed):
    a, b = _correlated(seed, 40)
    assert cohen_kappa(a, b, labels=LABELS) == pytest.approx(cohen_kappa_score(a, b, labels=LABELS),
                                                             abs=1e-12)


def test_known_value():
    # 2x2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b, labels=["y", "n"]) == pytest.approx(0.4)


def test_fixed_labels_absent_class():
    # a slice where nobody says B: the declared 3x3 table still gives sklearn's value
    a = ["A", "TIE", "TIE", "A", "TIE"]
    b = ["A", "TIE", "A", "A", "TIE"]
    assert cohen_kappa(a, b, labels=LABELS) == pytest.approx(cohen_kappa_score(a, b, labels=LABELS))


def test_all_tie_is_nan_like_sklearn():
    # expected agreement 1: kappa is undefined; sklearn returns nan (replace_undefined_by default)
    a = b = ["TIE"] * 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cohen_kappa_score(a, b, labels=LABELS)
    assert math.isnan(expected)
    assert math.isnan(cohen_kappa(a, b, labels=LABELS))


def test_one_rater_constant_is_zero():
    # rater a always TIE, b varies: p_e = p_o, kappa 0 (defined, as in sklearn)
    a = ["TIE"] * 4
    b = ["TIE", "A", "TIE", "B"]
    assert cohen_kappa(a, b, labels=LABELS) == pytest.approx(cohen_kappa_score(a, b, labels=LABELS))
    assert cohen_kappa(a, b, labels=LABELS) == 0.0


def test_bootstrap_matches_loop_with_same_seed():
    a, b = _correlated(3, 30)
    got = kappa_bootstrap(a, b, labels=LABELS, n_resamples=80, seed=7)
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 30, size=(80, 30), dtype=np.int64)  # one chunk at this size
    kappas = []
    for row in idx:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kappas.append(cohen_kappa_score([a[i] for i in row], [b[i] for i in row], labels=LABELS))
    kappas = np.array(kappas)
    kappas = kappas[~np.isnan(kappas)]
    assert isinstance(got, KappaResult)
    assert got.kappa == pytest.approx(cohen_kappa_score(a, b, labels=LABELS))
    assert got.ci_low == pytest.approx(np.quantile(kappas, 0.025))
    assert got.ci_high == pytest.approx(np.quantile(kappas, 0.975))
    assert (got.n, got.n_resamples, got.n_dropped) == (30, 80, 80 - len(kappas))
    assert got.ci_low < got.kappa < got.ci_high


def test_bootstrap_degenerate_resamples_are_dropped_and_counted():
    a = ["TIE"] * 9 + ["A"]
    b = ["TIE"] * 9 + ["A"]
    got = kappa_bootstrap(a, b, labels=LABELS, n_resamples=500, seed=1)
    # P(no "A" item drawn) = 0.9^10 ~ 0.35 of the resamples are all TIE: undefined, dropped
    assert 100 < got.n_dropped < 250
    assert got.kappa == 1.0 and got.ci_low == 1.0 and got.ci_high == 1.0


def test_bootstrap_seeded():
    a, b = _correlated(1, 50)
    first = kappa_bootstrap(a, b, labels=LABELS, n_resamples=300, seed=5)
    assert first == kappa_bootstrap(a, b, labels=LABELS, n_resamples=300, seed=5)
    assert first != kappa_bootstrap(a, b, labels=LABELS, n_resamples=300, seed=6)


@pytest.mark.parametrize("call,name", [
    (lambda: cohen_kappa(["A"], ["A", "B"], labels=LABELS), "rater_a and rater_b"),
    (lambda: cohen_kappa([], [], labels=LABELS), "rater_a"),
    (lambda: cohen_kappa(["A"], [None], labels=LABELS), r"rater_b\[0\] = None"),
    (lambda: cohen_kappa(["A"], ["A"], labels="AB"), "labels"),
    (lambda: kappa_bootstrap(["A"], ["A"], labels=LABELS, n_resamples=0), "n_resamples"),
    (lambda: kappa_bootstrap(["A"], ["A"], labels=LABELS, confidence_level=95), "confidence_level"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
