"""The small protocol every task follows: load, passes, render, parse, score, metrics, check.

A task is a plain object of a few functions plus its metric list (nanochat's shape, inspect's
"a parse failure is its own outcome"). The runner owns generation and storage; the task owns
what the prompt says, how an answer is read, and how it is judged.

Records. ``score`` returns a flat JSON-able dict for one completion; the runner writes it as the
``scores`` field of a row of ``items.jsonl``. A row (a *record*) is a plain dict::

    {"id", "model", "pass", "sample", "prompt_hash", "output", "finish_reason", "truncated",
     "parsed", "parse_error", "scores": {...}, "latency_s", "prompt_tokens",
     "completion_tokens", "error", "created_at", "cached"}

``sample`` is None for the greedy completion and k for the k-th sampled one. The selections
of records (greedy, by item) live in ``assay.records``; metrics are declared with the
constructors of ``assay.metrics`` from per-item statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dataset import Dataset, Field, load_items
from ..metrics import Metric
from ..records import ORIGINAL, SWAPPED, Record, greedy

# Below this many items a slice gets no verdict (its n and CI are still shown): a kappa or an
# F1 on a handful of items swings by tenths when one item changes.
MIN_SLICE_N = 20

Messages = list[dict[str, str]]


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


def run_groups(outputs: Sequence[Output]) -> dict[tuple, list[int]]:
    """Indexes of each (pass, sample) among a score() call's outputs: one model's run over the
    items (what a shuffle floor compares within)."""
    groups: dict[tuple, list[int]] = {}
    for i, o in enumerate(outputs):
        groups.setdefault((o.pass_, o.sample), []).append(i)
    return groups


@dataclass(frozen=True)
class Tier:
    """An attempt's place in a task's distillation selection: the best attempt has the highest
    ``(tier, key)``; ``note`` says why (e.g. "valid, not drifted"), ``values`` the evidence."""

    tier: int
    key: tuple = ()
    note: str = ""
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """Result of a task's check on a candidate output: ok, and feedback a teacher can act on."""

    ok: bool
    feedback: str = ""
    evidence: dict = field(default_factory=dict)


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
    # score keys holding an item's reference label: a comparison refuses to pair completions
    # whose reference differs (the same prompt, but not the same item)
    gold_keys: tuple[str, ...] = ()

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
        """The task's metrics (assay.metrics constructors), given one model's records so that
        slice metrics can read the slice labels the task put into ``scores``. The runner adds
        parse_failure_rate, truncated_share and mean_latency_s to every task."""
        return []

    def declared_metrics(self) -> list[Metric]:
        """Every metric the task can report, for checking goals before any run exists (slices
        are named ``metric/value`` and checked when compared)."""
        return list(self.metrics([]))

    def details(self, records: Sequence[Record]) -> dict[str, Any]:
        """Extra breakdowns for metrics.json (confusion matrices, per-slice n, warnings)."""
        return {}

    def check(self, item: dict, text: str) -> Check:
        """The quality gate used by distillation and rewards; defaults to 'it parses'."""
        parsed = self.parse(text)
        if isinstance(parsed, Unparsed):
            return Check(False, parsed.reason)
        return Check(True, "")

    # distillation hooks (assay.distill): a task gets the loop by implementing ``check``

    def teacher_render(self, item: dict) -> Messages:
        """The teacher's prompt: the student's own by default; a task whose teacher should see
        the reference (the human comment of a haiku review) adds it here."""
        return self.render(item)

    def revision_message(self, item: dict, check: Check) -> str:
        """The user turn asking the teacher to revise a failed attempt, from the check."""
        return (f"Your answer does not pass the check: {check.feedback}. Revise it so that it "
                "passes, keep what was right, and reply with the corrected answer only.")

    def selection_tiers(self, item: dict, attempts: Sequence[Any], *,
                        relevance_tol: float = 0.05) -> list[Tier]:
        """One Tier per attempt (objects with ``text``, ``check``, ``round``, ``candidate``);
        the distiller keeps the attempt with the highest (tier, key). Default: the first valid
        one (valid is tier 1, earlier rounds and candidates first)."""
        return [Tier(int(a.check.ok), (-a.round, -a.candidate),
                     "valid" if a.check.ok else "not valid") for a in attempts]




__all__ = ["MIN_SLICE_N", "ORIGINAL", "SWAPPED", "Check", "Messages", "Metric", "Output", "Record",
           "Task", "Tier", "Unparsed", "greedy"]
