"""Goals: parsing, the lock, Hit / Miss, and the pre-registration flags."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import binomtest

from assay import tasks
from assay.compare import compare_runs
from assay.errors import AssayError, InputError
from assay.goals import Goal, lock_goals, read_goals, read_lock

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def ct(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    return cmp_task


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


GOALS = """\
accuracy: ">= 0.5"
similarity: [improve, "<= 0.2"]
accuracy/x: {goal: hold_gap, margin: 0.1}
"""


def test_every_accepted_form_parses(tmp_path):
    gf = read_goals(write(tmp_path / "goals.yaml", GOALS + "all_pass: {goal: improve, "
                          "alpha: 0.01}\nsimilarity/y: {equivalent: {margin: 0.05}}\n"))
    assert gf.goals == (Goal("accuracy", "at_least", threshold=0.5),
                        Goal("similarity", "improve"), Goal("similarity", "at_most", 0.2),
                        Goal("accuracy/x", "hold_gap", margin=0.1),
                        Goal("all_pass", "improve", alpha=0.01),
                        Goal("similarity/y", "equivalent", margin=0.05))
    assert gf.sha256 == hashlib.sha256((tmp_path / "goals.yaml").read_bytes()).hexdigest()
    nested = read_goals(write(tmp_path / "g2.yaml", "task: cmp-test\ngoals:\n  accuracy: "
                              "{hold_gap: {margin: 0.02}}\n"))
    assert nested.task == "cmp-test"
    assert nested.goals == (Goal("accuracy", "hold_gap", margin=0.02),)


@pytest.mark.parametrize("text, field, value", [
    ('accuracy: "> 0.5"\n', "accuracy", "> 0.5"),
    ("accuracy: better\n", "accuracy", "better"),
    ("accuracy: 0.5\n", "accuracy", "0.5"),
    ("accuracy: {goal: improve, alpha: 2}\n", "accuracy.alpha", "2"),
    ("accuracy: {goal: improve, sig: 0.1}\n", "accuracy", "sig"),
    ("accuracy: hold_gap\n", "accuracy", "hold_gap"),
    ("accuracy: {goal: hold_gap, gap: 0.1}\n", "accuracy.gap", "0.1"),
    ("accuracy: {goal: equivalent, margin: -1}\n", "accuracy.margin", "-1"),
])
def test_bad_goal_names_file_metric_value_and_accepted_forms(tmp_path, text, field, value):
    with pytest.raises(InputError) as err:
        read_goals(write(tmp_path / "goals.yaml", text))
    msg = str(err.value)
    assert "goals.yaml" in msg and f"field '{field}'" in msg and value in msg
    assert '">= 0.37"' in msg and "hold_gap" in msg and "improve" in msg


def test_lock_records_hash_time_and_commit(tmp_path):
    g = write(tmp_path / "goals.yaml", GOALS)
    when = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
    lock = lock_goals(g, now=when)
    data = json.loads((tmp_path / "goals.yaml.lock.json").read_text())
    assert data["sha256"] == hashlib.sha256(g.read_bytes()).hexdigest()
    assert data["locked_at"] == "2025-01-01T09:00:00.000+00:00" and data["git_commit"] is None
    assert data["goals"][0] == {"metric": "accuracy", "kind": "at_least", "threshold": 0.5,
                                "alpha": 0.05, "margin": None}
    assert read_lock(g) == lock
    # locking the same content again keeps the first lock; changed goals need --force
    assert lock_goals(g).locked_at == lock.locked_at
    write(g, GOALS.replace("0.5", "0.6"))
    with pytest.raises(AssayError, match="changed since it was locked.*--force"):
        lock_goals(g)
    assert lock_goals(g, force=True).locked_at != lock.locked_at


def test_lock_in_a_git_repo_names_the_commit(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    git("init", "-q")
    write(tmp_path / "goals.yaml", GOALS)
    git("add", "goals.yaml")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "goals")
    assert lock_goals(tmp_path / "goals.yaml").git_commit == git("rev-parse", "HEAD")


def _comparison(ct, tmp_path, goals, started="2025-01-02T10:00:00+00:00", **kw):
    run = ct.write_run(tmp_path / "run", ct.table_records(**kw), started_at=started)
    return compare_runs(run, goals=goals, n_resamples=500)


def test_hit_miss_and_inconclusive_on_bounds(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: [">= 0.3", ">= 0.5", ">= 0.6", "<= 0.6", '
                                       'improve, {goal: hold_gap, margin: 0.01}]\n'
                                       'similarity: [improve, {goal: equivalent, margin: 0.1},'
                                       ' {goal: equivalent, margin: 0.01}]\n')
    lock_goals(g, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    c = _comparison(ct, tmp_path, g)          # accuracy 0.53 -> 0.47; similarity +0.05 each
    got = [(v.metric, v.goal, v.outcome, v.hit) for v in c.goals.verdicts]
    assert got == [("accuracy", ">= 0.3", "Hit", True),          # 47/100: [0.375, 0.567]
                   ("accuracy", ">= 0.5", "Inconclusive", None),
                   ("accuracy", ">= 0.6", "Miss", False),
                   ("accuracy", "<= 0.6", "Hit", True),
                   ("accuracy", "improve (alpha 0.05)", "Inconclusive", None),
                   ("accuracy", "hold gap (margin 0.01)", "Inconclusive", None),
                   ("similarity", "improve (alpha 0.05)", "Hit", True),
                   # every item moved by exactly +0.05: a degenerate bootstrap decides nothing
                   ("similarity", "equivalent (margin 0.1)", "Inconclusive", None),
                   ("similarity", "equivalent (margin 0.01)", "Inconclusive", None)]
    assert "degenerate" in c.goals.verdicts[-1].reason
    assert c.goals.pre_registered and not c.goals.edited_after_lock and c.goals.hits == 3
    assert c.family == ("accuracy", "similarity") and c.family_source == "goals"
    assert c.metric("all_pass").family == "exploratory"


def test_equivalence_on_a_trusted_interval(ct, tmp_path):
    rng = np.random.default_rng(4)
    recs = ct.table_records()
    for r in recs:
        r["scores"]["sim"] = float(rng.normal(0.5, 0.1))
    run = ct.write_run(tmp_path / "run", recs)
    g = write(tmp_path / "goals.yaml", "similarity: [{goal: equivalent, margin: 0.1}, "
                                       "{goal: equivalent, margin: 0.001}]\n")
    c = compare_runs(run, goals=g, n_resamples=500)
    wide, narrow = c.goals.verdicts
    m = c.metric("similarity")
    assert -0.1 < m.ci_low < m.ci_high < 0.1 and wide.outcome == "Hit"
    assert narrow.outcome == "Inconclusive"          # the interval is wider than +-0.001
    # the verdict claims equivalence only within the strictest margin locked for the metric
    assert m.verdict == "inconclusive"


def test_bound_goals_need_intervals_at_1_minus_2_alpha(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: {goal: ">= 0.3", alpha: 0.01}\n')
    run = ct.write_run(tmp_path / "run", ct.table_records())
    v = compare_runs(run, goals=g, n_resamples=200).goals.verdicts[0]
    assert v.outcome == "Not evaluable" and "--confidence-level 0.98" in v.reason
    v = compare_runs(run, goals=g, n_resamples=200, confidence_level=0.98).goals.verdicts[0]
    assert v.outcome == "Hit"


def test_small_or_degenerate_bootstrap_bounds_decide_no_goal(ct, tmp_path):
    """Two items at 0.6 and 0.7: a percentile bootstrap says [0.6, 0.7]; that is no evidence."""
    recs = [ct.record(0, "base", True, sim=0.1), ct.record(0, "ft", True, sim=0.6),
            ct.record(1, "base", True, sim=0.1), ct.record(1, "ft", True, sim=0.7)]
    g = write(tmp_path / "goals.yaml", 'similarity: ">= 0.5"\n')
    v = compare_runs(ct.write_run(tmp_path / "run", recs), goals=g,
                     n_resamples=200).goals.verdicts[0]
    assert v.outcome == "Inconclusive" and "only 2 items" in v.reason


def test_a_zero_change_is_not_a_miss_of_improve(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", "accuracy: improve\n")
    v = _comparison(ct, tmp_path, g, lost=5, gained=5).goals.verdicts[0]
    assert v.outcome == "Inconclusive" and "moved the wrong way" not in v.reason


def test_improve_uses_holm_within_the_family(ct, tmp_path):
    # 12 gained, 3 lost: one-sided exact p = P(X >= 12 | 15) = 0.0176. Holm over the family
    # {accuracy, similarity}: similarity's p is smaller, so accuracy's adjusted p stays 0.0176
    g = write(tmp_path / "goals.yaml", "accuracy: improve\nsimilarity: improve\n")
    c = _comparison(ct, tmp_path, g, lost=3, gained=12)
    acc = c.goals.for_metric("accuracy")[0]
    assert c.metric("accuracy").pvalue_improve == pytest.approx(
        binomtest(12, 15, 0.5, "greater").pvalue)
    assert acc.hit and "p 0.0176" in acc.reason
    g.write_text("accuracy: {goal: improve, alpha: 0.01}\n")
    assert _comparison(ct, tmp_path, g, lost=3, gained=12).goals.verdicts[0].hit is None


def _reviewer_runs(tmp_path):
    """The scientific reviewer's 95 papers (TP 74, FN 6, FP 12, TN 3) against an always-accept
    base, as one run directory of task paper-review."""
    from cmp_task import write_run
    from reviews import review_records

    from assay.tasks.paper_review import PaperReview

    task = PaperReview()
    cand = review_records(task, 74, 6, 12, 3, model="ft")
    base = review_records(task, 80, 0, 15, 0, model="base")
    return write_run(tmp_path / "reviewer", base + cand, task="paper-review")


def test_reviewer_77_of_95_is_inconclusive_at_0_80_and_f1_is_a_hit(ct, tmp_path):
    """Done-when: accuracy 0.811 (95% CI about [0.72, 0.88]) does not clear 0.80; F1 0.892 clears
    0.70 with room."""
    run = _reviewer_runs(tmp_path)
    g = write(tmp_path / "goals.yaml", 'accuracy: [">= 0.80"]\nf1: [">= 0.70"]\n')
    c = compare_runs(run, goals=g, n_resamples=2000)
    acc, f1 = c.goals.verdicts
    assert c.metric("accuracy").candidate == pytest.approx(77 / 95)
    assert acc.outcome == "Inconclusive" and acc.hit is None
    from statsmodels.stats.proportion import proportion_confint

    assert (acc.ci_low, acc.ci_high) == pytest.approx(proportion_confint(77, 95, method="wilson"))
    assert acc.ci_low < 0.80 < acc.ci_high
    assert f1.outcome == "Hit" and f1.ci_low > 0.70


def _null_hold_gap_runs(rng, n, margin, q):
    """Base and candidate outcomes whose true change is exactly -margin: the candidate gains
    an item with chance q and loses one with chance q + margin."""
    base = rng.random(n) < 0.7
    u = rng.random(n)
    gain = ~base & (u < q / 0.3)
    lose = base & (u < (q + margin) / 0.7)
    return base, (base | gain) & ~lose


def test_hold_gap_on_a_rate_is_judged_on_newcombe_through_compare(ct, tmp_path):
    """compare_runs gives hold_gap on a McNemar rate with an item-level baseline exactly the
    Newcombe interval of the paired difference (the simulation below relies on this)."""
    from assay.stats import mcnemar

    c = compare_runs(ct.write_run(tmp_path / "run", ct.table_records()), n_resamples=200)
    acc = c.metric("accuracy")
    base = [True] * 13 + [False] * 7 + [True] * 40 + [False] * 40
    cand = [False] * 13 + [True] * 7 + [True] * 40 + [False] * 40
    ref = mcnemar(base, cand)
    assert (acc.gap_ci_low, acc.gap_ci_high) == (ref.ci_low, ref.ci_high)
    assert acc.gap_ci_method == "newcombe"


def test_hold_gap_type_one_error_is_at_most_alpha():
    """Non-inferiority at the margin: when the true change of the gap is exactly -margin, hold_gap
    must be a Hit at most alpha of the time. 4,000 simulated paired runs of 200 items and 2,000 of
    40 items, judged on the interval compare_runs uses for a rate (Newcombe, test above)."""
    from assay.goals import Goal
    from assay.goals.judge import _hold_gap
    from assay.stats import mcnemar

    rng = np.random.default_rng(0)
    margin = 0.05
    for n, runs, q in ((200, 4000, 0.05), (40, 2000, 0.0)):
        hits = 0
        for _ in range(runs):
            base, cand = _null_hold_gap_runs(rng, n, margin, q)
            res = mcnemar(base, cand)
            m = SimpleNamespace(name="accuracy", n=n, n_groups=None, base_gap=0.0,
                                candidate_gap=res.difference, gap_ci_low=res.ci_low,
                                gap_ci_high=res.ci_high, gap_ci_method="newcombe",
                                baseline_name="majority")
            hits += _hold_gap(Goal("accuracy", "hold_gap", margin=margin), m).hit is True
        rate = hits / runs
        assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs), (n, rate)


def test_hold_gap_type_one_error_through_compare_runs(ct):
    """The whole path (records -> compare_runs -> goals) at n = 40 with losses only, where a
    bootstrap bound gave 0.137 false Hits: 600 null runs built in memory."""
    from assay.goals import Goal, GoalsFile
    from assay.rundir import Run

    rng = np.random.default_rng(1)
    gf = GoalsFile("mem.yaml", "0" * 64, (Goal("accuracy", "hold_gap", margin=0.05),))
    hits, runs = 0, 600
    for k in range(runs):
        base, cand = _null_hold_gap_runs(rng, 40, 0.05, 0.0)
        recs = [ct.record(i, "base", bool(a)) for i, a in enumerate(base)]
        recs += [ct.record(i, "ft", bool(b)) for i, b in enumerate(cand)]
        manifest = {"task": ct.NAME, "models": {"base": {}, "ft": {}},
                    "started_at": "2025-01-02T00:00:00+00:00"}
        c = compare_runs(Run(Path(f"mem{k}"), manifest, recs, {}), goals=gf, n_resamples=99,
                         bootstrap_resamples=99)
        hits += c.goals.verdicts[0].hit is True
    assert hits / runs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs), hits / runs


def test_goals_edited_after_locking_are_flagged(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n')
    lock_goals(g, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    write(g, 'accuracy: ">= 0.35"\n')           # retrofitted to the result
    c = _comparison(ct, tmp_path, g)
    assert c.goals.edited_after_lock and not c.goals.pre_registered
    assert c.goals.verdicts[0].hit
    assert any("EDITED AFTER LOCKING" in w for w in c.goals.warnings)


def test_candidate_run_before_the_lock_is_not_pre_registered(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n')
    lock_goals(g, now=datetime(2025, 3, 1, tzinfo=timezone.utc))
    c = _comparison(ct, tmp_path, g, started="2025-02-01T00:00:00Z")
    assert not c.goals.pre_registered and not c.goals.edited_after_lock
    assert any(w.startswith("NOT PRE-REGISTERED") and "2025-02-01" in w for w in c.goals.warnings)


def test_unlocked_goals_are_flagged(ct, tmp_path):
    c = _comparison(ct, tmp_path, write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n'))
    assert not c.goals.locked and any("NOT LOCKED" in w for w in c.goals.warnings)


def test_unknown_metric_lists_the_task_metrics(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'acuracy: ">= 0.5"\n')
    with pytest.raises(InputError) as err:
        _comparison(ct, tmp_path, g)
    msg = str(err.value)
    assert "acuracy" in msg and "accuracy, similarity, all_pass" in msg and "cmp-test" in msg


def test_cli_lock_and_check(ct, tmp_path):
    from typer.testing import CliRunner

    from assay.cli import app

    g = write(tmp_path / "goals.yaml", GOALS)
    runner = CliRunner()
    res = runner.invoke(app, ["goals", "lock", str(g), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["sha256"] == hashlib.sha256(g.read_bytes()).hexdigest()
    res = runner.invoke(app, ["goals", "check", str(g), "--json"])
    assert json.loads(res.stdout)["edited_after_lock"] is False
    write(g, GOALS + "all_pass: improve\n")
    res = runner.invoke(app, ["goals", "check", str(g), "--json"])
    assert json.loads(res.stdout)["edited_after_lock"] is True


def test_lock_with_the_task_validates_and_stores_power(tmp_path):
    from assay.goals import read_lock
    from assay.tasks import get_task

    task = get_task("paper-review")
    g = write(tmp_path / "goals.yaml", 'accuracy: [">= 0.8", improve]\nf1: improve\n'
                                       'truncated_share: "<= 0.05"\n')
    lock = lock_goals(g, task=task, n_items=100, discordance=0.2)
    p = {(x.metric, x.goal): x for x in lock.power}
    acc = p["accuracy", "improve (alpha 0.05)"]
    # the family holds accuracy and f1 (truncated_share is descriptive): alpha 0.025 each
    assert acc.alpha == pytest.approx(0.025) and acc.n == 100 and acc.discordance == 0.2
    from assay.stats import mcnemar_power

    assert mcnemar_power(100, 0.2, acc.min_detectable, alpha=0.025,
                         alternative="greater") >= 0.8 - 1e-6
    assert p["f1", "improve (alpha 0.05)"].min_detectable is None     # not pass/fail
    assert read_lock(g).power == lock.power and read_lock(g).task == "paper-review"


@pytest.mark.parametrize("text, message", [
    ('acuracy: ">= 0.5"\n', "unknown metric 'acuracy'"),
    ("truncated_share: improve\n", "descriptive"),
    ("structure_compliance: {goal: hold_gap, margin: 0.02}\n", "has no baseline"),
])
def test_lock_refuses_what_could_never_be_judged(tmp_path, text, message):
    from assay.tasks import get_task

    g = write(tmp_path / "goals.yaml", text)
    with pytest.raises(InputError, match=message):
        lock_goals(g, task=get_task("paper-review"))
    assert not (tmp_path / "goals.yaml.lock.json").exists()


def test_cli_lock_with_task_prints_power(tmp_path):
    g = write(tmp_path / "goals.yaml", "accuracy: improve\n")
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": i, "title": "T", "abstract": "A",
                                        "decision": "accept"}) + "\n" for i in range(50)))
    out = subprocess.run([str(Path(sys.executable).parent / "assay"), "goals", "lock", str(g),
                          "--task", "paper-review", "--data", str(data)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "accuracy improve (alpha 0.05): n 50, alpha 0.05" in text
    assert "detects a change of" in text and "20% discordance" in text


def test_two_goals_files_in_one_folder_keep_their_own_locks(tmp_path):
    a = write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n')
    b = write(tmp_path / "strict.yaml", 'accuracy: ">= 0.9"\n')
    la = lock_goals(a, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    lock_goals(b, now=datetime(2025, 2, 1, tzinfo=timezone.utc))
    assert (tmp_path / "goals.yaml.lock.json").is_file()
    assert (tmp_path / "strict.yaml.lock.json").is_file()
    assert read_lock(a) == la and read_lock(b).locked_at.startswith("2025-02-01")


def test_a_legacy_folder_lock_is_still_read(tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n')
    lock = lock_goals(g, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    (tmp_path / "goals.yaml.lock.json").rename(tmp_path / "goals.lock.json")
    assert read_lock(g).sha256 == lock.sha256
    other = write(tmp_path / "other.yaml", 'accuracy: ">= 0.9"\n')
    assert read_lock(other) is None          # the legacy lock names goals.yaml, not other.yaml


def test_lock_on_too_few_items_says_more_are_needed(tmp_path):
    """16 items at 20% discordance: no change can reach power 0.8 (the demo's case, which once
    crashed the lock on an infinite detectable difference)."""
    from assay.tasks import get_task

    g = write(tmp_path / "goals.yaml", "accuracy: improve\n")
    lock = lock_goals(g, task=get_task("paper-review"), n_items=16, discordance=0.2)
    (p,) = lock.power
    assert p.min_detectable is None and "more items are needed" in p.note
    assert json.loads((tmp_path / "goals.yaml.lock.json").read_text())["power"][0][
        "min_detectable"] is None
