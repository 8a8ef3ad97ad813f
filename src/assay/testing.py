"""A loopback OpenAI-compatible chat server for tests, benchmarks and offline demos.

It stands in for vLLM or a hosted API where a real server cannot run (no GPU here): real HTTP/1.1
with keep-alive on 127.0.0.1, a configurable latency, a responder function that decides what the
"model" says, and fault injection (status codes with Retry-After, malformed JSON, dropped
connections), an optional API key (401 without it) and an optional list of served models for
``GET /v1/models`` (404 when none is given, as on a server without that endpoint). It counts chat
requests and the peak number in flight, and keeps every request's headers and body so tests can
check what the client sent.

Start a real server for production instead, e.g. ``vllm serve Qwen/Qwen2.5-0.5B-Instruct
--enable-lora --lora-modules ft=./adapter`` and point ``openai:MODEL@http://HOST:8000/v1`` at it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

def assay_script() -> str:
    """The installed `assay` console script of this interpreter, run as a user would."""
    return str(Path(sys.executable).parent / "assay")


def script_env(*paths: str | Path, **extra: str) -> dict[str, str]:
    """The environment for running the console script on *this* source tree.

    An editable install points the script at the checkout it was installed from; PYTHONPATH
    (read before site-packages) makes it import the package under test instead, plus ``paths``
    (e.g. a fixtures directory with task modules).
    """
    src = Path(__file__).resolve().parents[1]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, (src, *paths))), **extra)


Responder = Callable[[dict], "str | dict"]
Fault = Callable[[int, dict], "dict | None"]


def echo_responder(body: dict) -> str:
    """Deterministic text that depends on the model name and the prompt."""
    last = body["messages"][-1]["content"]
    h = hashlib.sha256(f"{body['model']}|{last}|{body.get('seed')}".encode()).hexdigest()[:12]
    return f"answer {h}"


@dataclass
class ServerStats:
    requests: int = 0
    model_lists: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    bodies: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each chat request


class FakeOpenAIServer:
    """Run with ``with FakeOpenAIServer(latency_s=0.05) as srv: srv.base_url``."""

    def __init__(self, responder: Responder = echo_responder, *, latency_s: float = 0.0,
                 fault: Fault | None = None, keep_bodies: bool = True, port: int = 0,
                 models: list[str] | None = None, api_key: str | None = None,
                 ollama_digests: dict[str, str] | None = None):
        self.responder = responder
        self.ollama_digests = ollama_digests  # name -> digest for Ollama's GET /api/tags
        self.models = models
        self.api_key = api_key
        self.latency_s = latency_s
        self.fault = fault
        self.keep_bodies = keep_bodies
        self.stats = ServerStats()
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    def __enter__(self) -> "FakeOpenAIServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def serve_forever(self) -> None:
        """Run in the foreground (for a server in its own process)."""
        self._run()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self._port, backlog=1024))
        self._port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            # handlers still mid-response (a slow "model") end here, not on a closed loop
            pending = asyncio.all_tasks(self._loop)
            for t in pending:
                t.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers, body = request
                if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
                    await send_response(writer, 401, json.dumps({"error": "bad key"}).encode())
                    continue
                if method == "GET" and path.rstrip("/").endswith("/models"):
                    await self._list_models(writer)
                    continue
                if method == "GET" and path.rstrip("/").endswith("/api/tags"):
                    tags = [{"name": n, "model": n, "digest": d}
                            for n, d in (self.ollama_digests or {}).items()]
                    status = 200 if self.ollama_digests is not None else 404
                    await send_response(writer, status, json.dumps({"models": tags}).encode())
                    continue
                if await self._route(writer, method, path, headers, body):
                    continue
                keep = await self._respond(writer, headers, body)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _route(self, writer, method: str, path: str, headers: dict, body: bytes) -> bool:
        """Answer other endpoints (a subclass's); False sends the request to chat."""
        return False

    async def _list_models(self, writer) -> None:
        with self._lock:
            self.stats.model_lists += 1
        if self.models is None:
            await send_response(writer, 404, json.dumps({"error": "not found"}).encode())
            return
        data = [{"id": m, "object": "model"} for m in self.models]
        await send_response(writer, 200, json.dumps({"object": "list", "data": data}).encode())

    async def _respond(self, writer, headers: dict, raw: bytes) -> bool:
        with self._lock:
            index = self.stats.requests
            self.stats.requests += 1
            self.stats.arrivals.append(time.monotonic())
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            body = json.loads(raw or b"{}")
            if self.keep_bodies:
                self.stats.bodies.append(body)
                self.stats.headers.append(headers)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            fault = self.fault(index, body) if self.fault else None
            if fault is not None:
                if fault.get("echo_headers"):  # a server that quotes the request back
                    fault = {**fault, "body": json.dumps({"error": "bad", "headers": headers})}
                return await _send_fault(writer, fault)
            payload = chat_payload(body, self.responder(body))
            await send_response(writer, 200, json.dumps(payload).encode())
            return True
        finally:
            with self._lock:
                self.stats.in_flight -= 1


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict, bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, _, rest = line.decode("latin-1").partition(" ")
    path = rest.split(" ", 1)[0]
    headers = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return method, path, headers, body


async def send_response(writer, status: int, data: bytes,
                        extra: dict | None = None) -> None:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests", 500: "Server Error",
              503: "Service Unavailable"}.get(status, "Status")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
            f"Content-Length: {len(data)}", "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()


async def _send_fault(writer, fault: dict) -> bool:
    """fault: {"status": 429, "headers": {...}, "body": "..."} | {"malformed": True} |
    {"drop": True} | {"status": 400, "echo_headers": True} (the request's headers as the body)."""
    if fault.get("drop"):
        return False
    if fault.get("malformed"):
        await send_response(writer, 200, b'{"choices": [{"message": ')
        return True
    body = fault.get("body", json.dumps({"error": "injected"}))
    await send_response(writer, fault.get("status", 500), body.encode() if isinstance(body, str) else body,
                fault.get("headers"))
    return True


class TransformersServer:
    """Hugging Face's own OpenAI-compatible server, ``transformers serve MODEL_DIR``, as a real
    server for integration tests and benchmarks (needs ``pip install 'transformers[serving]'``):

        with TransformersServer(model_dir, continuous_batching=True) as srv:
            srv.base_url, srv.model  # http://127.0.0.1:PORT/v1, the name it serves

    It starts on a free loopback port, waits for ``/health`` (``start_timeout_s``), reads the
    served name from ``/v1/models``, and is terminated on exit; its log is ``log_path``."""

    def __init__(self, model_dir: str | Path, *, continuous_batching: bool = False,
                 log_path: str | Path | None = None, start_timeout_s: float = 300.0,
                 extra_args: tuple[str, ...] = ("--device", "cpu", "--dtype", "float32")):
        self.model_dir = Path(model_dir)
        self.continuous_batching = continuous_batching
        self.log_path = Path(log_path) if log_path else None
        self.start_timeout_s = start_timeout_s
        self.extra_args = tuple(extra_args)
        self.base_url = self.model = ""
        self._proc = None

    @staticmethod
    def executable() -> str | None:
        """The transformers CLI beside this interpreter (or on PATH); None when absent."""
        import shutil

        return (shutil.which("transformers", path=str(Path(sys.executable).parent))
                or shutil.which("transformers"))

    def __enter__(self) -> "TransformersServer":
        import socket
        import subprocess
        import tempfile

        exe = self.executable()
        if exe is None:
            raise RuntimeError("the transformers CLI is absent. Fix: pip install "
                               "'transformers[serving]'")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="transformers-serve-", suffix=".log")[1])
        argv = [exe, "serve", str(self.model_dir), "--host", "127.0.0.1", "--port", str(port),
                *self.extra_args, *(["--continuous-batching"] if self.continuous_batching else [])]
        with open(self.log_path, "w") as log:
            self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        root = f"http://127.0.0.1:{port}"
        try:
            self._wait(root)
            served = [m["id"] for m in _get_json(root + "/v1/models").get("data", [])]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.base_url, self.model = root + "/v1", served[0] if served else str(self.model_dir)
        return self

    def _wait(self, root: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                _get_json(root + "/health")
                return
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("transformers serve did not start:\n"
                                       + self.log_path.read_text()[-2000:]) from None
                time.sleep(1)

    def __exit__(self, *exc) -> None:
        import subprocess

        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def _get_json(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def chat_payload(body: dict, answer: Any) -> dict:
    if isinstance(answer, dict):
        text, finish = answer.get("text", ""), answer.get("finish_reason", "stop")
        logprobs = answer.get("logprobs")
    else:
        text, finish, logprobs = answer, "stop", None
    max_tokens = body.get("max_tokens")
    words = text.split(" ")
    if max_tokens is not None and len(words) > max_tokens:
        text, finish = " ".join(words[:max_tokens]), "length"
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                              "finish_reason": finish}
    if body.get("logprobs"):
        choice["logprobs"] = {"content": logprobs or []}
    prompt_tokens = sum(len(m.get("content", "").split()) for m in body.get("messages", []))
    return {"id": "chatcmpl-fake", "object": "chat.completion", "model": body.get("model"),
            "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                      "total_tokens": prompt_tokens + len(text.split())}}


def main() -> None:  # pragma: no cover - used by bench/ as a separate process
    import argparse

    ap = argparse.ArgumentParser(description="loopback OpenAI-compatible fake server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    srv = FakeOpenAIServer(latency_s=args.latency, keep_bodies=False, port=args.port)
    threading.Thread(target=lambda: (srv._ready.wait(), print(srv._port, flush=True)),
                     daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
