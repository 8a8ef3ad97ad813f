"""`assay demo` end to end: smoke model, SFT adapter, eval through the runner, paired report."""

from __future__ import annotations

import json
import math

import pytest


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    from assay.demo import run_demo

    result = run_demo(tmp_path / "demo", progress=False)
    h = result.headline
    pf, acc = h["parse_failure_rate"], h["accuracy"]
    assert h["n_items"] == 16
    assert pf["adapter"] < pf["base"]  # the format was learnt
    assert pf["base"] == 1.0  # a random model never writes the decision line
    assert 0.0 <= acc["pvalue"] <= 1.0 and not math.isnan(acc["pvalue"])
    mc = acc["mcnemar"]
    assert mc["n_discordant"] == mc["lost"] + mc["gained"] and mc["n"] == 16
    assert "McNemar exact p" in result.report_markdown and "accuracy" in result.report_markdown
    assert "Confirmatory family" in result.report_markdown
    assert result.report_path.is_file() and (result.run_dir / "items.jsonl").is_file()
    record = json.loads((result.adapter_dir / "train_record.json").read_text())
    assert record["method"] == "sft" and record["data"]["n_used"] == 24
    assert result.smoke_model and "smoke model" in result.note
