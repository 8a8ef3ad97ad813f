"""SFT: only the completion is supervised, LoRA leaves the base alone, and the format is learnt."""

from __future__ import annotations

import json

import pytest

from assay.train.config import load_recipe

from .conftest import small


@pytest.fixture(scope="module")
def sft_run(tiny_model, paper_items, tmp_path_factory):
    """A few dozen SFT steps on the paper-review items, at a learning rate a random tiny
    model needs (the recipe's 2e-4 is for pretrained models)."""
    from assay.train._shared import finish, prepare
    from assay.train.sft import build_sft_trainer

    out = tmp_path_factory.mktemp("sft") / "adapter"
    recipe = load_recipe("sft", None, {
        "model": str(tiny_model), "data": str(paper_items), "task": "paper-review",
        "out": str(out), **small(max_steps=40, per_device_train_batch_size=8,
                                 learning_rate=5e-3, logging_steps=5)})
    p = prepare(recipe)
    trainer = build_sft_trainer(p, progress=False)
    trainer.train()
    return recipe, trainer, finish(p, trainer)


def test_only_completion_and_end_token_are_supervised(tiny_model, tiny_tokenizer, paper_items,
                                                      tmp_path):
    from assay.train._shared import prepare
    from assay.train.sft import build_sft_trainer

    recipe = load_recipe("sft", None, {"model": str(tiny_model), "data": str(paper_items),
                                       "task": "paper-review", "out": str(tmp_path), **small()})
    p = prepare(recipe)
    trainer = build_sft_trainer(p, progress=False)
    batch = next(iter(trainer.get_train_dataloader()))
    rows = {r["prompt"]: r["completion"] for r in p.data.rows}
    tok = tiny_tokenizer
    assert batch["labels"].shape == batch["input_ids"].shape
    for ids, labels, mask in zip(batch["input_ids"], batch["labels"], batch["attention_mask"]):
        real = mask.bool()
        supervised = labels[labels != -100]
        prompt_ids = ids[real & (labels == -100)]
        prompt = tok.decode(prompt_ids.tolist())
        assert prompt in rows, "the masked tokens are exactly one rendered prompt"
        assert tok.decode(supervised.tolist()) == rows[prompt] + tok.eos_token
        assert supervised[-1].item() == tok.eos_token_id
        assert (labels[real][:len(prompt_ids)] == -100).all()  # prompt first, all masked


def test_lora_leaves_base_unchanged_and_trains_the_adapter(sft_run, tiny_model):
    import torch
    from safetensors.torch import load_file

    _, trainer, result = sft_run
    before = load_file(str(tiny_model / "model.safetensors"))
    base = trainer.model.get_base_model().state_dict()
    compared = 0
    for name, tensor in base.items():
        key = name.replace(".base_layer", "")
        if "lora_" in name or key not in before:
            continue
        assert torch.equal(tensor, before[key]), name
        compared += 1
    assert compared >= 15
    adapter = load_file(str(result.out_dir / "adapter_model.safetensors"))
    lora_b = [t for k, t in adapter.items() if "lora_B" in k]
    assert lora_b and all(t.abs().max() > 0 for t in lora_b)  # B starts at zero in PEFT


def test_run_record_and_saved_files(sft_run):
    recipe, _, result = sft_run
    rec = json.loads(result.record_path.read_text())
    assert rec["method"] == "sft" and rec["seed"] == 0 and rec["config"]["lora_r"] == 16
    assert len(rec["data"]["sha256"]) == 64 and rec["data"]["n_used"] == 8
    assert rec["versions"]["trl"] and rec["versions"]["peft"]
    curve = rec["loss_curve"]
    assert [pt["step"] for pt in curve] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert curve[-1]["loss"] < curve[0]["loss"]
    for f in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
              "chat_template.jinja"):
        assert (result.out_dir / f).is_file(), f


def test_after_training_greedy_decoding_emits_the_decision_line(sft_run, tiny_model,
                                                                paper_items):
    """Through the real eval path: hf:BASE+ADAPTER, the task's render, parse."""
    from assay.models import Decoding, Request, make_backend, parse_spec
    from assay.tasks import Unparsed, get_task

    _, _, result = sft_run
    task = get_task("paper-review")
    items = task.load(paper_items).items
    texts = {}
    for spec in (f"hf:{tiny_model}", f"hf:{tiny_model}+{result.out_dir}"):
        backend = make_backend(parse_spec(spec), batch_size=8)
        reqs = [Request(key=it["id"], messages=task.render(it), decoding=Decoding(max_tokens=40))
                for it in items]
        got = {}
        backend.generate(reqs, lambda r, c: got.__setitem__(r.key, c.text))
        texts[spec] = got
    base, tuned = texts.values()
    assert all(isinstance(task.parse(t), Unparsed) for t in base.values())
    parsed = [task.parse(t) for t in tuned.values()]
    assert all(not isinstance(p, Unparsed) for p in parsed), list(tuned.values())[:2]
    assert all(t.strip().endswith(("for ACCEPTANCE.", "for REJECTION.")) for t in tuned.values())
