"""Merge a LoRA adapter into its base and write 16-bit weights (the scientific reviewer's step).

The merge is computed in float32 (so rounding happens once, at the end) and the result is cast
to bfloat16 (default) or float16 and written as safetensors beside the adapter's tokenizer and
chat template, loadable as ``hf:OUT`` without PEFT.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import AssayError

MERGE_DTYPES = ("bfloat16", "float16", "float32")


@dataclass(frozen=True)
class MergeResult:
    out_dir: Path
    dtype: str
    parameters: int


def merge_adapter(base: str | Path, adapter: str | Path, out: str | Path, *,
                  dtype: str = "bfloat16") -> MergeResult:
    """Write base + adapter merged into one model at ``out`` in ``dtype``."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    if dtype not in MERGE_DTYPES:
        raise ValueError(f"dtype must be one of {MERGE_DTYPES}, got {dtype!r}")
    if str(base).startswith("embedded:"):
        from ..models.identity import resolve_local

        base = resolve_local(str(base))
    if not (Path(adapter) / "adapter_config.json").is_file():
        raise AssayError(f"{adapter} holds no adapter_config.json. Fix: give the directory "
                         "`assay train` wrote (its --out)")
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32,
                                                 local_files_only=True)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    merged = merged.to(getattr(torch, dtype))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out_dir), safe_serialization=True)
    _tokenizer_for(base, adapter).save_pretrained(str(out_dir))
    return MergeResult(out_dir, dtype, sum(p.numel() for p in merged.parameters()))


def _tokenizer_for(base, adapter):
    from transformers import AutoTokenizer

    source = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else base
    return AutoTokenizer.from_pretrained(str(source), local_files_only=True)
