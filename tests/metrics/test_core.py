"""The metric core: values from per-item statistics, checked against scikit-learn and by hand;
declarations checked once; slices carry their own n."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from assay.errors import AssayError
from assay.metrics import (PARSE_FAILURE_RATE, RUNNER_METRICS, confusion, custom, mean,
                           metrics_of, rate, value_interval)
from assay.records import greedy_record


def rec(item, **scores):
    return {"id": str(item), "model": "m", "pass": "original", "sample": None, "output": "x",
            "parse_error": scores.pop("parse_error", None), "truncated": False,
            "latency_s": 0.5, "error": None, "scores": scores}


def _score(key):
    return lambda item: (greedy_record(item) or {}).get("scores", {}).get(key)


def _pair(item):
    s = greedy_record(item)["scores"]
    return s["gold"], s["pred"]


@pytest.fixture
def labelled():
    rng = np.random.default_rng(1)
    labels = ["A", "B", "TIE"]
    gold = rng.choice(labels, 200)
    pred = np.where(rng.random(200) < 0.6, gold, rng.choice(labels, 200))
    return [rec(i, gold=str(g), pred=str(p), ok=bool(g == p), x=float(i % 7), venue="v" +
                str(i % 3)) for i, (g, p) in enumerate(zip(gold, pred))], gold, pred


def test_rate_and_mean(labelled):
    recs, gold, pred = labelled
    assert rate("acc", _score("ok")).value(recs) == pytest.approx(np.mean(gold == pred))
    assert mean("x", _score("x")).value(recs) == pytest.approx(np.mean([i % 7 for i in
                                                                        range(200)]))
    assert math.isnan(rate("acc", _score("ok")).value([]))


def test_confusion_statistics_equal_sklearn(labelled):
    recs, gold, pred = labelled
    k = confusion("kappa", ["A", "B", "TIE"], _pair, "kappa")
    assert k.value(recs) == pytest.approx(cohen_kappa_score(gold, pred))
    f = confusion("macro_f1", ["A", "B", "TIE"], _pair, "macro_f1")
    assert f.value(recs) == pytest.approx(f1_score(gold, pred, average="macro"))
    binary = [r for r in recs if r["scores"]["gold"] != "TIE" and r["scores"]["pred"] != "TIE"]
    g = [r["scores"]["gold"] for r in binary]
    p = [r["scores"]["pred"] for r in binary]
    for stat, ref in (("f1", f1_score), ("precision", precision_score),
                      ("recall", recall_score)):
        m = confusion(stat, ["A", "B"], _pair, stat)
        assert m.value(binary) == pytest.approx(ref(g, p, pos_label="A")), stat


def test_a_prediction_outside_the_labels_is_wrong_for_its_gold_class():
    recs = [rec(0, gold="A", pred="A"), rec(1, gold="A", pred=None), rec(2, gold="B", pred="B")]
    f = confusion("macro_f1", ["A", "B"], _pair, "macro_f1")
    # A: tp 1, fn 1 -> F1 2/3; B: tp 1 -> F1 1
    assert f.value(recs) == pytest.approx((2 / 3 + 1) / 2)
    assert confusion("acc", ["A", "B"], _pair, "accuracy").value(recs) == pytest.approx(2 / 3)


def test_slices_count_only_their_items(labelled):
    recs, gold, pred = labelled
    acc = rate("acc", _score("ok"))
    v1 = acc.by("venue", "v1")
    in_v1 = [r for r in recs if r["scores"]["venue"] == "v1"]
    assert v1.name == "acc/v1" and v1.slice == ("venue", "v1")
    assert v1.value(recs) == pytest.approx(np.mean([r["scores"]["ok"] for r in in_v1]))
    items = [[r] for r in recs]
    assert int(v1.matrix(items)[:, 0].sum()) == len(in_v1)


def test_declarations_are_checked_once():
    with pytest.raises(ValueError, match="direction must be one of"):
        rate("x", _score("ok"), direction="up")
    with pytest.raises(ValueError, match="'none' has no better side, so its role must be"):
        rate("x", _score("ok"), direction="none")
    with pytest.raises(ValueError, match="needs a baseline"):
        rate("x", _score("ok"), direction="target", role="descriptive")
    with pytest.raises(ValueError, match="statistic must be kappa, macro_f1"):
        confusion("x", ["A", "B", "C"], _pair, "f1")


def test_magnitude_is_tested_on_its_absolute_value():
    m = mean("bias", _score("x"), direction="magnitude")
    sums = np.array([[2.0, -30.0], [2.0, 10.0]])
    assert list(m.tested_of_sums(sums)) == [15.0, 5.0]
    assert m.improved(-10.0) and not m.improved(3.0) and m.improved(0.0) is None


def test_runner_metrics_are_defined_once_and_reserved():
    class T:
        name = "t"

        def __init__(self, metrics):
            self._m = metrics

        def metrics(self, records):
            return self._m

    recs = [rec(0, ok=True), rec(1, ok=False, parse_error="no verdict"),
            dict(rec(2, ok=True), sample=0, parse_error="no verdict")]
    assert metrics_of(T([]), recs) == list(RUNNER_METRICS)
    assert PARSE_FAILURE_RATE.value(recs) == pytest.approx(2 / 3)   # every pass and sample
    with pytest.raises(AssayError, match="defines 'parse_failure_rate', which the runner"):
        metrics_of(T([rate("parse_failure_rate", _score("ok"))]), recs)
    with pytest.raises(AssayError, match="defines metric 'a' twice"):
        metrics_of(T([rate("a", _score("ok")), rate("a", _score("ok"))]), recs)


def test_value_interval_wilson_for_rates_and_cluster_bootstrap_otherwise(labelled):
    from statsmodels.stats.proportion import proportion_confint

    recs, gold, pred = labelled
    items = [[r] for r in recs]
    hits = int(np.sum(gold == pred))
    iv = value_interval(rate("acc", _score("ok")), items)
    assert (iv["ci_low"], iv["ci_high"]) == pytest.approx(proportion_confint(hits, 200,
                                                                             method="wilson"))
    m = custom("ratio", lambda item: (greedy_record(item)["scores"]["x"], 1.0), 2,
               lambda s: s[..., 0] / s[..., 1])
    flat = value_interval(m, items, seed=3)
    clustered = value_interval(m, items, seed=3, groups=[str(i % 7) for i in range(200)])
    assert flat["ci_low"] < flat["value"] < flat["ci_high"]
    # x is constant within each of the 7 clusters: resampling clusters widens the interval
    assert clustered["ci_high"] - clustered["ci_low"] > 2 * (flat["ci_high"] - flat["ci_low"])


def _floored(n=60, seed=3):
    """Two models' records with a per-item similarity and a per-model shuffle floor."""
    rng = np.random.default_rng(seed)
    out = {}
    for model, shift in (("base", 0.0), ("ft", 0.15)):
        out[model] = [dict(rec(i, sim=float(0.3 + shift + 0.2 * rng.random()),
                               floor=float(0.2 + 0.1 * rng.random())), model=model)
                      for i in range(n)]
    return out


def _sim_metric(direction="higher"):
    from assay.metrics import greedy_score

    return mean("sim", greedy_score("sim"), direction=direction,
                baseline=mean("floor", greedy_score("floor"), direction="none",
                              role="descriptive"))


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_gap_of_is_the_value_minus_its_baseline(direction):
    """A gap metric is the metric's value on the good side of its baseline, from the same
    records (it once read the wrong columns and printed -6.04 for a gap of 0.0)."""
    from assay.metrics import gap_of

    recs = _floored()["base"]
    sim = np.mean([r["scores"]["sim"] for r in recs])
    floor = np.mean([r["scores"]["floor"] for r in recs])
    m = _sim_metric(direction)
    g = gap_of(m, "sim_gap", role="secondary")
    want = sim - floor if direction == "higher" else floor - sim
    assert m.value(recs) == pytest.approx(sim) and m.baseline.value(recs) == pytest.approx(floor)
    assert g.value(recs) == pytest.approx(want, abs=1e-12)
    # a record whose score is missing does not count for the metric but still for the floor
    recs[0]["scores"]["sim"] = None
    sim2 = np.mean([r["scores"]["sim"] for r in recs[1:]])
    assert g.value(recs) == pytest.approx((sim2 - floor) if direction == "higher"
                                          else (floor - sim2), abs=1e-12)


def test_the_paired_gap_row_and_interval_agree_with_the_gaps_computed_directly():
    """The comparison's gap columns, the gap metric's own row and its interval: one number."""
    from assay.compare.paired import Paired, Settings, compare_metric
    from assay.metrics import gap_of
    from assay.records import by_item

    data = _floored()
    b, c = by_item(data["base"]), by_item(data["ft"])
    ids = list(b)
    paired = Paired(ids, [b[i] for i in ids], [c[i] for i in ids], {}, {})
    s = Settings(n_resamples=400, seed=0, confidence_level=0.95, bootstrap_resamples=1000)

    def gap(model):
        return (np.mean([r["scores"]["sim"] for r in data[model]])
                - np.mean([r["scores"]["floor"] for r in data[model]]))

    row = compare_metric(_sim_metric(), paired, s)
    assert (row.base_gap, row.candidate_gap) == pytest.approx((gap("base"), gap("ft")))
    change = gap("ft") - gap("base")
    assert row.gap_ci_low < change < row.gap_ci_high and row.gap_ci_high - row.gap_ci_low < 0.1
    g = compare_metric(gap_of(_sim_metric(), "sim_gap", role="secondary"), paired, s)
    assert (g.base, g.candidate) == pytest.approx((gap("base"), gap("ft")))
    assert g.difference == pytest.approx(change)
    assert g.ci_low < change < g.ci_high


def test_gap_matrix_is_the_gap_metrics_own_matrix():
    """The comparison builds the gap's rows from matrices it already has; they equal the rows
    the gap metric scores itself, items counted by only one side or by neither included."""
    from assay.metrics import gap_matrix, gap_of
    from assay.records import by_item

    recs = _floored(n=12)["base"]
    recs[0]["scores"]["sim"] = None
    recs[1]["scores"]["floor"] = None
    recs[2]["scores"]["sim"] = recs[2]["scores"]["floor"] = None
    items = list(by_item(recs).values())
    m = _sim_metric()
    got = gap_matrix(m.matrix(items), m.baseline.matrix(items))
    assert np.array_equal(got, gap_of(m).matrix(items))
    assert got[2].tolist() == [0.0] * got.shape[1] and got[0, 0] == got[1, 0] == 1.0
