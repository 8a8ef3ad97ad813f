"""The paired comparison of one metric (compare_metric) against the numbers computed directly
from both models' scores: values, baselines, gaps, the difference, and intervals that bracket
the point difference (the gap-change interval against an independent numpy bootstrap), for a
metric of each kind with a baseline and every direction a gap has."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from assay.compare.paired import Paired, Settings, compare_metric
from assay.metrics import (confusion, constant, from_scores, gap_of, gap_value, greedy_score,
                           majority, mean, rate, share_gap)
from assay.records import by_item

N = 150
S = Settings(n_resamples=500, seed=0, confidence_level=0.95, bootstrap_resamples=2000)


def rec(item, model, **scores):
    return {"id": str(item), "model": model, "pass": "original", "sample": None, "output": "x",
            "parse_error": None, "truncated": False, "latency_s": 0.1, "error": None,
            "scores": scores}


@pytest.fixture(scope="module")
def two():
    """Base and candidate on the same items: gold label, a pass/fail, a signed value with a
    per-item human reference (the same on both sides) and a per-model floor."""
    rng = np.random.default_rng(21)
    gold = np.where(rng.random(N) < 0.6, "yes", "no")
    human = rng.normal(2.0, 3.0, N)
    out = {}
    for model, p_right, bias, shift in (("base", 0.6, 4.0, 0.0), ("ft", 0.75, 1.5, 0.1)):
        right = rng.random(N) < p_right
        pred = np.where(right, gold, np.where(gold == "yes", "no", "yes"))
        x = rng.normal(bias, 3.0, N)
        x[rng.random(N) < 0.1] = np.nan     # the item does not count for this model
        sim = rng.uniform(0.3, 0.6, N) + shift
        floor = rng.uniform(0.1, 0.3, N) + shift / 2
        out[model] = dict(pred=pred, ok=right, x=x, sim=sim, floor=floor, recs=[
            rec(i, model, gold=str(gold[i]), pred=str(pred[i]), ok=bool(right[i]),
                x=None if np.isnan(x[i]) else float(x[i]), human=float(human[i]),
                sim=float(sim[i]), floor=float(floor[i])) for i in range(N)])
    out["gold"], out["human"] = gold, human
    b, c = by_item(out["base"]["recs"]), by_item(out["ft"]["recs"])
    ids = list(b)
    out["paired"] = Paired(ids, [b[i] for i in ids], [c[i] for i in ids], {}, {})
    return out


def _boot_gap_change(two, gap_fn, n=3000, seed=1):
    """Percentile bootstrap of candidate gap - base gap, resampling paired items, numpy only."""
    rng = np.random.default_rng(seed)
    got = []
    for _ in range(n):
        idx = rng.integers(0, N, N)
        got.append(gap_fn("ft", idx) - gap_fn("base", idx))
    return np.percentile(got, [2.5, 97.5])


def _close_interval(lo, hi, ref):
    width = ref[1] - ref[0]
    assert abs(lo - ref[0]) < 0.2 * width and abs(hi - ref[1]) < 0.2 * width, (lo, hi, ref)


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_a_rate_over_its_majority_label(two, direction):
    """McNemar rate, the same baseline on both sides: the gap change is the difference (negated
    for lower) and takes Newcombe's interval."""
    from scipy.stats import binomtest

    m = rate("ok", greedy_score("ok"), direction=direction,
             baseline=majority("majority", "gold", ["yes", "no"]))
    row = compare_metric(m, two["paired"], S)
    b, c = two["base"]["ok"].mean(), two["ft"]["ok"].mean()
    maj = max(np.mean(two["gold"] == "yes"), np.mean(two["gold"] == "no"))
    assert (row.base, row.candidate, row.difference) == pytest.approx((b, c, c - b), abs=1e-12)
    assert (row.base_baseline, row.candidate_baseline) == pytest.approx((maj, maj))
    assert (row.base_gap, row.candidate_gap) == pytest.approx(
        (gap_value(b, maj, direction), gap_value(c, maj, direction)), abs=1e-12)
    assert row.test == "mcnemar" and row.ci_low < row.difference < row.ci_high
    lost = np.sum(two["base"]["ok"] & ~two["ft"]["ok"])
    gained = np.sum(~two["base"]["ok"] & two["ft"]["ok"])
    assert row.pvalue == pytest.approx(binomtest(int(gained), int(lost + gained)).pvalue)
    change = row.candidate_gap - row.base_gap
    assert row.gap_ci_low < change < row.gap_ci_high
    want = (row.ci_low, row.ci_high) if direction == "higher" else (-row.ci_high, -row.ci_low)
    assert (row.gap_ci_low, row.gap_ci_high) == pytest.approx(want)


def test_a_confusion_f1_over_always_yes(two):
    always = confusion("always yes", ["yes", "no"], from_scores(lambda s: (s["gold"], "yes")),
                       "f1", direction="none", role="descriptive")
    m = confusion("f1", ["yes", "no"], from_scores(lambda s: (s["gold"], s["pred"])), "f1",
                  baseline=always)
    row = compare_metric(m, two["paired"], S)
    g = two["gold"]
    fb, fc = (f1_score(g, two[k]["pred"], pos_label="yes") for k in ("base", "ft"))
    prev = np.mean(g == "yes")
    assert (row.base, row.candidate, row.difference) == pytest.approx((fb, fc, fc - fb))
    assert row.base_baseline == pytest.approx(2 * prev / (1 + prev))
    assert (row.base_gap, row.candidate_gap) == pytest.approx(
        (fb - 2 * prev / (1 + prev), fc - 2 * prev / (1 + prev)))
    assert row.test == "randomization" and row.ci_low < row.difference < row.ci_high
    assert (row.gap_ci_low, row.gap_ci_high) == (row.ci_low, row.ci_high)

    def gap_fn(model, idx):
        return f1_score(g[idx], two[model]["pred"][idx], pos_label="yes") - \
            2 * np.mean(g[idx] == "yes") / (1 + np.mean(g[idx] == "yes"))
    _close_interval(row.gap_ci_low, row.gap_ci_high, _boot_gap_change(two, gap_fn, n=1500))


def test_a_mean_over_a_per_model_floor_and_its_gap_metric(two):
    floor = mean("floor", greedy_score("floor"), direction="none", role="descriptive")
    m = mean("sim", greedy_score("sim"), baseline=floor)
    row = compare_metric(m, two["paired"], S)
    gb = two["base"]["sim"].mean() - two["base"]["floor"].mean()
    gc = two["ft"]["sim"].mean() - two["ft"]["floor"].mean()
    assert (row.base_gap, row.candidate_gap) == pytest.approx((gb, gc), abs=1e-12)

    def gap_fn(model, idx):
        return two[model]["sim"][idx].mean() - two[model]["floor"][idx].mean()
    ref = _boot_gap_change(two, gap_fn)
    _close_interval(row.gap_ci_low, row.gap_ci_high, ref)
    g = compare_metric(gap_of(m, "sim_gap", role="secondary"), two["paired"], S)
    assert (g.base, g.candidate, g.difference) == pytest.approx((gb, gc, gc - gb), abs=1e-12)
    assert g.ci_low < g.difference < g.ci_high
    _close_interval(g.ci_low, g.ci_high, ref)


def test_a_magnitude_mean_over_the_humans_bias(two):
    """A signed bias, closer to 0 better, against the humans' (the same on both sides): the
    difference and its interval are of |value|; the gap is |human| - |value|."""
    m = mean("bias", greedy_score("x"), direction="magnitude",
             baseline=mean("humans", greedy_score("human"), direction="none",
                           role="descriptive"))
    row = compare_metric(m, two["paired"], S)
    b, c = np.nanmean(two["base"]["x"]), np.nanmean(two["ft"]["x"])
    h = two["human"].mean()
    assert (row.base, row.candidate) == pytest.approx((b, c), abs=1e-12)
    assert row.difference == pytest.approx(abs(c) - abs(b), abs=1e-12)
    assert (row.base_gap, row.candidate_gap) == pytest.approx((abs(h) - abs(b),
                                                               abs(h) - abs(c)), abs=1e-12)
    assert row.ci_low < row.difference < row.ci_high
    change = row.candidate_gap - row.base_gap
    assert change == pytest.approx(-row.difference)
    assert row.gap_ci_low < change < row.gap_ci_high
    _close_interval(row.gap_ci_low, row.gap_ci_high, (-row.ci_high, -row.ci_low))

    def gap_fn(model, idx):
        return abs(two["human"][idx].mean()) - abs(np.nanmean(two[model]["x"][idx]))
    _close_interval(row.gap_ci_low, row.gap_ci_high, _boot_gap_change(two, gap_fn))


def test_a_target_rate_against_the_true_rate(two):
    """Predicted share of 'yes' against the true share: closer is better, descriptive; its gap
    is -|predicted - true| and equals -share_gap."""
    true = rate("true yes", from_scores(lambda s: s["gold"] == "yes"), direction="none",
                role="descriptive")
    m = rate("predicted yes", from_scores(lambda s: s["pred"] == "yes"), direction="target",
             role="descriptive", baseline=true)
    row = compare_metric(m, two["paired"], S)
    t = np.mean(two["gold"] == "yes")
    pb, pc = (np.mean(two[k]["pred"] == "yes") for k in ("base", "ft"))
    assert (row.base, row.candidate, row.difference) == pytest.approx((pb, pc, pc - pb))
    assert (row.base_gap, row.candidate_gap) == pytest.approx((-abs(pb - t), -abs(pc - t)))
    assert row.test == "none" and row.ci_low <= row.difference <= row.ci_high
    assert row.gap_ci_low <= row.candidate_gap - row.base_gap <= row.gap_ci_high
    sg = compare_metric(share_gap("gap", lambda s: s["pred"] == "yes",
                                  lambda s: s["gold"] == "yes"), two["paired"], S)
    assert (sg.base, sg.candidate) == pytest.approx((abs(pb - t), abs(pc - t)))
    assert sg.ci_low < sg.difference < sg.ci_high


def test_a_sliced_rate_and_its_sliced_baseline(two):
    m = rate("ok", greedy_score("ok"), baseline=constant("chance", 0.5)).by("gold", "yes")
    row = compare_metric(m, two["paired"], S)
    yes = two["gold"] == "yes"
    b, c = two["base"]["ok"][yes].mean(), two["ft"]["ok"][yes].mean()
    assert (row.base, row.candidate, row.n) == pytest.approx((b, c, yes.sum()))
    assert (row.base_gap, row.candidate_gap) == pytest.approx((b - 0.5, c - 0.5))
    assert row.slice == "gold=yes" and row.ci_low < row.difference < row.ci_high


def test_the_noise_floor_of_a_magnitude_metric_is_of_its_magnitude():
    """The comparison's difference of a magnitude metric is of |value| (what is tested and
    plotted); the repeat run's move must be of the same quantity. A base bias of +1.0 and a
    repeat of -1.0 moved |bias| by 0, not by -2: a candidate change of -0.5 is not within it."""
    from assay.compare.noise import noise_detail

    m = mean("bias", greedy_score("x"), direction="magnitude")
    base = [[rec(i, "base", x=v)] for i, v in enumerate([0.5, 1.5] * 10)]       # mean +1.0
    repeat = [[rec(i, "base", x=v)] for i, v in enumerate([-0.5, -1.5] * 10)]   # mean -1.0
    got = noise_detail(m, base, repeat, difference=-0.5)
    assert got.repeat_value == pytest.approx(-1.0)
    assert got.difference == pytest.approx(abs(-1.0) - abs(1.0))
    assert not got.within_noise
    # a signed metric keeps the signed move
    signed = mean("x", greedy_score("x"))
    got = noise_detail(signed, base, repeat, difference=-0.5)
    assert got.difference == pytest.approx(-2.0) and got.within_noise


def test_the_runner_shares_compared(two):
    from assay.metrics import PARSE_FAILURE_RATE

    paired = two["paired"]
    items_b = [[dict(r, parse_error="bad" if int(r["id"]) % 4 == 0 else None) for r in it]
               for it in paired.base_items]
    items_c = [[dict(r, parse_error="bad" if int(r["id"]) % 6 == 0 else None) for r in it]
               for it in paired.cand_items]
    row = compare_metric(PARSE_FAILURE_RATE, Paired(paired.ids, items_b, items_c, {}, {}), S)
    b, c = np.mean(np.arange(N) % 4 == 0), np.mean(np.arange(N) % 6 == 0)
    assert (row.base, row.candidate, row.difference) == pytest.approx((b, c, c - b))
    assert row.ci_low < row.difference < row.ci_high
