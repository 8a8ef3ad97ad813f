"""The small protocol every task follows: load, passes, render, parse, score, metrics, check.

A task is a plain object of a few functions plus its metric list (nanochat's shape, inspect's
"a parse failure is its own outcome"). The runner owns generation and storage; the task owns
what the prompt says, how an answer is read, and how it is judged.

Records. ``score`` returns a flat JSON-able dict for one completion; the runner writes it as the
``scores`` field of a row of ``items.jsonl``. A row (a *record*) is a plain dict::

    {"id", "model", "pass", "sample", "prompt_hash", "output", "finish_reason", "truncated",
     "parsed", "parse_error", "scores": {...}, "latency_s", "prompt_tokens",
     "completion_tokens", "error"}

``sample`` is None for the greedy completion and k for the k-th sampled one. Metric functions
take the list of records of one model (all passes and samples) and return a float (nan when
undefined), so the comparison can recompute any metric on a bootstrap resample of items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..dataset import Dataset, Field, load_items

ORIGINAL = "original"
SWAPPED = "swapped"

Messages = list[dict[str, str]]
Record = dict[str, Any]


@dataclass(frozen=True)
class Unparsed:
    """A completion the task could not read; a parse failure is its own outcome, never 'wrong'."""

    reason: str


@dataclass(frozen=True)
class Output:
    """What the model returned for one request, as the task's ``score`` sees it."""

    text: str
    pass_: str = ORIGINAL
    sample: int | None = None
    finish_reason: str | None = None
    logprobs: list | None = None


@dataclass(frozen=True)
class Check:
    """Result of a task's check on a candidate output: ok, and feedback a teacher can act on."""

    ok: bool
    feedback: str = ""
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """One number a task reports per model, and how two models are compared on it.

    test: "mcnemar" when ``outcome`` names a per-item bool score (pass/fail on the greedy original
    pass); "permutation" when ``outcome`` names a per-item float (paired sign-flip test);
    "bootstrap" for any other function of the records (F1, kappa...), resampling items.

    group: a score key whose value clusters items (several reviews of one paper): the bootstrap
    resamples whole clusters.

    item_stats / from_sums (optional, both or neither): when the metric is a function of sums
    over items of a small per-item vector (a rate: (hits, count); kappa: confusion cells), give
    item_stats(records of ONE item) -> k numbers and a vectorized from_sums((..., k)) -> (...).
    The metric must then equal from_sums(sum of item_stats over items), and the comparison
    bootstraps it with one matrix product per chunk of resamples (stats.sums_bootstrap) instead of
    calling ``compute`` on every resample: 10,000 resamples in milliseconds, not minutes.
    """

    name: str
    compute: Callable[[Sequence[Record]], float]
    test: Literal["mcnemar", "permutation", "bootstrap"] = "bootstrap"
    outcome: str | None = None
    baseline: Callable[[Sequence[Record]], float] | None = None
    baseline_name: str | None = None
    higher_is_better: bool = True
    group: str | None = None
    description: str = ""
    item_stats: Callable[[Sequence[Record]], Sequence[float]] | None = None
    from_sums: Callable[[Any], Any] | None = None


class Task:
    """Base class with the defaults; a task overrides what it needs.

    Class attributes: ``name``, ``description``, ``schema`` (list of Field), ``max_tokens`` (a
    budget large enough for the task's longest sensible answer), ``samples`` and
    ``sample_temperature`` (self-consistency passes; 0 samples = greedy only).
    """

    name: str = ""
    description: str = ""
    schema: Sequence[Field] = (Field("id", (str, int)),)
    max_tokens: int = 512
    samples: int = 0
    sample_temperature: float = 0.3

    def load(self, path: str | Path, *, skip_invalid: bool = False) -> Dataset:
        """Read and validate items from a file or directory."""
        return load_items(path, self.schema, skip_invalid=skip_invalid)

    def passes(self, item: dict) -> list[str]:
        """The prompt variants an item is asked in (e.g. original and swapped order)."""
        return [ORIGINAL]

    def render(self, item: dict, pass_: str = ORIGINAL) -> Messages:
        """Chat messages for one item: identical for every model."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """The answer read from a completion, or Unparsed(reason)."""
        raise NotImplementedError

    def score(self, item: dict, parsed: Any, output: Output) -> dict[str, Any]:
        """Flat JSON-able per-item scores (outcomes and the evidence behind them)."""
        raise NotImplementedError

    def score_batch(self, items: Sequence[dict], parsed: Sequence[Any],
                    outputs: Sequence[Output]) -> list[dict[str, Any]]:
        """Score many completions at once (tasks that embed override this to batch)."""
        return [self.score(i, p, o) for i, p, o in zip(items, parsed, outputs)]

    def metrics(self, records: Sequence[Record]) -> list[Metric]:
        """The metrics of this task, built from one model's records (slice metrics read the
        slice labels the task put into ``scores``). Items are not needed: the comparison
        recomputes metrics from ``items.jsonl`` alone."""
        return []

    def details(self, records: Sequence[Record]) -> dict[str, Any]:
        """Extra breakdowns for metrics.json (confusion matrices, per-slice n, warnings)."""
        return {}

    def check(self, item: dict, text: str) -> Check:
        """The quality gate used by distillation and rewards; defaults to 'it parses'."""
        parsed = self.parse(text)
        if isinstance(parsed, Unparsed):
            return Check(False, parsed.reason)
        return Check(True, "")


# Helpers shared by tasks' metric functions.

def greedy(records: Sequence[Record], pass_: str = ORIGINAL) -> list[Record]:
    """The greedy (unsampled) records of one pass."""
    return [r for r in records if r.get("sample") is None and r.get("pass") == pass_]


def mean_of(records: Sequence[Record], key: str, pass_: str = ORIGINAL) -> float:
    """Mean of a per-item score over greedy records of a pass, skipping None; nan when empty."""
    vals = [float(r["scores"][key]) for r in greedy(records, pass_)
            if r.get("scores") and r["scores"].get(key) is not None]
    return sum(vals) / len(vals) if vals else math.nan


def is_unparsed(record: Record) -> bool:
    return record.get("parse_error") is not None
