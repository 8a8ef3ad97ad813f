"""Recipes: defaults from the published projects, YAML + --set layering, and clear errors."""

from __future__ import annotations

import pytest

from assay.errors import AssayError, InputError
from assay.train.config import (DPORecipe, SDPORecipe, SFTRecipe, fields_help, load_recipe,
                                parse_sets)
from assay.train.loading import check_hardware


def test_sft_defaults_are_lgtm_575():
    r = SFTRecipe(model="m", data="d")
    assert (r.lora_r, r.lora_alpha, r.lora_dropout, r.target_modules) == (16, 32, 0.05,
                                                                         "all-linear")
    assert r.completion_only_loss and r.learning_rate == 2e-4 and r.num_train_epochs == 3
    assert r.effective_batch() == 8
    assert DPORecipe().beta == 0.1


def test_yaml_then_command_line(tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text("model: base\ndata: d.jsonl\nlora_r: 32\nlearning_rate: 1e-4\n"
                   "num_train_epochs: 5\n")
    r = load_recipe("sft", cfg, parse_sets(["lora_r=8", "target_modules=[q_proj, v_proj]"]))
    assert r.lora_r == 8 and r.learning_rate == 1e-4 and r.num_train_epochs == 5.0
    assert r.target_modules == ["q_proj", "v_proj"] and r.model == "base"


def test_unknown_key_lists_valid_ones(tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text("model: m\ndata: d\nlora_rank: 8\n")
    with pytest.raises(InputError) as exc:
        load_recipe("sft", cfg)
    msg = str(exc.value)
    assert "lora_rank" in msg and "r.yaml" in msg and "lora_r" in msg and "completion_only_loss" in msg
    with pytest.raises(InputError, match="beta"):  # a DPO-only setting is unknown to SFT
        load_recipe("sft", None, {"model": "m", "data": "d", "beta": 0.2})


def test_wrong_type_and_choice():
    with pytest.raises(InputError, match="lora_r.*expected int"):
        load_recipe("sft", None, {"model": "m", "data": "d", "lora_r": "big"})
    with pytest.raises(InputError, match="too_long.*one of"):
        load_recipe("sft", None, {"model": "m", "data": "d", "too_long": "squash"})


def test_conflicts_name_both_settings():
    with pytest.raises(AssayError) as exc:
        load_recipe("sft", None, {"model": "m", "data": "d", "bf16": True, "fp16": True})
    assert "'bf16' and 'fp16'" in str(exc.value) and "--set" in str(exc.value)
    with pytest.raises(AssayError, match="'too_long' and 'max_length'"):
        load_recipe("sft", None, {"model": "m", "data": "d", "too_long": "truncate",
                                  "max_length": None})
    with pytest.raises(AssayError, match="per_device_train_batch_size.*num_generations"):
        load_recipe("sdpo", None, {"model": "m", "data": "d", "per_device_train_batch_size": 3,
                                   "num_generations": 2})
    with pytest.raises(AssayError, match="no base model"):
        load_recipe("dpo", None, {"data": "d"})


def test_gpu_only_settings_without_gpu():
    with pytest.raises(AssayError, match="bf16 needs a CUDA GPU"):
        check_hardware(SFTRecipe(model="m", data="d", bf16=True), cuda=False)
    with pytest.raises(AssayError, match="load_in_4bit needs a CUDA GPU"):
        check_hardware(SFTRecipe(model="m", data="d", load_in_4bit=True), cuda=False)
    with pytest.raises(AssayError, match="pip install bitsandbytes"):
        check_hardware(SFTRecipe(model="m", data="d", load_in_4bit=True), cuda=True,
                       has_bitsandbytes=False)
    with pytest.raises(AssayError, match="does not support bfloat16"):
        check_hardware(SFTRecipe(model="m", data="d", bf16=True), cuda=True, bf16_ok=False)
    check_hardware(SFTRecipe(model="m", data="d"), cuda=False)  # float32 on CPU is fine


def test_help_lists_every_field_once():
    text = fields_help(SDPORecipe)
    for name in ("lora_r", "num_generations", "rewards", "environment_feedback", "seed"):
        assert sum(line.strip().startswith(name + " ") for line in text.splitlines()) == 1


def test_report_to_missing_tracker_is_named():
    from assay.train.tracking import resolve_report_to

    assert resolve_report_to("none") == []
    with pytest.raises(AssayError, match="unknown tracker"):
        resolve_report_to(["mlflowish"])


def test_bad_set_syntax():
    with pytest.raises(AssayError, match="KEY=VALUE"):
        parse_sets(["lora_r"])


def test_examples_yaml_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples" / "train"
    for method in ("sft", "dpo", "sdpo"):
        r = load_recipe(method, root / f"{method}.yaml")
        assert r.method == method and r.model
