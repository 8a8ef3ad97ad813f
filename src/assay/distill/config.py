"""The settings of one `assay distill` run, each field declared once with ``opt(default, help)``.

The CLI's help text for every flag is read from these declarations (``help_for``), so a flag is
documented in one place. ``check_config`` refuses contradictory or out-of-range settings before
any teacher request, naming both settings and the flag that fixes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import AssayError, InputError
from ..train.config import opt

KEEP = ("strict", "best-effort")


@dataclass
class DistillConfig:
    """One distillation: items -> teacher -> check -> revise -> select -> filter -> dataset."""

    task: str = opt("", "Task whose render, check and selection key are used.")
    data: str = opt("", "Items to distil (JSONL, JSON, Parquet, or what the task's loader "
                    "reads).")
    teacher: str = opt("", "Teacher model spec: openai:MODEL@BASE_URL (any OpenAI-compatible "
                       "server), hf:PATH, vllm:PATH or embedded:smollm2.")
    out: str = opt("runs/distill", "Output directory: candidates.jsonl, train.jsonl "
                   "(val.jsonl), card.md, card.json.")
    store: str | None = opt(None, "The completion journal (default .assay/store.sqlite, the "
                            "one `assay eval` uses).")
    max_revisions: int = opt(3, "Revision rounds after the draft for an attempt that fails "
                             "the check.")
    candidates: int = opt(1, "Independent attempts per item per round (each revised on its "
                          "own); above 1 needs a temperature above 0.")
    temperature: float = opt(0.0, "Teacher sampling temperature.")
    max_tokens: int | None = opt(None, "Completion budget per request (default: the task's).")
    concurrency: int = opt(32, "Teacher requests in flight at once.")
    relevance_tol: float = opt(0.05, "haiku-review: a revision more than this below its "
                               "draft's relevance to the human comment is 'drifted'.")
    keep: str = opt("strict", "strict: only attempts that pass the check are written; "
                    "best-effort: an item that never passes contributes its best attempt, "
                    "marked best_effort.", choices=KEEP)
    near_dup_threshold: float = opt(0.8, "Estimated Jaccard similarity (MinHash LSH over word "
                                    "3-grams) at which a target is a near-duplicate of an "
                                    "earlier one; 1 turns the filter off.")
    exclude: list = opt([], "Eval item files (the task's format): items whose input matches "
                        "one by normalised hash or a shared n-gram are removed before any "
                        "request.")
    ngram: int = opt(13, "n of the n-gram contamination test (GPT-3 used 13).")
    price_in: float | None = opt(None, "USD per 1M prompt tokens (gives the cost).")
    price_out: float | None = opt(None, "USD per 1M completion tokens (gives the cost).")
    budget: float | None = opt(None, "USD: stop cleanly before a request that could exceed it "
                               "(the total includes stored completions; rerun with a higher "
                               "budget to continue).")
    val_fraction: float = opt(0.0, "Share of the written rows held out in val.jsonl.")
    seed: int = opt(0, "Seed of the train/val split and of sampled teacher requests.")
    cache: bool = opt(True, "Answer from the store what it holds; --no-cache sends every request "
                      "again (a re-served teacher under the same name) and the new answers "
                      "supersede the stored ones, which stay in the store's history.")
    limit: int | None = opt(None, "Use only the first N items.")
    skip_invalid: bool = opt(False, "Skip items that fail the task's schema (counted).")
    task_options: dict = opt({}, "Options of the task's constructor.")
    task_module: str | None = opt(None, "Import your own task module (as in `assay eval`).")
    api_key_env: str = opt("OPENAI_API_KEY", "Environment variable holding the teacher's API "
                           "key (never stored).")
    timeout_s: float = opt(300.0, "Per-request timeout of a served teacher.")
    max_retries: int = opt(5, "Retries of a failed teacher request.")
    backend_options: dict = opt({}, "Backend settings (as --backend-option in `assay eval`).")


def help_for(name: str) -> str:
    """The one line of documentation of a field (the CLI's help text)."""
    f = next(f for f in dataclasses.fields(DistillConfig) if f.name == name)
    choices = f.metadata.get("choices")
    return f.metadata["help"] + (f" One of: {', '.join(choices)}." if choices else "")


def _conflict(a: str, b: str, why: str) -> AssayError:
    return AssayError(f"conflicting settings: --{a.replace('_', '-')} and "
                      f"--{b.replace('_', '-')} {why}. Fix: change one of them")


def _at_least(cfg: DistillConfig, name: str, low: float) -> None:
    value = getattr(cfg, name)
    if value is not None and value < low:
        raise InputError(f"must be at least {low}", field=name, value=value,
                         fix=f"pass --{name.replace('_', '-')} {low} or more")


def check_config(cfg: DistillConfig) -> None:
    """Missing, out-of-range and contradictory settings, before any request is made."""
    for name in ("task", "data", "teacher"):
        if not getattr(cfg, name):
            raise AssayError(f"no {name}. Fix: pass --{name} (see assay distill --help)")
    for name, low in (("max_revisions", 0), ("candidates", 1), ("concurrency", 1),
                      ("ngram", 1), ("max_tokens", 1), ("limit", 1), ("temperature", 0),
                      ("relevance_tol", 0), ("price_in", 0), ("price_out", 0), ("budget", 0)):
        _at_least(cfg, name, low)
    if not 0.0 <= cfg.val_fraction < 1.0:
        raise InputError("must be in [0, 1)", field="val_fraction", value=cfg.val_fraction)
    if not 0.0 < cfg.near_dup_threshold <= 1.0:
        raise InputError("must be in (0, 1]", field="near_dup_threshold",
                         value=cfg.near_dup_threshold)
    if cfg.keep not in KEEP:
        raise InputError(f"must be one of {list(KEEP)}", field="keep", value=cfg.keep)
    if cfg.candidates > 1 and cfg.temperature == 0:
        raise _conflict("candidates", "temperature", f"disagree: {cfg.candidates} candidates "
                        "at temperature 0 are one answer repeated (raise --temperature)")
    if cfg.budget is not None and cfg.price_in is None and cfg.price_out is None:
        raise _conflict("budget", "price-in", "disagree: a budget in USD needs a price "
                        "(--price-in and/or --price-out per 1M tokens)")


def config_dict(cfg: DistillConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
