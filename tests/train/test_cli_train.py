"""`assay train` as a user runs it: one clean line per logging step, no empty checkpoints/,
and an eval hint that carries every task option the adapter was trained with."""

from __future__ import annotations

import re
import subprocess

import pytest

from assay.testing import assay_script, script_env


@pytest.mark.slow
def test_train_prints_step_lines_and_a_complete_eval_hint(tiny_model, paper_items, tmp_path):
    out_dir = tmp_path / "adapter"
    out = subprocess.run(
        [assay_script(), "train", "sft", "--model", str(tiny_model), "--data", str(paper_items),
         "--task", "paper-review", "--out", str(out_dir), "--set", "max_steps=3",
         "--set", "logging_steps=1", "--set", "per_device_train_batch_size=4",
         "--set", "gradient_accumulation_steps=1", "--set", "task_options={body_tokens: 0}"],
        env=script_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    steps = re.findall(r"^step (\d)/3  loss \d+\.\d{4}  lr \d\.\d\de-\d\d  [\d,]+ tokens/s$",
                       text, re.M)
    assert steps == ["1", "2", "3"], text
    assert "{'loss'" not in text and "'grad_norm'" not in text  # no raw trainer dicts
    assert not (out_dir / "checkpoints").exists()
    hint = next(ln for ln in text.splitlines() if ln.startswith("evaluate it: "))
    assert "assay eval paper-review" in hint and "--task-option body_tokens=0" in hint
    assert f"ft=hf:{tiny_model}+{out_dir}" in hint


def test_step_line_format():
    from assay.commands.train import step_line
    from assay.train import StepLog

    assert (step_line(StepLog(3, 24, 2.31, 1.8e-4, 1234.4, 0.5))
            == "step 3/24  loss 2.3100  lr 1.80e-04  1,234 tokens/s")
    assert step_line(StepLog(1, 2, None, None, None, None)) == "step 1/2"
