"""`assay train sft` and `assay train dpo` take the labelling outputs as they are (tiny model)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assay.testing import FakeOpenAIServer, script_env

from .conftest import ScriptedLabellers


@pytest.fixture
def labelled(small_pairs, tmp_path):
    path, items = small_pairs
    out = tmp_path / "labels"
    with FakeOpenAIServer(ScriptedLabellers(items)) as srv:
        proc = subprocess.run(
            [sys.executable, "-m", "assay", "distill", "bias-judge", "--data", str(path),
             "--teacher", f"openai:teacher@{srv.base_url}", "--out", str(out), "--store",
             str(tmp_path / "store.sqlite"), "--sft", "--dpo", "--json"],
            env=script_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def train(method, tiny_model, data, out):
    sets = ["max_steps=2", "logging_steps=1", "per_device_train_batch_size=4",
            "gradient_accumulation_steps=1"]
    args = [sys.executable, "-m", "assay", "train", method, "--model", str(tiny_model),
            "--data", str(data), "--out", str(out)]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, env=script_env(), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_train_dpo_runs_on_the_dpo_output(tiny_model, labelled, tmp_path):
    rows = [json.loads(x) for x in (labelled / "dpo.jsonl").read_text().splitlines()]
    assert len(rows) >= 8
    proc = train("dpo", tiny_model, labelled / "dpo.jsonl", tmp_path / "adapter")
    assert proc.returncode == 0, proc.stderr[-3000:]
    from assay.train import read_record

    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    record = read_record(tmp_path / "adapter")
    assert len(record["loss_curve"]) == 2
    # DPO's loss starts at log 2 (policy == reference before the first update)
    assert record["loss_curve"][0]["loss"] == pytest.approx(0.6931, abs=1e-3)


@pytest.mark.slow
def test_train_sft_runs_on_the_sft_output(tiny_model, labelled, tmp_path):
    proc = train("sft", tiny_model, labelled / "sft.jsonl", tmp_path / "adapter")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
