"""Training recipes on TRL: LoRA SFT (prompt masked), DPO and SDPO from one config each.

``load_recipe("sft", "recipe.yaml", {"lora_r": 32})`` builds a recipe; ``train(recipe)`` runs it
and writes the adapter (with tokenizer, chat template and ``train_record.json``) to
``recipe.out``; ``merge_adapter`` writes merged 16-bit weights. Prompts are rendered exactly as
``assay eval`` renders them (see ``assay.train.data``). Heavy libraries load inside functions.
"""

from __future__ import annotations

from ._shared import TrainResult
from .config import (RECIPES, DPORecipe, Recipe, SDPORecipe, SFTRecipe, fields_help,
                     load_recipe, parse_sets)
from .data import DataStats, TrainData, load_train_data, reference_completion
from .merge import MergeResult, merge_adapter
from .record import RECORD, read_record
from .rewards import parses_reward, task_check_reward
from .steps import StepLog
from .swap import mirror_slots, trade_texts

__all__ = ["RECIPES", "Recipe", "SFTRecipe", "DPORecipe", "SDPORecipe", "fields_help",
           "load_recipe", "parse_sets", "DataStats", "TrainData", "load_train_data",
           "reference_completion", "MergeResult", "merge_adapter", "RECORD", "read_record",
           "parses_reward", "task_check_reward", "mirror_slots", "trade_texts", "TrainResult",
           "train", "StepLog"]


def check_model_exists(recipe: Recipe) -> None:
    """The base model is a local directory or in the local HF cache, before anything loads
    (else transformers tries the network and says "We couldn't connect to huggingface.co")."""
    from ..errors import AssayError
    from ..models.identity import resolve_local

    try:
        resolve_local(recipe.model)
    except AssayError as exc:
        raise AssayError(f"{exc} (setting 'model'; a relative path in a --config YAML is read "
                         "against the YAML's directory, then the current directory)") from None


def train(recipe: Recipe, *, progress: bool = True, on_step=None) -> TrainResult:
    """Run the recipe's method (sft, dpo or sdpo).

    on_step(StepLog) hears each logging step (step, loss, lr, tokens/s) in place of the
    trainer's printed dicts; without it, progress shows the trainer's bar.
    """
    check_model_exists(recipe)
    if isinstance(recipe, SFTRecipe):
        from .sft import train_sft

        return train_sft(recipe, progress=progress, on_step=on_step)
    if isinstance(recipe, DPORecipe):
        from .dpo import train_dpo

        return train_dpo(recipe, progress=progress, on_step=on_step)
    if isinstance(recipe, SDPORecipe):
        from .sdpo import train_sdpo

        return train_sdpo(recipe, progress=progress, on_step=on_step)
    raise ValueError(f"recipe must be an SFT, DPO or SDPO recipe, got {type(recipe).__name__}")
