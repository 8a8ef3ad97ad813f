"""Streaming reader for pi coding-agent session files (v3 entry trees and the legacy v1 list).

A session file is JSONL. Version 3 (and 2) files start with a ``{"type": "session", "version": N}``
header and every entry carries ``id``/``parentId``: the entries form a tree and the active branch
is the path from the last entry in the file (the leaf the user was on) up to the root. Legacy files
have no version and no ids: the entries are the conversation, in file order.

Memory bound: a session is never loaded whole. Legacy files are streamed in one pass. Tree files
take two passes: the first keeps, per entry, only ``(id, parentId, byte offset, line number)``
(about 200 bytes each, so ~20 MB for 100k entries whatever the file size); the second seeks to the
entries of the active branch and parses them one at a time. Lines longer than
``ReaderConfig.max_line_bytes`` are skipped without being held in memory (read in 1 MB chunks).
Peak memory is therefore O(entries x 200 B + one line), not O(file size).

Malformed lines (not UTF-8, not JSON, two JSON objects on one line, truncated JSON, a JSON value
that is not an object, an entry without ``type``, a tree entry without ``id``, over-long lines)
are reported as :class:`Malformed` with file and line and skipped; the rest of the file is read.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

__all__ = ["KNOWN_TYPES", "Entry", "Malformed", "ReaderConfig", "SessionInfo", "SessionStream",
           "open_session", "read_session"]

KNOWN_TYPES = frozenset({
    "session", "message", "model_change", "thinking_level_change", "compaction", "branch_summary",
    "custom", "custom_message", "label", "session_info",
})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReaderConfig:
    """How tolerant the reader is. ``max_line_bytes``: longer lines are skipped as malformed."""

    max_line_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if self.max_line_bytes < 1024:
            raise ValueError(f"max_line_bytes must be >= 1024, got {self.max_line_bytes}")


@dataclass(frozen=True)
class Malformed:
    """One skipped line: where it is and why."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Entry:
    """One session entry. ``id`` is the v3 id, or ``L<line>`` for legacy entries without one."""

    line: int
    type: str
    id: str
    parent_id: str | None
    data: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        msg = self.data.get("message")
        return msg if isinstance(msg, dict) else {}

    @property
    def role(self) -> str | None:
        return self.message.get("role") if self.type == "message" else None


@dataclass
class SessionInfo:
    """What reading one file found; filled in while the entries stream (complete once exhausted)."""

    file: str
    version: int | None = None
    header: dict[str, Any] = field(default_factory=dict)
    lines: int = 0
    entries_total: int = 0
    branch_entries: int = 0
    malformed: list[Malformed] = field(default_factory=list)
    type_counts: Counter = field(default_factory=Counter)
    unknown_types: Counter = field(default_factory=Counter)

    @property
    def is_tree(self) -> bool:
        return self.version is not None and self.version >= 2


def _iter_raw_lines(fh: BinaryIO, max_bytes: int) -> Iterator[tuple[int, int, bytes | None]]:
    """Yield (line number, byte offset, bytes); bytes is None for a line over ``max_bytes``."""
    lineno, offset = 0, 0
    while True:
        start = offset
        chunk = fh.readline(max_bytes + 1)
        if not chunk:
            return
        lineno += 1
        offset += len(chunk)
        if len(chunk) > max_bytes and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # drain the rest without keeping it
                chunk = fh.readline(_CHUNK)
                offset += len(chunk)
            yield lineno, start, None
            continue
        yield lineno, start, chunk


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) or (None, reason)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte {exc.start})"
    text = text.strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, _json_reason(text, exc)
    except RecursionError:
        return None, "JSON nested too deeply to read"
    except ValueError:  # Python's limit on the digits of an integer
        return None, "a number too long to read"
    if not isinstance(obj, dict):
        return None, f"a JSON {type(obj).__name__}, not an object"
    if not isinstance(obj.get("type"), str):
        return None, "entry has no 'type'"
    return obj, None


def _json_reason(text: str, exc: json.JSONDecodeError) -> str:
    if exc.msg == "Extra data":
        return f"two JSON values on one line (the second starts at column {exc.pos + 1})"
    if exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated"):
        return f"truncated JSON ({exc.msg} at column {exc.pos + 1})"
    return f"invalid JSON ({exc.msg} at column {exc.pos + 1})"


class SessionStream:
    """Iterate the entries of one session's active branch; ``info`` holds counts and problems.

    Use as ``with open_session(path) as s: for entry in s: ...``; ``s.info`` is complete after the
    loop. The header line is not yielded (it is in ``info.header``).
    """

    def __init__(self, path: str | Path, config: ReaderConfig | None = None):
        self.path = Path(path)
        self.config = config or ReaderConfig()
        self.info = SessionInfo(file=str(path))
        self._fh: BinaryIO | None = None

    def __enter__(self) -> "SessionStream":
        self._fh = open(self.path, "rb")
        self._read_header()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __iter__(self) -> Iterator[Entry]:
        if self._fh is None:
            raise ValueError("iterate a SessionStream inside 'with open_session(path) as s'")
        if self.info.is_tree:
            yield from self._tree_entries()
        else:
            yield from self._legacy_entries()

    def _bad(self, line: int, reason: str) -> None:
        self.info.malformed.append(Malformed(self.info.file, line, reason))

    def _objects(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """Every well-formed object after the header: (line, offset, object); counts lines."""
        self._fh.seek(0)
        for lineno, offset, raw in _iter_raw_lines(self._fh, self.config.max_line_bytes):
            self.info.lines = lineno
            if raw is None:
                self._bad(lineno, f"line longer than {self.config.max_line_bytes} bytes")
                continue
            if not raw.strip():
                continue
            obj, reason = _parse(raw)
            if obj is None:
                self._bad(lineno, reason)
            elif not (lineno == 1 and obj.get("type") == "session"):
                yield lineno, offset, obj

    def _read_header(self) -> None:
        self._fh.seek(0)
        first = next(_iter_raw_lines(self._fh, self.config.max_line_bytes), None)
        if first is None or first[2] is None:
            return
        obj, _ = _parse(first[2])
        if obj is not None and obj.get("type") == "session":
            self.info.header = obj
            version = obj.get("version")
            self.info.version = version if isinstance(version, int) else None

    def _count(self, obj: dict[str, Any]) -> None:
        kind = obj["type"]
        self.info.entries_total += 1
        self.info.type_counts[kind] += 1
        if kind not in KNOWN_TYPES:
            self.info.unknown_types[kind] += 1

    def _legacy_entries(self) -> Iterator[Entry]:
        for lineno, _, obj in self._objects():
            self._count(obj)
            self.info.branch_entries += 1
            yield Entry(lineno, obj["type"], str(obj.get("id") or f"L{lineno}"), None, obj)

    def _tree_entries(self) -> Iterator[Entry]:
        index, last_id = self._index_tree()
        for entry_id in _branch(index, last_id):
            line, offset, parent = index[entry_id]
            self._fh.seek(offset)
            raw = self._fh.readline(self.config.max_line_bytes + 1)
            obj, _ = _parse(raw)
            self.info.branch_entries += 1
            yield Entry(line, obj["type"], entry_id, parent, obj)

    def _index_tree(self) -> tuple[dict[str, tuple[int, int, str | None]], str | None]:
        """Pass 1: id -> (line, offset, parentId) for every entry; the last entry's id."""
        index: dict[str, tuple[int, int, str | None]] = {}
        last_id = None
        for lineno, offset, obj in self._objects():
            entry_id = obj.get("id")
            if not isinstance(entry_id, str) or not entry_id:
                self._bad(lineno, f"v{self.info.version} entry of type '{obj['type']}' has no 'id'")
                continue
            self._count(obj)
            if entry_id in index:
                self._bad(lineno, f"duplicate id '{entry_id}' (the later entry wins)")
            parent = obj.get("parentId")
            index[entry_id] = (lineno, offset, parent if isinstance(parent, str) else None)
            last_id = entry_id
        return index, last_id


def _branch(index: dict[str, tuple[int, int, str | None]], leaf: str | None) -> list[str]:
    """Ids from the root down to ``leaf``; stops at a missing parent or a cycle."""
    path: list[str] = []
    seen: set[str] = set()
    node = leaf
    while node is not None and node in index and node not in seen:
        seen.add(node)
        path.append(node)
        node = index[node][2]
    path.reverse()
    return path


def open_session(path: str | Path, config: ReaderConfig | None = None) -> SessionStream:
    """A context manager streaming the active branch of one session file."""
    return SessionStream(path, config)


def read_session(path: str | Path, config: ReaderConfig | None = None) -> tuple[
        list[Entry], SessionInfo]:
    """All active-branch entries of a (small) session, and its info. Streams for big files:
    prefer :func:`open_session` there."""
    with open_session(path, config) as stream:
        entries = list(stream)
    return entries, stream.info
