"""The rows of ``items.jsonl`` and the few ways every module selects them, written once.

A *record* is one completion of one model for one item, pass and sample (see
``assay.tasks._protocol`` for its fields). Metrics, the comparison, the reports and training all
need the same selections: the greedy completion of a pass, the records of one item, a score as a
per-item outcome. They live here so that each is defined one way (the audit of the first landing
found the greedy selection written six ways).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

ORIGINAL = "original"
SWAPPED = "swapped"

Record = dict[str, Any]


def is_greedy(record: Record, pass_: str = ORIGINAL) -> bool:
    """The unsampled completion of ``pass_``."""
    return record.get("sample") is None and (record.get("pass") or ORIGINAL) == pass_


def greedy(records: Iterable[Record], pass_: str = ORIGINAL) -> list[Record]:
    """The scored greedy records of one pass (a failed request carries no scores)."""
    return [r for r in records if is_greedy(r, pass_) and r.get("scores")]


def greedy_record(item_records: Iterable[Record], pass_: str = ORIGINAL) -> Record | None:
    """The scored greedy record of one pass among one item's records, or None."""
    for r in item_records:
        if is_greedy(r, pass_) and r.get("scores"):
            return r
    return None


def greedy_by_id(records: Iterable[Record], pass_: str = ORIGINAL) -> dict[str, Record]:
    """Item id -> its greedy record of ``pass_`` (scored or not)."""
    return {str(r["id"]): r for r in records if is_greedy(r, pass_)}


def by_item(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Item id -> all of its records (every pass and sample), in file order."""
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(str(r["id"]), []).append(r)
    return out


def succeeded(records: Iterable[Record]) -> list[Record]:
    """Records whose request did not fail (a failure is infrastructure, not model behaviour)."""
    return [r for r in records if not r.get("error")]


def score(record: Record | None, key: str) -> Any:
    """A score of a record, None when the record or the key is absent."""
    if record is None:
        return None
    return (record.get("scores") or {}).get(key)


def slice_values(records: Sequence[Record], key: str) -> list[str]:
    """The distinct values of a slice label in the greedy original scores, sorted (None left out)."""
    return sorted({str(v) for r in greedy(records) if (v := score(r, key)) is not None})
