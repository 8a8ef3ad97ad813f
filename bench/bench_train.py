"""Benchmark: LoRA SFT tokens per second and peak memory, through assay's real SFT path.

    python bench/bench_train.py                     # tiny smoke model on the CPU
    python bench/bench_train.py --model-size 0.5b   # random ~0.5B Qwen2-shaped model, bf16, GPU

Prints one JSON object: tokens/s (every token of prompt+completion processed, and supervised
completion tokens), steps, wall seconds, peak memory (CUDA max allocated on a GPU, max RSS on the
CPU). The 0.5B model is random-initialised in code (Qwen2.5-0.5B's shape: hidden 896, 24 layers,
14 heads, 2 KV heads, vocab of the tiny tokenizer), so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_model(root: Path, size: str) -> Path:
    from assay.models.tiny import build_tiny_model

    if size == "tiny":
        return build_tiny_model(root / "tiny", seed=0)
    model = build_tiny_model(root / "half_b", seed=0)  # tokenizer + template; weights replaced
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tok = AutoTokenizer.from_pretrained(model)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=896, intermediate_size=4864,
                      num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                      max_position_embeddings=4096, tie_word_embeddings=True,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        Qwen2ForCausalLM(cfg).to(torch.bfloat16).save_pretrained(model)
    return model


def write_data(root: Path, n: int) -> Path:
    from assay.tasks.paper_review import DECISION_LINES

    rows = [{"id": f"b{i}", "title": f"Paper {i} on sparse adapters",
             "abstract": "We prune weights before fine-tuning and report accuracy on six "
                         "benchmarks with ablations. " * 4,
             "decision": "accept" if i % 2 else "reject",
             "completion": DECISION_LINES["accept" if i % 2 else "reject"]} for i in range(n)]
    path = root / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-size", choices=("tiny", "0.5b"), default="tiny")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    import torch

    from assay.train import load_recipe
    from assay.train._shared import prepare
    from assay.train.sft import build_sft_trainer

    gpu = torch.cuda.is_available()
    if args.model_size == "0.5b" and not gpu:
        print("note: no GPU here; the 0.5b run uses float32 on the CPU and is slow",
              file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_model(root, args.model_size)
        data = write_data(root, args.batch * 2)
        recipe = load_recipe("sft", None, {
            "model": str(model), "data": str(data), "task": "paper-review",
            "out": str(root / "out"), "max_steps": args.steps,
            "per_device_train_batch_size": args.batch, "gradient_accumulation_steps": 1,
            "bf16": bool(gpu and args.model_size == "0.5b"), "logging_steps": args.steps})
        p = prepare(recipe)
        trainer = build_sft_trainer(p, progress=False)
        lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
        supervised = [sum(1 for t in x if t != -100) for x in trainer.train_dataset["labels"]]
        if gpu:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - t0
    per_example = sum(lengths) / len(lengths)
    seen = args.steps * args.batch
    out = {"model_size": args.model_size, "device": "cuda" if gpu else "cpu",
           "device_name": torch.cuda.get_device_name(0) if gpu else None,
           "dtype": "bfloat16" if recipe.bf16 else "float32",
           "threads": torch.get_num_threads(), "steps": args.steps, "batch": args.batch,
           "mean_tokens_per_example": round(per_example, 1),
           "tokens_per_s": round(seen * per_example / wall, 1),
           "supervised_tokens_per_s": round(seen * sum(supervised) / len(supervised) / wall, 1),
           "wall_s": round(wall, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if gpu else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
