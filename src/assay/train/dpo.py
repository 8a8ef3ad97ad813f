"""DPO on TRL's DPOTrainer, the reference being the frozen base under the adapter.

With a ``peft_config`` and no ``ref_model``, TRL computes reference log-probabilities by
switching the adapter off: the base weights are shared, never copied. ``build_dpo_trainer``
checks that TRL did so.
"""

from __future__ import annotations

from ..errors import AssayError
from .steps import run_trainer
from ._shared import TrainResult, finish, hf_dataset, prepare
from .config import DPORecipe
from .loading import lora_config, load_base_model, training_kwargs

REFERENCE = "the base model under the disabled adapter (shared weights, no second copy)"


def dpo_config(recipe: DPORecipe, out, *, progress: bool = True):
    from trl import DPOConfig

    return DPOConfig(**training_kwargs(recipe, out, progress=progress), beta=recipe.beta,
                     loss_type=[recipe.loss_type], max_length=recipe.max_length)


def build_dpo_trainer(p, *, progress: bool = True):
    from trl import DPOTrainer

    trainer = DPOTrainer(model=load_base_model(p.recipe), ref_model=None,
                         args=dpo_config(p.recipe, p.out, progress=progress),
                         train_dataset=hf_dataset(p), processing_class=p.tokenizer,
                         peft_config=lora_config(p.recipe))
    if trainer.ref_model is not None:  # would double memory and silently change the recipe
        raise AssayError("TRL loaded a separate reference model; expected the base under the "
                         "adapter. Fix: report this with your TRL version")
    return trainer


def train_dpo(recipe: DPORecipe, *, progress: bool = True,
               on_step=None) -> TrainResult:
    """Train a LoRA adapter with DPO; writes the adapter, tokenizer and record to recipe.out."""
    p = prepare(recipe)
    trainer = build_dpo_trainer(p, progress=progress)
    run_trainer(trainer, on_step)
    return finish(p, trainer, extra={"reference_model": REFERENCE})
