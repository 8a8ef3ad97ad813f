"""DPO against the base under the adapter, and SDPO with the task's check as reward."""

from __future__ import annotations

import pytest

from assay.train.config import load_recipe

from .conftest import small, write_jsonl


def test_dpo_runs_with_the_base_as_reference_and_no_second_copy(tiny_model, pref_file,
                                                                 tmp_path):
    import torch

    from assay.train import read_record
    from assay.train._shared import finish, prepare
    from assay.train.dpo import build_dpo_trainer

    recipe = load_recipe("dpo", None, {"model": str(tiny_model), "data": str(pref_file),
                                       "out": str(tmp_path / "dpo"),
                                       **small(learning_rate=1e-3)})
    p = prepare(recipe)
    trainer = build_dpo_trainer(p, progress=False)
    assert trainer.ref_model is None
    n_params = sum(t.numel() for t in trainer.model.parameters())
    base_params = sum(t.numel() for n, t in trainer.model.named_parameters() if "lora_" not in n)
    trainable = sum(t.numel() for t in trainer.model.parameters() if t.requires_grad)
    assert n_params == base_params + trainable  # one copy of the base, plus the adapter only
    trainer.train()
    result = finish(p, trainer)
    assert result.global_step == 3
    rec = read_record(result.out_dir)
    assert rec["config"]["beta"] == 0.1 and len(rec["loss_curve"]) == 3
    # The DPO loss starts at log 2: policy == reference before the first update.
    assert rec["loss_curve"][0]["loss"] == pytest.approx(float(torch.log(torch.tensor(2.0))),
                                                         abs=1e-3)


def test_task_check_reward_has_trls_signature():
    from assay.tasks import get_task
    from assay.train.rewards import build_rewards, task_check_reward

    task = get_task("paper-review")
    reward = task_check_reward(task)
    item = '{"decision": "reject"}'
    good = "\n".join(f"## {s}\nok" for s in ("Summary", "Strengths", "Weaknesses",
                                              "Technical Soundness", "Clarity and Writing",
                                              "Significance", "Final Recommendation"))
    good += "\nI recommend this paper for REJECTION."
    got = reward(prompts=["p"] * 3, completions=[good, "no idea", good.replace("REJ", "ACC")],
                 item_json=[item] * 3)
    assert got == [1.0, 0.0, 0.0]
    parses = build_rewards(["parses"], task)[0]
    assert parses(["p", "p"], ["I recommend this paper for ACCEPTANCE.", "x"]) == [1.0, 0.0]
    from assay.errors import AssayError

    with pytest.raises(AssayError, match="needs 'task'"):
        build_rewards(["task_check"], None)


def test_sdpo_runs_with_environment_feedback(tiny_model, tmp_path):
    from assay.train import read_record, train

    rows = [{"id": f"s{i}", "title": f"Paper {i}", "abstract": "We test a method.",
             "decision": "reject" if i % 2 else "accept",
             **({"privileged_context": "The venue found the evaluation flawed."} if i % 2 else {})}
            for i in range(4)]
    data = write_jsonl(tmp_path / "sdpo.jsonl", rows)
    recipe = load_recipe("sdpo", None, {
        "model": str(tiny_model), "data": str(data), "task": "paper-review",
        "out": str(tmp_path / "sdpo"), "rewards": ["task_check", "parses"],
        **small(max_steps=2, per_device_train_batch_size=2, num_generations=2,
                max_completion_length=8)})
    result = train(recipe, progress=False)
    rec = read_record(result.out_dir)
    assert result.global_step == 2 and rec["environment_feedback"] is True
    assert rec["rewards"] == ["task_check", "parses"]
    assert (result.out_dir / "adapter_model.safetensors").is_file()


def test_sdpo_feedback_on_without_any_is_an_error(tiny_model, paper_items, tmp_path):
    from assay.errors import AssayError
    from assay.train.sdpo import use_feedback

    recipe = load_recipe("sdpo", None, {"model": "m", "data": "d",
                                        "environment_feedback": "on"})
    with pytest.raises(AssayError, match="privileged_context"):
        use_feedback(recipe, [{"prompt": "p", "privileged_context": None}])
