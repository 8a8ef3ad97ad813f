"""A loopback OpenAI Batch API for tests: ``/v1/files`` and ``/v1/batches`` beside chat.

It implements what the batch backend uses, as OpenAI documents it: ``POST /v1/files``
(multipart, ``purpose=batch``), ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
``GET /v1/batches/{id}`` and ``GET /v1/batches`` (the list, newest first). A batch is
``validating``, then ``in_progress`` until it is released (``release()``, or at once with
``hold=False``), then its requests are answered by the responder and it is ``completed`` with an
output file (the 200s) and an error file (the rest). ``fault(index, body)`` gives one request of
the batch another status (e.g. ``{"status": 400}``); ``batch_status`` ends every batch as
``failed`` or ``expired`` instead. Everything the client did is counted in ``batch_stats``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from .testing import FakeOpenAIServer, chat_payload, send_response, echo_responder


@dataclass
class BatchStats:
    uploads: int = 0
    batches_created: int = 0
    polls: int = 0
    lists: int = 0
    downloads: int = 0
    files: dict = field(default_factory=dict)  # file id -> bytes
    batches: dict = field(default_factory=dict)  # batch id -> batch object


class FakeBatchServer(FakeOpenAIServer):
    """``with FakeBatchServer() as srv: srv.base_url``; ``srv.release()`` lets batches finish."""

    def __init__(self, responder=echo_responder, *, hold: bool = True,
                 batch_status: str = "completed", fault=None, **kw):
        super().__init__(responder, fault=None, **kw)
        self.batch_fault = fault
        self.batch_status = batch_status
        self.batch_stats = BatchStats()
        self._released = threading.Event()
        if not hold:
            self._released.set()

    def release(self) -> None:
        """Batches in progress complete at their next poll."""
        self._released.set()

    async def _route(self, writer, method, path, headers, body) -> bool:
        path = path.split("?", 1)[0].rstrip("/")
        parts = path.split("/")
        if method == "POST" and path.endswith("/files"):
            return await self._upload(writer, headers, body)
        if method == "GET" and len(parts) >= 3 and parts[-1] == "content" \
                and parts[-3] == "files":
            return await self._download(writer, parts[-2])
        if method == "POST" and path.endswith("/batches"):
            return await self._create(writer, json.loads(body or b"{}"))
        if method == "GET" and path.endswith("/batches"):
            with self._lock:
                self.batch_stats.lists += 1
                data = list(reversed(self.batch_stats.batches.values()))
            await send_response(writer, 200, json.dumps({"object": "list", "data": data}).encode())
            return True
        if method == "GET" and len(parts) >= 2 and parts[-2] == "batches":
            return await self._poll(writer, parts[-1])
        return False

    async def _upload(self, writer, headers, body: bytes) -> bool:
        content = _multipart_file(headers.get("content-type", ""), body)
        if content is None:
            await send_response(writer, 400, _error("no file part"))
            return True
        with self._lock:
            self.batch_stats.uploads += 1
            fid = f"file-{len(self.batch_stats.files) + 1}"
            self.batch_stats.files[fid] = content
        await send_response(writer, 200, json.dumps({"id": fid, "object": "file",
                                                     "bytes": len(content),
                                                     "purpose": "batch"}).encode())
        return True

    async def _download(self, writer, fid: str) -> bool:
        with self._lock:
            self.batch_stats.downloads += 1
            data = self.batch_stats.files.get(fid)
        if data is None:
            await send_response(writer, 404, _error("no such file"))
        else:
            await send_response(writer, 200, data)
        return True

    async def _create(self, writer, req: dict) -> bool:
        with self._lock:
            if req.get("input_file_id") not in self.batch_stats.files:
                status, obj = 400, {"error": {"message": "unknown input_file_id"}}
            else:
                self.batch_stats.batches_created += 1
                bid = f"batch_{len(self.batch_stats.batches) + 1}"
                obj = {"id": bid, "object": "batch", "endpoint": req.get("endpoint"),
                       "input_file_id": req["input_file_id"], "status": "validating",
                       "completion_window": req.get("completion_window"),
                       "metadata": req.get("metadata") or {}, "output_file_id": None,
                       "error_file_id": None}
                self.batch_stats.batches[bid] = obj
                status = 200
        await send_response(writer, status, json.dumps(obj).encode())
        return True

    async def _poll(self, writer, bid: str) -> bool:
        with self._lock:
            self.batch_stats.polls += 1
            batch = self.batch_stats.batches.get(bid)
            if batch is not None:
                if batch["status"] == "validating":
                    batch["status"] = "in_progress"
                elif batch["status"] == "in_progress" and self._released.is_set():
                    self._finish(batch)
                obj = dict(batch)
        if batch is None:
            await send_response(writer, 404, _error("no such batch"))
        else:
            await send_response(writer, 200, json.dumps(obj).encode())
        return True

    def _finish(self, batch: dict) -> None:
        """Answer every request of the batch into an output and an error file (lock held)."""
        lines = self.batch_stats.files[batch["input_file_id"]].decode("utf-8").splitlines()
        out, err = [], []
        for index, line in enumerate(x for x in lines if x.strip()):
            row = json.loads(line)
            fault = self.batch_fault(index, row["body"]) if self.batch_fault else None
            if fault is not None:
                code = fault.get("status", 500)
                err.append({"id": f"req_{index}", "custom_id": row["custom_id"],
                            "response": {"status_code": code, "body": {"error": {
                                "message": fault.get("message", "injected"),
                                "type": "invalid_request_error"}}}, "error": None})
                continue
            payload = chat_payload(row["body"], self.responder(row["body"]))
            out.append({"id": f"req_{index}", "custom_id": row["custom_id"],
                        "response": {"status_code": 200, "body": payload}, "error": None})
        if self.batch_status != "completed":  # failed / expired: no output, as the API does
            batch["status"] = self.batch_status
            return
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{len(self.batch_stats.files) + 1}"
                self.batch_stats.files[fid] = "".join(json.dumps(r) + "\n"
                                                      for r in rows).encode()
                batch[name] = fid
        batch["status"] = "completed"
        batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out),
                                   "failed": len(err)}


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message}}).encode()


def _multipart_file(content_type: str, body: bytes) -> bytes | None:
    """The content of the ``file`` part of a multipart/form-data body."""
    marker = "boundary="
    if marker not in content_type:
        return None
    boundary = content_type.split(marker, 1)[1].strip().strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep and b'name="file"' in head:
            return content[:-2] if content.endswith(b"\r\n") else content
    return None
