"""Benchmark: the distill loop against a loopback teacher vs a bare asyncio client.

The teacher (a FakeOpenAIServer in its own process, 50 ms latency) is wrong on every draft and
right after the checker's feedback, so each item is a chain of two requests: the draft, then its
revision. Prints (as JSON) the wall seconds of
- the ideal schedule (rounds x ceil(n / concurrency) x latency, a lower bound),
- a bare asyncio keep-alive client replaying exactly the requests the loop sent, in the same
  dependency structure (an item's revision leaves when its draft returns, never waiting for a
  round), with no store, no check and no parsing beyond JSON,
- the loop (``assay.distill.run_loop``: store lookups, journaling, checks, revisions),
- the whole ``distill()`` call (plus selection with MiniLM embeddings, filters, files),
and the ratio loop / bare against the issue's target of 1.15. The syllable dictionary the check
uses is loaded before timing (a one-time 0.5 s). Each figure is the best of --repeats runs.

Run: python bench/bench_distill.py [--n 500] [--concurrency 32] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

GOOD = "the lock needs a guard\na slow change here breaks at night\nso check it once more"
DRAFT = "the lock needs a strong guard\na slow change here breaks at night\nso check it once more"


def responder(body: dict) -> str:
    return GOOD if len(body["messages"]) > 2 else DRAFT


def _serve(latency: float, conn) -> None:
    from assay.testing import FakeOpenAIServer

    srv = FakeOpenAIServer(responder, latency_s=latency, keep_bodies=False)
    srv.start()
    conn.send(srv._port)
    conn.recv()  # block until the parent is done
    srv.stop()


def items(n: int) -> list[dict]:
    return [{"id": f"b{i}", "diff": f"+x_{i} = compute({i})\n+return x_{i}",
             "comment": f"name x_{i} after what it holds ({i})"} for i in range(n)]


def run_loop_once(port: int, rows: list[dict], concurrency: int, store: Path):
    from assay.distill import Ledger, LoopConfig, Teacher, run_loop
    from assay.models import make_backend, parse_spec
    from assay.store import Store
    from assay.tasks import get_task

    task = get_task("haiku-review")
    with Store(store) as st:
        backend = make_backend(parse_spec(f"openai:teacher@http://127.0.0.1:{port}/v1"),
                               concurrency=concurrency)
        teacher = Teacher(backend, st, Ledger(), temperature=0.0, max_tokens=128,
                          concurrency=concurrency)
        start = time.perf_counter()
        runs = asyncio.run(run_loop(task, teacher, rows, LoopConfig()))
        return time.perf_counter() - start, task, runs


def chains(task, runs) -> list[list[bytes]]:
    """The request bodies of each item's chain, exactly as the loop built them: the teacher
    prompt, then for each revision the prompt, the previous attempt and the feedback."""
    from assay.distill import revision_messages

    def body(messages):
        return json.dumps({"model": "teacher", "messages": messages, "temperature": 0.0,
                           "max_tokens": 128}).encode()

    out = []
    for run in runs:
        prompt = task.teacher_render(run.item)
        bodies = [body(prompt)]
        for prev, a in zip(run.attempts, run.attempts[1:]):
            bodies.append(body(revision_messages(prompt, prev.text, a.feedback_sent)))
        out.append(bodies)
    return out


async def _post(pool: asyncio.Queue, body: bytes) -> dict:
    reader, writer = await pool.get()
    try:
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        await reader.readline()
        length = 0
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        return json.loads(await reader.readexactly(length))
    finally:
        pool.put_nowait((reader, writer))


async def bare(port: int, item_chains: list[list[bytes]], concurrency: int) -> float:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(concurrency):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    async def chain(bodies):
        for b in bodies:
            await _post(pool, b)

    start = time.perf_counter()
    await asyncio.gather(*(chain(c) for c in item_chains))
    wall = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return wall


def full_distill(port: int, rows: list[dict], concurrency: int, tmp: Path) -> float:
    from assay.distill import DistillConfig, distill

    data = tmp / "items.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    start = time.perf_counter()
    distill(DistillConfig(task="haiku-review", data=str(data),
                          teacher=f"openai:teacher@http://127.0.0.1:{port}/v1",
                          out=str(tmp / "out"), store=str(tmp / "full.sqlite"),
                          concurrency=concurrency, task_options={"store": str(tmp)}))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also time the whole distill() call")
    args = ap.parse_args()
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(args.latency, child))
    server.start()
    port = parent.recv()
    rows = items(args.n)
    from assay.tasks import get_task

    get_task("haiku-review").check({}, GOOD)  # load the syllable dictionary (once, 0.5 s) first
    loop_walls, bare_walls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            wall, task, runs = run_loop_once(port, rows, args.concurrency, Path(tmp) / f"{k}.db")
            loop_walls.append(wall)
            bare_walls.append(asyncio.run(bare(port, chains(task, runs), args.concurrency)))
        full = full_distill(port, rows, args.concurrency, Path(tmp)) if args.full else None
    parent.send("stop")
    server.join(10)
    requests = sum(len(r.attempts) for r in runs)
    rounds = max(len(r.attempts) for r in runs)
    ideal = rounds * -(-args.n // args.concurrency) * args.latency
    loop_s, bare_s = min(loop_walls), min(bare_walls)
    print(json.dumps({"items": args.n, "requests": requests, "concurrency": args.concurrency,
                      "latency_s": args.latency, "ideal_s": round(ideal, 3),
                      "bare_asyncio_s": round(bare_s, 3), "distill_loop_s": round(loop_s, 3),
                      "ratio_loop_over_bare": round(loop_s / bare_s, 3), "target_ratio": 1.15,
                      "all_loop_s": [round(x, 3) for x in loop_walls],
                      "all_bare_s": [round(x, 3) for x in bare_walls],
                      "distill_call_s": None if full is None else round(full, 3)}, indent=2))


if __name__ == "__main__":
    main()
