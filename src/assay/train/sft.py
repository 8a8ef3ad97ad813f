"""LoRA supervised fine-tuning with the prompt masked, on TRL's SFTTrainer.

Prompts arrive pre-rendered (the eval's exact text) with their completions; TRL's
``completion_only_loss`` then sets the labels of every prompt token to -100, so only the
completion and its end token are supervised.
"""

from __future__ import annotations

from .steps import run_trainer
from ._shared import TrainResult, finish, hf_dataset, prepare
from .config import SFTRecipe
from .loading import lora_config, load_base_model, training_kwargs


def sft_config(recipe: SFTRecipe, out, *, progress: bool = True):
    from trl import SFTConfig

    return SFTConfig(**training_kwargs(recipe, out, progress=progress),
                     max_length=recipe.max_length,
                     completion_only_loss=recipe.completion_only_loss, packing=recipe.packing,
                     # tokens/s in the step lines (DPO batches have no input_ids to count)
                     include_num_input_tokens_seen="non_padding")


def build_sft_trainer(p, *, progress: bool = True):
    """The SFTTrainer for a prepared run (tests inspect its collated batches)."""
    from trl import SFTTrainer

    return SFTTrainer(model=load_base_model(p.recipe), args=sft_config(p.recipe, p.out,
                                                                        progress=progress),
                      train_dataset=hf_dataset(p), processing_class=p.tokenizer,
                      peft_config=lora_config(p.recipe))


def train_sft(recipe: SFTRecipe, *, progress: bool = True,
               on_step=None) -> TrainResult:
    """Train a LoRA adapter with SFT; writes the adapter, tokenizer and record to recipe.out."""
    p = prepare(recipe)
    trainer = build_sft_trainer(p, progress=progress)
    run_trainer(trainer, on_step)
    return finish(p, trainer)
