"""Benchmark: every parser and text routine on adversarial model output (target: each input of
1 MB in under a second).

Feeds each parser of ``assay.text.hostile.parsers()`` every input of
``assay.text.hostile.hostile_texts(size)`` (repeated openers, whitespace runs, backticks,
camelCase and prefix runs, nested brackets, near-misses of secret rules) and prints, per parser,
the worst input by CPU seconds (wall seconds beside it: they grow when other work shares the
cores) and the number of inputs over the target in CPU time. A call
that runs past ``--timeout`` seconds is stopped and shown as ``>TIMEOUT``.

Run: OMP_NUM_THREADS=1 python bench/bench_parsers.py [--size 1048576] [--timeout 10] [--only NAME]
"""

from __future__ import annotations

import argparse
import signal
import time

from assay.text.hostile import hostile_texts, parsers


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def time_call(fn, text: str, timeout: float) -> tuple[float, float, str]:
    """(CPU s, wall s, outcome) of one call; outcome is 'ok', 'timeout' or the exception's name
    (a parser may reject input with an exception; it must not hang or recurse)."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    cpu, wall = time.process_time(), time.perf_counter()
    outcome = "ok"
    try:
        fn(text)
    except _Timeout:
        outcome = "timeout"
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        outcome = type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.process_time() - cpu, time.perf_counter() - wall, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1 << 20, help="characters per input")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    ap.add_argument("--only", default="", help="run the parsers whose name contains this")
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    texts = hostile_texts(args.size)
    print(f"{len(texts)} adversarial inputs of {args.size:,} characters; target: < 1 s each")
    print(f"{'parser':38} {'worst input':42} {'cpu_s':>7} {'wall_s':>7} {'>=1s':>5}  outcome"
          "  (>=1s: inputs at or over 1 s of CPU)")
    for name, fn in parsers().items():
        if args.only not in name:
            continue
        results = {k: time_call(fn, v, args.timeout) for k, v in texts.items()}
        worst = max(results, key=lambda k: (results[k][2] == "timeout", results[k][0]))
        cpu, wall, outcome = results[worst]
        over = sum(r[0] >= 1.0 or r[2] == "timeout" for r in results.values())
        shown = f">{args.timeout:g}" if outcome == "timeout" else f"{wall:.3f}"
        print(f"{name:38} {worst[:42]:42} {cpu:7.3f} {shown:>7} {over:5d}  {outcome}",
              flush=True)


if __name__ == "__main__":
    main()
