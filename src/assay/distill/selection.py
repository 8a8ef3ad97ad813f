"""Selection: each item's best attempt under the task's tiered key, and whether it is admitted.

Under ``keep="strict"`` only attempts that pass the check compete, and an item without one is not
admitted (it stays in the candidates file with the reason). Under ``"best-effort"`` such an item
contributes its best attempt, marked ``best_effort``. Every attempt's tier is kept, so a choice
can be audited later (lgtm-575 named lost intermediate candidates as a root cause of a mistake).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tasks import Task, Tier
from .attempts import BUDGET, ERROR, ItemRun


@dataclass(frozen=True, slots=True)
class Selection:
    """An item's chosen attempt (index into its attempts, or None) and every attempt's tier."""

    item_id: str
    index: int | None
    tiers: tuple[Tier | None, ...]
    admitted: bool
    best_effort: bool
    reason: str


def _tiers(task: Task, run: ItemRun, relevance_tol: float) -> list[Tier | None]:
    done = [i for i, a in enumerate(run.attempts) if a.error is None]
    hook = getattr(task, "selection_tiers", None) or (lambda i, a, **k: Task.selection_tiers(
        task, i, a, **k))
    got = hook(run.item, [run.attempts[i] for i in done], relevance_tol=relevance_tol) \
        if done else []
    tiers: list[Tier | None] = [None] * len(run.attempts)
    for i, t in zip(done, got):
        tiers[i] = t
    return tiers


def _unselected_reason(run: ItemRun) -> str:
    if run.status == BUDGET:
        return "stopped by --budget before an attempt passed (rerun with a higher budget)"
    if run.status == ERROR:
        last = next((a.error for a in reversed(run.attempts) if a.error), "")
        return f"request failed: {last} (rerun to retry)"
    last = run.attempts[-1].check.feedback if run.attempts else ""
    return f"never passed the check in {len(run.attempts)} attempt(s); last: {last}"


def select(task: Task, run: ItemRun, *, keep: str = "strict",
           relevance_tol: float = 0.05) -> Selection:
    """The item's best attempt by (tier, key) among those that may be admitted."""
    tiers = _tiers(task, run, relevance_tol)
    rated = [i for i, t in enumerate(tiers) if t is not None]
    passing = [i for i in rated if run.attempts[i].check.ok]
    pool = passing or (rated if keep == "best-effort" else [])
    if not pool:
        return Selection(run.item_id, None, tuple(tiers), False, False, _unselected_reason(run))
    best = max(pool, key=lambda i: (tiers[i].tier, tiers[i].key))
    effort = not passing
    why = (f"tier {tiers[best].tier} ({tiers[best].note}) of {len(rated)} attempt(s)"
           + ("; best effort: no attempt passed" if effort else ""))
    return Selection(run.item_id, best, tuple(tiers), True, effort, why)
