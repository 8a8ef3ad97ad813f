"""Distillation: a teacher behind the task's own checks, with revision, selection, filters and a
ledger (``assay distill``).

Stages, one per module: ``contamination`` (eval-set overlap, before any request), ``teacher``
(a backend behind the eval's store), ``loop`` (draft -> check -> revise, a chain per attempt),
``selection`` (the task's tiered key), ``filters`` and ``dedupe`` (parse, exact and near
duplicates), ``ledger`` (tokens, cost, budget), ``outputs`` and ``card``; ``pipeline.distill``
composes them.

Public names are re-exported here and imported on first use, so that `assay --help` (which reads
the config's field documentation) does not import the stages and their dependencies.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "BUDGET": "attempts",
    "ERROR": "attempts",
    "NEVER_PASSED": "attempts",
    "PASSED": "attempts",
    "Attempt": "attempts",
    "ItemRun": "attempts",
    "card_markdown": "card",
    "convergence": "card",
    "revisions": "card",
    "DistillConfig": "config",
    "check_config": "config",
    "help_for": "config",
    "Contamination": "contamination",
    "ExclusionSet": "contamination",
    "check_item": "contamination",
    "exclusion_set": "contamination",
    "item_input": "contamination",
    "split_contaminated": "contamination",
    "Duplicate": "dedupe",
    "exact_duplicates": "dedupe",
    "minhash": "dedupe",
    "near_duplicates": "dedupe",
    "Filtered": "filters",
    "apply_filters": "filters",
    "BudgetExhausted": "ledger",
    "Ledger": "ledger",
    "RoundTally": "ledger",
    "LoopConfig": "loop",
    "revision_messages": "loop",
    "run_item": "loop",
    "run_loop": "loop",
    "ngrams": "textnorm",
    "normalise": "textnorm",
    "text_hash": "textnorm",
    "words": "textnorm",
    "CANDIDATES": "outputs",
    "CARD_JSON": "outputs",
    "CARD_MD": "outputs",
    "TRAIN": "outputs",
    "VAL": "outputs",
    "split_rows": "outputs",
    "DistillResult": "pipeline",
    "distill": "pipeline",
    "Selection": "selection",
    "select": "selection",
    "Answer": "teacher",
    "Teacher": "teacher",
    "build_teacher": "teacher",
    "sample_seed": "teacher",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'assay.distill' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
