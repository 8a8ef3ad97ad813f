"""Merged 16-bit weights behave like base + adapter."""

from __future__ import annotations

import pytest

from assay.train.config import load_recipe

from .conftest import small


@pytest.fixture(scope="module")
def adapter(tiny_model, paper_items, tmp_path_factory):
    from assay.train import train

    out = tmp_path_factory.mktemp("merge") / "adapter"
    recipe = load_recipe("sft", None, {"model": str(tiny_model), "data": str(paper_items),
                                       "task": "paper-review", "out": str(out),
                                       **small(max_steps=3, learning_rate=1e-2)})
    return train(recipe, progress=False).out_dir


def _logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits.float()


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-4), ("bfloat16", 0.25)])
def test_merged_equals_base_plus_adapter(tiny_model, adapter, tmp_path, dtype, tol):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assay.train.merge import merge_adapter

    result = merge_adapter(tiny_model, adapter, tmp_path / dtype, dtype=dtype)
    merged = AutoModelForCausalLM.from_pretrained(result.out_dir).eval()
    assert next(merged.parameters()).dtype == getattr(torch, dtype)
    assert not any("lora" in n for n, _ in merged.named_parameters())
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    with_adapter = PeftModel.from_pretrained(base, str(adapter)).eval()
    ids = AutoTokenizer.from_pretrained(result.out_dir)(
        "The paper proposes a new method.", return_tensors="pt")["input_ids"]
    want, got = _logits(with_adapter, ids), _logits(merged, ids)
    with with_adapter.disable_adapter():
        plain = _logits(with_adapter, ids)
    assert (want - plain).abs().max() > 0.5  # the adapter matters, so the check has teeth
    assert (want - got).abs().max() < tol
    assert (want - got).abs().max() < (want - plain).abs().max() / 5
