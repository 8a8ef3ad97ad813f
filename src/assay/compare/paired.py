"""One metric compared on the paired items: its values, the paired test that fits it, and its
intervals.

The test follows from the metric's declaration (assay.metrics), never from a flag:
- a pass/fail **rate** counted on the same items for both models, with no clusters: McNemar's
  exact test (its mid-p beside it) and Newcombe's paired interval (method 10);
- anything else (means, F1, kappa, rates whose denominator depends on the model, clustered
  items): a **paired randomization test** that swaps the two models' statistics within each
  item (or whole cluster), exact when the units are few, Monte Carlo with (1 + hits) / (1 + R)
  otherwise, and a paired bootstrap interval (BCa where stable, percentile otherwise);
- a **descriptive** metric: values and a bootstrap interval, no test.
A metric whose better side is closer to zero (``magnitude``) is tested on its absolute value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..metrics import Metric, cluster_labels, gap_matrix, gap_of, gap_value, value_interval
from ..records import greedy_by_id
from .join import Joined
from .result import DESCRIPTIVE, Discordant, Distribution, McNemarDetail, MetricComparison


@dataclass(frozen=True)
class Paired:
    """Both models' records grouped by item, in one order (the ids both sides answered)."""

    ids: list[str]
    base_items: list[list[dict]]
    cand_items: list[list[dict]]
    base_greedy: dict[str, dict]
    cand_greedy: dict[str, dict]


def make_paired(joined: Joined) -> Paired:
    from ..records import by_item

    b, c = by_item(joined.base), by_item(joined.candidate)
    ids = [i for i in b if i in c]
    return Paired(ids, [b[i] for i in ids], [c[i] for i in ids], greedy_by_id(joined.base),
                  greedy_by_id(joined.candidate))


@dataclass(frozen=True)
class Settings:
    n_resamples: int
    seed: int
    confidence_level: float
    bootstrap_resamples: int = 2_000
    # metrics whose own value needs a bootstrap interval (threshold goals): the rest skip it
    value_cis: frozenset = frozenset()
    # score keys holding an item's gold answer (Task.gold_keys), shown with flipped items
    gold_keys: tuple = ()


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _discordant(ids, a, b, paired: Paired, gold_keys: Sequence[str] = ()):
    def item(i):
        rb, rc = paired.base_greedy.get(i, {}), paired.cand_greedy.get(i, {})
        scores = rb.get("scores") or rc.get("scores") or {}
        gold = {k: scores[k] for k in gold_keys if k in scores} or None
        return Discordant(i, rb.get("output"), rc.get("output"), rb.get("parse_error"),
                          rc.get("parse_error"), rb.get("parsed"), rc.get("parsed"), gold)

    lost = tuple(item(i) for i, x, y in zip(ids, a, b) if x and not y)
    gained = tuple(item(i) for i, x, y in zip(ids, a, b) if y and not x)
    return lost, gained


def _mcnemar(metric: Metric, B: np.ndarray, C: np.ndarray, paired: Paired, s: Settings):
    from ..stats import mcnemar, mcnemar_pvalue

    both = (B[:, 0] > 0) & (C[:, 0] > 0)
    a, b = B[both, 1] > 0.5, C[both, 1] > 0.5
    res = mcnemar(a, b, confidence_level=s.confidence_level)
    ids = [i for i, keep in zip(paired.ids, both) if keep]
    lost, gained = _discordant(ids, a, b, paired, s.gold_keys)
    one = mcnemar_pvalue(res.b, res.c, "greater" if metric.direction == "higher" else "less")
    detail = McNemarDetail(res.n, res.b, res.c, res.n_discordant, res.pvalue, res.midp, lost,
                           gained)
    return dict(test="mcnemar", n=res.n, pvalue=res.pvalue, pvalue_improve=float(one),
                ci_low=res.ci_low, ci_high=res.ci_high, ci_method="newcombe",
                mcnemar=detail, n_resamples=None)


def _randomization(metric: Metric, B, C, groups, s: Settings):
    from ..stats import paired_randomization

    res = paired_randomization(B, C, metric.tested_of_sums, groups=groups,
                               n_resamples=s.n_resamples, seed=s.seed)
    one = res.pvalue_greater if metric.direction == "higher" else res.pvalue_less
    return dict(test="cluster randomization" if groups is not None else "randomization",
                pvalue=res.pvalue, pvalue_improve=one, n_resamples=res.n_resamples)


def _bootstrap(of_sums, B, C, groups, s: Settings) -> dict:
    """The paired bootstrap interval of of_sums(candidate) - of_sums(base)."""
    from ..stats import sums_bootstrap

    res = sums_bootstrap(B, C, of_sums, n_resamples=s.bootstrap_resamples,
                         confidence_level=s.confidence_level, groups=groups, seed=s.seed)
    method = res.method + (" (degenerate: every resample gave the same difference)"
                           if res.degenerate else "")
    return dict(ci_low=res.ci_low, ci_high=res.ci_high, ci_method=method)


def _same_items(B: np.ndarray, C: np.ndarray) -> bool:
    return bool(np.array_equal(B[:, 0] > 0, C[:, 0] > 0))


def run_test(metric: Metric, B, C, groups, paired: Paired, s: Settings) -> dict:
    """The fields of the metric's paired test and difference interval. For a ``magnitude``
    metric the difference and its interval are of |value|, the quantity tested."""
    counted = (B[:, 0] > 0) | (C[:, 0] > 0)
    out: dict = dict(test="none", n=int(counted.sum()), pvalue=math.nan,
                     pvalue_improve=math.nan, mcnemar=None, n_resamples=None,
                     n_groups=(len(set(g for g, c in zip(groups, counted) if c))
                               if groups is not None else None))
    if not counted.any():
        return out | dict(ci_low=math.nan, ci_high=math.nan, ci_method="")
    if metric.tested and metric.kind == "rate" and groups is None and _same_items(B, C):
        return out | _mcnemar(metric, B, C, paired, s)
    out |= _bootstrap(metric.tested_of_sums, B, C, groups, s)
    if metric.tested:
        out |= _randomization(metric, B, C, groups, s)
    return out


def _value_cis(metric: Metric, B, C, groups, s: Settings) -> dict:
    if not (metric.kind == "rate" and groups is None) and metric.name not in s.value_cis:
        return {}  # a bootstrap of each value costs; only threshold goals read it
    kw = dict(confidence_level=s.confidence_level, seed=s.seed, groups=groups,
              n_resamples=s.bootstrap_resamples)
    vb, vc = value_interval(metric, B, **kw), value_interval(metric, C, **kw)
    return dict(base_ci_low=vb["ci_low"], base_ci_high=vb["ci_high"],
                candidate_ci_low=vc["ci_low"], candidate_ci_high=vc["ci_high"],
                value_ci_method=vc["method"] or "")


def _gap_ci(metric: Metric, B, C, bB, bC, test: dict, groups, s: Settings) -> dict:
    """The interval of candidate_gap - base_gap. When the baseline is a property of the items
    (the same statistics on both sides: a majority label, a constant) and the metric is higher
    or lower, the change of the gap is the paired difference (negated for lower), so it takes
    the difference's own interval (Newcombe for a McNemar rate); otherwise a paired bootstrap of
    the gap."""
    if np.array_equal(bB, bC) and metric.direction in ("higher", "lower"):
        lo, hi = test["ci_low"], test["ci_high"]
        lo, hi = (lo, hi) if metric.direction == "higher" else (-hi, -lo)
        return dict(gap_ci_low=lo, gap_ci_high=hi, gap_ci_method=test["ci_method"])
    g = gap_of(metric)
    ci = _bootstrap(g.of_sums, gap_matrix(B, bB), gap_matrix(C, bC), groups, s)
    return dict(gap_ci_low=ci["ci_low"], gap_ci_high=ci["ci_high"], gap_ci_method=ci["ci_method"])


def _baseline_fields(metric: Metric, base_v: float, cand_v: float, B, C, test: dict,
                     paired: Paired, groups, s: Settings) -> dict:
    if metric.baseline is None:
        return {}
    bl = metric.baseline
    bB, bC = bl.matrix(paired.base_items), bl.matrix(paired.cand_items)
    bb, cb = float(bl.of_sums(bB.sum(axis=0))), float(bl.of_sums(bC.sum(axis=0)))
    out = dict(baseline_name=bl.name, base_baseline=bb, candidate_baseline=cb)
    if not (_finite(bb) and _finite(cb) and _finite(base_v) and _finite(cand_v)):
        return out
    out |= dict(base_gap=gap_value(base_v, bb, metric.direction),
                candidate_gap=gap_value(cand_v, cb, metric.direction))
    return out | _gap_ci(metric, B, C, bB, bC, test, groups, s)


def _distribution(metric: Metric, B, C) -> Distribution | None:
    if metric.kind != "mean":
        return None
    keep = (B[:, 0] > 0) & (C[:, 0] > 0)
    return Distribution(tuple(float(x) for x in B[keep, 1]), tuple(float(x) for x in C[keep, 1]))


def compare_metric(metric: Metric, paired: Paired, s: Settings) -> MetricComparison:
    """The metric compared; family, verdict and Holm are set afterwards (compare.family)."""
    B, C = metric.matrix(paired.base_items), metric.matrix(paired.cand_items)
    groups = cluster_labels(metric, paired.base_items, paired.ids)
    base_v = float(metric.of_sums(B.sum(axis=0))) if len(B) else math.nan
    cand_v = float(metric.of_sums(C.sum(axis=0))) if len(C) else math.nan
    test = run_test(metric, B, C, groups, paired, s)
    if metric.direction == "magnitude":
        test["difference"] = abs(cand_v) - abs(base_v)
    else:
        test["difference"] = cand_v - base_v
    return MetricComparison(
        name=metric.name, kind=metric.kind, direction=metric.direction, role=metric.role,
        family=DESCRIPTIVE if not metric.tested else "", verdict="", base=base_v,
        candidate=cand_v, description=metric.description,
        slice=f"{metric.slice[0]}={metric.slice[1]}" if metric.slice else None,
        distribution=_distribution(metric, B, C),
        **test, **_value_cis(metric, B, C, groups, s),
        **_baseline_fields(metric, base_v, cand_v, B, C, test, paired, groups, s))


def compare_all(metrics: Sequence[Metric], paired: Paired, s: Settings,
                on_metric=None) -> list[MetricComparison]:
    out = []
    for i, m in enumerate(metrics):
        if on_metric is not None:
            on_metric(m.name, i, len(metrics))
        out.append(compare_metric(m, paired, s))
    return out
