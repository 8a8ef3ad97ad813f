"""The filters after selection, each with its count: parse check, exact and near duplicates.

(Contamination is in ``contamination``: it runs before any teacher request.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..tasks import Task, Unparsed
from .dedupe import Duplicate, exact_duplicates, near_duplicates


@dataclass(frozen=True, slots=True)
class Filtered:
    """The ids that survive, and why each other one was dropped."""

    kept: tuple[str, ...]
    unparsed: dict[str, str]
    exact: dict[str, Duplicate]
    near: dict[str, Duplicate]

    def counts(self) -> dict[str, int]:
        return {"dropped_unparsed": len(self.unparsed),
                "dropped_exact_duplicates": len(self.exact),
                "dropped_near_duplicates": len(self.near), "written": len(self.kept)}


def apply_filters(task: Task, ids: Sequence[str], texts: Sequence[str],
                  near_threshold: float) -> Filtered:
    """Parse check, then exact dedupe of normalised targets, then near-dup (in item order)."""
    unparsed = {}
    for i, t in zip(ids, texts):
        parsed = task.parse(t)
        if isinstance(parsed, Unparsed):
            unparsed[i] = parsed.reason
    rest = [(i, t) for i, t in zip(ids, texts) if i not in unparsed]
    exact = exact_duplicates([i for i, _ in rest], [t for _, t in rest])
    rest = [(i, t) for i, t in rest if i not in exact]
    near = near_duplicates([i for i, _ in rest], [t for _, t in rest], near_threshold)
    kept = tuple(i for i, _ in rest if i not in near)
    return Filtered(kept, unparsed, exact, near)
