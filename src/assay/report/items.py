"""Every paired item of a comparison as one view: the prompt, the gold answer, both models'
greedy completions of each pass (output, parsed answer, parse failure, truncation, scores and
their evidence), and whether the item was lost, gained, or right or wrong for both on the
headline metric. The HTML item browser and `assay show` render these; nothing here formats.

The headline metric is the first confirmatory pass/fail rate of the comparison (else the first
tested rate that is not a slice): its per-item outcome decides lost / gained / both wrong.
Judge runs attach each order's reasoning with ``with_judge_reasoning`` (see JudgeReasoning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..records import ORIGINAL, by_item, is_greedy

LOST, GAINED, BOTH_RIGHT, BOTH_WRONG = "lost", "gained", "both right", "both wrong"


@dataclass(frozen=True, slots=True)
class ItemPass:
    """One model's greedy completion of one pass of an item."""

    pass_: str
    output: str | None
    parsed: Any
    parse_error: str | None
    truncated: bool
    scores: dict
    prompt_hash: str | None = None


@dataclass(frozen=True, slots=True)
class JudgeReasoning:
    """A pairwise judge's reasoning about one item, for each order it was asked in
    (``original``: A then B; ``swapped``: B then A), with the verdict it reached."""

    original: str | None = None
    swapped: str | None = None
    verdict_original: str | None = None
    verdict_swapped: str | None = None


@dataclass(frozen=True, slots=True)
class ItemView:
    """One paired item as a reader sees it. ``prompt`` is None when the run did not store it;
    ``outcome`` is lost / gained / both right / both wrong on the headline metric, or None when
    that metric does not count the item (or there is no pass/fail metric)."""

    id: str
    prompt: list | None
    gold: dict
    slices: dict
    base: tuple[ItemPass, ...]
    candidate: tuple[ItemPass, ...]
    outcome: str | None
    judge: JudgeReasoning | None = None

    @property
    def parse_failure(self) -> bool:
        return any(p.parse_error for p in self.base + self.candidate)

    @property
    def truncated(self) -> bool:
        return any(p.truncated for p in self.base + self.candidate)


@dataclass(frozen=True, slots=True)
class ItemViews:
    """The items of one comparison, in the base run's order, and the metric that decided each
    item's outcome."""

    metric: str | None
    base_label: str
    candidate_label: str
    items: tuple[ItemView, ...]

    def get(self, item_id: str) -> ItemView | None:
        return next((v for v in self.items if v.id == str(item_id)), None)


def _passes(records: Sequence[dict]) -> tuple[ItemPass, ...]:
    out = []
    for r in records:
        if r.get("sample") is None and not r.get("error"):
            out.append(ItemPass(r.get("pass") or ORIGINAL, r.get("output"), r.get("parsed"),
                                r.get("parse_error"), bool(r.get("truncated")),
                                dict(r.get("scores") or {}), r.get("prompt_hash")))
    return tuple(sorted(out, key=lambda p: p.pass_ != ORIGINAL))


def headline_metric(metrics, family: Sequence[str] = ()):
    """The pass/fail metric whose per-item outcome names an item lost or gained."""
    rates = [m for m in metrics if m.kind == "rate" and m.slice is None and m.outcome is not None
             and m.tested]
    return next((m for m in rates if m.name in family), rates[0] if rates else None)


def _passed(metric, records: Sequence[dict]) -> bool | None:
    got = metric.outcome(list(records))
    return None if got is None else bool(got)


def outcome_of(metric, base: Sequence[dict], cand: Sequence[dict]) -> str | None:
    if metric is None:
        return None
    a, b = _passed(metric, base), _passed(metric, cand)
    if a is None or b is None:
        return None
    return {(True, False): LOST, (False, True): GAINED, (True, True): BOTH_RIGHT,
            (False, False): BOTH_WRONG}[a, b]


def _first_scores(passes: Sequence[ItemPass]) -> dict:
    return passes[0].scores if passes else {}


def item_views(base_records: Sequence[dict], cand_records: Sequence[dict], task,
               *, base_label: str = "base", candidate_label: str = "candidate",
               prompts: Mapping[str, list] | None = None,
               family: Sequence[str] = ()) -> ItemViews:
    """The views of the items both record lists answered (in the base's order).

    ``task`` gives the metrics (the headline outcome, slice keys) and ``gold_keys``;
    ``prompts`` maps a prompt hash to its messages (``Run.prompts``)."""
    from ..metrics import metrics_of

    metrics = metrics_of(task, base_records)
    head = headline_metric(metrics, family)
    slice_keys = list(dict.fromkeys(m.slice[0] for m in metrics if m.slice))
    gold_keys = tuple(getattr(task, "gold_keys", ()) or ())
    b, c = by_item(base_records), by_item(cand_records)
    prompts = prompts or {}
    views = []
    for item_id, brecs in b.items():
        crecs = c.get(item_id)
        if crecs is None:
            continue
        bp, cp = _passes(brecs), _passes(crecs)
        scores = _first_scores(bp) or _first_scores(cp)
        phash = next((r.get("prompt_hash") for r in brecs if is_greedy(r)), None)
        views.append(ItemView(
            item_id, prompts.get(phash) if phash else None,
            {k: scores.get(k) for k in gold_keys if k in scores},
            {k: scores.get(k) for k in slice_keys if scores.get(k) is not None},
            bp, cp, outcome_of(head, brecs, crecs)))
    return ItemViews(head.name if head else None, base_label, candidate_label, tuple(views))


def comparison_items(comparison, base_run=None, cand_run=None) -> ItemViews | None:
    """The item views of a comparison, reading its two runs from the paths it names (or the
    given ``Run`` objects); None when a run is no longer where the comparison found it."""
    from ..rundir import load_run, task_of

    runs = []
    for side, run in ((comparison.base, base_run), (comparison.candidate, cand_run)):
        if run is None:
            if not (Path(side.run) / "manifest.json").is_file():
                return None
            run = load_run(side.run)
        runs.append(run)
    brun, crun = runs
    blabel = comparison.base.model or comparison.base.label
    clabel = comparison.candidate.model or comparison.candidate.label
    return item_views(brun.records_of(blabel), crun.records_of(clabel), task_of(brun),
                      base_label=comparison.base.label,
                      candidate_label=comparison.candidate.label,
                      prompts={**crun.prompts, **brun.prompts}, family=comparison.family)


def with_judge_reasoning(views: ItemViews,
                         reasoning: Mapping[str, JudgeReasoning]) -> ItemViews:
    """The views with a pairwise judge's reasoning for both orders attached, by item id (the
    hook `assay judge` fills; items it did not judge keep none)."""
    items = tuple(replace(v, judge=reasoning[v.id]) if v.id in reasoning else v
                  for v in views.items)
    return replace(views, items=items)


@dataclass(frozen=True, slots=True)
class RunItem:
    """One item of a run as `assay show` prints it: what was asked, the gold answer and each
    model's greedy completions (label -> its passes, in the run's model order)."""

    id: str
    task: str
    prompt: list | None
    gold: dict
    slices: dict
    outputs: dict[str, tuple[ItemPass, ...]]


def run_item(run, item_id: str, models: Sequence[str] | None = None) -> RunItem:
    """One item of a run (a ``Run`` or its path), for the models named (all by default).

    Raises AssayError naming the ids or labels the run has when ``item_id`` or a model is
    not in it."""
    from ..errors import AssayError
    from ..metrics import metrics_of
    from ..rundir import Run, load_run, task_of

    run = run if isinstance(run, Run) else load_run(run)
    labels = list(models) if models else run.models
    unknown = [m for m in labels if m not in run.models]
    if unknown:
        raise AssayError(f"model '{unknown[0]}' is not in {run.path} (models: "
                         f"{', '.join(run.models)}). Fix: pass --model with one of these")
    mine = [r for r in run.records if str(r["id"]) == str(item_id)]
    if not mine:
        ids = list(dict.fromkeys(str(r["id"]) for r in run.records))
        near = [i for i in ids if str(item_id) in i][:5] or ids[:5]
        raise AssayError(f"item '{item_id}' is not in {run.path} ({len(ids)} items, e.g. "
                         f"{', '.join(near)}). Fix: pass --id with an id of the run")
    task = task_of(run)
    slice_keys = list(dict.fromkeys(m.slice[0] for m in metrics_of(task, run.records)
                                    if m.slice))
    outputs = {lab: _passes([r for r in mine if r["model"] == lab]) for lab in labels}
    first = next((p for ps in outputs.values() for p in ps), None)
    scores = first.scores if first else {}
    phash = next((r.get("prompt_hash") for r in mine if is_greedy(r)), None)
    return RunItem(str(item_id), run.task, run.prompt(phash),
                   {k: scores[k] for k in getattr(task, "gold_keys", ()) if k in scores},
                   {k: scores[k] for k in slice_keys if scores.get(k) is not None}, outputs)
