"""Read task items from JSONL, JSON, Parquet or a Hugging Face dataset directory, validated once.

Every error names the file, the line (or row), the field and the value, and says how to fix it;
with ``skip_invalid`` bad records are counted and skipped instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class Field:
    """One field of a task's item schema."""

    name: str
    types: tuple[type, ...] = (str,)
    required: bool = True
    choices: tuple[Any, ...] | None = None
    nonempty: bool = False


@dataclass(frozen=True)
class Dataset:
    """Validated items plus where they came from."""

    items: list[dict]
    path: str
    sha256: str
    skipped: tuple[str, ...] = field(default_factory=tuple)


def file_sha256(path: str | Path) -> str:
    """Content hash of a file, or of every file under a directory (sorted by relative path)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for q in files:
        if p.is_dir():
            h.update(str(q.relative_to(p)).encode())
        with open(q, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def read_records(path: str | Path, flag: str = "--data"
                 ) -> Iterator[tuple[int, dict | InputError]]:
    """Yield (line or row number, record) from a JSONL/JSON/Parquet file or an HF dataset dir.

    A malformed JSONL line is yielded as an InputError in place of the record, so callers can
    decide between failing and skipping. ``flag`` is the option that named the file (for the
    message when it is missing).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p), fix=f"check the path given to {flag}")
    if p.is_dir():
        yield from _read_hf_dir(p)
    elif p.suffix == ".parquet":
        yield from _read_parquet(p)
    elif p.suffix == ".json":
        yield from _read_json_array(p)
    else:
        yield from _read_jsonl(p)


_SKIP_FIX = " (or pass --skip-invalid to skip such lines)"


def parse_json_line(raw: bytes, file: str, line: int) -> Any | InputError:
    """One JSON value from one line's bytes, or an InputError naming the line and the fix:
    invalid UTF-8, malformed JSON, nesting too deep for the parser, a number too long."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                          f"{exc.start + 1})", file=file, line=line,
                          fix="save the file as UTF-8" + _SKIP_FIX)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(f"malformed JSON ({exc.msg} at column {exc.colno})", file=file,
                          line=line, fix="write one JSON object per line" + _SKIP_FIX)
    except RecursionError:
        return InputError("JSON nested too deeply to read", file=file, line=line,
                          fix="flatten the record (items need a few levels at most)" + _SKIP_FIX)
    except ValueError as exc:  # Python's limit on the digits of an integer (4,300)
        return InputError(f"a number too long to read ({str(exc).split(';')[0]})", file=file,
                          line=line, fix="write long ids and numbers as strings" + _SKIP_FIX)


def _read_jsonl(p: Path) -> Iterator[tuple[int, dict | InputError]]:
    with open(p, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            rec = parse_json_line(raw, str(p), lineno)
            if not isinstance(rec, (dict, InputError)):
                rec = InputError("expected a JSON object", file=str(p), line=lineno, value=rec,
                                 fix="write one JSON object per line")
            yield lineno, rec


def _read_json_array(p: Path) -> Iterator[tuple[int, dict | InputError]]:
    data = parse_json_line(p.read_bytes(), str(p), 1)
    if isinstance(data, InputError):
        raise InputError(str(data).split(": ", 1)[-1].split(". Fix:")[0], file=str(p),
                         fix="give a valid UTF-8 JSON array of objects, or a JSONL file")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError("expected a JSON array of objects", file=str(p),
                         value=type(data).__name__, fix="give a JSON array or a JSONL file")
    for i, rec in enumerate(data, 1):
        yield i, rec if isinstance(rec, dict) else InputError(
            "expected a JSON object", file=str(p), line=i, value=rec)


def _read_parquet(p: Path) -> Iterator[tuple[int, dict | InputError]]:
    from .errors import require

    pq = require("pyarrow.parquet", "train")
    for i, rec in enumerate(pq.read_table(p).to_pylist(), 1):
        yield i, rec


def _read_hf_dir(p: Path) -> Iterator[tuple[int, dict | InputError]]:
    from .errors import require

    datasets = require("datasets", "train")
    ds = datasets.load_from_disk(str(p))
    if isinstance(ds, datasets.DatasetDict):
        split = "test" if "test" in ds else next(iter(ds))
        ds = ds[split]
    for i, rec in enumerate(ds, 1):
        yield i, dict(rec)


def validate(rec: dict, schema: Sequence[Field], *, file: str, line: int) -> dict:
    """Check one record against a schema; return it or raise an InputError naming the field."""
    for f in schema:
        if f.name not in rec or rec[f.name] is None:
            if f.required:
                raise InputError("missing required field", file=file, line=line, field=f.name,
                                 fix=f"add '{f.name}' to every record")
            continue
        v = rec[f.name]
        if not isinstance(v, f.types) or (isinstance(v, bool) and bool not in f.types):
            names = " or ".join(t.__name__ for t in f.types)
            raise InputError(f"expected {names}, found {type(v).__name__}", file=file, line=line,
                             field=f.name, value=v, fix=f"make '{f.name}' a {names}")
        if f.choices is not None and v not in f.choices:
            raise InputError(f"must be one of {list(f.choices)}", file=file, line=line,
                             field=f.name, value=v, fix=f"use one of {list(f.choices)}")
        if f.nonempty and isinstance(v, (str, list, dict)) and not v:
            raise InputError("must not be empty", file=file, line=line, field=f.name, value=v)
    return rec


def load_items(path: str | Path, schema: Sequence[Field], *, skip_invalid: bool = False,
               id_field: str = "id", records: Iterator[tuple[int, dict | InputError]] | None = None
               ) -> Dataset:
    """Read and validate items; ids must be unique. Errors raise unless ``skip_invalid``."""
    file = str(path)
    items: list[dict] = []
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for line, rec in records if records is not None else read_records(path):
        try:
            if isinstance(rec, InputError):
                raise rec
            rec = validate(rec, schema, file=file, line=line)
            key = str(rec[id_field])
            if key in seen:
                raise InputError(f"duplicate id (first seen on line {seen[key]})", file=file,
                                 line=line, field=id_field, value=rec[id_field],
                                 fix="give every item a unique id")
            seen[key] = line
            items.append(rec)
        except InputError as exc:
            if not skip_invalid:
                raise
            skipped.append(str(exc))
    if not items:
        raise InputError("no valid items", file=file,
                         fix="check the file is not empty" + ("" if skip_invalid else
                                                              " or fix the reported lines"))
    sha = file_sha256(path) if Path(path).exists() else ""
    return Dataset(items=items, path=file, sha256=sha, skipped=tuple(skipped))
