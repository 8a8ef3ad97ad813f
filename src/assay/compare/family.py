"""The confirmatory family and the verdict words.

Which hypotheses a comparison confirms is fixed in advance: the metrics named by the goals file
when one is given (pre-registered), else the task's primary metrics. Their two-sided p-values
are Holm-adjusted together (Holm 1979: strong control of the family-wise error rate at alpha).
Every other tested metric (secondary metrics, every slice) is **exploratory**: its p-value is
unadjusted and it is labelled exploratory wherever it is shown. Descriptive metrics (latency,
truncation, constants) get a value and an interval, never a test.

Verdicts: ``better`` / ``worse`` when the (family-adjusted, for confirmatory metrics) p is below
alpha; ``equivalent`` only when an equivalence margin was locked and both one-sided tests
reject (TOST: the 1 - 2 alpha interval of the difference lies inside +-margin); otherwise
``inconclusive`` with the interval. A slice with fewer than ``min_slice_n`` items gets no verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .result import (BETTER, CONFIRMATORY, DESCRIPTIVE, EQUIVALENT, EXPLORATORY, INCONCLUSIVE,
                     TOO_FEW, UNDEFINED, WORSE, MetricComparison)


def family_names(metrics: Sequence[MetricComparison], goal_metrics: Sequence[str] | None
                 ) -> tuple[tuple[str, ...], str]:
    """(names in the confirmatory family, where they came from)."""
    tested = {m.name for m in metrics if m.family != DESCRIPTIVE}
    if goal_metrics is not None:
        names = tuple(dict.fromkeys(n for n in goal_metrics if n in tested))
        return names, "goals"
    return tuple(m.name for m in metrics if m.role == "primary" and m.name in tested), "primary"


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def with_family(metrics: Sequence[MetricComparison], family: Sequence[str]
                ) -> list[MetricComparison]:
    """Mark each metric confirmatory / exploratory / descriptive and Holm-adjust the family."""
    from ..stats import holm

    out = []
    for m in metrics:
        kind = DESCRIPTIVE if m.family == DESCRIPTIVE else (
            CONFIRMATORY if m.name in family else EXPLORATORY)
        out.append(replace(m, family=kind))
    idx = [i for i, m in enumerate(out) if m.family == CONFIRMATORY and _finite(m.pvalue)]
    if idx:
        for i, p in zip(idx, holm([out[i].pvalue for i in idx])):
            out[i] = replace(out[i], pvalue_holm=float(p))
    return out


# Intervals from the score method (Wilson, Newcombe) hold at small n; a bootstrap interval is
# only trusted from this many units, with a non-zero width (a degenerate bootstrap, every
# resample giving one value, says nothing about the population).
MIN_BOOTSTRAP_UNITS = 20
MIN_CLUSTERS = 10


def reliable(method: str, n: int, n_groups: int | None, low, high) -> bool:
    """Whether an interval can decide a goal or an equivalence."""
    if not (_finite(low) and _finite(high)):
        return False
    if method in ("wilson", "newcombe"):
        return True
    if "degenerate" in method or high <= low:
        return False
    return n >= MIN_BOOTSTRAP_UNITS and (n_groups is None or n_groups >= MIN_CLUSTERS)


def tost_equivalent(m: MetricComparison, margin: float) -> bool:
    """Equivalence within +-margin: the comparison's two-sided interval lies inside it (and can
    be trusted). At a 95% interval this is TOST at alpha 0.025 per side, conservative for 0.05."""
    from ..stats import tost

    return reliable(m.ci_method, m.n, m.n_groups, m.ci_low, m.ci_high) and \
        tost(m.ci_low, m.ci_high, margin)


def verdict(m: MetricComparison, alpha: float, min_slice_n: int,
            margin: float | None = None) -> str:
    if m.family == DESCRIPTIVE:
        return DESCRIPTIVE
    if m.slice is not None and m.n < min_slice_n:
        return TOO_FEW
    p = m.pvalue_holm if m.family == CONFIRMATORY else m.pvalue
    if not _finite(p):
        return UNDEFINED
    if p < alpha and m.improved:
        return BETTER
    if p < alpha and m.difference != 0 and not m.improved:
        return WORSE
    if margin is not None and tost_equivalent(m, margin):
        return EQUIVALENT
    return INCONCLUSIVE


def with_verdicts(metrics: Sequence[MetricComparison], alpha: float, min_slice_n: int,
                  margins: Mapping[str, float] | None = None) -> list[MetricComparison]:
    margins = margins or {}
    return [replace(m, verdict=verdict(m, alpha, min_slice_n, margins.get(m.name)))
            for m in metrics]


def verdict_text(m: MetricComparison, digits: int = 3) -> str:
    """The verdict as people read it: 'better (p 0.004)', 'inconclusive (CI [-0.02, +0.11])',
    with ', exploratory' for a metric outside the confirmatory family."""
    def p_text(p):
        return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"

    tag = ", exploratory" if m.family == EXPLORATORY else ""
    if m.verdict in (BETTER, WORSE):
        p = m.pvalue_holm if m.family == CONFIRMATORY else m.pvalue
        holm = " Holm" if m.family == CONFIRMATORY else ""
        return f"{m.verdict} (p{holm} {p_text(p)}{tag})"
    if m.verdict in (INCONCLUSIVE, EQUIVALENT):
        ci = (f"CI [{m.ci_low:+.{digits}f}, {m.ci_high:+.{digits}f}]"
              if _finite(m.ci_low) and _finite(m.ci_high) else "no CI")
        p = m.pvalue_holm if m.family == CONFIRMATORY else m.pvalue
        return f"{m.verdict} (p {p_text(p)}, {ci}{tag})" if _finite(p) else \
            f"{m.verdict} ({ci}{tag})"
    if m.verdict == TOO_FEW:
        return f"no verdict (n {m.n})"
    return m.verdict or "n/a"
