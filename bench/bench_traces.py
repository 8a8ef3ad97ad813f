"""Benchmark of `assay.traces`: lines per second on the shared pi sessions, and on a synthetic
v3 session of ``--size-mb`` (default 100) written to a temporary folder, with the peak resident
memory of the process that mined it (a fresh subprocess, so the number is its own), once keeping
every row (memory grows with the rows kept) and once with ``--top 64`` (the reader's own bound).

    python bench/bench_traces.py [--size-mb 100] [--repeat 5]

Prints numbers, asserts nothing.
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

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pi-sessions"


def _entry(i: int, parent: str | None, message: dict) -> str:
    return json.dumps({"type": "message", "id": f"{i:08x}", "parentId": parent,
                       "timestamp": "2026-01-01T00:00:00.000Z", "message": message})


def _episode(i: int, parent: str | None, out) -> tuple[int, str]:
    """Write one prompt -> tool call -> (failing) result -> answer chain; return next id."""
    shell = "\n".join(f"src/mod{j}.ts({j},1): error TS2322: Type 'string' is not assignable"
                      for j in range(30))
    steps = [
        {"role": "user", "content": f"Please fix the type errors in module {i} and run the "
                                    "build again, then tell me what changed in /home/dev/app"},
        {"role": "assistant", "content": [{"type": "toolCall", "id": f"c{i}", "name": "bash",
                                           "arguments": {"command": "npm run build"}}]},
        {"role": "toolResult", "toolCallId": f"c{i}", "toolName": "bash",
         "content": [{"type": "text", "text": shell + "\n\nCommand exited with code 2"}],
         "isError": i % 3 == 0},
        {"role": "assistant", "content": [{"type": "text", "text": "Fixed. " + "ok " * 200}]},
    ]
    for message in steps:
        out.write(_entry(i, parent, message) + "\n")
        parent, i = f"{i:08x}", i + 1
    return i, parent


def write_synthetic(path: Path, size_mb: int) -> int:
    """A v3 session of about ``size_mb`` MB; every 50th episode abandons a branch."""
    target = size_mb << 20
    i, parent = 1, None
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "session", "version": 3, "id": "bench", "timestamp": "t",
                              "cwd": "/home/dev/app"}) + "\n")
        while out.tell() < target:
            fork = parent
            i, parent = _episode(i, parent, out)
            if (i // 4) % 50 == 0:  # the user goes back: the episode just written is abandoned
                parent = fork
    return i


def _lines(paths) -> int:
    return sum(sum(1 for _ in open(p, "rb")) for p in paths)


def bench_shared(repeat: int) -> None:
    from assay.traces import mine

    files = sorted(SHARED.glob("*.jsonl"))
    if not files:
        print(f"shared sessions: {SHARED} absent, skipped")
        return
    n, size = _lines(files), sum(f.stat().st_size for f in files)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        mine(files)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(f"shared sessions: {len(files)} files, {n} lines, {size / 1e6:.1f} MB: best of "
          f"{repeat} {best:.3f} s wall = {n / best:,.0f} lines/s, {size / 1e6 / best:.1f} MB/s "
          f"({best_cpu:.3f} s CPU = {n / best_cpu:,.0f} lines/s per CPU second)")


def _mine_child(path: str, top: int | None) -> None:
    from assay.traces import MineConfig, mine

    t0, c0 = time.perf_counter(), time.process_time()
    result = mine([path], MineConfig(top=top))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak_kb / 1024,
                      "episodes": result.summary.episodes, "kept": result.summary.kept,
                      "entries": result.summary.entries}))


def bench_synthetic(size_mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        t0 = time.perf_counter()
        write_synthetic(path, size_mb)
        size = path.stat().st_size
        n = _lines([path])
        print(f"synthetic v3 session: {size / 1e6:.1f} MB, {n:,} lines, written in "
              f"{time.perf_counter() - t0:.1f} s")
        baseline = subprocess.run([sys.executable, "-c", "import resource, assay.traces; print("
                                   "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                                  capture_output=True, text=True, check=True)
        for top in (None, 64):
            _report_child(path, n, size, top, int(baseline.stdout) / 1024)


def _report_child(path: Path, n: int, size: int, top: int | None, base_mb: float) -> None:
    extra = ["--top", str(top)] if top else []
    out = subprocess.run([sys.executable, __file__, "--child", str(path), *extra],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    print(f"  {'all rows kept' if top is None else f'--top {top}'}: mined in {r['seconds']:.1f} s "
          f"wall = {n / r['seconds']:,.0f} lines/s, {size / 1e6 / r['seconds']:.1f} MB/s "
          f"({r['cpu']:.1f} s CPU = {n / r['cpu']:,.0f} lines/s per CPU second); "
          f"{r['episodes']:,} episodes, {r['kept']:,} kept; peak RSS {r['peak_rss_mb']:.0f} MB "
          f"(python + assay.traces alone: {base_mb:.0f} MB)")


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--top", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _mine_child(args.child, args.top)
        return
    bench_shared(args.repeat)
    bench_synthetic(args.size_mb)


if __name__ == "__main__":
    main()
