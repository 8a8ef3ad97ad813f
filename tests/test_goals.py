"""Goals: parsing, the lock, Hit / Miss, and the pre-registration flags."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

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
all_pass: {goal: hold_gap, gap: 0.1}
"""


def test_every_accepted_form_parses(tmp_path):
    gf = read_goals(write(tmp_path / "goals.yaml", GOALS + "accuracy/x: {goal: improve, "
                          "alpha: 0.01}\n"))
    assert gf.goals == (Goal("accuracy", "at_least", threshold=0.5),
                        Goal("similarity", "improve"), Goal("similarity", "at_most", 0.2),
                        Goal("all_pass", "hold_gap", gap=0.1),
                        Goal("accuracy/x", "improve", alpha=0.01))
    assert gf.sha256 == hashlib.sha256((tmp_path / "goals.yaml").read_bytes()).hexdigest()
    nested = read_goals(write(tmp_path / "g2.yaml", "task: cmp-test\ngoals:\n  accuracy: "
                              "hold_gap\n"))
    assert nested.task == "cmp-test" and nested.goals == (Goal("accuracy", "hold_gap"),)


@pytest.mark.parametrize("text, field, value", [
    ('accuracy: "> 0.5"\n', "accuracy", "> 0.5"),
    ("accuracy: better\n", "accuracy", "better"),
    ("accuracy: 0.5\n", "accuracy", "0.5"),
    ("accuracy: {goal: improve, alpha: 2}\n", "accuracy.alpha", "2"),
    ("accuracy: {goal: improve, sig: 0.1}\n", "accuracy", "sig"),
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
    data = json.loads((tmp_path / "goals.lock.json").read_text())
    assert data["sha256"] == hashlib.sha256(g.read_bytes()).hexdigest()
    assert data["locked_at"] == "2025-01-01T09:00:00+00:00" and data["git_commit"] is None
    assert data["goals"][0] == {"metric": "accuracy", "kind": "at_least", "threshold": 0.5,
                                "alpha": 0.05, "gap": None}
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


def test_hit_and_miss(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: [">= 0.5", "<= 0.5", improve, hold_gap]\n'
                                       'similarity: [improve, {goal: hold_gap, gap: 0.25}]\n')
    lock_goals(g, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    c = _comparison(ct, tmp_path, g)          # accuracy 0.53 -> 0.47; similarity +0.05
    got = [(v.metric, v.goal, v.verdict) for v in c.goals.verdicts]
    assert got == [("accuracy", ">= 0.5", "Miss"), ("accuracy", "<= 0.5", "Hit"),
                   ("accuracy", "improve (alpha 0.05)", "Miss"), ("accuracy", "hold gap", "Miss"),
                   ("similarity", "improve (alpha 0.05)", "Hit"),
                   ("similarity", "hold gap >= 0.25", "Hit")]
    assert c.goals.pre_registered and not c.goals.edited_after_lock and c.goals.hits == 3
    assert "moved the wrong way" in c.goals.verdicts[2].reason


def test_improve_uses_holm_among_the_improve_goals(ct, tmp_path):
    # 12 gained, 3 lost: exact p = 0.0352. Holm over the two improve goals: similarity has the
    # smaller p (x2), accuracy the larger (x1), so accuracy's adjusted p stays 0.0352
    g = write(tmp_path / "goals.yaml", "accuracy: improve\nsimilarity: improve\n")
    c = _comparison(ct, tmp_path, g, lost=3, gained=12)
    acc = c.goals.for_metric("accuracy")[0]
    assert c.metric("accuracy").pvalue == pytest.approx(0.0352, abs=1e-4)
    assert acc.hit and "p 0.0352" in acc.reason
    g.write_text("accuracy: {goal: improve, alpha: 0.03}\n")
    assert not _comparison(ct, tmp_path, g, lost=3, gained=12).goals.verdicts[0].hit


def test_goals_edited_after_locking_are_flagged(ct, tmp_path):
    g = write(tmp_path / "goals.yaml", 'accuracy: ">= 0.5"\n')
    lock_goals(g, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    write(g, 'accuracy: ">= 0.4"\n')            # retrofitted to the result
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
    write(g, GOALS + "accuracy/x: improve\n")
    res = runner.invoke(app, ["goals", "check", str(g), "--json"])
    assert json.loads(res.stdout)["edited_after_lock"] is True
