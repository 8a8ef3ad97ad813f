"""The ledger: requests, tokens and cost per round and in total, and the budget guard.

Tokens are those the server reported for every completion the dataset uses, cached or new, so the
card's totals are the cost of the dataset, whichever run paid for them. The budget is checked
before each request that would be sent: the spent cost plus a worst-case estimate of every
request in flight (prompt characters / 4 in, max_tokens out) must stay within it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Completion

CHARS_PER_TOKEN = 4


class BudgetExhausted(Exception):
    """The next request could exceed --budget; the loop stops that chain cleanly."""


@dataclass
class RoundTally:
    requests_sent: int = 0
    cache_hits: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_missing: int = 0

    def add(self, c: Completion, cached: bool) -> None:
        if cached:
            self.cache_hits += 1
        else:
            self.requests_sent += 1
        if c.error:
            self.errors += 1
            return
        if c.prompt_tokens is None or c.completion_tokens is None:
            self.usage_missing += 1
        self.prompt_tokens += c.prompt_tokens or 0
        self.completion_tokens += c.completion_tokens or 0


@dataclass
class Ledger:
    """Tallies per round, prices (USD per 1M tokens) and the budget."""

    price_in: float | None = None
    price_out: float | None = None
    budget: float | None = None
    rounds: dict[int, RoundTally] = field(default_factory=dict)
    reserved: float = 0.0
    budget_stops: int = 0
    rate: float = 1.0  # share of the prices charged: 0.5 for a batch API

    def cost_of(self, prompt_tokens: float, completion_tokens: float) -> float:
        return self.rate * (prompt_tokens * (self.price_in or 0.0)
                            + completion_tokens * (self.price_out or 0.0)) / 1e6

    def record(self, round_: int, c: Completion, cached: bool) -> None:
        self.rounds.setdefault(round_, RoundTally()).add(c, cached)

    def spent(self) -> float:
        return self.cost_of(self.total("prompt_tokens"), self.total("completion_tokens"))

    def total(self, name: str) -> int:
        return sum(getattr(t, name) for t in self.rounds.values())

    def estimate(self, messages, max_tokens: int) -> float:
        chars = sum(len(m.get("content", "")) for m in messages)
        return self.cost_of(chars / CHARS_PER_TOKEN, max_tokens)

    def reserve(self, estimate: float) -> None:
        """Hold the worst case of a request about to be sent, or raise BudgetExhausted."""
        if self.budget is not None and self.spent() + self.reserved + estimate > self.budget:
            self.budget_stops += 1
            raise BudgetExhausted
        self.reserved += estimate

    def release(self, estimate: float) -> None:
        self.reserved -= estimate

    def to_dict(self) -> dict:
        rounds = [{"round": r, **vars(t)} for r, t in sorted(self.rounds.items())]
        priced = self.price_in is not None or self.price_out is not None
        totals = {k: self.total(k) for k in vars(RoundTally())}
        return {"rounds": rounds, "totals": totals,
                "price_in_per_1m": self.price_in, "price_out_per_1m": self.price_out,
                "price_rate": self.rate,
                "cost_usd": self.spent() if priced else None, "budget_usd": self.budget,
                "stopped_by_budget": self.budget_stops > 0}
