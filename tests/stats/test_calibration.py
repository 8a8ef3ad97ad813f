"""calibration against sklearn's calibration_curve and a closed-form ECE loop."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from assay.stats import CalibrationResult, ReliabilityBin, calibration


@pytest.mark.parametrize("seed,n_bins", [(0, 10), (1, 5), (2, 15)])
def test_bins_match_sklearn(seed, n_bins):
    rng = np.random.default_rng(seed)
    probs = rng.random(300)
    outcomes = rng.random(300) < probs ** 1.5  # overconfident
    got = calibration(probs, outcomes, n_bins=n_bins)
    prob_true, prob_pred = calibration_curve(outcomes, probs, n_bins=n_bins, strategy="uniform")
    assert isinstance(got, CalibrationResult) and isinstance(got.bins[0], ReliabilityBin)
    assert [b.accuracy for b in got.bins] == pytest.approx(list(prob_true))
    assert [b.mean_confidence for b in got.bins] == pytest.approx(list(prob_pred))
    assert sum(b.n for b in got.bins) == got.n == 300


def test_ece_closed_form_loop():
    probs = [0.05, 0.15, 0.15, 0.55, 0.95, 0.95, 0.95, 1.0]
    outcomes = [False, False, True, True, True, True, False, True]
    # bins (width 0.1): [0,.1): .05 -> acc 0; [.1,.2): .15,.15 -> acc .5; [.5,.6): .55 -> 1;
    # [.9,1]: .95 x3, 1.0 -> conf .9625, acc .75
    expected = (1 * abs(0 - 0.05) + 2 * abs(0.5 - 0.15) + 1 * abs(1 - 0.55) + 4 * abs(0.75 - 0.9625)) / 8
    got = calibration(probs, outcomes)
    assert got.ece == pytest.approx(expected)
    assert [(b.low, b.n) for b in got.bins] == [(0.0, 1), (0.1, 2), (0.5, 1), (pytest.approx(0.9), 4)]
    assert got.bins[-1].high == 1.0


def test_perfectly_calibrated_and_edges():
    # confidences equal to the observed rate in each bin: ECE 0
    probs = [0.25] * 4 + [0.75] * 4
    outcomes = [True, False, False, False, True, True, True, False]
    assert calibration(probs, outcomes, n_bins=4).ece == pytest.approx(0.0)
    assert calibration([0.0, 1.0], [False, True], n_bins=1).ece == pytest.approx(0.0)


@pytest.mark.parametrize("call,name", [
    (lambda: calibration([0.5], [True, False]), "probabilities and outcomes"),
    (lambda: calibration([], []), "probabilities"),
    (lambda: calibration([1.2], [True]), r"probabilities\[0\]"),
    (lambda: calibration([0.2], [2]), r"outcomes\[0\]"),
    (lambda: calibration([0.2], [True], n_bins=0), "n_bins"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
