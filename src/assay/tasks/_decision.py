"""Helpers shared by the decision tasks (paper-review, bias-judge): picking the scored rows of a
pass, splitting them by a slice label, and shares that are nan when there is nothing to count."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._protocol import ORIGINAL, Record

# Below this many items a per-slice statistic is shown, with its n and a warning: a kappa or an
# F1 on a handful of items swings by tenths when one item changes.
MIN_SLICE_N = 20


def scored(records: Sequence[Record], pass_: str = ORIGINAL) -> list[Record]:
    """Greedy records of one pass that carry scores (failed requests have none).

    Written as one comprehension with plain indexing (every record has these keys): a paired
    bootstrap calls each metric thousands of times, and this scan is most of its cost.
    """
    return [r for r in records if r["sample"] is None and r["pass"] == pass_ and r["scores"]]


def slice_values(records: Sequence[Record], key: str) -> list[str]:
    """The distinct values of a slice label in the scores, sorted; None is left out."""
    return sorted({str(r["scores"][key]) for r in records
                   if r.get("scores") and r["scores"].get(key) is not None})


def in_slice(rows: Sequence[Record], key: str, value: str) -> list[Record]:
    return [r for r in rows if str(r["scores"].get(key)) == value]


def share(rows: Sequence[Any], hit: Callable[[Any], bool]) -> float:
    """Fraction of rows where ``hit`` holds; nan for no rows."""
    return sum(bool(hit(r)) for r in rows) / len(rows) if rows else math.nan


def mean(values: Sequence[float]) -> float:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else math.nan


def small_slice_warning(kind: str, name: str, n: int, min_n: int = MIN_SLICE_N) -> str | None:
    """A warning for a slice too small to read a statistic from, or None."""
    if n >= min_n:
        return None
    return (f"{kind} '{name}' has only n={n} scored items (< {min_n}); its statistics are "
            "shown but are too noisy to compare")
