"""Mined rows straight into `assay train sdpo`: two SDPO steps on a tiny offline model, with the
grounding reward and the rows' privileged_context as the teacher's environment feedback."""

from __future__ import annotations

import pytest

from assay.traces import MineConfig, mine, write_rows

pytestmark = pytest.mark.slow


def test_two_sdpo_steps_on_mined_rows(pi_fixtures, tmp_path, tiny_model):
    pytest.importorskip("trl")
    from assay.train import read_record, train
    from assay.train.config import load_recipe

    rows = mine([pi_fixtures], MineConfig(min_score=0.0, top=4)).rows
    data = tmp_path / "rows.jsonl"
    assert write_rows(rows, data) == 4
    recipe = load_recipe("sdpo", None, {
        "model": str(tiny_model), "data": str(data), "out": str(tmp_path / "sdpo"),
        "rewards": ["assay.traces.reward:grounding_reward"], "max_steps": 2,
        "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
        "num_generations": 2, "max_completion_length": 8, "max_prompt_length": 256,
        "max_length": 8192, "logging_steps": 1})
    result = train(recipe, progress=False)
    record = read_record(result.out_dir)
    assert result.global_step == 2
    assert record["environment_feedback"] is True  # the rows' privileged_context was used
    assert record["rewards"] == ["assay.traces.reward:grounding_reward"]
    assert result.data.n_used == 4
