"""The OpenAI Batch API as a backend: ``openai-batch:MODEL@BASE_URL`` (half the price of
synchronous calls at OpenAI; results within the completion window, usually minutes to hours).

The requests a run lacks are written as the Batch API's JSONL (one ``{"custom_id", "method",
"url", "body"}`` a line, ``custom_id`` = the store key), uploaded through ``POST /files``
(``purpose=batch``), submitted with ``POST /batches`` and polled with backoff; the output file
(answers) and the error file (per-request failures) are downloaded and each result goes to the
runner's ``on_done``, which journals it in the store like any completion.

Never submitting twice: each batch is journaled in the store's ``batches`` table *before* each
step (its keys and a random token, then the input file, then the batch id, then its status), so
a process killed at any moment is resumed by the same command: it polls the batch it had
submitted instead of submitting another. A kill between ``POST /batches`` and the journaling of
its id is covered too: the token travels as the batch's ``metadata``, and before creating a
batch for a journaled input file the backend looks for one carrying its token
(``GET /batches``). A batch whose results were all journaled is marked so, and a rerun after
that finds every completion in the store and sends nothing.

It is synchronous (urllib, no event loop): the runner treats it as a local backend, and the
distill loop hands it every request that is waiting at the same moment (one batch a round).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import AssayError
from ._types import Completion, Request
from .spec import ModelSpec, mask_url

FINAL = {"completed", "failed", "expired", "cancelled"}
ENDPOINT = "/v1/chat/completions"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    token TEXT PRIMARY KEY,
    model_key TEXT NOT NULL,
    keys TEXT NOT NULL,
    state TEXT NOT NULL,
    input_file_id TEXT,
    batch_id TEXT,
    status TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""
# state: prepared (token and keys) -> uploaded (input file) -> submitted (batch id; status is
# the server's) -> journaled (every result handed to on_done)


class BatchJournal:
    """The ``batches`` table of the store file: one row per batch, committed at each step.

    Its own connection (the distill loop calls the backend from a worker thread), on the same
    WAL-mode file as the completions."""

    def __init__(self, path: str | Path):
        self._db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def open_batches(self, model_key: str) -> list[dict[str, Any]]:
        """Batches of this model not yet journaled, oldest first."""
        cur = self._db.execute("SELECT * FROM batches WHERE model_key = ? AND state != "
                               "'journaled' ORDER BY created_at", (model_key,))
        names = [d[0] for d in cur.description]
        return [{**dict(zip(names, row)), "keys": json.loads(row[2])} for row in cur]

    def add(self, model_key: str, keys: Sequence[str]) -> dict[str, Any]:
        now = time.time()
        row = {"token": uuid.uuid4().hex, "model_key": model_key, "keys": list(keys),
               "state": "prepared", "input_file_id": None, "batch_id": None, "status": None,
               "output_file_id": None, "error_file_id": None, "created_at": now,
               "updated_at": now}
        self._db.execute("INSERT INTO batches VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (row["token"], model_key, json.dumps(row["keys"]), "prepared", None,
                          None, None, None, None, now, now))
        return row

    def update(self, row: dict[str, Any], **changes: Any) -> None:
        row.update(changes, updated_at=time.time())
        cols = ", ".join(f"{k} = ?" for k in (*changes, "updated_at"))
        self._db.execute(f"UPDATE batches SET {cols} WHERE token = ?",
                         (*changes.values(), row["updated_at"], row["token"]))

    def all(self) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT token, batch_id, state, status FROM batches "
                               "ORDER BY created_at")
        return [dict(zip(("token", "batch_id", "state", "status"), r)) for r in cur]


class OpenAIBatchBackend:
    """One model behind an OpenAI-compatible Batch API (``/files`` and ``/batches``)."""

    OPTIONS = {"api_key_env", "timeout_s", "max_retries", "extra_body", "poll_s",
               "max_poll_s", "completion_window", "max_wait_s"}

    def __init__(self, spec: ModelSpec, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout_s: float = 120.0, max_retries: int = 5,
                 extra_body: dict | None = None, poll_s: float = 5.0,
                 max_poll_s: float = 300.0, completion_window: str = "24h",
                 max_wait_s: float | None = None, **_: Any):
        self.spec = spec
        self.url = spec.base_urls[0]
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.extra_body = dict(extra_body or {})
        self.poll_s, self.max_poll_s = float(poll_s), float(max_poll_s)
        self.completion_window = completion_window
        self.max_wait_s = max_wait_s  # None: wait as long as the batch's window
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self._journal_path: Path | None = None
        self.notify: Callable[[str], None] = lambda message: None  # status changes

    def identity(self) -> dict[str, Any]:
        from .openai import normal_url

        return {"backend": "openai-batch", "model": self.spec.model,
                "base_urls": [normal_url(self.url)], "chat_template": "server",
                "extra_body": self.extra_body}

    def attach_store(self, store) -> None:
        """Journal batches in this store's file (the runner calls it before generate)."""
        self._journal_path = Path(store.path)

    # -- generation -------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request],
                 on_done: Callable[[Request, Completion], None]) -> None:
        """Resume the open batches that hold some of these requests, submit one batch for the
        rest, and call on_done(request, completion) for each result as its batch ends."""
        if not requests:
            return
        if self._journal_path is None:
            raise AssayError("the openai-batch backend needs a store to journal its batches. "
                             "Fix: call attach_store(store) before generate (the eval and "
                             "distill runners do)")
        from ..store import canonical_hash

        journal = BatchJournal(self._journal_path)
        try:
            by_key = {r.key: r for r in requests}
            mkey = canonical_hash(self.identity())
            rows = []
            for b in journal.open_batches(mkey):
                if b["state"] == "prepared":  # nothing reached a batch: built again below
                    journal.update(b, state="journaled", status="abandoned")
                elif set(b["keys"]) & set(by_key):
                    rows.append(b)
            covered = {k for b in rows for k in b["keys"]}
            rest = [r for k, r in by_key.items() if k not in covered]
            if rest:
                rows.append(journal.add(mkey, [r.key for r in rest]))
            for row in rows:
                self._run_batch(journal, row, by_key, on_done)
        finally:
            journal.close()

    def _run_batch(self, journal: BatchJournal, row: dict, by_key: dict[str, Request],
                   on_done: Callable[[Request, Completion], None]) -> None:
        if row["batch_id"] is None:
            self._submit(journal, row, by_key)
        batch = self._poll(journal, row)
        results = self._results(batch)
        for key in row["keys"]:
            req = by_key.get(key)
            if req is None:  # journaled by an earlier run, or not asked for now
                continue
            on_done(req, results.get(key) or Completion(
                error=self._missing(batch), attempts=1))
        journal.update(row, state="journaled")

    def _submit(self, journal: BatchJournal, row: dict, by_key: dict[str, Request]) -> None:
        if row["input_file_id"] is None:
            lines = "".join(json.dumps({"custom_id": k, "method": "POST", "url": ENDPOINT,
                                        "body": self._body(by_key[k])}) + "\n"
                            for k in row["keys"])
            answer = self._call("POST", "/files", files=lines.encode("utf-8"))
            journal.update(row, state="uploaded", input_file_id=str(answer["id"]))
            found = None
        else:  # uploaded by a run that may have been killed right after creating the batch
            found = self._find(row["token"])
        if found is None:
            found = self._call("POST", "/batches", {
                "input_file_id": row["input_file_id"], "endpoint": ENDPOINT,
                "completion_window": self.completion_window,
                "metadata": {"assay_token": row["token"]}})
        journal.update(row, state="submitted", batch_id=str(found["id"]),
                       status=found.get("status"))
        self.notify(f"batch {found['id']} submitted ({len(row['keys'])} requests)")

    def _find(self, token: str) -> dict | None:
        """A batch already created for this token (a kill before its id was journaled)."""
        answer = self._call("GET", "/batches?limit=100")
        for b in answer.get("data") or []:
            if isinstance(b, dict) and (b.get("metadata") or {}).get("assay_token") == token:
                return b
        return None

    def _poll(self, journal: BatchJournal, row: dict) -> dict:
        """Poll with backoff until the batch is final; journal each status change."""
        wait, start = self.poll_s, time.monotonic()
        while True:
            batch = self._call("GET", f"/batches/{row['batch_id']}")
            status = batch.get("status")
            if status != row["status"]:
                journal.update(row, status=status)
                self.notify(f"batch {row['batch_id']}: {status}")
            if status in FINAL:
                return batch
            if self.max_wait_s is not None and time.monotonic() - start > self.max_wait_s:
                raise AssayError(f"batch {row['batch_id']} is still {status} after "
                                 f"{self.max_wait_s:g} s (max_wait_s). Fix: rerun the same "
                                 "command later: it polls the same batch, nothing is resent")
            time.sleep(wait)
            wait = min(self.max_poll_s, wait * 1.5)

    def _results(self, batch: dict) -> dict[str, Completion]:
        """key -> completion (or error) from the batch's output and error files."""
        out: dict[str, Completion] = {}
        for name in ("output_file_id", "error_file_id"):
            fid = batch.get(name)
            if not fid:
                continue
            raw = self._call("GET", f"/files/{fid}/content", raw=True)
            for lineno, line in enumerate(raw.decode("utf-8").splitlines(), 1):
                if line.strip():
                    key, completion = self._result(line, batch["id"], name, lineno)
                    out[key] = completion
        return out

    def _result(self, line: str, bid: str, name: str, lineno: int) -> tuple[str, Completion]:
        from .openai import completion_of

        try:
            row = json.loads(line)
            key = str(row["custom_id"])
        except (ValueError, KeyError, TypeError):
            raise AssayError(f"batch {bid}: line {lineno} of its {name} is not a Batch API "
                             "result (no custom_id). Fix: check the server's Batch API") from None
        response = row.get("response") or {}
        code = response.get("status_code")
        if code == 200 and not row.get("error"):
            try:
                return key, completion_of(response["body"], None, 1)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                return key, Completion(error=f"malformed result in batch {bid}: {exc!r}")
        detail = row.get("error") or (response.get("body") or {}).get("error") or {}
        message = detail.get("message") if isinstance(detail, dict) else str(detail)
        return key, Completion(error=f"HTTP {code} in batch {bid}: "
                                     f"{self._scrub(str(message))[:300]}")

    def _missing(self, batch: dict) -> str:
        status = batch.get("status")
        if status == "completed":
            return f"no result for this request in batch {batch['id']}"
        return (f"batch {batch['id']} ended {status} without a result for this request; a "
                "rerun submits it again")

    def _body(self, req: Request) -> dict[str, Any]:
        from .openai import chat_body

        return chat_body(self.spec.model, req, self.extra_body)

    # -- HTTP -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: dict | None = None, *,
              files: bytes | None = None, raw: bool = False):
        """One API call with retries on connection errors, 429 and 5xx; JSON back (or bytes)."""
        import urllib.error

        shown = mask_url(self.url) + path.split("?", 1)[0]
        for attempt in range(1, self.max_retries + 2):
            try:
                status, data = self._request(method, path, payload, files)
            except (urllib.error.URLError, OSError) as exc:
                error = f"cannot reach {shown} ({getattr(exc, 'reason', exc)})"
            else:
                if status == 200:
                    return data if raw else json.loads(data)
                body = self._scrub(data[:300].decode("utf-8", "replace"))
                error = f"HTTP {status} from {shown}: {body}"
                if status not in (408, 409, 429, 500, 502, 503, 504):
                    break
            if attempt <= self.max_retries:
                time.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)))
        raise AssayError(f"{method} {shown} failed: {error}. Fix: check the server and the key "
                         f"({self.api_key_env}), then rerun the same command (a submitted "
                         "batch is polled again, never resubmitted)")

    def _request(self, method: str, path: str, payload: dict | None,
                 files: bytes | None) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        data = None
        if files is not None:
            boundary = uuid.uuid4().hex
            data = _multipart(boundary, files)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _scrub(self, text: str) -> str:
        from ..text.redact import redact

        if self._api_key and len(self._api_key) >= 8:
            text = text.replace(self._api_key, "<API_KEY>")
        return redact(text.replace(self.url, mask_url(self.url)))


def _multipart(boundary: str, content: bytes) -> bytes:
    """A multipart/form-data body with ``purpose=batch`` and the JSONL as ``file``."""
    b = boundary.encode()
    return (b"--" + b + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            + b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="assay-batch.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n'
            + content + b"\r\n--" + b + b"--\r\n")
