"""A real kill -9 at every write point of `assay eval`, `assay compare --out` and `assay report`
(issue 11): the directory holds the whole old set of files or the whole new one, never a mix.

Each command runs as a user runs it (the console script in a subprocess) with
``ASSAY_TEST_KILL_AT_WRITE=N``, which makes the process SIGKILL itself at its N-th write point
(every file rename and every directory exchange); N goes up until the command finishes.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
from pathlib import Path

from assay.testing import FakeOpenAIServer, assay_script, script_env

FIXTURES = Path(__file__).parent / "fixtures"
KILLED = -signal.SIGKILL


def write_items(path: Path, n: int) -> Path:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": f"what is {i}?",
                                "answer": "yes"}) + "\n")
    return path


def assay(*argv, kill_at=None):
    extra = {"ASSAY_TEST_KILL_AT_WRITE": str(kill_at)} if kill_at else {}
    return subprocess.run([assay_script(), *map(str, argv)], capture_output=True, text=True,
                          timeout=120, env=script_env(FIXTURES, OMP_NUM_THREADS="1", **extra))


def snapshot(path: Path) -> dict[str, str]:
    """Every file under ``path`` (relative name -> sha256 of its bytes)."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def kill_at_every_point(argv, out: Path, before: dict) -> tuple[int, dict]:
    """Run ``argv`` killed at write point 1, 2, ...; after each kill ``out`` must be the old set
    exactly. Returns the number of points and the new set of the run that finished."""
    point = 0
    while True:
        point += 1
        res = assay(*argv, kill_at=point)
        if res.returncode != KILLED:
            assert res.returncode == 0, res.stderr
            break
        assert snapshot(out) == before, f"write point {point} left a mix"
        assert point < 40
    return point - 1, snapshot(out)


def eval_argv(tmp_path, url, labels, out="run", *extra):
    models = [a for lab in labels for a in ("--model", f"{lab}=openai:{lab}@{url}")]
    return ["eval", "exact", "--task-module", "exact_task", "--data", tmp_path / "items.jsonl",
            *models, "--store", tmp_path / "store.sqlite", "--out", tmp_path / out, *extra]


def responder(body):
    q = body["messages"][-1]["content"]
    return "yes" if body["model"] == "ft" or q.endswith(("1?", "3?")) else "no"


def test_eval_killed_at_every_write_point(tmp_path):
    write_items(tmp_path / "items.jsonl", 12)
    with FakeOpenAIServer(responder) as srv:
        assert assay(*eval_argv(tmp_path, srv.base_url, ["base"])).returncode == 0
        before = snapshot(tmp_path / "run")
        # adding a model to the run: the new set holds both models' records
        points, after = kill_at_every_point(eval_argv(tmp_path, srv.base_url, ["ft"]),
                                            tmp_path / "run", before)
    assert points == 5  # items, prompts, metrics, manifest, the exchange of the directories
    assert set(after) == {"items.jsonl", "prompts.jsonl", "manifest.json", "metrics.json"}
    assert after != before
    models = {json.loads(line)["model"]
              for line in (tmp_path / "run" / "items.jsonl").read_text().splitlines()}
    assert models == {"base", "ft"}
    assert not list(tmp_path.glob(".run.*"))  # the killed writers' staging was cleaned up


def test_compare_and_report_killed_at_every_write_point(tmp_path):
    write_items(tmp_path / "items.jsonl", 12)
    with FakeOpenAIServer(responder) as srv:
        assert assay(*eval_argv(tmp_path, srv.base_url, ["base", "ft"])).returncode == 0
    run, rep = tmp_path / "run", tmp_path / "cmp"
    compare = ["compare", run, "--base", "base", "--out", rep, "--resamples", "200"]
    assert assay(*compare, "--seed", "1").returncode == 0
    before = snapshot(rep)
    assert {"report.md", "comparison.json"} <= set(before)
    assert any(name.startswith("plots/") for name in before)
    points, after = kill_at_every_point([*compare, "--seed", "2"], rep, before)
    assert points >= 4 and after != before  # plots, report.md, comparison.json, the exchange

    # assay report on the comparison, now with a model card: the card comes with the set
    report = ["report", rep, "--base-model", "Qwen/Qwen2.5-0.5B-Instruct"]
    points, with_card = kill_at_every_point(report, rep, after)
    assert "README.md" in with_card and "README.md" not in after and points >= 5
