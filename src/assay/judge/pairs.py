"""The pairs a judge compares: for each item of a run, the task's prompt (re-rendered from the
run's task and data, checked against the prompt hash the run recorded) and the candidate's and
the reference's greedy answers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import AssayError
from ..records import greedy_by_id
from ..rundir import Run, task_of
from ..store import canonical_hash


@dataclass(frozen=True, slots=True)
class Pair:
    """One item's prompt and two answers (the candidate's and the reference's)."""

    item_id: str
    instructions: str
    task_input: str
    candidate: str
    reference: str


def check_labels(run: Run, candidates: list[str], reference: str) -> None:
    """Every label is a model of the run, and no candidate is the reference."""
    models = run.models
    for label in [*candidates, reference]:
        if label not in models:
            raise AssayError(f"{run.path}: the run has no model '{label}' (its models: "
                             f"{', '.join(models)}). Fix: give --candidate / --reference one "
                             "of these labels")
    if reference in candidates:
        raise AssayError(f"'{reference}' is both a --candidate and the --reference. Fix: judge "
                         "each candidate against another model's answers")
    if not candidates:
        raise AssayError("no --candidate given. Fix: add --candidate LABEL (repeatable)")
    dup = sorted({c for c in candidates if candidates.count(c) > 1})
    if dup:
        raise AssayError(f"--candidate {dup[0]} given twice. Fix: give each candidate once "
                         "(the first is the baseline of the paired comparison)")


def _items(run: Run) -> dict[str, dict]:
    data = run.manifest.get("data", {}).get("path")
    if not data or not Path(data).exists():
        raise AssayError(f"{run.path}: the run's data {data!r} is not there, and the judge "
                         "must see each item's prompt. Fix: run `assay judge` where the run's "
                         "--data path resolves (the directory `assay eval` ran in)")
    task = task_of(run)
    return task, {str(i["id"]): i for i in task.load(data, skip_invalid=True).items}


def build_pairs(run: Run, candidate: str, reference: str) -> list[Pair]:
    """The items both models answered (greedy, no error), in the run's order."""
    task, items = _items(run)
    cand = greedy_by_id(r for r in run.records_of(candidate) if not r.get("error"))
    ref = greedy_by_id(r for r in run.records_of(reference) if not r.get("error"))
    pairs = []
    for item_id, c in cand.items():
        if item_id not in ref or item_id not in items:
            continue
        messages = task.render(items[item_id])
        if canonical_hash(messages) != c["prompt_hash"]:
            raise AssayError(f"{run.path}: item '{item_id}' renders to another prompt than the "
                             "run recorded (its data or task changed since). Fix: judge the run "
                             "with the data and task version it was made with, or rerun the eval")
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        user = "\n\n".join(m["content"] for m in messages if m["role"] != "system")
        pairs.append(Pair(item_id, system, user, c["output"], ref[item_id]["output"]))
    if not pairs:
        raise AssayError(f"{run.path}: no item has answers from both '{candidate}' and "
                         f"'{reference}'. Fix: run the eval for both models on the same data")
    return pairs
