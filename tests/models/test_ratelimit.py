"""Rate limits: the token buckets on a simulated clock (exact schedules), then --rpm and --tpm
through a loopback server, with the waits reported to the progress observer."""

from __future__ import annotations

import asyncio
import json

import pytest

from assay.errors import AssayError
from assay.models.ratelimit import RateLimiter, estimate_tokens
from assay.run import EvalConfig, RunObserver, check_config, evaluate
from assay.testing import FakeOpenAIServer


class SimClock:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.now += s


def _schedule(limiter, clock, costs, used=None):
    """The simulated times at which each request is let through."""
    times = []

    async def go():
        for i, c in enumerate(costs):
            await limiter.acquire(c)
            times.append(round(clock.now, 6))
            if used is not None:
                limiter.settle(c, used[i])
    asyncio.run(go())
    return times


def test_rpm_spaces_requests_evenly():
    clock = SimClock()
    times = _schedule(RateLimiter(rpm=120, clock=clock, sleep=clock.sleep), clock, [0] * 20)
    assert times == [round(0.5 * i, 6) for i in range(20)]  # 60/120 s apart, no burst
    assert times[-1] == 9.5


def test_tpm_charges_the_estimate_and_allows_one_second_of_burst():
    clock = SimClock()
    lim = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)  # 10 tokens/s, bucket of 10
    times = _schedule(lim, clock, [5, 5, 5, 20, 5])
    # 5+5 fit the full bucket; the third waits 0.5 s for 5 tokens; 20 > the bucket waits for a
    # full one (1 s) and leaves it at -10; the next 5 need 15 more tokens: 1.5 s
    assert times == [0.0, 0.0, 0.5, 1.5, 3.0]


def test_reported_usage_gives_back_an_overestimate():
    clock = SimClock()
    lim = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)
    # estimated 10 each but 2 used: 8 come back after each request, so the next one waits only
    # for the 2 really spent (0.2 s at 10 tokens/s): five requests a second, not one
    times = _schedule(lim, clock, [10] * 5, used=[2] * 5)
    assert times == [0.0, 0.2, 0.4, 0.6, 0.8]
    clock2 = SimClock()
    uncorrected = _schedule(RateLimiter(tpm=600, clock=clock2, sleep=clock2.sleep), clock2,
                            [10] * 5)
    assert uncorrected == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_retry_after_holds_every_request():
    clock = SimClock()
    lim = RateLimiter(rpm=6000, clock=clock, sleep=clock.sleep)
    lim.hold(3.0)
    assert _schedule(lim, clock, [0, 0]) == [3.0, 3.01]


def test_estimate_is_prompt_chars_over_four_plus_max_tokens():
    assert estimate_tokens([{"role": "user", "content": "x" * 9}], 100) == 3 + 100


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="rpm"):
        RateLimiter(rpm=0)
    cfg = EvalConfig(task="t", data="d", rpm=-1)
    with pytest.raises(AssayError, match=r"--rpm must be positive \(got -1\)"):
        check_config(cfg)


class Waits(RunObserver):
    def __init__(self):
        self.messages = []

    def limited(self, label, message):
        self.messages.append((label, message))


def _items(path, n, words=1):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": " ".join(["w"] * words) + f" {i}",
                                "answer": "yes"}) + "\n")
    return str(path)


def _cfg(tmp_path, url, n, words=1, **kw):
    data = _items(tmp_path / "i.jsonl", n, words)
    return EvalConfig(task="exact", task_module="exact_task", data=data,
                      models=[f"a=openai:m@{url}"], out=str(tmp_path / "run"),
                      store=str(tmp_path / "s.sqlite"), **kw)


@pytest.fixture(autouse=True)
def _fixtures_on_path(monkeypatch):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "fixtures"))


def test_rpm_120_spreads_20_requests_over_at_least_9_s(tmp_path):
    """The issue's Done-when: measured where the server sees the requests arrive."""
    obs = Waits()
    with FakeOpenAIServer(lambda b: "yes") as srv:
        res = evaluate(_cfg(tmp_path, srv.base_url, 20, rpm=120, concurrency=32), obs)
    span = srv.stats.arrivals[-1] - srv.stats.arrivals[0]
    gaps = [b - a for a, b in zip(srv.stats.arrivals, srv.stats.arrivals[1:])]
    assert res.requests_sent == 20 and srv.stats.requests == 20
    assert span >= 9.0, span
    assert min(gaps) >= 0.45  # evenly spread, not a burst then a pause
    assert srv.stats.max_in_flight == 1
    assert obs.messages and all(m.startswith("rate limit (--rpm 120): waiting")
                                for _, m in obs.messages)


def test_tpm_limits_too(tmp_path):
    # each request: a prompt of ~60 characters (15 tokens) + max_tokens 45, an estimate of
    # about 64 tokens, more than the bucket (40 at --tpm 2400: 40 tokens/s); the server reports
    # the words it saw (30 in, 1 out). Whatever is in flight, the bucket holds 40 when the
    # last request is let through, after the first nine have spent at least what they used:
    # so the span is at least (used by the first nine) / 40 s; without the correction by
    # reported usage it would be 9 x 64 / 40 = 14.4 s.
    obs = Waits()
    with FakeOpenAIServer(lambda b: "yes") as srv:
        res = evaluate(_cfg(tmp_path, srv.base_url, 10, words=25, tpm=2400, concurrency=8,
                            max_tokens=45), obs)
    span = srv.stats.arrivals[-1] - srv.stats.arrivals[0]
    from assay.rundir import load_run

    run = load_run(res.out_dir)
    used = [r["prompt_tokens"] + r["completion_tokens"] for r in run.records]
    assert res.requests_sent == 10
    assert used == [31] * 10
    assert 9 * 31 / 40 - 0.1 <= span < 9 * 64 / 40, span  # limited, and by the usage
    assert obs.messages and "--tpm 2400" in obs.messages[0][1]


def test_the_progress_line_says_when_the_limiter_waits():
    from assay.commands._progress import _Counting, status_line

    obs = _Counting()
    obs.say = lambda text: None
    obs.planned("a", 20, 0)
    obs.limited("a", "rate limit (--rpm 120): waiting 0.5 s")
    obs.limited("a", "rate limit (--rpm 120): waiting 0.5 s")
    line = status_line("a", obs.models["a"])
    assert line.endswith("; 2 held by the rate limit (--rpm 120): waiting 0.5 s")
