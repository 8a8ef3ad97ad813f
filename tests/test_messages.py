"""Wrong input ends in one line on stderr that names the problem and the fix, never a traceback
and never a message about something else (the list of issue 13)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.testing import FakeOpenAIServer, assay_script, script_env

ROOT = Path(__file__).resolve().parent.parent
PAPERS = ROOT / "examples" / "paper-review" / "test.jsonl"


def assay(*args, cwd=None) -> str:
    """Run the installed script; return its one error line."""
    out = subprocess.run([assay_script(), *args], env=script_env(), capture_output=True,
                         text=True, timeout=120, cwd=cwd)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Fix:" in lines[0], out.stderr
    return lines[0]


def eval_args(tmp_path, url="http://127.0.0.1:9/v1", *extra, model=None):
    return ["eval", "paper-review", "--data", str(PAPERS), "--model",
            model or f"m=openai:m@{url}", "--out", str(tmp_path / "run"), "--store",
            str(tmp_path / "s.sqlite"), *extra]


def test_a_missing_predictions_file_names_predictions(tmp_path):
    line = assay("score", "paper-review", "--data", str(PAPERS), "--predictions",
                 f"ft={tmp_path / 'nope.jsonl'}", "--out", str(tmp_path / "run"))
    assert "nope.jsonl: file not found" in line
    assert "check the path given to --predictions" in line and "--data" not in line


def test_a_task_option_of_the_wrong_type_names_its_type(tmp_path):
    line = assay(*eval_args(tmp_path, "http://127.0.0.1:9/v1", "--task-option",
                            "body_tokens=abc"))
    assert "option 'body_tokens' must be int, got 'abc'" in line
    assert "--task-option body_tokens=3000" in line


def test_an_unknown_task_option_lists_the_valid_ones(tmp_path):
    line = assay(*eval_args(tmp_path, "http://127.0.0.1:9/v1", "--task-option", "foo=bar"))
    assert "has no option 'foo'" in line and "Its options: body_tokens (int, default 3000)" in line


def test_a_task_option_out_of_range_says_why(tmp_path):
    line = assay(*eval_args(tmp_path, "http://127.0.0.1:9/v1", "--task-option",
                            "body_tokens=-1"))
    assert "body_tokens must be >= 0, got -1" in line


def test_max_tokens_0_is_refused_not_ignored(tmp_path):
    line = assay(*eval_args(tmp_path, "http://127.0.0.1:9/v1", "--max-tokens", "0"))
    assert "--max-tokens must be at least 1 (got 0)" in line


def test_out_pointing_at_a_file_is_refused_before_generation(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    with FakeOpenAIServer() as srv:
        line = assay(*eval_args(tmp_path, srv.base_url))
        assert srv.stats.requests == 0 and srv.stats.model_lists == 0
    assert f"--out '{tmp_path / 'run'}' is a file" in line
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "x", "output": "y"}) + "\n")
    line = assay("score", "paper-review", "--data", str(PAPERS), "--predictions", str(preds),
                 "--out", str(tmp_path / "run"))
    assert "is a file" in line


def test_a_missing_adapter_is_called_an_adapter(tmp_path):
    (tmp_path / "base").mkdir()
    line = assay(*eval_args(tmp_path, model=f"ft=hf:{tmp_path / 'base'}+{tmp_path / 'gone'}"))
    assert f"adapter directory '{tmp_path / 'gone'}' does not exist" in line
    assert "model directory" not in line


def test_a_directory_that_is_not_an_adapter_is_named_without_a_traceback(tmp_path):
    (tmp_path / "base").mkdir()
    full = tmp_path / "full"
    full.mkdir()
    (full / "config.json").write_text("{}")
    line = assay(*eval_args(tmp_path, model=f"ft=hf:{tmp_path / 'base'}+{full}"))
    assert "is not a PEFT adapter directory (no adapter_config.json)" in line
    assert f"evaluate it alone as hf:{full}" in line


def test_a_relative_model_path_in_a_training_yaml_is_read_beside_the_yaml(tmp_path):
    from assay.train import load_recipe

    sub = tmp_path / "recipes"
    (sub / "tiny").mkdir(parents=True)
    (sub / "train.jsonl").write_text("")
    cfg = sub / "sft.yaml"
    cfg.write_text("model: tiny\ndata: train.jsonl\n")
    recipe = load_recipe("sft", cfg)
    assert recipe.model == str(sub / "tiny") and recipe.data == str(sub / "train.jsonl")
    # --set values are the command line's: read against the current directory
    assert load_recipe("sft", cfg, {"model": "elsewhere"}).model == "elsewhere"


def test_a_missing_training_model_is_named_before_anything_loads(tmp_path, monkeypatch):
    from assay.train import check_model_exists, load_recipe

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("model: models/tiny\ndata: d.jsonl\n")
    with pytest.raises(AssayError) as exc:
        check_model_exists(load_recipe("sft", cfg))
    msg = str(exc.value)
    assert "'models/tiny' is neither a local directory nor in the local Hugging Face cache" in msg
    assert "read against the YAML's directory" in msg and "huggingface.co" not in msg
    assert "\n" not in msg
