"""Wilson interval against statsmodels' proportion_confint(method="wilson")."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from assay.stats import Interval, wilson_interval


@pytest.mark.parametrize("successes,n", [(0, 1), (1, 1), (0, 20), (7, 20), (20, 20), (14, 100), (8, 100),
                                         (5000, 10000), (1, 3)])
@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_matches_statsmodels(successes, n, level):
    got = wilson_interval(successes, n, confidence_level=level)
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    assert got.estimate == successes / n
    assert got.low == pytest.approx(low, abs=1e-12)
    assert got.high == pytest.approx(high, abs=1e-12)


def test_known_value_and_shape():
    # 14 of 100 by hand: centre (0.14 + z^2/200) / (1 + z^2/100) = 0.15332, half-width
    # z sqrt(0.14 * 0.86 / 100 + z^2 / 40000) / (1 + z^2/100) = 0.06806 -> [0.0853, 0.2214]
    got = wilson_interval(14, 100)
    assert isinstance(got, Interval)
    assert (round(got.low, 4), round(got.high, 4)) == (0.0853, 0.2214)
    assert got.low < got.estimate < got.high


@pytest.mark.parametrize("kwargs,name", [
    (dict(successes=1, n=0), "n"), (dict(successes=5, n=3), "successes"),
    (dict(successes=-1, n=3), "successes"), (dict(successes=1.5, n=3), "successes"),
    (dict(successes=1, n=3, confidence_level=1.0), "confidence_level"),
    (dict(successes=1, n=3, confidence_level=0), "confidence_level"),
])
def test_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        wilson_interval(**kwargs)


def test_tost_reads_equivalence_off_the_interval():
    from assay.stats import tost

    assert tost(-0.02, 0.03, 0.05)
    assert not tost(-0.06, 0.03, 0.05) and not tost(-0.02, 0.05, 0.05)  # strictly inside
    for args, name in [((0.1, 0.0, 0.05), "ci_low must be <= ci_high"), ((0.0, 0.1, 0), "margin"),
                       ((float("nan"), 0.1, 0.05), "ci_low"), ((0.0, None, 0.05), "ci_high")]:
        with pytest.raises(ValueError, match=name):
            tost(*args)
