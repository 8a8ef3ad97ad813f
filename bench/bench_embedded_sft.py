"""Benchmark: LoRA SFT through assay against a bare TRL SFTTrainer, on the embedded real model.

    python bench/bench_embedded_sft.py [--n 16] [--steps 6] [--batch-size 4]

Each side trains in its own fresh process (so each peak RSS is its own): assay's
``train(load_recipe("sft", ...))`` on ``embedded:smollm2``, and a bare ``SFTTrainer`` with the
same LoRA (r 16, alpha 32, dropout 0.05, all linear layers), learning rate, batch, steps and seed,
on the same prompt/completion rows (the bundled haiku-review train slice, rendered by the task,
with the human comment as the completion) given to TRL in its conversational format. Throughput
is measured between the first and the last logged step (loading and saving excluded):
prompt+completion tokens of the examples processed per second. Prints one JSON object with both
sides and the ratios (target: assay within 1.05x of the bare trainer on tokens/s and peak RSS).

The bare side sets ``bf16=False`` and ``activation_checkpointing=False`` as assay's recipe does:
TRL's own ``SFTConfig`` defaults turn both on, and on a CPU without native bfloat16 that made a
step of 4 x 230 tokens take about 150 s here instead of about 15 (the first runs of this
benchmark never finished three steps for that reason).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
LR, SEED = 1e-3, 0


def write_rows(path: Path, n: int) -> Path:
    from assay.demo_embedded import DIFF_TOKENS, examples
    from assay.tasks.haiku_review import HaikuReview

    task = HaikuReview(diff_tokens=DIFF_TOKENS)
    items = [json.loads(x) for x in (examples() / "train.jsonl").read_text().splitlines() if x]
    rows = [{"prompt": list(task.render(it)), "completion": it["comment"][:200]}
            for it in (items * ((n // len(items)) + 1))[:n]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tokens_per_example(rows_path: Path) -> list[int]:
    from transformers import AutoTokenizer

    from assay.models.embedded import model_dir

    tok = AutoTokenizer.from_pretrained(model_dir("smollm2"))
    out = []
    for line in rows_path.read_text().splitlines():
        r = json.loads(line)
        prompt = tok.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        out.append(len(tok(prompt + r["completion"] + tok.eos_token,
                           add_special_tokens=False)["input_ids"]))
    return out


def side_assay(rows: Path, out: Path, steps: int, batch: int) -> list[float]:
    from assay.train import load_recipe, train

    times: list[float] = []
    recipe = load_recipe("sft", None, {
        "model": "embedded:smollm2", "data": str(rows), "out": str(out), "max_steps": steps,
        "per_device_train_batch_size": batch, "gradient_accumulation_steps": 1,
        "learning_rate": LR, "seed": SEED, "logging_steps": 1, "max_length": 1024})
    train(recipe, progress=False, on_step=lambda s: times.append(time.perf_counter()))
    return times


def side_bare(rows: Path, out: Path, steps: int, batch: int) -> list[float]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from assay.models.embedded import model_dir

    times: list[float] = []

    class Stamp(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                times.append(time.perf_counter())

    where = model_dir("smollm2")
    # TRL's conversational prompt-completion format: the completion is an assistant message.
    data = Dataset.from_list([{"prompt": r["prompt"], "completion": [
        {"role": "assistant", "content": r["completion"]}]}
        for r in map(json.loads, rows.read_text().splitlines())])
    cfg = SFTConfig(output_dir=str(out), max_steps=steps, per_device_train_batch_size=batch,
                    gradient_accumulation_steps=1, learning_rate=LR, seed=SEED, data_seed=SEED,
                    logging_steps=1, max_length=1024, completion_only_loss=True,
                    lr_scheduler_type="linear", warmup_steps=0.0,
                    # TRL's SFTConfig defaults to bf16 autocast and activation checkpointing;
                    # assay's recipe sets both off on a CPU, so the bare side does too
                    bf16=False, activation_checkpointing=False, save_strategy="no",
                    report_to="none",
                    disable_tqdm=True, use_cpu=True)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32),
        args=cfg, train_dataset=data, processing_class=AutoTokenizer.from_pretrained(where),
        peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05,
                               target_modules="all-linear", bias="none", task_type="CAUSAL_LM"),
        callbacks=[Stamp()])
    trainer.train()
    return times


def child(which: str, rows: Path, out: Path, steps: int, batch: int) -> None:
    times = (side_assay if which == "assay" else side_bare)(rows, out, steps, batch)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "peak_rss_mb": peak_mb}))


def measure(which: str, rows: Path, root: Path, steps: int, batch: int,
            per_example: list[int]) -> dict:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, __file__, "--child", which, "--rows", str(rows),
                        "--out", str(root / which), "--steps", str(steps),
                        "--batch-size", str(batch)], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"the {which} side failed:\n{r.stderr[-3000:]}")
    wall = time.perf_counter() - t
    got = json.loads(r.stdout.strip().splitlines()[-1])
    stamps = got["times"]
    # steps 2..N in seconds; examples are taken in the sampler's order, so count the mean
    timed_tokens = (len(stamps) - 1) * batch * (sum(per_example) / len(per_example))
    span = stamps[-1] - stamps[0]
    return {"tokens_per_s": round(timed_tokens / span, 1), "timed_steps": len(stamps) - 1,
            "timed_s": round(span, 2), "peak_rss_mb": round(got["peak_rss_mb"], 1),
            "process_wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--child")
    ap.add_argument("--rows")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.rows), Path(args.out), args.steps, args.batch_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = write_rows(root / "rows.jsonl", args.n)
        per_example = tokens_per_example(rows)
        bare = measure("bare", rows, root, args.steps, args.batch_size, per_example)
        ours = measure("assay", rows, root, args.steps, args.batch_size, per_example)
    print(json.dumps({"bench": "embedded_sft", "model": "embedded:smollm2", "n": args.n,
                      "steps": args.steps, "batch_size": args.batch_size,
                      "mean_tokens_per_example": round(sum(per_example) / len(per_example), 1),
                      "assay": ours, "bare_trl": bare,
                      "tokens_per_s_bare_over_assay": round(bare["tokens_per_s"] /
                                                            ours["tokens_per_s"], 3),
                      "peak_rss_assay_over_bare": round(ours["peak_rss_mb"] /
                                                        bare["peak_rss_mb"], 3)}))


if __name__ == "__main__":
    main()
