"""Holm-Bonferroni correction across the metrics of one comparison: testing five metrics at 0.05
each finds a "significant" change by chance far more often than 5% of the time."""

from __future__ import annotations

import numpy as np

from assay.stats._checks import as_floats


def holm(pvalues) -> tuple[float, ...]:
    """Holm (1979) step-down adjusted p-values, in the input order.

    Sorted ascending, the i-th smallest (0-based) becomes max over j <= i of (m - j) * p_(j), capped
    at 1, so the adjusted values are monotone in the raw ones. Equals statsmodels
    multipletests(pvalues, method="holm")[1]. Reject hypothesis k at level alpha when adjusted[k] <= alpha.
    """
    p = as_floats("pvalues", pvalues)
    bad = np.flatnonzero((p < 0) | (p > 1))
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"pvalues[{i}] must be a p-value in [0, 1], got {p[i]!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return tuple(float(x) for x in adjusted)
