"""What the loop produces per item: its attempts, each with the check's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..tasks import Check

# an item's status at the end of the loop
PASSED, NEVER_PASSED, ERROR, BUDGET = "passed", "never_passed", "error", "budget"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One teacher completion: its place in the chain (round r of candidate k revises round r-1
    of candidate k), the text, the check, and what it cost."""

    item_id: str
    round: int
    candidate: int
    request_key: str
    prompt_hash: str
    text: str
    check: Check
    feedback_sent: str | None  # the feedback in this attempt's own request (None for a draft)
    prompt_tokens: int | None
    completion_tokens: int | None
    cached: bool
    error: str | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class ItemRun:
    """An item's history: every attempt in the order they finished, and why the loop stopped."""

    item: dict
    attempts: list[Attempt] = field(default_factory=list)
    status: str = NEVER_PASSED

    @property
    def item_id(self) -> str:
        return str(self.item["id"])

    def passed_by_round(self, rounds: int) -> list[bool]:
        """Whether some attempt had passed after round 0, 1, ... rounds-1."""
        ok = [a.round for a in self.attempts if a.check.ok]
        first = min(ok) if ok else None
        return [first is not None and first <= r for r in range(rounds)]
