"""Benchmark of haiku-review: form checks per second on one core, and embedding sentences per
second with the cache cold and warm.

    OMP_NUM_THREADS=1 python bench/bench_haiku.py [--haiku 20000] [--sentences 200]

Haiku are made from the words of crc-py's comments when ../shared/data is present (else from a
built-in vocabulary), so most lines differ, as a model's outputs would; the first pass fills the
per-token cache (cold), the second pass measures it warm. Rates are given per CPU-second of this
process (the one-core figure) and per wall-second (lower when other processes share the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CRC = ROOT.parent / "shared" / "data" / "crc-py" / "manual_labeled_data.json"
FALLBACK = ("the null check is missing here rename `api_key` please this loop runs twice "
            "add a docstring for parse_config use getHTTPResponse JSON 404 error handling "
            "refactor the helper tests are flaky").split()


def comments() -> list[str]:
    if CRC.exists():
        return [r["comment"] for r in json.loads(CRC.read_text())]
    return [" ".join(FALLBACK[i:i + 12]) for i in range(0, len(FALLBACK), 3)]


def make_haiku(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    words = [w for c in comments() for w in c.split()][:50_000]
    return [[" ".join(rng.choices(words, k=k)) for k in (3, 5, 3)] for _ in range(n)]


def bench_form(n: int) -> dict:
    from assay.text import haiku_form, pronouncing_dictionary

    t = time.perf_counter()
    pronouncing_dictionary()
    load_s = time.perf_counter() - t
    haiku = make_haiku(n)
    out = {"haiku": n, "dictionary_load_s": round(load_s, 3)}
    for label in ("cold", "warm"):
        t, cpu = time.perf_counter(), time.process_time()
        valid = sum(haiku_form(h).ok for h in haiku)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        out[f"form_checks_per_cpu_s_{label}"] = round(n / cpu)
        out[f"form_checks_per_wall_s_{label}"] = round(n / wall)
    out["valid_share"] = round(valid / n, 4)
    return out


def bench_check(n: int) -> dict:
    from assay.tasks.haiku_review import HaikuReview

    task = HaikuReview()
    texts = ["```\n" + "\n".join(h) + "\n```" for h in make_haiku(n, seed=1)]
    task.check({}, texts[0])
    t, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        task.check({}, text)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    return {"task_checks (parse + form, text in fences)": n,
            "per_cpu_s": round(n / cpu), "per_wall_s": round(n / wall)}


def bench_embed(n: int) -> dict:
    import torch

    from assay.embed import EmbedConfig, Embedder, load_model

    torch.set_num_threads(1)
    t = time.perf_counter()
    load_model()
    out = {"sentences": n, "model_load_s": round(time.perf_counter() - t, 2)}
    texts = list(dict.fromkeys(comments()))[:n]
    with tempfile.TemporaryDirectory() as store:
        for label in ("cold", "warm"):
            emb = Embedder(EmbedConfig(store_dir=store, progress=False))
            t, cpu = time.perf_counter(), time.process_time()
            emb.embed(texts)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            out[f"sentences_per_cpu_s_{label}"] = round(len(texts) / cpu, 1)
            out[f"sentences_per_wall_s_{label}"] = round(len(texts) / wall, 1)
            out[f"computed_{label}"] = emb.computed
            emb.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--haiku", type=int, default=20_000)
    ap.add_argument("--sentences", type=int, default=200)
    args = ap.parse_args()
    results = {"form": bench_form(args.haiku), "check": bench_check(min(args.haiku, 5000)),
               "embed": bench_embed(args.sentences)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
