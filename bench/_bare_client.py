"""A bare asyncio HTTP/1.1 client with keep-alive: the lower bound the eval benchmark compares
against (no store, no parsing beyond JSON, no scoring)."""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _worker(host: str, port: int, queue: asyncio.Queue, out: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while True:
        try:
            i = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"q{i}"}],
                           "temperature": 0, "max_tokens": 16}).encode()
        writer.write(f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        await writer.drain()
        length = 0
        await reader.readline()
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        out.append(json.loads(await reader.readexactly(length)))
    writer.close()


async def run(port: int, n: int, concurrency: int) -> float:
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    out: list = []
    start = time.perf_counter()
    await asyncio.gather(*[_worker("127.0.0.1", port, queue, out) for _ in range(concurrency)])
    assert len(out) == n
    return time.perf_counter() - start


if __name__ == "__main__":
    port, n, c = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(f"{asyncio.run(run(port, n, c)):.3f}")
