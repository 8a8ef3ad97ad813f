"""Benchmark: `assay compare` on two 10,000-item runs (target: under 2 s end to end).

Writes two run directories (one model each) of a task with a pass/fail metric (McNemar) and a
per-item float metric (sign-flip permutation test + bootstrap CI), then times
- the library call ``compare_runs`` (load, join, tests, Holm), and
- ``assay compare RUN_A RUN_B --json`` as a subprocess (interpreter start and imports included),
- the same with ``--out`` (report.md, comparison.json and the PNG plots).

Run: OMP_NUM_THREADS=1 python bench/bench_compare.py [--items 10000] [--repeat 3]
This file is also the task module of the generated runs (``task_module: bench_compare``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay.metrics import custom, mean, rate
from assay.records import greedy_record
from assay.tasks import Task

HERE = Path(__file__).resolve().parent


def _score(key):
    def value(item):
        row = greedy_record(item)
        return None if row is None else row["scores"][key]
    return value


def _constant(name, value):
    return custom(name, lambda item: (1.0,), 1, lambda s: s[..., 0] * 0 + value,
                  direction="none", role="descriptive")


ACCURACY = rate("accuracy", _score("correct"), role="primary",
                baseline=_constant("coin flip", 0.5))
RELEVANCE = mean("relevance", _score("relevance"), role="primary",
                 baseline=_constant("shuffle floor", 0.13))


class BenchTask(Task):
    name = "bench-compare"

    def metrics(self, records):
        return [ACCURACY, RELEVANCE]


def write_run(path: Path, label: str, n: int, p_correct: float, shift: float, seed: int) -> None:
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "items.jsonl", "w") as f:
        for i in range(n):
            rel = min(1.0, max(-1.0, rng.gauss(0.32 + shift, 0.15)))
            rec = {"id": str(i), "model": label, "pass": "original", "sample": None,
                   "prompt_hash": f"{i:064x}", "output": f"{label} output for item {i}",
                   "finish_reason": "stop", "truncated": False, "parsed": "x",
                   "parse_error": None, "scores": {"correct": rng.random() < p_correct,
                                                   "relevance": rel},
                   "latency_s": 0.1, "prompt_tokens": 100, "completion_tokens": 20,
                   "error": None}
            f.write(json.dumps(rec) + "\n")
    manifest = {"kind": "eval", "task": BenchTask.name, "task_options": {},
                "task_module": "bench_compare", "models": {label: {"spec": f"openai:{label}"}},
                "started_at": "2025-01-01T00:00:00+00:00", "data": {"path": "bench.jsonl"}}
    (path / "manifest.json").write_text(json.dumps(manifest))


def _cpu() -> float:
    """CPU seconds of this process and its finished children: on a shared machine wall time
    includes waiting for a core, CPU time does not."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_it(fn, repeat: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(HERE))
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    assay = str(Path(sys.executable).parent / "assay")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "base", Path(tmp) / "ft"
        write_run(a, "base", args.items, 0.70, 0.0, 1)
        write_run(b, "ft", args.items, 0.72, 0.01, 2)

        from assay.compare import compare_runs

        from assay.stats.bootstrap import clear_memo

        def fresh():  # a command starts with no draws memoized: so does each timed call
            clear_memo()
            return compare_runs(a, b)
        lib = time_it(fresh, args.repeat)
        cmd = [assay, "compare", str(a), str(b), "--json"]
        cli = time_it(lambda: subprocess.run(cmd, env=env, check=True,
                                             stdout=subprocess.DEVNULL), args.repeat)
        out_cmd = cmd + ["--out", str(Path(tmp) / "report")]
        cli_out = time_it(lambda: subprocess.run(out_cmd, env=env, check=True,
                                                 stdout=subprocess.DEVNULL), args.repeat)
        res = compare_runs(a, b)
    acc, rel = res.metric("accuracy"), res.metric("relevance")
    print(f"items per run: {args.items:,}; resamples: {res.n_resamples:,}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"  accuracy  {acc.base:.4f} -> {acc.candidate:.4f}  McNemar p {acc.pvalue:.3g} "
          f"(b {acc.mcnemar.b}, c {acc.mcnemar.c})")
    print(f"  relevance {rel.base:.4f} -> {rel.candidate:.4f}  permutation p {rel.pvalue:.3g}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, (wall, cpu) in (("compare_runs (library)", lib),
                              ("assay compare --json (subprocess)", cli),
                              ("assay compare --json --out (with plots)", cli_out)):
        print(f"{name:40s} wall median {statistics.median(wall):.3f} s (min {min(wall):.3f}); "
              f"CPU median {statistics.median(cpu):.3f} s; runs {len(wall)}")
    print("target: assay compare on two 10,000-item runs < 2 s")


if __name__ == "__main__":
    main()
