"""`assay distill`: a teacher behind the task's own checks -> a TRL-ready dataset and its card."""

from __future__ import annotations

from typing import Optional

import typer

from ..distill.config import help_for as h

DISTILL_HELP = """Distil a teacher's answers into a training set, behind the task's own checks.

Each item is rendered by the task, answered by the teacher, checked with task.check (the check
scoring uses), and revised with the checker's feedback (the original prompt, the previous
attempt, the feedback) up to --max-revisions times. The best attempt by the task's tiered key is
kept, then parse-checked, deduped (exact and MinHash near-duplicates) and written as
DIR/train.jsonl (TRL prompt/completion, the prompt exactly the eval's), with every attempt in
DIR/candidates.jsonl and the counts at every gate in DIR/card.md and DIR/card.json. Items that
match an --exclude eval set are removed before any request. Every completion is journaled in the
store: rerun the same command to resume.

Example (a vLLM or hosted teacher; the key comes from OPENAI_API_KEY):

\b
  assay distill haiku-review --data train.jsonl --exclude test.jsonl \\
      --teacher openai:Qwen/Qwen3-30B-A3B@http://localhost:8000/v1 --out runs/distill \\
      --max-revisions 3 --price-in 0.1 --price-out 0.3 --budget 5 --val-fraction 0.1

\b
bias-judge labelling (pairs from `assay data bbq-pairs`), gated, with SFT and DPO sets:
  assay distill bias-judge --data data/bbq-pairs/train.jsonl --out runs/labels \\
      --teacher openai:teacher@http://localhost:8000/v1 \\
      --reference openai:stronger@http://localhost:8001/v1 --cross-check openai:other@URL \\
      --sft --dpo
"""


def distill_command(
    task: str = typer.Argument(..., help=h("task")),
    data: str = typer.Option(..., "--data", help=h("data")),
    teacher: str = typer.Option(..., "--teacher", help=h("teacher")),
    out: str = typer.Option(..., "--out", help=h("out")),
    store: Optional[str] = typer.Option(None, "--store", help=h("store")),
    max_revisions: int = typer.Option(3, "--max-revisions", help=h("max_revisions")),
    candidates: int = typer.Option(1, "--candidates", help=h("candidates")),
    temperature: float = typer.Option(0.0, "--temperature", help=h("temperature")),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help=h("max_tokens")),
    concurrency: int = typer.Option(32, "--concurrency", help=h("concurrency")),
    relevance_tol: float = typer.Option(0.05, "--relevance-tol", help=h("relevance_tol")),
    keep: str = typer.Option("strict", "--keep", help=h("keep")),
    near_dup_threshold: float = typer.Option(0.8, "--near-dup-threshold",
                                             help=h("near_dup_threshold")),
    exclude: Optional[list[str]] = typer.Option(None, "--exclude", help=h("exclude")),
    ngram: int = typer.Option(13, "--ngram", help=h("ngram")),
    price_in: Optional[float] = typer.Option(None, "--price-in", help=h("price_in")),
    price_out: Optional[float] = typer.Option(None, "--price-out", help=h("price_out")),
    budget: Optional[float] = typer.Option(None, "--budget", help=h("budget")),
    batch_rate: float = typer.Option(0.5, "--batch-rate", help=h("batch_rate")),
    val_fraction: float = typer.Option(0.0, "--val-fraction", help=h("val_fraction")),
    seed: int = typer.Option(0, "--seed", help=h("seed")),
    cache: bool = typer.Option(True, "--cache/--no-cache", help=h("cache")),
    limit: Optional[int] = typer.Option(None, "--limit", help=h("limit")),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N", help=h("shard")),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=h("skip_invalid")),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option",
                                                    help="KEY=VALUE, repeatable. "
                                                    + h("task_options")),
    task_module: Optional[str] = typer.Option(None, "--task-module", help=h("task_module")),
    backend_option: Optional[list[str]] = typer.Option(None, "--backend-option",
                                                       help="KEY=VALUE, repeatable. "
                                                       + h("backend_options")),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help=h("api_key_env")),
    timeout_s: float = typer.Option(300.0, "--timeout-s", help=h("timeout_s")),
    max_retries: int = typer.Option(5, "--max-retries", help=h("max_retries")),
    reference: Optional[str] = typer.Option(None, "--reference", help=h("reference")),
    gate_n: int = typer.Option(50, "--gate-n", help=h("gate_n")),
    gate_min: float = typer.Option(46 / 50, "--gate-min", help=h("gate_min")),
    gate_hard_min: float = typer.Option(24 / 30, "--gate-hard-min", help=h("gate_hard_min")),
    gate_abort_hard: float = typer.Option(22 / 30, "--gate-abort-hard",
                                          help=h("gate_abort_hard")),
    cross_check: Optional[list[str]] = typer.Option(None, "--cross-check",
                                                    help=h("cross_check")),
    cross_check_n: int = typer.Option(500, "--cross-check-n", help=h("cross_check_n")),
    sft: bool = typer.Option(False, "--sft", help=h("sft")),
    dpo: bool = typer.Option(False, "--dpo", help=h("dpo")),
    sft_min_confidence: int = typer.Option(3, "--sft-min-confidence",
                                           help=h("sft_min_confidence")),
    dpo_min_confidence: int = typer.Option(4, "--dpo-min-confidence",
                                           help=h("dpo_min_confidence")),
    rpm: Optional[float] = typer.Option(None, "--rpm", help=h("rpm")),
    tpm: Optional[float] = typer.Option(None, "--tpm", help=h("tpm")),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..distill import DistillConfig, distill
    from ..distill.config import labelling
    from ._flags import parse_pairs

    cfg = DistillConfig(
        task=task, data=data, teacher=teacher, out=out, store=store,
        max_revisions=max_revisions, candidates=candidates, temperature=temperature,
        max_tokens=max_tokens, concurrency=concurrency, relevance_tol=relevance_tol, keep=keep,
        near_dup_threshold=near_dup_threshold, exclude=list(exclude or []), ngram=ngram,
        price_in=price_in, price_out=price_out, budget=budget, batch_rate=batch_rate,
        val_fraction=val_fraction,
        seed=seed, limit=limit, shard=shard, skip_invalid=skip_invalid, cache=cache,
        task_options=parse_pairs(task_option or [], "--task-option"), task_module=task_module,
        backend_options=parse_pairs(backend_option or [], "--backend-option"),
        api_key_env=api_key_env, timeout_s=timeout_s, max_retries=max_retries, rpm=rpm, tpm=tpm,
        reference=reference, gate_n=gate_n, gate_min=gate_min, gate_hard_min=gate_hard_min,
        gate_abort_hard=gate_abort_hard, cross_check=list(cross_check or []),
        cross_check_n=cross_check_n, sft=sft, dpo=dpo, sft_min_confidence=sft_min_confidence,
        dpo_min_confidence=dpo_min_confidence)
    if labelling(cfg):
        _label(cfg, as_json)
        return
    result = distill(cfg, on_attempt=_progress(not as_json))
    _show(result, as_json)


def _progress(enabled: bool):
    """One stderr line per 50 attempts on a terminal (nothing when piped or with --json)."""
    import sys

    if not (enabled and sys.stderr.isatty()):
        return lambda attempt: None
    seen = [0]

    def on_attempt(attempt) -> None:
        seen[0] += 1
        if seen[0] % 50 == 0:
            sys.stderr.write(f"distill: {seen[0]} attempts\n")
    return on_attempt


def _show(result, as_json: bool) -> None:
    from ._common import out_console, print_json

    summary = result.summary()
    if as_json:
        print_json(summary)
        return
    from rich.table import Table

    table = Table(title=f"assay distill -> {summary['out']}")
    table.add_column("gate")
    table.add_column("items", justify="right")
    for key, value in result.card["gates"].items():
        table.add_row(key.replace("_", " "), str(value))
    con = out_console()
    con.print(table)
    cost = summary["cost_usd"]
    con.print(f"requests sent {summary['requests_sent']}, cache hits {summary['cache_hits']}"
              + (f", cost {cost:.4f} USD" if cost is not None else "")
              + f", {summary['wall_s']:.1f} s\nwrote {summary['out']}/ (candidates.jsonl, "
              "train.jsonl, card.md, card.json)")
    if summary["stopped_by_budget"]:
        con.print("stopped by --budget: what was finished is written and stored; rerun with "
                  "a higher --budget to continue")


def _label(cfg, as_json: bool) -> None:
    """bias-judge labelling: the gate, the labels, cross-checks, SFT/DPO sets."""
    from ..judgedata.label import from_distill, label_pairs
    from ._common import out_console, print_json

    result = label_pairs(from_distill(cfg))
    c = result.card
    summary = {"out": str(result.out_dir), "pairs": c["pairs"], "labelled": c["labelled"],
               "excluded": c["excluded"], "gate": c["gate"], "cross_check": c["cross_check"],
               "files": {k: str(v) for k, v in result.files.items()}, "warnings": c["warnings"]}
    if as_json:
        print_json(summary)
        return
    con = out_console()
    g = c["gate"]
    if g:
        con.print(f"gate: {g['decision']} ({g['reason']})", soft_wrap=True)
    con.print(f"labelled {c['labelled']} of {c['pairs']} pairs, {c['excluded']} excluded from "
              f"training; wrote {', '.join(summary['files'].values())}", soft_wrap=True)
    for w in c["warnings"]:
        con.print(f"warning: {w}", soft_wrap=True)


def _group() -> None:
    """Distill, train and honestly evaluate small reviewer and judge models."""


def register(app: typer.Typer) -> None:
    # A typer app with one command collapses into it (`assay distill TASK` would read
    # "distill" as the task); a root callback, when the app has none yet, keeps it a group.
    if app.registered_callback is None:
        app.callback()(_group)
    app.command("distill", help=DISTILL_HELP)(distill_command)
