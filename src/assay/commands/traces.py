"""`assay traces mine`: pi coding-agent sessions in, redacted SDPO rows (prompt +
privileged_context) out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

MINE_HELP = """Mine pi coding-agent session files for SDPO training rows.

Each row is a user request (with the context the agent had) plus the diagnostics that followed it
(tool errors, failed commands, later user corrections) as `privileged_context`, scored by error
category. Secrets and home paths are redacted before anything is written.

Example:

\b
  assay traces mine ../shared/data/pi-sessions --out rows.jsonl --min-score 5 --top 64
  assay traces mine ~/.pi/agent/sessions --patterns my_patterns.yaml --out rows.jsonl --json

\b
A patterns file (YAML/JSON) adds regular expressions to a category, or a new category:
  network: {weight: 2.5, patterns: ["ETIMEDOUT", "ECONNRESET"]}
"""


def mine_command(
    paths: list[str] = typer.Argument(..., help="Session files (*.jsonl) or folders of them."),
    out: str = typer.Option(..., "--out", help="JSONL file to write the rows to."),
    min_score: float = typer.Option(5.0, "--min-score", help="Keep episodes scoring at least "
                                    "this (see assay.traces.score for the weights)."),
    top: Optional[int] = typer.Option(None, "--top", help="Keep at most N rows, best first."),
    patterns: Optional[str] = typer.Option(None, "--patterns", help="YAML/JSON file of extra "
                                           "category patterns."),
    redact: bool = typer.Option(True, "--redact/--no-redact", help="Replace secrets and home "
                                "paths (on by default)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..errors import AssayError
    from ..traces import MineConfig, RowConfig, default_classifier, load_patterns, mine, write_rows

    if top is not None and top < 1:
        raise AssayError(f"--top must be at least 1 (got {top}). Fix: drop --top to keep all")
    classifier = load_patterns(patterns) if patterns else default_classifier()
    config = MineConfig(min_score=min_score, top=top, classifier=classifier,
                        rows=RowConfig(redact=redact))
    result = _run_with_progress(mine, paths, config)
    written = write_rows(result.rows, out)
    summary = {"out": out, "written": written, "redacted": redact, **result.summary.to_dict()}
    _show(summary, as_json)


def _run_with_progress(mine, paths: list[str], config) -> Any:
    """Run ``mine`` with a progress bar on stderr (shown only on a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..traces import find_session_files
    from ._common import err_console

    files = find_session_files(paths)
    with Progress(TextColumn("mining sessions"), BarColumn(), MofNCompleteColumn(),
                  console=err_console(), transient=True) as progress:
        task = progress.add_task("mine", total=len(files))
        return mine(files, config, on_file=lambda _: progress.advance(task))


def _show(summary: dict[str, Any], as_json: bool) -> None:
    from rich.table import Table

    from ..text.inert import cell, one_line
    from ..text.redact import redact_obj
    from ._common import out_console, print_json

    summary = redact_obj(summary) if summary["redacted"] else summary
    if as_json:
        print_json(summary)
        return
    table = Table(title=cell(f"assay traces mine -> {summary['out']}", None))
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in ("sessions", "lines", "malformed_lines", "unknown_entries", "episodes", "eligible",
                "above_min_score", "duplicates_dropped", "kept"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    if summary["kept"]:
        table.add_row("score range", f"{summary['score_min']:.1f} - {summary['score_max']:.1f}")
    for cat, n in summary["categories"].items():
        table.add_row(f"  {cell(cat)}", str(n))
    console = out_console()
    console.print(table)
    for m in summary["malformed"][:10]:
        console.print(one_line(f"malformed: {Path(m['file']).name} line {m['line']}: "
                               f"{m['reason']}"), markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    traces_app = typer.Typer(help="Mine coding-agent traces for SDPO training rows.",
                             no_args_is_help=True, rich_markup_mode=None)
    traces_app.command("mine", help=MINE_HELP)(mine_command)
    app.add_typer(traces_app, name="traces")
