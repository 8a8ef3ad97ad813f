"""Reading and writing the JSONL files of this package (each written via a temporary file)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..dataset import read_records
from ..errors import InputError
from ..jsonable import to_jsonable


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(to_jsonable(r), ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def read_jsonl(path: str | Path, flag: str = "--data") -> list[tuple[int, dict]]:
    """(line, record) of every line; a malformed line raises its InputError."""
    out = []
    for line, rec in read_records(path, flag):
        if isinstance(rec, InputError):
            raise rec
        out.append((line, rec))
    return out
