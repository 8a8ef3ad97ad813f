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
                       "server), openai-batch:MODEL@BASE_URL (the Batch API: one batch a "
                       "round, resumable), hf:PATH, vllm:PATH or embedded:smollm2.")
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
    batch_rate: float = opt(0.5, "Share of --price-in/--price-out charged for a batch teacher "
                            "(openai-batch): the Batch API is half price at OpenAI and "
                            "Anthropic.")
    budget: float | None = opt(None, "USD: stop cleanly before a request that could exceed it "
                               "(the total includes stored completions; rerun with a higher "
                               "budget to continue).")
    val_fraction: float = opt(0.0, "Share of the written rows held out in val.jsonl.")
    seed: int = opt(0, "Seed of the train/val split and of sampled teacher requests.")
    cache: bool = opt(True, "Answer from the store what it holds; --no-cache sends every request "
                      "again (a re-served teacher under the same name) and the new answers "
                      "supersede the stored ones, which stay in the store's history.")
    limit: int | None = opt(None, "Use only the first N items.")
    shard: str | None = opt(None, "K/N: distil only the items whose id hashes to shard K of N "
                            "(after --limit), with its own store (default "
                            ".assay/store-shard-K-of-N.sqlite).")
    skip_invalid: bool = opt(False, "Skip items that fail the task's schema (counted).")
    task_options: dict = opt({}, "Options of the task's constructor.")
    task_module: str | None = opt(None, "Import your own task module (as in `assay eval`).")
    api_key_env: str = opt("OPENAI_API_KEY", "Environment variable holding the teacher's API "
                           "key (never stored).")
    timeout_s: float = opt(300.0, "Per-request timeout of a served teacher.")
    max_retries: int = opt(5, "Retries of a failed teacher request.")
    rpm: float | None = opt(None, "Teacher requests per minute (a served teacher): spread "
                            "evenly by a token bucket.")
    tpm: float | None = opt(None, "Teacher tokens per minute (a served teacher): prompt "
                            "characters / 4 + max_tokens a request, corrected by the reported "
                            "usage.")
    backend_options: dict = opt({}, "Backend settings (as --backend-option in `assay eval`).")
    # bias-judge labelling (assay.judgedata): any of these turns the run into gated labelling
    reference: str | None = opt(None, "bias-judge labelling: a stronger reference labeller; "
                                "the teacher's labels on a dry run must agree with its labels "
                                "(the gate) before every pair is labelled.")
    gate_n: int = opt(50, "Pairs in the gate's dry run (60% from the hard buckets).")
    gate_min: float = opt(46 / 50, "Gate: least agreement overall to proceed (46/50).")
    gate_hard_min: float = opt(24 / 30, "Gate: least agreement on the hard buckets to proceed "
                               "without a warning (24/30).")
    gate_abort_hard: float = opt(22 / 30, "Gate: abort below this agreement on the hard "
                                 "buckets (22/30).")
    cross_check: list = opt([], "bias-judge labelling: labeller model specs that relabel hard "
                            "pairs; pairs they disagree on are reported by bucket and kept "
                            "out of the training sets.")
    cross_check_n: int = opt(500, "Hard pairs each cross-check labeller relabels.")
    sft: bool = opt(False, "bias-judge labelling: write OUT/sft.jsonl (confidence filter, swap "
                    "doubling, thinking markers blocked).")
    dpo: bool = opt(False, "bias-judge labelling: write OUT/dpo.jsonl (hard negatives, swap "
                    "doubling, the verify step).")
    sft_min_confidence: int = opt(3, "Least teacher confidence (1-5) of an SFT pair.")
    dpo_min_confidence: int = opt(4, "Least teacher confidence (1-5) of a DPO pair.")


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
    from ..shard import parse_shard

    parse_shard(cfg.shard)
    for name in ("rpm", "tpm"):
        if getattr(cfg, name) is not None and getattr(cfg, name) <= 0:
            raise InputError("must be positive", field=name, value=getattr(cfg, name),
                             fix=f"give the server's limit, or leave --{name} out for none")
    if not 0.0 < cfg.batch_rate <= 1.0:
        raise InputError("must be in (0, 1]", field="batch_rate", value=cfg.batch_rate,
                         fix="give the batch price as a share of the synchronous one, e.g. 0.5")
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
    if labelling(cfg):
        check_labelling(cfg)
    if cfg.budget is not None and cfg.price_in is None and cfg.price_out is None:
        raise _conflict("budget", "price-in", "disagree: a budget in USD needs a price "
                        "(--price-in and/or --price-out per 1M tokens)")


def labelling(cfg: DistillConfig) -> bool:
    """Whether the settings ask for bias-judge labelling (assay.judgedata.label)."""
    return bool(cfg.reference or cfg.cross_check or cfg.sft or cfg.dpo)


def check_labelling(cfg: DistillConfig) -> None:
    if cfg.task != "bias-judge":
        flag = next(f for f, on in (("reference", cfg.reference), ("cross-check",
                                                                   cfg.cross_check),
                                    ("sft", cfg.sft), ("dpo", cfg.dpo)) if on)
        raise _conflict(flag, "task", f"disagree: --{flag} labels bias-judge pairs, the task "
                        f"is {cfg.task!r} (use `assay distill bias-judge`)")
    for name, used in (("exclude", cfg.exclude), ("val_fraction", cfg.val_fraction),
                       ("candidates", cfg.candidates > 1), ("keep", cfg.keep != "strict")):
        if used:
            raise _conflict(name, "reference", "disagree: bias-judge labelling (--reference, "
                            "--cross-check, --sft, --dpo) does not use --"
                            f"{name.replace('_', '-')} (leave it out)")
    for name, low in (("gate_n", 1), ("cross_check_n", 0), ("sft_min_confidence", 1),
                      ("dpo_min_confidence", 1)):
        _at_least(cfg, name, low)


def config_dict(cfg: DistillConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
