"""holm against statsmodels multipletests(method="holm")."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from assay.stats import holm


@pytest.mark.parametrize("pvalues", [
    [0.01, 0.04, 0.03, 0.5], [0.263], [0.2, 0.2, 0.2], [0.0, 1.0, 0.5], [0.04, 0.01],
    list(np.random.default_rng(0).random(12) ** 3), list(np.random.default_rng(1).random(7) * 0.2),
])
def test_matches_statsmodels(pvalues):
    expected = multipletests(pvalues, method="holm")[1]
    got = holm(pvalues)
    assert isinstance(got, tuple) and len(got) == len(pvalues)
    assert list(got) == pytest.approx(list(expected), abs=1e-15)


def test_known_values_monotone_capped():
    # m = 4 sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.09, max(0.08, 0.09) = 0.09, min(1, 0.5) = 0.5
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx((0.04, 0.09, 0.09, 0.5))
    assert holm([0.6, 0.7]) == (1.0, 1.0)


@pytest.mark.parametrize("bad,name", [([], "pvalues"), ([0.1, 1.5], r"pvalues\[1\]"),
                                      ([float("nan")], r"pvalues\[0\]")])
def test_bad_input_names_argument(bad, name):
    with pytest.raises(ValueError, match=name):
        holm(bad)
