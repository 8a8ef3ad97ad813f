"""Reports: the Markdown table, JSON, plots, the model card and `assay report`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from assay import tasks
from assay.compare import compare_runs
from assay.report import markdown, model_card, run_markdown, summarize_run, write_report

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def ct(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    return cmp_task


@pytest.fixture
def comparison(ct, tmp_path):
    recs = ct.table_records()
    for r in recs:
        r["scores"]["slice"] = "easy" if int(r["id"]) % 2 else "hard"
    (tmp_path / "goals.yaml").write_text('accuracy: ">= 0.5"\nsimilarity: improve\n')
    from datetime import datetime, timezone

    from assay.goals import lock_goals

    lock_goals(tmp_path / "goals.yaml", now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    return compare_runs(ct.write_run(tmp_path / "run", recs), goals=tmp_path / "goals.yaml",
                        n_resamples=300)


def test_markdown_table_and_details_line(comparison):
    md = markdown(comparison)
    assert "| Metric | n | Base | Candidate | Difference [CI] | Goal | Verdict |" in md
    assert "| accuracy | 100 | 0.530 | 0.470 | -0.060 [-0.146, +0.028] | >= 0.5: " \
           "**Inconclusive** | inconclusive (p Holm" not in md
    assert "| >= 0.5: **Inconclusive** | inconclusive (p 0.263, CI [-0.146, +0.028]) |" in md
    assert re.search(r"\| similarity \| 100 \| 0\.350 \| 0\.399 \| \+0\.050 .* \| "
                     r"improve \(alpha 0\.05\): \*\*Hit\*\* \| better \(p Holm 0\.0", md)
    assert "| all_pass | 100 | 0.530 | 0.470 | -0.060 [-0.146, +0.028] |  | inconclusive (p " \
           "0.263, CI [-0.146, +0.028], exploratory) |" in md
    assert "| accuracy/easy | 50 |" in md and "| truncated_share | 100 |" in md
    assert "Confirmatory family (the goals file's metrics): accuracy, similarity" in md
    line = next(l for l in md.splitlines() if l.startswith("- **accuracy**"))
    assert "McNemar exact p 0.263, mid-p 0.189, n_discordant 20: lost 13, gained 7" in line
    assert "coin flip 0.500 / 0.500, gap +0.030 -> -0.030" in line
    assert "(confirmatory; mcnemar, n 100)" in line
    assert "Lost (base passed, candidate failed): 13" in md and "ft says 12" in md
    assert "Pre-registered" in md


def test_model_card_front_matter_parses_and_carries_the_numbers(comparison):
    card = model_card(comparison, base_model="Qwen/Qwen2.5-0.5B-Instruct", adapter="./ft-lora",
                      license="apache-2.0")
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["base_model"] == "Qwen/Qwen2.5-0.5B-Instruct" and meta["library_name"] == "peft"
    result = meta["model-index"][0]["results"][0]
    assert meta["model-index"][0]["name"] == "ft-lora"
    assert result["task"] == {"type": "text-generation", "name": "cmp-test"}
    assert result["dataset"]["name"] == "items.jsonl"
    acc = [m for m in result["metrics"] if m["name"] == "accuracy"][0]
    assert (acc["type"], acc["value"], acc["verified"]) == ("accuracy", 0.47, False)
    assert [m["name"] for m in result["metrics"]] == [m.name for m in comparison.metrics]
    assert "| accuracy | 100 | 0.530 | 0.470 |" in card      # the base's values are in the table
    assert "Confirmatory family" in card and "(confirmatory, n 100)" in card
    assert "## Evaluation protocol" in card and "## Limits" in card
    assert "pre-registered" in card and "13 lost, 7 gained" in card
    # a local adapter is published under its name, never its path
    assert 'PeftModel.from_pretrained(base, "ft-lora")' in card and "./ft-lora" not in card
    assert "noise floor is unknown" in card


def test_write_report_writes_markdown_json_and_readable_plots(comparison, tmp_path):
    files = write_report(comparison, tmp_path / "out",
                         model_card={"base_model": "org/base"})
    names = sorted(p.name for p in files.plots)
    assert names == ["accuracy_by_slice.png", "confusion_matrix.png",
                     "metric_differences_with_intervals.png", "metric_values_with_intervals.png",
                     "reliability_diagram.png", "similarity_per_item_distribution.png"]
    for p in files.plots:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, p
    assert ("![metric_values_with_intervals](plots/metric_values_with_intervals.png)"
            in files.markdown.read_text())
    saved = json.loads(files.json.read_text())
    assert saved["metrics"][0]["mcnemar"]["b"] == 13
    assert [v["hit"] for v in saved["goals"]["verdicts"]] == [None, True]
    assert [v["outcome"] for v in saved["goals"]["verdicts"]] == ["Inconclusive", "Hit"]
    assert files.model_card.read_text().startswith("---\n")


def test_report_command_from_a_comparison_dir_and_from_a_run(ct, comparison, tmp_path):
    from typer.testing import CliRunner

    from assay.cli import app

    write_report(comparison, tmp_path / "cmp", plots=False)
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(tmp_path / "cmp"), "--json", "--no-plots",
                              "--base-model", "org/base", "--adapter", "org/ft"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["report"]["metrics"][0]["mcnemar"]["n_discordant"] == 20
    card = Path(data["files"]["model_card"]).read_text()
    assert 'PeftModel.from_pretrained(base, "org/ft")' in card
    assert yaml.safe_load(card.split("---\n")[1])["base_model"] == "org/base"
    # report.html, with the items read from the run the comparison names
    page = Path(data["files"]["html"]).read_text()
    assert Path(data["files"]["html"]) == tmp_path / "cmp" / "report.html"
    assert '"itemsMissing":false' in page and page.count('{"id":') == 100
    res = runner.invoke(app, ["report", str(tmp_path / "run"), "--json"])
    assert res.exit_code == 0, res.output
    files = json.loads(res.stdout)["files"]
    assert Path(files["markdown"]).parent == tmp_path / "run" / "report"
    assert any(p.endswith("confusion_matrix.png") for p in files["plots"])
    assert files["html"] is None  # a single run has no paired items to browse


def test_report_html_without_the_runs_shows_the_table_only(comparison, tmp_path):
    import shutil

    from assay.report.items import comparison_items

    write_report(comparison, tmp_path / "cmp", plots=False)
    shutil.rmtree(comparison.base.run)
    assert comparison_items(comparison) is None
    files = write_report(comparison, tmp_path / "cmp2", plots=False)
    page = files.html.read_text()
    assert '"itemsMissing":true' in page and '"accuracy"' in page


def test_run_report_shows_wilson_intervals(ct, tmp_path):
    from statsmodels.stats.proportion import proportion_confint

    s = summarize_run(ct.write_run(tmp_path / "run", ct.table_records()))
    row = next(r for r in s.rows if r.name == "accuracy")
    lo, hi = proportion_confint(53, 100, method="wilson")
    assert row.values["base"] == 0.53
    assert (row.low["base"], row.high["base"]) == pytest.approx((lo, hi))
    md = run_markdown(s)
    assert "| Metric | base | ft | Baseline |" in md
    assert f"| accuracy | 0.530 [{lo:.3f}, {hi:.3f}] (n 100) |" in md and "coin flip 0.500" in md
    assert "| accuracy/" not in md or "coin flip/" not in md


def test_flipped_items_show_gold_parsed_answers_output_tails_and_whole_ids(ct, monkeypatch,
                                                                          tmp_path):
    monkeypatch.setattr(ct.CmpTask, "gold_keys", ("gold",), raising=False)
    long_id = "paper-" + "x" * 400 + "-end"
    recs = ct.table_records(lost=2, gained=1, both=3, neither=3)
    for r in recs:
        r["scores"]["gold"] = "accept"
        r["parsed"] = {"decision": "accept" if r["scores"]["correct"] else "reject"}
        r["output"] = "Summary. " + "blah " * 300 + (
            "I recommend this paper for ACCEPTANCE." if r["scores"]["correct"]
            else "I recommend this paper for REJECTION.")
        if r["id"] == "0":
            r["id"] = long_id
    cmp = compare_runs(ct.write_run(tmp_path / "run", recs), n_resamples=200)
    lost = cmp.metric("accuracy").mcnemar.lost
    assert lost[0].gold == {"gold": "accept"} and lost[0].candidate_parsed == {
        "decision": "reject"}
    md = markdown(cmp)
    section = md.split("## Items that flipped")[1]
    assert f"**item {long_id}** (gold: gold `accept`)" in section  # the whole id
    assert f"— {long_id}, 1</summary>" in section
    assert 'parsed `{"decision": "reject"}`' in section
    assert 'parsed `{"decision": "accept"}`' in section
    # the end of each output (the decision line) is kept; the start is what is cut
    assert section.count("I recommend this paper for REJECTION.") >= 2
    assert "earlier characters left out" in section and "Summary." not in section
    # and comparison.json reads back the new fields
    from assay.compare import comparison_from_dict

    back = comparison_from_dict(cmp.to_dict())
    assert back.metric("accuracy").mcnemar.lost[0] == lost[0]
