"""The SQLite journal and cache of completions.

Every completion is committed the moment it arrives (WAL mode: a ``kill -9`` at any moment loses
no committed row and a rerun never writes one twice: the key is the primary key). The key is the
full identity of what produced the text: backend, model, base URLs or the content hash of local
weights and adapter, chat-template hash, decoding parameters, rendered-prompt hash and sample
index. Two models never share an entry, unlike a cache keyed on the prompt alone.

Errors (after the backend's retries) go to their own table: they are counted and reported, and a
rerun tries them again.

Each completion keeps the time it was journaled (``created_at``), so a run can say which of its
answers came from the cache and how old they are. ``put(..., replace=True)`` (``--no-cache``)
supersedes the stored completion of a key; the old one moves to ``completions_history`` with
the time it was superseded, so nothing is ever lost.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import AssayError
from .models._types import Completion

DEFAULT_STORE = Path(".assay") / "store.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model_key TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    sample INTEGER,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_s REAL,
    logprobs TEXT,
    attempts INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS completions_history (
    key TEXT NOT NULL,
    model_key TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    sample INTEGER,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_s REAL,
    logprobs TEXT,
    attempts INTEGER,
    created_at REAL NOT NULL,
    superseded_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS errors (
    key TEXT PRIMARY KEY,
    model_key TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER,
    created_at REAL NOT NULL
);
"""


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of an object (sorted keys, no whitespace)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def model_key(identity: dict, decoding: dict) -> str:
    """Hash of everything about the model side of a request: identity plus decoding."""
    return canonical_hash({"identity": identity, "decoding": decoding})


def request_key(model_key_: str, prompt_hash: str, sample: int | None) -> str:
    """The cache key of one completion."""
    return canonical_hash({"model": model_key_, "prompt": prompt_hash, "sample": sample})


class Store:
    """A completion journal in one SQLite file (WAL mode, one commit per completion)."""

    def __init__(self, path: str | Path = DEFAULT_STORE):
        self.path = Path(path)
        if self.path.is_dir():
            raise AssayError(f"{self.path}: the store is a directory. Fix: give --store a file "
                             f"path, e.g. {self.path / 'store.sqlite'}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            self._open()
        except (sqlite3.Error, OSError) as exc:
            raise _store_error(self.path, exc) from None

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: durable against a killed process (the WAL is in the OS), fast.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # a read-only store must fail now, before the first request, not at the first commit
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("ROLLBACK")
        self._db.execute("PRAGMA quick_check(1)").fetchone()  # a truncated file fails here
        self._error_keys = {k for (k,) in self._db.execute("SELECT key FROM errors")}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _select_in(self, columns: str, table: str, keys: Iterable[str]) -> Iterable[tuple]:
        """Rows of `table` whose key is among `keys`, in chunks under SQLite's variable limit."""
        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(
                f"SELECT {columns} FROM {table} WHERE key IN ({marks})", chunk)

    def get_many(self, keys: Iterable[str]) -> dict[str, Completion]:
        """Completions already stored for these keys (missing keys are absent)."""
        rows = self._select_in("key, text, finish_reason, prompt_tokens, completion_tokens, "
                               "latency_s, logprobs, attempts, created_at", "completions", keys)
        return {key: Completion(text=text, finish_reason=fr, prompt_tokens=pt,
                                completion_tokens=ct, latency_s=lat,
                                logprobs=json.loads(lp) if lp else None, attempts=att or 1,
                                created_at=at, cached=True)
                for key, text, fr, pt, ct, lat, lp, att, at in rows}

    def put(self, key: str, model_key_: str, prompt_hash: str, sample: int | None,
            completion: Completion, *, replace: bool = False) -> float:
        """Journal one result and return the time it was journaled; a completion is committed
        at once, an error goes to `errors`. A second completion for a key is ignored unless
        ``replace`` (--no-cache): then the stored one moves to the history and the new one
        takes its place, in one transaction."""
        try:
            return self._put(key, model_key_, prompt_hash, sample, completion, replace)
        except sqlite3.Error as exc:  # the disk filled up or the file went away mid-run
            raise _store_error(self.path, exc) from None

    def _put(self, key: str, model_key_: str, prompt_hash: str, sample: int | None,
             completion: Completion, replace: bool) -> float:
        now = time.time()
        if completion.error is not None:
            self._db.execute("INSERT OR REPLACE INTO errors VALUES (?,?,?,?,?)",
                             (key, model_key_, completion.error, completion.attempts, now))
            self._error_keys.add(key)
            return now
        row = (key, model_key_, prompt_hash, sample, completion.text, completion.finish_reason,
               completion.prompt_tokens, completion.completion_tokens, completion.latency_s,
               json.dumps(completion.logprobs) if completion.logprobs is not None else None,
               completion.attempts, now)
        if replace:
            with self._db:  # BEGIN ... COMMIT: never a key with neither the old nor the new row
                self._db.execute("BEGIN")
                self._db.execute("INSERT INTO completions_history SELECT *, ? FROM completions "
                                 "WHERE key = ?", (now, key))
                self._db.execute("INSERT OR REPLACE INTO completions VALUES "
                                 "(?,?,?,?,?,?,?,?,?,?,?,?)", row)
        else:
            self._db.execute("INSERT OR IGNORE INTO completions VALUES "
                             "(?,?,?,?,?,?,?,?,?,?,?,?)", row)
        if key in self._error_keys:
            self._db.execute("DELETE FROM errors WHERE key = ?", (key,))
            self._error_keys.discard(key)
        return now

    def history(self, key: str) -> list[Completion]:
        """The completions a key held before --no-cache superseded them, oldest first."""
        rows = self._db.execute("SELECT text, finish_reason, created_at FROM "
                                "completions_history WHERE key = ? ORDER BY superseded_at",
                                (key,))
        return [Completion(text=t, finish_reason=fr, created_at=at) for t, fr, at in rows]

    def errors_for(self, keys: Iterable[str]) -> dict[str, str]:
        """The last error recorded for each of these keys that has no completion."""
        return dict(self._select_in("key, error", "errors", keys))

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]


def _store_error(path: Path, exc: BaseException) -> AssayError:
    """One line naming the store, what is wrong with it and the fix."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    low = reason.lower()
    if "readonly" in low or "read-only" in low or "permission" in low or "access" in low:
        fix = "make it (and its folder) writable, or give another --store"
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        fix = ("it is not an intact assay store: move it away (a new store is made; its cached "
               "completions are lost) or give another --store")
    elif "disk" in low and "full" in low:
        fix = "free disk space, then rerun the same command (finished completions are kept)"
    else:
        fix = "give --store a writable file path"
    return AssayError(f"{path}: cannot use the store ({reason}). Fix: {fix}")


def complete_cached(backend, store_path: str | Path, prompts: Iterable, decoding
                    ) -> tuple[list[Completion], int]:
    """One greedy completion per prompt (a message list) from ``backend``, through the store:
    answers already there are read back, the rest are sent once (duplicate prompts share one
    request) and journaled as they finish. Returns the completions in order and how many
    requests were sent. Used by helper models inside a task's scoring (a judge, a reflector)."""
    from .models import Request

    mkey = model_key(backend.identity(), decoding.key())
    requests = []
    for i, msgs in enumerate(prompts):
        phash = canonical_hash(list(msgs))
        requests.append(Request(key=request_key(mkey, phash, None), messages=tuple(msgs),
                                decoding=decoding, item_id=str(i), prompt_hash=phash))
    with Store(Path(store_path)) as store:
        done = store.get_many(r.key for r in requests)
        missing = list({r.key: r for r in requests if r.key not in done}.values())

        def on_done(req, completion):
            store.put(req.key, mkey, req.prompt_hash, None, completion)
            done[req.key] = completion

        if missing:
            backend.generate(missing, on_done)
    return [done[r.key] for r in requests], len(missing)
