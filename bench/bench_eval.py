"""Benchmark: `assay eval` against a loopback OpenAI-compatible server with 50 ms latency.

Prints (as JSON) the wall seconds of
- the ideal schedule (n / concurrency x latency),
- a bare asyncio keep-alive client (bench/_bare_client.py),
- `assay eval` end to end as a subprocess (start-up, generation, scoring, writing),
- the same command again (a finished run: zero requests expected),
- `assay --help`,
and the target from the issue: assay <= 1.1 x bare + 1 s.

lm-evaluation-harness and inspect_ai run the same items against the same server when their
executables are found on PATH or in the virtual environment named by ASSAY_PEERS_VENV (install
them there, never into assay's own environment), e.g.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch==2.13.0 lm-eval inspect-ai openai
    ASSAY_PEERS_VENV=/tmp/peers python bench/bench_eval.py

otherwise they are reported as not installed. Their times include their start-up, as assay's do.

Run: python bench/bench_eval.py [--n 1000] [--concurrency 32] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_server(latency: float) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "assay.testing", "--latency", str(latency)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port


def timed(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"command failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    return wall, out.stdout


def write_items(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "question": f"question {i}", "answer": "x"}) + "\n")


def peer(name: str) -> str | None:
    venv = os.environ.get("ASSAY_PEERS_VENV")
    if venv and (Path(venv) / "bin" / name).exists():
        return str(Path(venv) / "bin" / name)
    return shutil.which(name)


LM_EVAL_TASK = """task: assay_bench
dataset_path: json
dataset_kwargs:
  data_files:
    test: {items}
test_split: test
output_type: generate_until
doc_to_text: "{{{{question}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: []
  max_gen_toks: 16
  do_sample: false
metric_list:
  - metric: exact_match
"""

INSPECT_TASK = """import os
from inspect_ai import Task, task
from inspect_ai.dataset import Sample, json_dataset
from inspect_ai.scorer import exact
from inspect_ai.solver import generate


@task
def assay_bench():
    return Task(dataset=json_dataset(os.environ["BENCH_ITEMS"], lambda r: Sample(
        input=r["question"], target=r["answer"], id=r["id"])), solver=generate(), scorer=exact())
"""


def run_peers(d: str, items: Path, port: int, concurrency: int) -> dict:
    """Time lm-evaluation-harness and inspect_ai on the same items and server, when installed."""
    out: dict = {}
    lm_eval, inspect = peer("lm_eval"), peer("inspect")
    offline = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    if lm_eval:
        (Path(d) / "lm_tasks").mkdir()
        (Path(d) / "lm_tasks" / "assay_bench.yaml").write_text(LM_EVAL_TASK.format(items=items))
        out["lm_eval_s"] = round(timed([
            lm_eval, "run", "--model", "local-chat-completions", "--model_args",
            f"model=bench,base_url=http://127.0.0.1:{port}/v1/chat/completions,"
            f"num_concurrent={concurrency},max_retries=3,tokenized_requests=False",
            "--tasks", "assay_bench", "--include_path", f"{d}/lm_tasks",
            "--apply_chat_template"], offline)[0], 3)
    else:
        out["lm_eval_s"] = "not installed"
    if inspect:
        (Path(d) / "inspect_task.py").write_text(INSPECT_TASK)
        env = dict(offline, BENCH_ITEMS=str(items), OPENAI_API_KEY="unused",
                   OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1")
        out["inspect_ai_s"] = round(timed([
            inspect, "eval", "inspect_task.py", "--model", "openai/bench", "-M",
            "responses_api=false", "--max-connections", str(concurrency), "--max-tokens", "16",
            "--log-dir", f"{d}/inspect_logs", "--display", "none"], env, cwd=d)[0], 3)
    else:
        out["inspect_ai_s"] = "not installed"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    assay = str(Path(sys.executable).parent / "assay")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "fixtures"))
    proc, port = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as d:
            items = Path(d) / "items.jsonl"
            write_items(items, args.n)
            bare, _ = timed([sys.executable, str(ROOT / "bench" / "_bare_client.py"), str(port),
                             str(args.n), str(args.concurrency)])
            cmd = [assay, "eval", "exact", "--task-module", "exact_task", "--data", str(items),
                   "--model", f"m=openai:bench@http://127.0.0.1:{port}/v1", "--out",
                   f"{d}/run", "--store", f"{d}/store.sqlite", "--concurrency",
                   str(args.concurrency), "--json"]
            first, out1 = timed(cmd, env)
            rerun, out2 = timed(cmd, env)
            helpt, _ = timed([assay, "--help"])
            s1, s2 = json.loads(out1), json.loads(out2)
            peers = run_peers(d, items, port, args.concurrency)
    finally:
        proc.terminate()
    ideal = args.n / args.concurrency * args.latency
    target = 1.1 * bare + 1.0
    result = {
        "items": args.n, "concurrency": args.concurrency, "latency_s": args.latency,
        "ideal_s": round(ideal, 3), "bare_client_s": round(bare, 3),
        "assay_eval_s": round(first, 3), "assay_generation_s": s1["generation_wall_s"],
        "assay_requests_sent": s1["requests_sent"], "target_s": round(target, 3),
        "meets_target": first <= target, "rerun_s": round(rerun, 3),
        "rerun_requests_sent": s2["requests_sent"], "help_s": round(helpt, 3),
        **peers,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
