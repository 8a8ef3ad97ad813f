"""The paired comparison: joins, refusals, the test each metric's declaration gives, the family
and the verdicts, with the numbers checked against independent computations."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from assay import tasks
from assay.compare import compare_runs, load_comparison
from assay.errors import AssayError

FIXTURES = Path(__file__).parent / "fixtures"
ASSAY = str(Path(sys.executable).parent / "assay")


@pytest.fixture
def ct(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    return cmp_task


def test_mcnemar_13_lost_7_gained_gives_published_p(ct, tmp_path):
    from assay.stats import mcnemar

    run = ct.write_run(tmp_path / "run", ct.table_records())
    c = compare_runs(run, n_resamples=500)
    acc = c.metric("accuracy")
    assert (acc.mcnemar.b, acc.mcnemar.c, acc.mcnemar.n_discordant) == (13, 7, 20)
    assert acc.pvalue == pytest.approx(binomtest(7, 20, 0.5).pvalue) == pytest.approx(0.2632,
                                                                                      abs=1e-4)
    # one-sided toward "higher is better": P(X >= 7 | 20, 1/2)
    assert acc.pvalue_improve == pytest.approx(binomtest(7, 20, 0.5, "greater").pvalue)
    assert acc.mcnemar.midp < acc.pvalue
    assert (acc.base, acc.candidate, acc.difference) == pytest.approx((0.53, 0.47, -0.06))
    ref = mcnemar([True] * 13 + [False] * 7 + [True] * 40 + [False] * 40,
                  [False] * 13 + [True] * 7 + [True] * 40 + [False] * 40)
    assert (acc.ci_low, acc.ci_high) == (ref.ci_low, ref.ci_high)
    assert acc.ci_method == "newcombe"
    assert [d.id for d in acc.mcnemar.lost] == [str(i) for i in range(13)]
    assert [d.id for d in acc.mcnemar.gained] == [str(i) for i in range(13, 20)]
    assert acc.mcnemar.lost[0].candidate_output == "ft says 0"
    assert acc.test == "mcnemar" and acc.n == 100
    assert (acc.base_gap, acc.candidate_gap) == pytest.approx((0.03, -0.03))
    # the candidate's own 47/100 gets Wilson's interval (what a threshold goal reads)
    from statsmodels.stats.proportion import proportion_confint

    assert (acc.candidate_ci_low, acc.candidate_ci_high) == pytest.approx(
        proportion_confint(47, 100, method="wilson"))
    assert (c.base.label, c.candidate.label, c.n_items) == ("base", "ft", 100)


def test_two_run_dirs_give_the_same_table_and_base_can_name_the_second(ct, tmp_path):
    recs = ct.table_records()
    a = ct.write_run(tmp_path / "a", [r for r in recs if r["model"] == "base"])
    b = ct.write_run(tmp_path / "b", [r for r in recs if r["model"] == "ft"])
    c = compare_runs(a, b, n_resamples=200)
    assert (c.metric("accuracy").mcnemar.b, c.metric("accuracy").mcnemar.c) == (13, 7)
    swapped = compare_runs(b, a, base="base", n_resamples=200)
    assert (swapped.base.label, swapped.metric("accuracy").mcnemar.b) == ("base", 13)


def test_ambiguous_runs_ask_for_labels(ct, tmp_path):
    recs = ct.table_records() + [dict(r, model="other") for r in ct.table_records()
                                 if r["model"] == "ft"]
    run = ct.write_run(tmp_path / "run", recs)
    with pytest.raises(AssayError, match="--base LABEL and --candidate LABEL"):
        compare_runs(run)
    c = compare_runs(run, base="ft", candidate="other", n_resamples=100)
    assert c.metric("accuracy").mcnemar.n_discordant == 0
    with pytest.raises(AssayError, match="one model"):
        compare_runs(ct.write_run(tmp_path / "one", ct.table_records()[::2]))


def test_different_prompts_are_refused_unless_overridden(ct, tmp_path):
    recs = ct.table_records()
    for r in recs:
        if r["model"] == "ft" and r["id"] in ("5", "6"):
            r["prompt_hash"] = "changed"
    run = ct.write_run(tmp_path / "run", recs)
    with pytest.raises(AssayError) as err:
        compare_runs(run)
    text = str(err.value)
    assert "2 of 100" in text and "item 5" in text and "--allow-prompt-mismatch" in text
    c = compare_runs(run, allow_prompt_mismatch=True, n_resamples=100)
    assert c.warnings[0].startswith("PROMPTS DIFFER") and c.prompt_mismatches == ("5", "6")


def test_items_on_one_side_only_are_reported_and_left_out(ct, tmp_path):
    recs = [r for r in ct.table_records() if not (r["model"] == "ft" and r["id"] in ("98", "99"))]
    recs.append(ct.record(500, "ft", True))
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=100)
    assert c.only_base == ("98", "99") and c.only_candidate == ("500",)
    assert c.n_items == 98 and c.metric("accuracy").n == 98
    assert any("2 completion(s) only in base" in w for w in c.warnings)


def test_runs_of_different_tasks_are_refused(ct, tmp_path):
    recs = ct.table_records()
    a = ct.write_run(tmp_path / "a", [r for r in recs if r["model"] == "base"])
    b = ct.write_run(tmp_path / "b", [r for r in recs if r["model"] == "ft"], task="exact")
    with pytest.raises(AssayError, match="different tasks .*'cmp-test'.*'exact'"):
        compare_runs(a, b)


def test_missing_outcome_is_a_failure_and_none_changes_the_test(ct, tmp_path):
    recs = ct.table_records(lost=0, gained=0, both=10, neither=0)
    del recs[0]["scores"]["correct"]            # base item 0: no outcome -> failed
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=100)
    t = c.metric("accuracy").mcnemar
    assert (t.n, t.b, t.c) == (10, 0, 1)
    recs[3]["scores"]["correct"] = None         # ft item 1: not applicable -> not counted
    c = compare_runs(ct.write_run(tmp_path / "run2", recs), n_resamples=100)
    acc = c.metric("accuracy")
    # the two sides now count different items, so McNemar's table would not test the reported
    # difference (9/10 vs 9/9): the paired randomization test does
    assert acc.test == "randomization" and acc.mcnemar is None
    assert (acc.base, acc.candidate) == pytest.approx((0.9, 1.0))


def test_mean_metric_randomization_equals_the_sign_flip_test(ct, tmp_path):
    from assay.stats import permutation_test

    rng = np.random.default_rng(5)
    recs = ct.table_records()
    for r in recs:
        r["scores"]["sim"] = float(rng.normal(0.5 if r["model"] == "base" else 0.52, 0.1))
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=4000, seed=3)
    sim = c.metric("similarity")
    base = [r["scores"]["sim"] for r in recs if r["model"] == "base"]
    cand = [r["scores"]["sim"] for r in recs if r["model"] == "ft"]
    perm = permutation_test(base, cand, n_resamples=20000, seed=11)
    assert sim.test == "randomization" and sim.n == 100
    assert sim.difference == pytest.approx(np.mean(cand) - np.mean(base))
    # two Monte Carlo estimates of one exact p: within 4 standard errors
    se = math.sqrt(perm.pvalue * (1 - perm.pvalue) / 4000)
    assert abs(sim.pvalue - perm.pvalue) < 4 * se + 1e-3
    assert sim.base_gap == pytest.approx(np.mean(base) - 0.1)
    assert sim.distribution.candidate[5] == pytest.approx(cand[5])
    assert sim.ci_low < sim.difference < sim.ci_high


def test_exact_randomization_p_by_enumeration(ct, tmp_path):
    """Eight items: the p of a rate with model-dependent applicability is the share of all 2^8
    within-item swaps whose difference is at least as large as observed, counted here by brute
    force."""
    recs = []
    outcomes = [(True, True), (False, True), (False, True), (None, True), (True, None),
                (False, False), (True, True), (False, True)]
    for i, (a, b) in enumerate(outcomes):
        recs += [ct.record(i, "base", a), ct.record(i, "ft", b)]
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=1000)
    acc = c.metric("accuracy")

    def rate(side):
        vals = [v for v in side if v is not None]
        return sum(vals) / len(vals)

    observed = rate([b for _, b in outcomes]) - rate([a for a, _ in outcomes])
    hits = 0
    for swap in itertools.product([0, 1], repeat=8):
        base = [b if s else a for (a, b), s in zip(outcomes, swap)]
        cand = [a if s else b for (a, b), s in zip(outcomes, swap)]
        hits += abs(rate(cand) - rate(base)) >= abs(observed) - 1e-12
    assert acc.test == "randomization"
    assert acc.pvalue == pytest.approx(hits / 256)


def test_two_items_both_gained_is_never_called_better(ct, tmp_path):
    """Done-when: a 2-item run where the candidate gains both items."""
    recs = [ct.record(0, "base", False, sim=0.1, slice="x"), ct.record(0, "ft", True, sim=0.9,
                                                                    slice="x"),
            ct.record(1, "base", False, sim=0.1, slice="x"), ct.record(1, "ft", True, sim=0.9,
                                                                    slice="x")]
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=2000)
    data = c.to_dict()
    ps = [m["pvalue"] for m in data["metrics"] if m["pvalue"] is not None]
    assert ps and min(ps) >= 0.25
    assert all(m["verdict"] != "better" for m in data["metrics"])
    assert c.metric("accuracy").pvalue == pytest.approx(0.5)     # exact McNemar, 2 of 2
    assert c.metric("similarity").pvalue == pytest.approx(0.5)   # exact 2^2 swaps
    assert c.metric("accuracy/x").verdict == "too few items" and c.metric("accuracy/x").n == 2


def test_clustered_metric_swaps_and_resamples_whole_clusters(ct, tmp_path):
    from assay.stats import paired_randomization

    recs = ct.table_records(lost=4, gained=12, both=14, neither=10)
    for r in recs:
        r["scores"]["paper"] = f"p{int(r['id']) // 4}"   # 4 reviews per paper: 10 papers
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=2000, seed=2)
    ra = c.metric("review_accuracy")
    assert ra.test == "cluster randomization" and ra.n_groups == 10 and ra.mcnemar is None
    b = np.array([[1.0, float(r["scores"]["correct"])] for r in recs if r["model"] == "base"])
    k = np.array([[1.0, float(r["scores"]["correct"])] for r in recs if r["model"] == "ft"])
    ref = paired_randomization(b, k, lambda s: s[..., 1] / s[..., 0],
                               groups=[f"p{i // 4}" for i in range(40)], seed=2,
                               n_resamples=2000)
    assert ra.pvalue == pytest.approx(ref.pvalue)
    acc = c.metric("accuracy")   # the same outcomes treated as 40 independent items
    assert ra.pvalue > acc.pvalue


def test_family_is_the_primary_metrics_and_holm_is_by_hand(ct, tmp_path):
    c = compare_runs(ct.write_run(tmp_path / "run", ct.table_records()), n_resamples=500)
    assert c.family == ("accuracy", "similarity") and c.family_source == "primary"
    fam = [c.metric(n) for n in c.family]
    lo, hi = sorted(fam, key=lambda m: m.pvalue)
    assert lo.pvalue_holm == pytest.approx(min(1, 2 * lo.pvalue))
    assert hi.pvalue_holm == pytest.approx(max(lo.pvalue_holm, hi.pvalue))
    ap = c.metric("all_pass")
    assert ap.family == "exploratory" and math.isnan(ap.pvalue_holm)
    for name in ("truncated_share", "mean_latency_s"):
        m = c.metric(name)
        assert m.family == "descriptive" and m.verdict == "descriptive"
        assert math.isnan(m.pvalue) and m.test == "none"


def test_adding_metrics_does_not_change_the_confirmatory_verdict(ct, tmp_path):
    """Constants and operational figures are descriptive: they never enter Holm."""
    recs = ct.table_records(lost=2, gained=20, both=40, neither=38)
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=500)
    acc = c.metric("accuracy")
    assert acc.verdict == "better" and acc.family == "confirmatory"
    assert acc.pvalue_holm <= 2 * acc.pvalue


def test_noise_floor_from_a_repeat_of_the_base(ct, tmp_path):
    run = ct.write_run(tmp_path / "run", ct.table_records())
    rep = [dict(r) for r in ct.table_records() if r["model"] == "base"]
    for r in rep[:10]:
        r["scores"] = dict(r["scores"], correct=not r["scores"]["correct"])
    for r in rep[60:70]:
        r["scores"] = dict(r["scores"], correct=True)
    noise = ct.write_run(tmp_path / "noise", rep)
    c = compare_runs(run, noise=noise, n_resamples=200)
    nd = c.metric("accuracy").noise
    assert nd.flip_rate == pytest.approx(0.2) and nd.difference == pytest.approx(0.0)
    assert nd.within_noise and any("within the noise floor" in w for w in c.warnings)


def test_truncation_difference_is_warned(ct, tmp_path):
    recs = ct.table_records()
    for r in recs:
        if r["model"] == "ft" and int(r["id"]) < 20:
            r["truncated"] = True
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=100)
    assert (c.base.truncated_share, c.candidate.truncated_share) == (0.0, 0.2)
    assert any(w.startswith("truncation differs") and "--max-tokens" in w for w in c.warnings)


def test_failed_requests_are_dropped_from_both_sides(ct, tmp_path):
    recs = ct.table_records()
    recs[1]["error"] = "timeout"          # ft item 0 (a lost item) failed: not the model's fault
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=100)
    assert c.metric("accuracy").mcnemar.b == 12 and c.n_items == 99
    assert c.candidate.errors == 1


def test_comparison_round_trips_through_json(ct, tmp_path):
    c = compare_runs(ct.write_run(tmp_path / "run", ct.table_records()), n_resamples=100)
    (tmp_path / "comparison.json").write_text(json.dumps(c.to_dict()))
    back = load_comparison(tmp_path)
    assert back.metric("accuracy").mcnemar.lost == c.metric("accuracy").mcnemar.lost
    assert back.metrics == c.metrics and back.base == c.base and back.family == c.family


def test_bad_settings_are_one_line_errors(ct, tmp_path):
    run = ct.write_run(tmp_path / "run", ct.table_records())
    with pytest.raises(AssayError, match="alpha=0.7 is invalid. Fix: use a number in"):
        compare_runs(run, alpha=0.7)


def test_cli_json_carries_the_family_and_verdicts(ct, tmp_path):
    recs = ct.table_records()
    ct.write_run(tmp_path / "run", recs, task_module="cmp_task")
    from assay.testing import script_env

    env = script_env(FIXTURES)  # the script on this tree, not the checkout it was installed from
    out = subprocess.run([ASSAY, "compare", str(tmp_path / "run"), "--json", "--resamples",
                          "200", "--out", str(tmp_path / "cmp"), "--no-plots"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    acc = next(m for m in data["metrics"] if m["name"] == "accuracy")
    assert acc["pvalue"] == pytest.approx(0.2632, abs=1e-4)
    assert acc["mcnemar"]["pvalue"] == acc["pvalue"] and acc["mcnemar"]["b"] == 13
    assert acc["family"] == "confirmatory" and acc["verdict"] == "inconclusive"
    assert data["family"] == ["accuracy", "similarity"]
    assert (tmp_path / "cmp" / "comparison.json").is_file()
    text = subprocess.run([ASSAY, "compare", str(tmp_path / "run"), "--resamples", "200"],
                          capture_output=True, text=True, env=env).stdout
    assert "Confirmatory family" in text and "exploratory" in text
    for r in recs:
        if r["model"] == "ft" and r["id"] == "3":
            r["prompt_hash"] = "other"
    ct.write_run(tmp_path / "bad", recs, task_module="cmp_task")
    bad = subprocess.run([ASSAY, "compare", str(tmp_path / "bad")], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "item 3" in bad.stderr and "--allow-prompt-mismatch" in bad.stderr


def test_few_clusters_are_warned(ct, tmp_path):
    recs = ct.table_records()
    for r in recs:
        r["scores"]["paper"] = f"p{int(r['id']) % 3}"      # 3 clusters
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=200)
    assert any(w.startswith("review_accuracy: only 3 clusters") for w in c.warnings)


def test_runs_on_different_data_are_refused_unless_allowed(ct, tmp_path):
    recs = ct.table_records()
    a = ct.write_run(tmp_path / "a", [r for r in recs if r["model"] == "base"])
    b = ct.write_run(tmp_path / "b", [r for r in recs if r["model"] == "ft"])
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["data"]["sha256"] = "4" * 64
    (b / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(AssayError, match="different data.*Fix: .*--allow-data-mismatch"):
        compare_runs(a, b)
    c = compare_runs(a, b, allow_data_mismatch=True, n_resamples=100)
    assert c.warnings[0].startswith("DATA DIFFERS")


def test_different_gold_labels_are_refused(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    from cmp_task import write_run
    from reviews import review_records

    from assay.tasks.paper_review import PaperReview

    task = PaperReview()
    base = review_records(task, 5, 0, 5, 0, model="base")
    cand = review_records(task, 5, 0, 5, 0, model="ft")
    for r in cand[:5]:
        r["scores"] = dict(r["scores"], gold="reject")    # same prompts, other labels
    run = write_run(tmp_path / "run", base + cand, task="paper-review")
    with pytest.raises(AssayError, match="5 of 10 paired completions have different gold "
                                         "labels.*item p0"):
        compare_runs(run)


def test_the_same_model_on_both_sides_is_warned(ct, tmp_path):
    run = ct.write_run(tmp_path / "run", ct.table_records())
    manifest = json.loads((run / "manifest.json").read_text())
    for label in ("base", "ft"):
        manifest["models"][label]["identity"] = {"backend": "openai", "model": "m"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    c = compare_runs(run, n_resamples=100)
    assert any("are the same model" in w for w in c.warnings)
