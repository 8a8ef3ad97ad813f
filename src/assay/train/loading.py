"""Loading what a recipe trains: hardware checks, tokenizer, base model, LoRA config, and the
TrainingArguments every TRL trainer shares.

GPU-only settings (bf16, fp16, 4-bit QLoRA) fail here with a clear error before anything heavy
is loaded, instead of deep inside accelerate or bitsandbytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AssayError
from .config import Recipe
from .tracking import resolve_report_to


def check_hardware(recipe: Recipe, *, cuda: bool | None = None, bf16_ok: bool | None = None,
                   has_bitsandbytes: bool | None = None) -> None:
    """Refuse settings this machine cannot run (the keyword arguments let tests pretend)."""
    import importlib.util

    import torch

    cuda = torch.cuda.is_available() if cuda is None else cuda
    wanted = [n for n in ("bf16", "fp16", "load_in_4bit") if getattr(recipe, n)]
    if wanted and not cuda:
        raise AssayError(f"{', '.join(wanted)} needs a CUDA GPU and none is available. Fix: "
                         f"--set {wanted[0]}=false to train in float32 on the CPU, or run on a "
                         "machine with a GPU")
    if recipe.bf16 and not (torch.cuda.is_bf16_supported() if bf16_ok is None else bf16_ok):
        raise AssayError("bf16 is set but this GPU does not support bfloat16. Fix: --set "
                         "bf16=false --set fp16=true")
    if recipe.load_in_4bit:
        found = (importlib.util.find_spec("bitsandbytes") is not None
                 if has_bitsandbytes is None else has_bitsandbytes)
        if not found:
            raise AssayError("load_in_4bit (QLoRA) needs bitsandbytes. Fix: pip install "
                             "bitsandbytes, or --set load_in_4bit=false")


def model_path(recipe: Recipe) -> str:
    """Where the base model's files are: ``embedded:NAME`` resolves to its converted directory;
    anything else is given to transformers as written."""
    if recipe.model.startswith("embedded:"):
        from ..models.identity import resolve_local

        return str(resolve_local(recipe.model))
    return recipe.model


def load_tokenizer(recipe: Recipe):
    """The base model's tokenizer (its chat template is what prompts are rendered with)."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model_path(recipe), local_files_only=True,
                                            trust_remote_code=recipe.trust_remote_code)
    except OSError as exc:
        raise AssayError(f"cannot load the tokenizer of '{recipe.model}': {exc}. Fix: give a "
                         "local model directory (nothing is downloaded)") from exc
    if tok.pad_token is None:  # TRL pads with eos then; the labels still keep the real eos
        tok.pad_token = tok.eos_token
    return tok


def model_dtype(recipe: Recipe):
    import torch

    if recipe.bf16:
        return torch.bfloat16
    if recipe.fp16:
        return torch.float16
    return torch.float32


def load_base_model(recipe: Recipe):
    """The base model, in 4-bit NF4 when ``load_in_4bit`` (QLoRA), else in the training dtype."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": model_dtype(recipe), "local_files_only": True,
                              "trust_remote_code": recipe.trust_remote_code}
    if recipe.load_in_4bit:
        kwargs["quantization_config"] = _bnb_config(recipe)
    from ..quiet import no_load_bars

    try:
        with no_load_bars():
            model = AutoModelForCausalLM.from_pretrained(model_path(recipe), **kwargs)
    except OSError as exc:
        raise AssayError(f"cannot load the model '{recipe.model}': {exc}. Fix: give a local "
                         "model directory (nothing is downloaded)") from exc
    if recipe.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=recipe.gradient_checkpointing)
    return model


def _bnb_config(recipe: Recipe):
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=model_dtype(recipe))


def lora_config(recipe: Recipe):
    from peft import LoraConfig

    return LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha,
                      lora_dropout=recipe.lora_dropout, target_modules=recipe.target_modules,
                      bias="none", task_type="CAUSAL_LM")


def training_kwargs(recipe: Recipe, out: Path, *, progress: bool = True) -> dict[str, Any]:
    """The TrainingArguments fields every method shares (checkpoints off: the adapter is saved
    once at the end, with its tokenizer and run record)."""
    return dict(
        output_dir=str(out / "checkpoints"), seed=recipe.seed, data_seed=recipe.seed,
        learning_rate=recipe.learning_rate, lr_scheduler_type=recipe.lr_scheduler_type,
        warmup_steps=recipe.warmup_ratio, num_train_epochs=recipe.num_train_epochs,
        max_steps=recipe.max_steps, per_device_train_batch_size=recipe.per_device_train_batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        bf16=recipe.bf16, fp16=recipe.fp16, activation_checkpointing=recipe.gradient_checkpointing,
        logging_steps=recipe.logging_steps, save_strategy="no",
        report_to=resolve_report_to(recipe.report_to), disable_tqdm=not progress,
        dataloader_num_workers=0, dataloader_pin_memory=_cuda(),
        **_distributed_kwargs(),
    )


def _distributed_kwargs() -> dict[str, Any]:
    """Several processes without CUDA (``accelerate launch`` on CPUs) train on gloo: without
    use_cpu, transformers starts no distributed state and each process trains alone."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not _cuda():
        return {"use_cpu": True, "ddp_backend": "gloo"}
    return {}


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
