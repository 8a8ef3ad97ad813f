"""Requests, decoding settings and completions shared by every backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Decoding:
    """Decoding parameters; part of every cache key.

    Greedy by default (temperature 0). Sampled passes set ``temperature`` > 0 and get a per-item,
    per-sample ``seed`` so self-consistency runs are reproducible where the backend honours seeds.
    """

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    enable_thinking: bool = False

    def key(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Request:
    """One completion to produce: the messages, how to decode, and its cache key."""

    key: str
    messages: tuple[dict[str, str], ...] | list[dict[str, str]]
    decoding: Decoding
    item_id: str = ""
    pass_: str = "original"
    sample: int | None = None
    prompt_hash: str = ""


@dataclass(frozen=True)
class Completion:
    """What a backend returned for one request (or the error it ended in after retries)."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    logprobs: list | None = None
    error: str | None = None
    attempts: int = 1
    extra: dict = field(default_factory=dict)
    # Set by the store, never by a backend: when it was journaled (unix seconds), and whether
    # this run read it from the store instead of sending the request.
    created_at: float | None = None
    cached: bool = False

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"
