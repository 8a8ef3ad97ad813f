"""The paired comparison: joins, refusals, the tests per metric and their numbers."""

from __future__ import annotations

import json
import math
import os
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
    run = ct.write_run(tmp_path / "run", ct.table_records())
    c = compare_runs(run, n_resamples=500)
    acc = c.metric("accuracy")
    assert (acc.mcnemar.b, acc.mcnemar.c, acc.mcnemar.n_discordant) == (13, 7, 20)
    assert acc.pvalue == pytest.approx(binomtest(7, 20, 0.5).pvalue) == pytest.approx(0.2632, abs=1e-4)
    assert (acc.base, acc.candidate, acc.difference) == pytest.approx((0.53, 0.47, -0.06))
    assert [d.id for d in acc.mcnemar.lost] == [str(i) for i in range(13)]
    assert [d.id for d in acc.mcnemar.gained] == [str(i) for i in range(13, 20)]
    assert acc.mcnemar.lost[0].candidate_output == "ft says 0"
    assert acc.test == "mcnemar" and acc.n == 100
    assert (acc.base_gap, acc.candidate_gap) == pytest.approx((0.03, -0.03))
    assert "with 100 items" in acc.detectability and acc.min_detectable > 0.06
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


def test_missing_outcome_is_a_failure_and_none_is_not_applicable(ct, tmp_path):
    recs = ct.table_records(lost=0, gained=0, both=10, neither=0)
    recs[0]["scores"] = {}                      # base item 0: parse failure, no score -> failed
    recs[3]["scores"]["correct"] = None         # ft item 1: not applicable -> dropped
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=100)
    t = c.metric("accuracy").mcnemar
    assert (t.n, t.b, t.c) == (9, 0, 1)


def test_permutation_metric_matches_the_stats_functions(ct, tmp_path):
    from assay.stats import paired_bootstrap, permutation_test

    c = compare_runs(ct.write_run(tmp_path / "run", ct.table_records()), n_resamples=2000, seed=3)
    sim = c.metric("similarity")
    base = [0.3 + 0.001 * i for i in range(100)]
    cand = [0.35 + 0.001 * i for i in range(100)]
    perm = permutation_test(base, cand, n_resamples=2000, seed=3)
    boot = paired_bootstrap(base, cand, n_resamples=2000, seed=3)
    assert sim.test == "permutation" and sim.pvalue == perm.pvalue
    assert sim.difference == pytest.approx(0.05)
    assert (sim.ci_low, sim.ci_high) == (boot.ci_low, boot.ci_high)
    assert sim.base_gap == pytest.approx(np.mean(base) - 0.1)
    assert sim.distribution.candidate[5] == pytest.approx(0.355)
    assert sim.min_detectable is None      # every item moved by exactly +0.05: no spread
    assert c.metric("all_pass").min_detectable == pytest.approx(
        2.8016 * (c.metric("all_pass").ci_high - c.metric("all_pass").ci_low) / 3.9199, rel=1e-3)


def test_bootstrap_metric_resamples_items_with_all_their_records(ct, tmp_path):
    from assay.stats import paired_bootstrap

    recs = ct.table_records(lost=3, gained=6, both=20, neither=11)
    # item 20 (both correct greedily) fails one of its samples for ft: all_pass drops
    recs += [ct.record(20, "ft", False, sample=0), ct.record(20, "base", True, sample=0)]
    c = compare_runs(ct.write_run(tmp_path / "run", recs), bootstrap_resamples=300, seed=1)
    ap = c.metric("all_pass")
    assert ap.test == "bootstrap"
    assert (ap.base, ap.candidate) == pytest.approx((23 / 40, 25 / 40))
    # independent: the per-item record lists, same seed
    import cmp_task
    by = {}
    for r in recs:
        by.setdefault((r["model"], r["id"]), []).append(r)
    ids = [str(i) for i in range(40)]
    ref = paired_bootstrap([by["base", i] for i in ids], [by["ft", i] for i in ids],
                           lambda lists: cmp_task._all_pass_rate([r for x in lists for r in x]),
                           n_resamples=300, seed=1)
    assert (ap.ci_low, ap.ci_high, ap.pvalue) == (ref.ci_low, ref.ci_high, ref.pvalue)


def test_grouped_metric_uses_a_cluster_bootstrap(ct, tmp_path):
    from assay.stats import paired_bootstrap

    recs = ct.table_records(lost=4, gained=12, both=14, neither=10)
    for r in recs:
        r["scores"]["paper"] = f"p{int(r['id']) // 4}"   # 4 reviews per paper: 10 papers
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=400,
                     bootstrap_resamples=400, seed=2)
    ra = c.metric("review_accuracy")
    assert ra.test == "cluster bootstrap" and ra.n_groups == 10
    assert (ra.mcnemar.b, ra.mcnemar.c) == (4, 12)      # the table is still there to read
    b = [[r] for r in recs if r["model"] == "base"]
    k = [[r] for r in recs if r["model"] == "ft"]
    groups = [f"group:p{i // 4}" for i in range(40)]
    import cmp_task
    ref = paired_bootstrap(b, k, lambda ls: cmp_task._accuracy([x for l in ls for x in l]),
                           n_resamples=400, seed=2, groups=groups)
    assert (ra.ci_low, ra.ci_high, ra.pvalue) == (ref.ci_low, ref.ci_high, ref.pvalue)
    # clustering widens the interval compared with treating the 40 reviews as independent
    acc = c.metric("accuracy")
    assert ra.ci_high - ra.ci_low > acc.ci_high - acc.ci_low


def test_holm_adjustment_across_metrics_by_hand(ct, tmp_path):
    c = compare_runs(ct.write_run(tmp_path / "run", ct.table_records()), n_resamples=500)
    ms = [m for m in c.metrics if math.isfinite(m.pvalue)]
    order = sorted(range(len(ms)), key=lambda i: ms[i].pvalue)
    running, expected = 0.0, {}
    for rank, i in enumerate(order):      # Holm step-down, monotone, capped at 1
        running = max(running, min(1.0, (len(ms) - rank) * ms[i].pvalue))
        expected[ms[i].name] = running
    assert {m.name: m.pvalue_holm for m in ms} == pytest.approx(expected)


def test_noise_floor_from_a_repeat_of_the_base(ct, tmp_path):
    run = ct.write_run(tmp_path / "run", ct.table_records())
    # the repeat of the base flips 10 items each way: a 6-point change is inside that noise
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
    assert back.metrics == c.metrics and back.base == c.base


def test_cli_json_carries_the_mcnemar_pvalue(ct, tmp_path):
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
    assert (tmp_path / "cmp" / "comparison.json").is_file()
    for r in recs:
        if r["model"] == "ft" and r["id"] == "3":
            r["prompt_hash"] = "other"
    ct.write_run(tmp_path / "bad", recs, task_module="cmp_task")
    bad = subprocess.run([ASSAY, "compare", str(tmp_path / "bad")], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "item 3" in bad.stderr and "--allow-prompt-mismatch" in bad.stderr


def test_too_few_resamples_or_clusters_are_warned(ct, tmp_path):
    recs = ct.table_records()
    for r in recs:
        r["scores"]["paper"] = f"p{int(r['id']) % 3}"      # 3 clusters
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=200,
                     bootstrap_resamples=50)
    assert any("50 bootstrap resamples no p-value goes below 0.0392" in w
               and "--bootstrap-resamples (or --resamples) 1000" in w for w in c.warnings)
    assert any(w.startswith("review_accuracy: the cluster bootstrap has only 3 group(s)")
               for w in c.warnings)


def test_sums_metric_is_bootstrapped_vectorized_with_the_same_resamples(ct, tmp_path):
    from assay.stats import paired_bootstrap

    recs = ct.table_records(lost=5, gained=11, both=20, neither=14)
    c = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=500,
                     bootstrap_resamples=50, seed=4)
    fast = c.metric("accuracy_sums")
    assert fast.n_resamples == 500 and c.metric("all_pass").n_resamples == 50
    b = [[r] for r in recs if r["model"] == "base"]
    k = [[r] for r in recs if r["model"] == "ft"]
    import cmp_task
    ref = paired_bootstrap(b, k, lambda ls: cmp_task._accuracy([x for l in ls for x in l]),
                           n_resamples=500, seed=4)
    assert (fast.base, fast.candidate) == pytest.approx((0.5, 0.62))
    assert (fast.ci_low, fast.ci_high, fast.pvalue) == pytest.approx(
        (ref.ci_low, ref.ci_high, ref.pvalue))
