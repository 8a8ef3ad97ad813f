"""`assay eval` and `assay score`: run a task over models (or over predictions made elsewhere)."""

from __future__ import annotations

from typing import Any, Optional

import typer


EVAL_HELP = """Evaluate one or more models on a task and write a run directory.

Example (two models behind a vLLM server, resumable: run the same command again):

\b
  assay eval paper-review --data papers.jsonl \\
      --model base=openai:Qwen/Qwen2.5-0.5B-Instruct@http://localhost:8000/v1 \\
      --model ft=openai:reviewer-lora@http://localhost:8000/v1 --out runs/pr1

\b
Local weights with an adapter: --model ft=hf:./base+./adapter
From a settings file, one setting changed: --config eval.yaml --set max_tokens=256
"""

SCORE_HELP = """Score completions made elsewhere (JSONL: {"id", "output", "pass"?, "sample"?}).

Example:

\b
  assay score bias-judge --data eval_set.jsonl --predictions sft=verdicts.jsonl --out runs/sft
"""


def parse_options(pairs: list[str] | None, flag: str = "--task-option") -> dict[str, Any]:
    """KEY=VALUE pairs; the value is read as JSON when it parses (numbers, true, lists)."""
    from ._flags import parse_pairs

    return parse_pairs(pairs or [], flag)


def run_eval(flags: dict[str, Any], config: Optional[str], sets: Optional[list[str]],
             progress_every: float, as_json: bool) -> None:
    """`assay eval`: settings from --config, then --set, then flags; run; print."""
    from ..config import parse_sets
    from ..rundir import default_run_dir
    from ..run import check_config, evaluate, load_eval_config
    from ._progress import progress_for

    cfg = load_eval_config(config, parse_sets(sets, "max_tokens=256"), flags)
    check_config(cfg)  # before naming a run directory for it
    if not cfg.out:
        cfg.out = str(default_run_dir(cfg.task))
        if not as_json:
            typer.echo(f"run directory: {cfg.out} (no --out given)", err=True)
    show(evaluate(cfg, progress_for(not as_json, progress_every)), as_json)


def eval_command():
    """The `assay eval` command, its options generated from assay.run.EvalConfig."""
    from ..run import EvalConfig
    from ._flags import command_from, extra_option

    extra = [
        extra_option("config", Optional[str], typer.Option(
            None, "--config", metavar="FILE", help="YAML file of settings (any option above, "
            "by its field name, e.g. models: [base=..., ft=...]).")),
        extra_option("sets", Optional[list[str]], typer.Option(
            None, "--set", metavar="KEY=VALUE", help="Override one setting by its field name, "
            "repeatable (the flags win over --set, --set over --config).")),
        extra_option("progress_every", float, typer.Option(
            10.0, "--progress-every", metavar="SECONDS", help="Off a terminal, print a "
            "progress line every this many seconds.")),
        extra_option("as_json", bool, typer.Option(False, "--json",
                                                   help="Print one JSON object.")),
    ]
    return command_from(EvalConfig, run_eval, positional=("task",), extra=extra)


def score_command(
    task: str = typer.Argument(..., help="Task name."),
    data: str = typer.Option(..., "--data", help="Items the predictions answer."),
    predictions: list[str] = typer.Option(..., "--predictions", help="[LABEL=]FILE, "
                                          "repeatable."),
    out: Optional[str] = typer.Option(None, "--out", metavar="DIR", help="Run directory to "
                                      "write (default: a new runs/TASK-DATE-TIME, printed)."),
    skip_invalid: bool = typer.Option(False, help="Skip and count invalid lines."),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option", metavar="KEY=VALUE",
                                                    help="KEY=VALUE for the task, repeatable."),
    task_module: Optional[str] = typer.Option(None, metavar="MODULE",
                                              help="Import your own task module."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Score only the items "
                                       "that have a prediction (said on every output) instead "
                                       "of refusing items without one."),
    force: bool = typer.Option(False, "--force", help="Replace the run at --out even when it "
                               "is of another task, data or model."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..predictions import ScoreConfig, score_predictions
    from ..rundir import default_run_dir

    if not out:
        out = str(default_run_dir(task))
        if not as_json:
            typer.echo(f"run directory: {out} (no --out given)", err=True)

    cfg = ScoreConfig(task=task, data=data, predictions=predictions, out=out,
                      skip_invalid=skip_invalid, task_options=parse_options(task_option),
                      task_module=task_module, allow_missing=allow_missing, force=force)
    show(score_predictions(cfg), as_json)


def summary(result) -> dict[str, Any]:
    m = result.manifest
    return {"out": str(result.out_dir), "task": m["task"], "metrics": result.metrics["models"],
            "baselines": result.metrics["baselines"],
            "parse_failure_rate": result.metrics["parse_failure_rate"],
            "truncated_share": result.metrics["truncated_share"],
            "requests_sent": result.requests_sent, "cache_hits": result.cache_hits,
            "errors": result.errors, "generation_wall_s": m.get("generation_wall_s"),
            "requests_per_s": m.get("requests_per_s"), "cache": m.get("cache"),
            "coverage": m.get("coverage"), "warnings": m.get("warnings", [])}


def show(result, as_json: bool) -> None:
    from ..run import cache_line, coverage_line
    from ._common import out_console, print_json

    s = summary(result)
    if as_json:
        print_json(s)
        return
    from rich.table import Table

    from ..text.inert import cell, terminal

    labels = list(s["metrics"])
    names = list(dict.fromkeys(k for lab in labels for k in s["metrics"][lab]))
    table = Table(title=cell(f"{s['task']}: {result.manifest['data']['n_items']} items"))
    table.add_column("metric")
    for lab in labels:
        table.add_column(cell(lab), justify="right")
    for name in names:
        table.add_row(cell(name), *[cell(_fmt(s["metrics"][lab].get(name))) for lab in labels])
    for name, key in (("parse_failure_rate", "parse_failure_rate"),
                      ("truncated_share", "truncated_share")):
        if name not in names:  # shares every run reports, unless the task already did
            table.add_row(name, *[_fmt(s[key][lab]) for lab in labels])
    con = out_console()
    con.print(table)
    rps = s["requests_per_s"]
    con.print(terminal(f"requests sent {s['requests_sent']}, cache hits {s['cache_hits']}, "
                       f"errors {s['errors']}" + (f", {rps:.1f} requests/s" if rps else "")
                       + (f"\n{cache_line(s['cache'])}" if s.get("cache") else "")
                       + (f"\n{coverage_line(s['coverage'])}" if s.get("coverage") else "")
                       + "".join(f"\nWARNING: {w}" for w in s["warnings"])
                       + f"\nwrote {s['out']}/ (manifest.json, items.jsonl, metrics.json)"),
              markup=False, highlight=False)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.3f}"
    return str(v)


def register(app: typer.Typer) -> None:
    app.command("eval", help=EVAL_HELP, no_args_is_help=True)(eval_command())
    app.command("score", help=SCORE_HELP)(score_command)
