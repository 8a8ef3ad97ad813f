"""haiku-review end to end through the real runner: the offline tiny model on the hf backend
generates, the task parses, checks form, embeds with MiniLM and classifies, and metrics.json
holds every metric with its floor or baseline."""

from __future__ import annotations

import json
import math

import pytest

from assay.rundir import load_run
from assay.run import EvalConfig, evaluate

DIFFS = [("+ log.info(api_key)", "functional", "this logs the secret api key"),
         ("+ def f(x): return x", "documentation", "please add a docstring"),
         ("+ for i in range(len(xs)): print(xs[i])", "refactoring", "iterate over xs directly"),
         ("+ retries = 3", "discussion", "why three retries?")]


@pytest.mark.slow
def test_tiny_model_eval_of_haiku_review_runs_end_to_end(tmp_path, tiny_model):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"id": f"h{i}", "diff": d, "category": c, "comment": m})
                             + "\n" for i, (d, c, m) in enumerate(DIFFS)))
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"id": f"t{i}", "diff": d, "category": c, "comment": m})
                             + "\n" for i, (d, c, m) in enumerate(DIFFS * 2)))
    res = evaluate(EvalConfig(task="haiku-review", data=str(items),
                              models=[f"tiny=hf:{tiny_model}"], out=str(tmp_path / "run"),
                              store=str(tmp_path / "store.sqlite"), max_tokens=12,
                              task_options={"train": str(train), "store": str(tmp_path)}))
    metrics = res.metrics["models"]["tiny"]
    assert set(metrics) >= {"form_rate", "relevance", "relevance_gap", "category_macro_f1"}
    assert res.metrics["baselines"]["tiny"]["relevance"]["name"] == "shuffle floor"
    run = load_run(res.out_dir)
    assert len(run.records) == 4 and all(r["error"] is None for r in run.records)
    for r in run.records:  # a random model rarely writes three lines: a failure says why
        if r["parse_error"] is not None:
            assert "a haiku needs 3" in r["parse_error"]
            assert r["scores"]["form_ok"] is False and r["scores"]["relevance"] == 0.0
        assert r["scores"]["category"] in {c for _, c, _ in DIFFS}
    assert 0.0 <= metrics["form_rate"] <= 1.0 and not math.isnan(metrics["relevance"])
