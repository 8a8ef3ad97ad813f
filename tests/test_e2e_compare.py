"""End to end as a user runs it: goals locked, two models evaluated through a loopback
OpenAI-compatible server, compared, reported, and a model card written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from scipy.stats import binomtest

from assay.testing import FakeOpenAIServer, assay_script, script_env

FIXTURES = Path(__file__).parent / "fixtures"
ASSAY = assay_script()
N = 40


def responder(body: dict) -> str:
    """base answers items 0-19 right, ft items 4-29: 4 lost, 10 gained."""
    i = int(body["messages"][-1]["content"][1:])
    right = i < 20 if body["model"] == "base" else 4 <= i < 30
    return "yes" if right else "no"


def assay(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([ASSAY, *args], env=script_env(FIXTURES), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def evaluate(tmp_path: Path, url: str, label: str) -> Path:
    out = tmp_path / f"run_{label}"
    assay("eval", "exact", "--task-module", "exact_task", "--data", str(tmp_path / "items.jsonl"),
          "--model", f"{label}=openai:{label}@{url}", "--out", str(out), "--store",
          str(tmp_path / "store.sqlite"))
    return out


def test_goals_locked_then_two_models_compared_and_reported(tmp_path):
    (tmp_path / "items.jsonl").write_text("".join(
        json.dumps({"id": i, "question": f"q{i}", "answer": "yes"}) + "\n" for i in range(N)))
    goals = tmp_path / "goals.yaml"
    goals.write_text('accuracy: [">= 0.6", improve]\n')
    with FakeOpenAIServer(responder) as srv:
        base = evaluate(tmp_path, srv.base_url, "base")
        assay("goals", "lock", str(goals))                 # before the candidate's run
        ft = evaluate(tmp_path, srv.base_url, "ft")
    cmp_dir = tmp_path / "cmp"
    out = assay("compare", str(base), str(ft), "--goals", str(goals), "--out", str(cmp_dir),
                "--json")
    data = json.loads(out.stdout)
    acc = data["metrics"][0]
    rows = [json.loads(l) for l in (ft / "items.jsonl").read_text().splitlines()]
    assert sum(r["scores"]["correct"] for r in rows) == 26
    assert (acc["name"], acc["base"], acc["candidate"]) == ("accuracy", 0.5, 0.65)
    assert (acc["mcnemar"]["b"], acc["mcnemar"]["c"]) == (4, 10)
    assert acc["pvalue"] == acc["mcnemar"]["pvalue"] == binomtest(10, 14, 0.5).pvalue
    assert [d["id"] for d in acc["mcnemar"]["lost"]] == ["0", "1", "2", "3"]
    assert acc["mcnemar"]["lost"][0]["candidate_output"] == "no"
    g = data["goals"]
    assert g["pre_registered"] and not g["edited_after_lock"]
    # 26/40 = 0.65 has a 95% interval of about [0.50, 0.78]: it does not show ">= 0.6"; 10
    # gained against 4 lost has a one-sided p of 0.09: it does not show an improvement either
    assert [(v["goal"], v["outcome"]) for v in g["verdicts"]] == [
        (">= 0.6", "Inconclusive"), ("improve (alpha 0.05)", "Inconclusive")]
    assert g["verdicts"][1]["reason"].count("0.0898") == 1
    md = (cmp_dir / "report.md").read_text()
    assert "| accuracy | 40 | 0.500 | 0.650 | +0.150 [" in md
    assert "| >= 0.6: **Inconclusive**; improve (alpha 0.05): **Inconclusive** | " in md
    assert "lost 4, gained 10" in md
    assay("report", str(cmp_dir), "--base-model", "org/base", "--adapter", "./ft-adapter",
          "--no-plots")
    card = (cmp_dir / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert {"type": "accuracy", "value": 0.65, "name": "accuracy", "verified": False} in metrics
    assert "pre-registered" in card and "items.jsonl" in card
