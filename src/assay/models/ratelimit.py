"""Client-side rate limits for a served model: requests per minute and tokens per minute.

Two token buckets, refilled continuously. The request bucket holds one request, so ``--rpm
120`` sends one request every 0.5 s rather than 120 at once and then nothing for a minute (a
hosted API counts its limit over short windows, and a burst is what earns the 429s). The token
bucket holds one second's worth of tokens; a request larger than that waits for a full bucket
and then leaves it in debt, so a long prompt is slowed, never refused. A request is charged its
estimate before it is sent (prompt characters / 4, plus ``max_tokens``: the most it can cost)
and corrected by the usage the server reports once it is back, so an over-estimate is given
back and the limit is what was really used.

A ``Retry-After`` from the server holds every request of the model, not only the one that got
it (``hold``): the server's limit is per model, not per request.

Each wait is reported, with the limit that caused it, to the caller's ``on_wait`` (the progress
bar shows it), so a slow run says that the limiter is what it waits for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

CHARS_PER_TOKEN = 4
SLICE_S = 0.25  # the longest sleep before the buckets are looked at again


def estimate_tokens(messages: Sequence[dict], max_tokens: int) -> int:
    """The most a request can cost before its usage is known: its prompt's characters / 4
    (rounded up) plus ``max_tokens``."""
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return -(-chars // CHARS_PER_TOKEN) + max(int(max_tokens), 0)


class RateLimiter:
    """Token buckets for ``rpm`` requests and ``tpm`` tokens a minute (either may be None).

    ``clock`` and ``sleep`` are passed in so tests can run the limiter on a simulated clock.
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None, got {value!r}")
        self.rpm, self.tpm = rpm, tpm
        self._clock, self._sleep = clock, sleep
        self._req_rate = rpm / 60.0 if rpm else None
        self._tok_rate = tpm / 60.0 if tpm else None
        self._req_cap = 1.0
        self._tok_cap = self._tok_rate or 0.0  # one second's worth
        self._req = self._req_cap
        self._tok = self._tok_cap
        self._last = clock()
        self._held_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._lock_loop = None  # a lock serves one event loop (each generate() runs its own)
        self.waited_s = 0.0  # total time requests waited for the limiter

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm)

    def _refill(self) -> float:
        now = self._clock()
        dt = max(0.0, now - self._last)
        self._last = now
        if self._req_rate:
            self._req = min(self._req_cap, self._req + dt * self._req_rate)
        if self._tok_rate:
            self._tok = min(self._tok_cap, self._tok + dt * self._tok_rate)
        return now

    def _wait_for(self, tokens: int) -> tuple[float, str]:
        """Seconds until a request of ``tokens`` may go, and which limit holds it."""
        now = self._refill()
        waits = [(self._held_until - now, "the server's Retry-After")]
        if self._req_rate:
            waits.append(((1.0 - self._req) / self._req_rate, f"--rpm {self.rpm:g}"))
        if self._tok_rate:
            need = min(tokens, self._tok_cap)
            waits.append(((need - self._tok) / self._tok_rate, f"--tpm {self.tpm:g}"))
        return max(waits)

    async def acquire(self, tokens: int = 0,
                      on_wait: Callable[[str], None] | None = None) -> float:
        """Wait until one request of (an estimated) ``tokens`` may be sent, charge it, and
        return the seconds waited. Requests go in the order they asked (a lock)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        waited, told = 0.0, False
        async with self._lock:
            while True:
                wait, why = self._wait_for(tokens)
                if wait <= 1e-9:
                    break
                if on_wait is not None and not told:
                    on_wait(f"rate limit ({why}): waiting {wait:.1f} s")
                    told = True
                # in slices: usage reported meanwhile (settle) may give tokens back early
                step = min(wait, SLICE_S)
                await self._sleep(step)
                waited += step
            if self._req_rate:
                self._req -= 1.0
            if self._tok_rate:
                self._tok -= tokens
        self.waited_s += waited
        return waited

    def settle(self, estimated: int, used: int | None) -> None:
        """Correct a request's charge by the tokens the server says it used (None: the
        estimate stands)."""
        if self._tok_rate and used is not None:
            self._refill()
            self._tok = min(self._tok_cap, self._tok + estimated - used)

    def hold(self, seconds: float) -> None:
        """No request before ``seconds`` from now (the server's Retry-After)."""
        self._held_until = max(self._held_until, self._clock() + max(0.0, seconds))
