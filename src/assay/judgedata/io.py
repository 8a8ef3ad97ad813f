"""Reading and writing the JSONL files of this package (each written via a temporary file)."""

from __future__ import annotations

from pathlib import Path

from ..dataset import read_records
from ..distill.outputs import write_jsonl  # noqa: F401  (one writer for both)
from ..errors import InputError

__all__ = ["read_jsonl", "write_jsonl"]


def read_jsonl(path: str | Path, flag: str = "--data") -> list[tuple[int, dict]]:
    """(line, record) of every line; a malformed line raises its InputError."""
    out = []
    for line, rec in read_records(path, flag):
        if isinstance(rec, InputError):
            raise rec
        out.append((line, rec))
    return out
