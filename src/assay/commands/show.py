"""`assay show`: one item of a run in the terminal (prompt, gold answer, each model's output,
parsed answer and scores), every untrusted value made inert (no escape sequences, no markup)."""

from __future__ import annotations

import json
from typing import Optional

import typer

SHOW_HELP = """Show one item of a run: what was asked, the gold answer, and each model's output,
parsed answer and scores (the item view of report.html, in the terminal).

Examples:

\b
  assay show runs/pr1 --id 42
  assay show runs/pr1 --id 42 --model ft
  assay show runs/pr1 --id 42 --json
"""


def show_command(
    run: str = typer.Argument(..., help="A run directory (from `assay eval` or `assay score`)."),
    item_id: str = typer.Option(..., "--id", help="The item's id."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="Only this model's "
                                              "output (repeatable; default: every model)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..report.items import run_item
    from ._common import print_json

    item = run_item(run, item_id, model or None)
    if as_json:
        print_json(item)
        return
    from ._common import out_console

    out_console().print(item_text(item), markup=False, highlight=False, emoji=False)


def _value(v) -> str:
    return "none" if v is None else v if isinstance(v, str) else json.dumps(v,
                                                                            ensure_ascii=False)


def item_text(item) -> str:
    """The terminal view of a RunItem, as one inert string."""
    from ..text.inert import one_line, terminal

    lines = [f"item {one_line(item.id)} ({one_line(item.task)})"]
    lines += [f"gold {one_line(k)}: {one_line(_value(v))}" for k, v in item.gold.items()]
    lines += [f"slice {one_line(k)}: {one_line(_value(v))}" for k, v in item.slices.items()]
    lines += ["", "== prompt =="]
    if item.prompt is None:
        lines.append("(prompt not stored: a run from before prompts were kept)")
    for msg in item.prompt or []:
        lines += [f"[{one_line(msg.get('role', ''))}]", terminal(msg.get("content", ""))]
    for label, passes in item.outputs.items():
        if not passes:
            lines += ["", f"== {one_line(label)} ==", "(no completion)"]
        for p in passes:
            order = "" if p.pass_ == "original" else f" ({one_line(p.pass_)} order)"
            lines += ["", f"== {one_line(label)}{order} =="]
            lines.append(f"parse failure: {one_line(p.parse_error)}" if p.parse_error
                         else f"parsed: {one_line(_value(p.parsed))}")
            if p.truncated:
                lines.append("truncated: the output hit the token limit")
            lines += ["output:", terminal(p.output) if p.output is not None else "(no output)",
                      "scores: " + "; ".join(f"{one_line(k)}={one_line(_value(v))}"
                                             for k, v in p.scores.items())]
    return "\n".join(lines)


def register(app) -> None:
    app.command("show", help=SHOW_HELP)(show_command)
