"""Every metric constructor's value (and its baseline's) against the quantity computed directly
from the same per-item scores with numpy / scikit-learn: items whose score is None do not count,
samples and other passes are not read unless the constructor says so, slices and sliced
baselines count only their items, and a gap is on the good side for every direction.

(A gap metric once read its summed statistics one column off and printed -6.04 for a true gap
of 0.00: no test compared a value with the quantity its description names.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, cohen_kappa_score, f1_score, precision_score,
                             recall_score)

from assay.metrics import (MEAN_LATENCY_S, PARSE_FAILURE_RATE, TRUNCATED_SHARE,
                           calibration_error, confusion, constant, custom, from_scores, gap_of,
                           gap_value, greedy_score, majority, mean, rate, share_gap)

N = 120


def rec(item, pass_="original", sample=None, **scores):
    return {"id": str(item), "model": "m", "pass": pass_, "sample": sample, "output": "x",
            "parse_error": scores.pop("parse_error", None),
            "truncated": scores.pop("truncated", False),
            "latency_s": scores.pop("latency_s", 0.5), "error": scores.pop("error", None),
            "scores": scores}


@pytest.fixture
def data():
    """N items: a greedy original record with the scores, plus a swapped-pass record and two
    samples whose scores are deliberately different (a metric of the greedy original record
    must not read them). About 1 in 6 items has x None and 1 in 7 has ok None."""
    rng = np.random.default_rng(7)
    labels = np.array(["A", "B", "TIE"])
    gold = rng.choice(labels, N)
    pred = np.where(rng.random(N) < 0.55, gold, rng.choice(labels, N)).astype(object)
    pred[rng.random(N) < 0.1] = None            # a prediction outside the labels (parse failure)
    x = rng.normal(0.4, 1.0, N)
    floor = rng.normal(0.1, 0.3, N)
    ok = rng.random(N) < 0.6
    p = rng.random(N)
    venue = rng.choice(["v0", "v1", "v2"], N)
    x_none = rng.random(N) < 1 / 6
    ok_none = rng.random(N) < 1 / 7
    recs = []
    for i in range(N):
        s = dict(gold=str(gold[i]), pred=pred[i], x=None if x_none[i] else float(x[i]),
                 floor=float(floor[i]), ok=None if ok_none[i] else bool(ok[i]), p=float(p[i]),
                 venue=str(venue[i]))
        recs.append(rec(i, **s))
        wrong = dict(gold="A", pred="B", x=1e6, floor=-1e6, ok=False, p=0.0, venue="vX")
        recs.append(rec(i, pass_="swapped", **wrong))
        recs.append(rec(i, sample=0, **wrong))
        recs.append(rec(i, sample=1, **wrong))
    return dict(recs=recs, gold=gold, pred=pred, x=np.where(x_none, np.nan, x), floor=floor,
                ok=ok, ok_none=ok_none, p=p, venue=venue)


def _nanmean(v):
    return float(np.nanmean(v))


def test_rate_counts_only_items_with_an_outcome(data):
    m = rate("ok", greedy_score("ok"))
    keep = ~data["ok_none"]
    assert m.value(data["recs"]) == pytest.approx(data["ok"][keep].mean(), abs=1e-12)
    assert int(m.matrix(_items(data["recs"]))[:, 0].sum()) == keep.sum()


def test_mean_counts_only_items_with_a_value(data):
    m = mean("x", greedy_score("x"), baseline=mean("floor", greedy_score("floor"),
                                                   direction="none", role="descriptive"))
    assert m.value(data["recs"]) == pytest.approx(_nanmean(data["x"]), abs=1e-12)
    assert m.baseline.value(data["recs"]) == pytest.approx(data["floor"].mean(), abs=1e-12)


def _pair(item):
    return from_scores(lambda s: (s["gold"], s["pred"]))(item)


def _items(recs):
    from assay.records import by_item

    return list(by_item(recs).values())


def test_kappa_drops_predictions_outside_the_labels(data):
    g, p = data["gold"], data["pred"]
    inside = np.array([v is not None for v in p])
    m = confusion("kappa", ["A", "B", "TIE"], _pair, "kappa")
    assert m.value(data["recs"]) == pytest.approx(
        cohen_kappa_score(g[inside], p[inside].astype(str)), abs=1e-12)


def test_macro_f1_counts_an_outside_prediction_as_wrong(data):
    g = data["gold"]
    p = np.array(["__none__" if v is None else v for v in data["pred"]])
    m = confusion("f1", ["A", "B", "TIE"], _pair, "macro_f1")
    assert m.value(data["recs"]) == pytest.approx(
        f1_score(g, p, labels=["A", "B", "TIE"], average="macro", zero_division=0), abs=1e-12)


@pytest.mark.parametrize("stat", ["accuracy", "precision", "recall", "f1"])
def test_binary_statistics_equal_sklearn_with_the_first_label_positive(data, stat):
    g = data["gold"]
    p = np.array(["__none__" if v is None else v for v in data["pred"]])
    keep = g != "TIE"  # gold outside the labels: the item does not count
    g, p = g[keep], np.where(p[keep] == "TIE", "__none__", p[keep])
    recs = [r for r in data["recs"] if r["scores"]["gold"] != "TIE"]
    pair = from_scores(lambda s: (s["gold"], None if s["pred"] == "TIE" else s["pred"]))
    m = confusion(stat, ["A", "B"], pair, stat)
    if stat == "accuracy":
        want = accuracy_score(g, p)
    else:
        fn = {"precision": precision_score, "recall": recall_score, "f1": f1_score}[stat]
        want = fn(g, p, labels=["A"], average=None, zero_division=0)[0]
    assert m.value(recs) == pytest.approx(want, abs=1e-12)
    # B positive: the label order decides the positive class
    if stat != "accuracy":
        m_b = confusion(stat, ["B", "A"], pair, stat)
        assert m_b.value(recs) == pytest.approx(fn(g, p, labels=["B"], average=None,
                                                   zero_division=0)[0], abs=1e-12)


def test_custom_reduce_gets_its_own_statistics_not_the_count(data):
    """from_sums sees the item_stats sums only (column 0, the count, is not passed)."""
    x = data["x"]
    m = custom("sum_over_sq", greedy_score("x", lambda v: (v, v * v)), 2,
               lambda s: s[..., 0] / s[..., 1])
    assert m.value(data["recs"]) == pytest.approx(np.nansum(x) / np.nansum(x * x), abs=1e-12)
    seen = []
    custom("probe", lambda item: (2.0, 3.0), 2,
           lambda s: seen.append(np.array(s)) or s[..., 0]).value(data["recs"])
    assert seen[0].tolist() == [2.0 * N, 3.0 * N]


def test_majority_is_the_most_frequent_gold_share(data):
    m = majority("majority", "gold", ["A", "B", "TIE"])
    _, counts = np.unique(data["gold"], return_counts=True)
    assert m.value(data["recs"]) == pytest.approx(counts.max() / N, abs=1e-12)
    # a gold label outside the labels does not count in the denominator
    m2 = majority("majority", "gold", ["A", "B"])
    ab = data["gold"][data["gold"] != "TIE"]
    assert m2.value(data["recs"]) == pytest.approx(
        max((ab == "A").sum(), (ab == "B").sum()) / len(ab), abs=1e-12)


def test_constant_is_its_value(data):
    assert constant("chance", 1 / 3).value(data["recs"]) == pytest.approx(1 / 3)
    assert math.isnan(constant("chance", 0.5).value([]))


def test_share_gap_is_the_absolute_difference_of_the_two_shares(data):
    m = share_gap("g", lambda s: s["pred"] == "A", lambda s: s["gold"] == "A")
    pred_a = np.mean([v == "A" for v in data["pred"]])
    gold_a = np.mean(data["gold"] == "A")
    assert m.value(data["recs"]) == pytest.approx(abs(pred_a - gold_a), abs=1e-12)


def _ece(p, y, n_bins):
    """ECE with bins [k/n, (k+1)/n) (the last one closed), computed directly."""
    k = np.minimum((p * n_bins).astype(int), n_bins - 1)
    return sum(abs(y[k == b].sum() - p[k == b].sum()) for b in range(n_bins)) / len(p)


@pytest.mark.parametrize("n_bins", [5, 10, 15])
def test_calibration_error_equals_the_ece_computed_directly(data, n_bins):
    from assay.stats import calibration

    p, y = data["p"], data["gold"] == "A"
    m = calibration_error("ece", "p", lambda s: s["gold"] == "A", n_bins=n_bins)
    assert m.value(data["recs"]) == pytest.approx(_ece(p, y, n_bins), abs=1e-12)
    assert m.value(data["recs"]) == pytest.approx(calibration(p, y, n_bins=n_bins).ece,
                                                  abs=1e-12)
    # an item without the probability does not count
    recs = [dict(r, scores=dict(r["scores"], p=None)) if r["id"] in ("0", "1") else r
            for r in data["recs"]]
    assert m.value(recs) == pytest.approx(_ece(p[2:], y[2:], n_bins), abs=1e-12)


def test_greedy_score_reads_the_greedy_original_record_only(data):
    recs = [r for r in data["recs"] if r["id"] == "3"]
    got = greedy_score("floor")(recs[::-1])  # whatever the order of the item's records
    assert got == pytest.approx(data["floor"][3])
    assert from_scores(lambda s: s["floor"], "swapped")(recs) == -1e6


def test_runner_shares_are_over_every_completion(data):
    recs = [dict(r) for r in data["recs"]]
    for k, r in enumerate(recs):
        r["parse_error"] = "bad" if k % 3 == 0 else None
        r["truncated"] = k % 5 == 0
        r["latency_s"] = float(k % 4)
    assert PARSE_FAILURE_RATE.value(recs) == pytest.approx(np.mean([k % 3 == 0 for k in
                                                                     range(len(recs))]))
    assert TRUNCATED_SHARE.value(recs) == pytest.approx(np.mean([k % 5 == 0 for k in
                                                                  range(len(recs))]))
    assert MEAN_LATENCY_S.value(recs) == pytest.approx(np.mean([k % 4 for k in
                                                                 range(len(recs))]))


# ---- slices -------------------------------------------------------------------------------

def test_slices_and_sliced_baselines_count_only_their_items(data):
    floor = mean("floor", greedy_score("floor"), direction="none", role="descriptive")
    m = mean("x", greedy_score("x"), baseline=floor)
    acc = rate("ok", greedy_score("ok"), baseline=majority("majority", "gold",
                                                           ["A", "B", "TIE"]))
    kappa = confusion("kappa", ["A", "B", "TIE"], _pair, "kappa")
    for v in ("v0", "v1", "v2"):
        inv = data["venue"] == v
        s = m.by("venue", v)
        assert s.name == f"x/{v}" and s.baseline.name == "floor"
        assert s.value(data["recs"]) == pytest.approx(_nanmean(data["x"][inv]), abs=1e-12)
        assert s.baseline.value(data["recs"]) == pytest.approx(data["floor"][inv].mean(),
                                                               abs=1e-12)
        keep = inv & ~data["ok_none"]
        sa = acc.by("venue", v)
        assert sa.value(data["recs"]) == pytest.approx(data["ok"][keep].mean(), abs=1e-12)
        _, counts = np.unique(data["gold"][inv], return_counts=True)
        assert sa.baseline.value(data["recs"]) == pytest.approx(counts.max() / inv.sum(),
                                                                abs=1e-12)
        inside = inv & np.array([p is not None for p in data["pred"]])
        assert kappa.by("venue", v).value(data["recs"]) == pytest.approx(cohen_kappa_score(
            data["gold"][inside], data["pred"][inside].astype(str)), abs=1e-12)
        # a slice of a slice: both conditions (a confusion counts every item with a gold
        # label; kappa's own reduce drops the predictions outside the labels)
        ss = kappa.by("venue", v).by("gold", "A")
        ga = inv & (data["gold"] == "A")
        assert int(ss.matrix(_items(data["recs"]))[:, 0].sum()) == ga.sum()
        # the sliced gap metric is the gap on the slice
        g = gap_of(m, "gap", role="secondary").by("venue", v)
        assert g.value(data["recs"]) == pytest.approx(
            _nanmean(data["x"][inv]) - data["floor"][inv].mean(), abs=1e-12)


def test_a_slice_reads_the_greedy_original_label_not_a_samples(data):
    m = rate("ok", greedy_score("ok"))
    # every sample and swapped record says venue vX: no item is in that slice
    assert int(m.by("venue", "vX").matrix(_items(data["recs"]))[:, 0].sum()) == 0


# ---- gaps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("direction,want", [
    ("higher", lambda v, b: v - b), ("lower", lambda v, b: b - v),
    ("magnitude", lambda v, b: abs(b) - abs(v)), ("target", lambda v, b: -abs(v - b))])
def test_gap_of_equals_gap_value_for_every_direction(data, direction, want):
    floor = mean("floor", greedy_score("floor"), direction="none", role="descriptive")
    role = "descriptive" if direction == "target" else "secondary"
    m = mean("x", greedy_score("x"), direction=direction, role=role, baseline=floor)
    v, b = _nanmean(data["x"]), data["floor"].mean()
    assert gap_value(v, b, direction) == pytest.approx(want(v, b))
    g = gap_of(m, "gap", role="secondary")
    assert g.value(data["recs"]) == pytest.approx(want(v, b), abs=1e-12)
    # its statistics matrix summed, through of_sums: the same number
    assert float(g.of_sums(g.matrix(_items(data["recs"])).sum(axis=0))) == pytest.approx(
        want(v, b), abs=1e-12)


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_gap_of_a_rate_over_its_majority_and_of_a_confusion_over_a_constant(data, direction):
    acc = rate("ok", greedy_score("ok"), direction=direction,
               baseline=majority("majority", "gold", ["A", "B", "TIE"]))
    _, counts = np.unique(data["gold"], return_counts=True)
    v, b = data["ok"][~data["ok_none"]].mean(), counts.max() / N
    assert gap_of(acc).value(data["recs"]) == pytest.approx(gap_value(v, b, direction),
                                                           abs=1e-12)
    kappa = confusion("kappa", ["A", "B", "TIE"], _pair, "kappa", direction=direction,
                      baseline=constant("chance", 0.1))
    inside = np.array([p is not None for p in data["pred"]])
    k = cohen_kappa_score(data["gold"][inside], data["pred"][inside].astype(str))
    assert gap_of(kappa).value(data["recs"]) == pytest.approx(gap_value(k, 0.1, direction),
                                                             abs=1e-12)


def test_reliability_bins_equal_assay_stats_calibration(data):
    from assay.metrics import reliability_bins
    from assay.stats import calibration

    p, y = data["p"], data["gold"] == "A"
    m = calibration_error("ece", "p", lambda s: s["gold"] == "A")
    got = reliability_bins(m, m.matrix(_items(data["recs"])).sum(axis=0))
    ref = calibration(p, y)
    assert got["n"] == ref.n and got["ece"] == pytest.approx(ref.ece, abs=1e-12)
    assert [(b["low"], b["n"]) for b in got["bins"]] == [(b.low, b.n) for b in ref.bins]
    for b, r in zip(got["bins"], ref.bins):
        assert (b["mean_confidence"], b["accuracy"]) == pytest.approx(
            (r.mean_confidence, r.accuracy), abs=1e-12)


def test_a_probability_on_an_inner_edge_goes_to_the_bin_above():
    """[low, high) as documented (sklearn's calibration_curve puts it in the bin below)."""
    from assay.stats import calibration

    r = calibration([0.45, 0.5], [True, False])
    assert [(b.low, b.n) for b in r.bins] == [(pytest.approx(0.4), 1), (0.5, 1)]
    assert r.ece == pytest.approx((abs(1 - 0.45) + abs(0 - 0.5)) / 2)
    m = calibration_error("ece", "p", lambda s: s["ok"])
    recs = [rec(0, p=0.45, ok=True), rec(1, p=0.5, ok=False)]
    assert m.value(recs) == pytest.approx(r.ece)
