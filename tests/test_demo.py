"""`assay demo` end to end: smoke model, SFT adapter, eval through the runner, paired report."""

from __future__ import annotations

import json
import math

import pytest


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    from assay.demo import run_demo

    result = run_demo(tmp_path / "demo", smoke=True, progress=False)
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


def test_real_demo_verdict_wording_comes_from_the_numbers():
    """The real demo's closing lines restate each goal's verdict, the values and the MDD."""
    from assay.commands.demo import distill_line, real_verdict

    h = {"form_rate": {"base": 0.0, "adapter": 0.125, "pvalue": 0.0625},
         "parse_failure_rate": {"base": 0.75, "adapter": 0.25, "pvalue": 0.004}, "n_items": 24}
    goals = {"pre_registered": True, "hits": 1, "n_goals": 2, "goals": [
        {"metric": "form_rate", "goal": "improve (alpha 0.05)", "outcome": "Inconclusive",
         "mdd": 0.25},
        {"metric": "parse_failure_rate", "goal": "improve (alpha 0.05)", "outcome": "Hit",
         "mdd": None, "mdd_note": "descriptive"}]}
    text = real_verdict(h, goals)
    assert "goal form_rate improve (alpha 0.05): Inconclusive (base 0% -> adapter 12%" in text
    assert "a change of 25 points was detectable (80% power) on 24 items" in text
    assert "p = 0.004; descriptive" in text
    assert text.endswith("1 of 2 goals hit (goals locked before training).")
    line = distill_line({"items": 16, "requests_sent": 32, "passed": 0, "best_effort": 16,
                         "dropped_unparsed": 9, "written": 7})
    assert "16 items, 32 requests, 0 passed the check" in line and "7 training examples" in line
