"""Prompts stored once per hash in the run directory (prompts.jsonl), stamped like the other run
files, read back by load_run; a run from before it still loads with no prompts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.predictions import ScoreConfig, score_predictions
from assay.run import EvalConfig, canonical_hash, evaluate
from assay.rundir import PROMPTS, load_run
from assay.testing import FakeOpenAIServer

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))


def _items(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": f"what is {i}?",
                                        "answer": "yes"}) + "\n" for i in range(n)))
    return path


def test_eval_stores_each_prompt_once_and_load_run_reads_it(tmp_path):
    data = _items(tmp_path / "items.jsonl", 4)
    with FakeOpenAIServer(lambda body: "yes") as srv:
        res = evaluate(EvalConfig(task="exact", task_module="exact_task", data=str(data),
                                  models=[f"a=openai:a@{srv.base_url}",
                                          f"b=openai:b@{srv.base_url}"],
                                  out=str(tmp_path / "run"), store=str(tmp_path / "s.sqlite")))
    lines = (res.out_dir / PROMPTS).read_text().splitlines()
    assert len(lines) == 4  # 4 items x 2 models, one line per prompt hash
    run = load_run(res.out_dir)
    rec = run.records_of("b")[2]
    messages = run.prompt(rec["prompt_hash"])
    assert messages == [{"role": "system", "content": "Answer with one word."},
                        {"role": "user", "content": "what is 2?"}]
    assert canonical_hash(messages) == rec["prompt_hash"]  # the hash is of what is stored
    assert run.manifest["prompts_sha256"]


def test_score_stores_the_rendered_prompts(tmp_path):
    data = _items(tmp_path / "items.jsonl", 3)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": f"q{i}", "output": "yes"}) + "\n"
                             for i in range(3)))
    res = score_predictions(ScoreConfig(task="exact", task_module="exact_task", data=str(data),
                                        predictions=[f"m={preds}"], out=str(tmp_path / "run")))
    run = load_run(res.out_dir)
    assert len(run.prompts) == 3
    assert run.prompt(run.records[0]["prompt_hash"])[1]["content"] == "what is 0?"


def test_an_old_run_without_prompts_loads_and_a_foreign_prompts_file_is_refused(tmp_path):
    data = _items(tmp_path / "items.jsonl", 2)
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "q0", "output": "yes"}) + "\n"
                     + json.dumps({"id": "q1", "output": "no"}) + "\n")
    res = score_predictions(ScoreConfig(task="exact", task_module="exact_task", data=str(data),
                                        predictions=[f"m={preds}"], out=str(tmp_path / "run")))
    (res.out_dir / PROMPTS).write_text('{"prompt_hash": "x", "messages": []}\n')
    with pytest.raises(AssayError, match="prompts.jsonl"):
        load_run(res.out_dir)
    manifest = json.loads((res.out_dir / "manifest.json").read_text())
    del manifest["prompts_sha256"]  # a run written before prompts were stored
    (res.out_dir / "manifest.json").write_text(json.dumps(manifest))
    (res.out_dir / PROMPTS).unlink()
    run = load_run(res.out_dir)
    assert run.prompts == {} and run.prompt(run.records[0]["prompt_hash"]) is None
