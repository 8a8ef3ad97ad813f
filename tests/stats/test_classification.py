"""macro_f1, binary_metrics and the baselines against scikit-learn and the published numbers."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from assay.stats import (Baseline, BinaryMetrics, always_positive_baseline, binary_metrics, macro_f1,
                         majority_baseline)

LABELS = ["A", "B", "TIE"]


def _random_labels(seed, n, labels=LABELS):
    rng = np.random.default_rng(seed)
    return [labels[i] for i in rng.integers(0, len(labels), n)]


@pytest.mark.parametrize("seed", range(8))
def test_macro_f1_matches_sklearn(seed):
    y_true, y_pred = _random_labels(seed, 50), _random_labels(seed + 100, 50)
    expected = f1_score(y_true, y_pred, average="macro", labels=LABELS, zero_division=0)
    assert macro_f1(y_true, y_pred, labels=LABELS) == pytest.approx(expected, abs=1e-12)


def test_macro_f1_absent_class_keeps_shape():
    # a slice that is all TIE: A and B have no support and F1 0, so the mean is over 3 labels
    y_true = ["TIE"] * 4
    y_pred = ["TIE", "TIE", "A", "TIE"]
    expected = f1_score(y_true, y_pred, average="macro", labels=LABELS, zero_division=0)
    assert macro_f1(y_true, y_pred, labels=LABELS) == pytest.approx(expected)
    assert macro_f1(y_true, y_pred, labels=LABELS) == pytest.approx((2 * 3 / (2 * 3 + 1)) / 3)


def test_macro_f1_parse_failure_is_wrong_for_true_class():
    y_true = ["A", "A", "B", "TIE"]
    y_pred = ["A", None, "B", "TIE"]
    # None is a false negative for A and a false positive for no label: same as an extra label
    expected = f1_score(y_true, ["A", "__none__", "B", "TIE"], average="macro", labels=LABELS,
                        zero_division=0)
    assert macro_f1(y_true, y_pred, labels=LABELS) == pytest.approx(expected)
    # by hand: A has tp 1, fn 1 -> 2/3; B and TIE are perfect
    assert macro_f1(y_true, y_pred, labels=LABELS) == pytest.approx((2 / 3 + 1 + 1) / 3)


def test_macro_f1_unhashable_prediction_counts_as_wrong():
    assert macro_f1(["A", "B"], [["A"], "B"], labels=["A", "B"]) == pytest.approx(0.5)


def test_binary_metrics_published_numbers():
    # TP 74, FN 6, FP 12, TN 3
    y_true = ["accept"] * 80 + ["reject"] * 15
    y_pred = ["accept"] * 74 + ["reject"] * 6 + ["accept"] * 12 + ["reject"] * 3
    m = binary_metrics(y_true, y_pred, positive="accept")
    assert isinstance(m, BinaryMetrics)
    assert (m.n, m.tp, m.fn, m.fp, m.tn) == (95, 74, 6, 12, 3)
    assert round(m.accuracy, 3) == 0.811
    assert round(m.precision, 3) == 0.860
    assert round(m.recall, 3) == 0.925
    assert round(m.f1, 3) == 0.892
    assert m.predicted_positive_rate == 86 / 95 and round(m.predicted_positive_rate, 3) == 0.905
    assert m.true_positive_rate == 80 / 95 and round(m.true_positive_rate, 3) == 0.842


@pytest.mark.parametrize("seed", range(5))
def test_binary_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = list(rng.random(60) < 0.6), list(rng.random(60) < 0.7)
    m = binary_metrics(y_true, y_pred, positive=True)
    assert m.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert m.precision == pytest.approx(precision_score(y_true, y_pred, zero_division=0))
    assert m.recall == pytest.approx(recall_score(y_true, y_pred, zero_division=0))
    assert m.f1 == pytest.approx(f1_score(y_true, y_pred, zero_division=0))


def test_binary_metrics_undefined_are_zero_and_none_is_negative():
    m = binary_metrics([False, False], [None, False], positive=True)
    assert (m.tp, m.fp, m.fn, m.tn) == (0, 0, 0, 2)
    assert (m.precision, m.recall, m.f1) == (0.0, 0.0, 0.0)
    m = binary_metrics([True, True], [None, True], positive=True)
    assert (m.tp, m.fn) == (1, 1)


def test_majority_baseline():
    y_true = ["A"] * 6 + ["B"] * 3 + ["TIE"] * 1
    base = majority_baseline(y_true, labels=LABELS)
    assert isinstance(base, Baseline)
    assert base.label == "A" and base.accuracy == 0.6
    expected = f1_score(y_true, ["A"] * 10, average="macro", labels=LABELS, zero_division=0)
    assert base.macro_f1 == pytest.approx(expected)
    assert base.macro_f1 == pytest.approx((2 * 6 / (2 * 6 + 4)) / 3)


def test_majority_baseline_tie_goes_to_first_label():
    assert majority_baseline(["B", "A"], labels=["B", "A"]).label == "B"
    assert majority_baseline(["B", "A"], labels=["A", "B"]).label == "A"


def test_always_positive_baseline():
    y_true = [True] * 80 + [False] * 15
    m = always_positive_baseline(y_true, positive=True)
    assert (m.tp, m.fp, m.fn, m.tn) == (80, 15, 0, 0)
    assert m.recall == 1.0 and m.precision == pytest.approx(80 / 95)
    assert m.f1 == pytest.approx(f1_score(y_true, [True] * 95))


@pytest.mark.parametrize("call,name", [
    (lambda: macro_f1(["A"], ["A", "B"], labels=LABELS), "y_true and y_pred"),
    (lambda: macro_f1([], [], labels=LABELS), "y_true"),
    (lambda: macro_f1(["C"], ["A"], labels=LABELS), r"y_true\[0\] = 'C'"),
    (lambda: macro_f1(["A"], ["A"], labels=[]), "labels"),
    (lambda: macro_f1(["A"], ["A"], labels=["A", "A"]), "labels"),
    (lambda: binary_metrics([True], [True, False], positive=True), "y_true and y_pred"),
    (lambda: binary_metrics([], [], positive=True), "y_true"),
    (lambda: majority_baseline(["Z"], labels=LABELS), r"y_true\[0\]"),
    (lambda: always_positive_baseline([], positive=True), "y_true"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
