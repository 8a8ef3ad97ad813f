"""SDPO on TRL's experimental SDPOTrainer: rollouts scored by rewards, self-distilled.

The dataset carries ``prompt`` (pre-rendered, as the eval renders it), ``privileged_context``
(environment feedback, or None) and ``item_json`` (the task item, for the task's check as a
reward). Environment feedback is switched on when the data has some (``environment_feedback:
auto``): the teacher is then the model reprompted with that feedback.
"""

from __future__ import annotations

import os

from ..errors import AssayError
from .steps import run_trainer
from ._shared import TrainResult, finish, hf_dataset, prepare
from .config import SDPORecipe
from .data import has_feedback
from .loading import lora_config, load_base_model, training_kwargs
from .rewards import build_rewards


def use_feedback(recipe: SDPORecipe, rows) -> bool:
    """Whether teacher reprompts include privileged_context; 'on' without any is an error."""
    present = has_feedback(rows)
    if recipe.environment_feedback == "on" and not present:
        raise AssayError("environment_feedback is 'on' but no example has a "
                         "privileged_context. Fix: add the column, or --set "
                         "environment_feedback=auto")
    return present if recipe.environment_feedback == "auto" else recipe.environment_feedback == "on"


def sdpo_config(recipe: SDPORecipe, out, feedback: bool, *, progress: bool = True):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.sdpo import SDPOConfig

    return SDPOConfig(**training_kwargs(recipe, out, progress=progress),
                      num_generations=recipe.num_generations,
                      max_prompt_length=recipe.max_prompt_length,
                      max_completion_length=recipe.max_completion_length,
                      temperature=recipe.temperature, include_environment_feedback=feedback,
                      distillation_weight=recipe.distillation_weight,
                      success_reward_threshold=recipe.success_reward_threshold,
                      remove_unused_columns=False)


def build_sdpo_trainer(p, *, progress: bool = True):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.sdpo import SDPOTrainer

    feedback = use_feedback(p.recipe, p.data.rows)
    return SDPOTrainer(model=load_base_model(p.recipe),
                       reward_funcs=build_rewards(p.recipe.rewards, p.task),
                       args=sdpo_config(p.recipe, p.out, feedback, progress=progress),
                       train_dataset=hf_dataset(p), processing_class=p.tokenizer,
                       peft_config=lora_config(p.recipe)), feedback


def train_sdpo(recipe: SDPORecipe, *, progress: bool = True,
               on_step=None) -> TrainResult:
    """Train a LoRA adapter with SDPO; writes the adapter, tokenizer and record to recipe.out."""
    p = prepare(recipe)
    trainer, feedback = build_sdpo_trainer(p, progress=progress)
    run_trainer(trainer, on_step)
    return finish(p, trainer, extra={"environment_feedback": feedback,
                                     "rewards": list(recipe.rewards)})
