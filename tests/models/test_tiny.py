"""The offline tiny model: loadable by transformers, deterministic, marked as a smoke model."""

from __future__ import annotations

import hashlib
import json

import pytest

from assay.models.tiny import EOS, PAD, build_tiny_model


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tiny_model_loads_and_says_it_is_a_smoke_model(tiny_model, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    config = json.loads((tiny_model / "config.json").read_text())
    assert config["assay_smoke_model"] is True
    assert config["hidden_size"] == 64 and config["num_hidden_layers"] == 2
    assert "random weights" in (tiny_model / "README.md").read_text()
    assert (tiny_model / "model.safetensors").is_file()
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.vocab_size == len(tiny_tokenizer)
    assert tiny_tokenizer.eos_token == EOS and tiny_tokenizer.pad_token == PAD
    assert tiny_tokenizer.pad_token_id != tiny_tokenizer.eos_token_id


def test_tokenizer_round_trips_and_keeps_special_tokens_atomic(tiny_tokenizer):
    text = "I recommend this paper for ACCEPTANCE.\n<verdict>TIE</verdict> ünïcode ✓"
    ids = tiny_tokenizer(text)["input_ids"]
    assert tiny_tokenizer.decode(ids) == text
    assert tiny_tokenizer("<|end|>")["input_ids"] == [tiny_tokenizer.eos_token_id]
    assert len(tiny_tokenizer("<think>")["input_ids"]) == 1
    # The trained merges compress the corpus words: fewer tokens than bytes.
    assert len(tiny_tokenizer(" recommend this paper")["input_ids"]) < 8


def test_chat_template_prompt_is_prefix_of_conversation(tiny_tokenizer):
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    prompt = tiny_tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    full = tiny_tokenizer.apply_chat_template(msgs + [{"role": "assistant", "content": "Yo"}],
                                              tokenize=False)
    assert prompt == ("<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n"
                      "<|assistant|>\n<think>\n\n</think>\n\n")
    assert full == prompt + "Yo<|end|>\n"
    thinking = tiny_tokenizer.apply_chat_template(msgs, tokenize=False,
                                                  add_generation_prompt=True,
                                                  enable_thinking=True)
    assert thinking.endswith("<|assistant|>\n<think>\n")


def test_assistant_mask_covers_only_the_answer(tiny_tokenizer):
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
    out = tiny_tokenizer.apply_chat_template(msgs, return_dict=True,
                                             return_assistant_tokens_mask=True)
    ids = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tiny_tokenizer.decode(ids) == "Yo<|end|>"


def test_build_is_deterministic_given_seed(tiny_model, tmp_path):
    again = build_tiny_model(tmp_path / "again", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    for name in ("model.safetensors", "tokenizer.json"):
        assert _digest(again / name) == _digest(tiny_model / name)
    assert _digest(other / "model.safetensors") != _digest(tiny_model / "model.safetensors")
    assert _digest(other / "tokenizer.json") == _digest(tiny_model / "tokenizer.json")


@pytest.mark.parametrize("kwargs", [{"hidden_size": 66, "num_heads": 4}, {"vocab_size": 100},
                                    {"num_layers": 0}])
def test_bad_arguments_name_the_argument(tmp_path, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        build_tiny_model(tmp_path, **kwargs)
