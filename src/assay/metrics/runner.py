"""The shares every run reports, whatever its task: defined here once, never by a task.

They are over completions (every pass and sample of an item) whose request succeeded: a failed
request is infrastructure, counted in the run's errors, not model behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._core import Item, Metric, custom

RESERVED = ("parse_failure_rate", "truncated_share", "mean_latency_s")


def _done(item: Item) -> list[dict]:
    return [r for r in item if not r.get("error")]


def _share_of(hit):
    def stats(item: Item):
        done = _done(item)
        return None if not done else (len(done), sum(bool(hit(r)) for r in done))
    return stats


def _latency(item: Item):
    values = [r["latency_s"] for r in _done(item) if r.get("latency_s") is not None]
    return None if not values else (len(values), sum(values))


def _ratio(s):
    return s[..., 1] / s[..., 0]


PARSE_FAILURE_RATE = custom(
    "parse_failure_rate", _share_of(lambda r: r.get("parse_error") is not None), 2, _ratio,
    direction="lower", description="share of completions (every pass and sample) whose answer "
    "did not parse")
TRUNCATED_SHARE = custom(
    "truncated_share", _share_of(lambda r: r.get("truncated")), 2, _ratio, direction="lower",
    role="descriptive", description="share of completions cut by the token limit")
MEAN_LATENCY_S = custom(
    "mean_latency_s", _latency, 2, _ratio, direction="lower", role="descriptive",
    description="mean seconds per completion (0 for answers served from the cache)")

RUNNER_METRICS = (PARSE_FAILURE_RATE, TRUNCATED_SHARE, MEAN_LATENCY_S)


def metrics_of(task, records: Sequence[dict]) -> list[Metric]:
    """The task's metrics followed by the runner's shares; a task may not redefine those."""
    from ..errors import AssayError

    own = list(task.metrics(records))
    clash = [m.name for m in own if m.name.split("/")[0] in RESERVED]
    if clash:
        raise AssayError(f"task '{task.name}' defines '{clash[0]}', which the runner defines for "
                         f"every task ({', '.join(RESERVED)}). Fix: remove it from the task's "
                         "metrics()")
    names = [m.name for m in own]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise AssayError(f"task '{task.name}' defines metric '{dup}' twice. Fix: give each "
                         "metric one name")
    return own + list(RUNNER_METRICS)


def shares(records: Sequence[dict]) -> tuple[float | None, float | None, int]:
    """(truncated share, parse failure rate, failed requests) of one model's records."""
    from ..records import succeeded

    ok = succeeded(records)
    trunc, parse = TRUNCATED_SHARE.value(ok), PARSE_FAILURE_RATE.value(ok)
    return (None if trunc != trunc else trunc, None if parse != parse else parse,
            len(records) - len(ok))
