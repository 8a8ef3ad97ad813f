"""`assay report`: the files people publish (report.md, JSON, plots, a model card) from a
comparison or a run; the terminal gets the table and the warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import files_dict

REPORT_HELP = """Write the report of a comparison (a directory from `assay compare --out`) or of one
run: report.md, JSON, PNG plots, for a comparison report.html (one self-contained page with the
item browser; open it from disk), and with --base-model a Hugging Face model card (README.md).

Examples:

\b
  assay report reports/ft --out reports/ft
  assay report reports/ft --base-model Qwen/Qwen2.5-0.5B-Instruct --adapter ./adapter --out ./adapter
  assay report runs/pr1 --json
"""


def report_command(
    source: str = typer.Argument(..., help="A comparison directory (from `assay compare "
                                 "--out`) or a run directory."),
    out: Optional[str] = typer.Option(None, "--out", help="Where to write (default: SOURCE "
                                      "for a comparison, SOURCE/report for a run)."),
    base_model: Optional[str] = typer.Option(None, "--base-model", help="Write a model card "
                                             "(README.md) for an adapter on this base model."),
    adapter: Optional[str] = typer.Option(None, "--adapter", help="The adapter's path or Hub "
                                          "id (model card)."),
    model_name: Optional[str] = typer.Option(None, "--model-name", help="Name in the model "
                                             "card."),
    dataset_name: Optional[str] = typer.Option(None, "--dataset-name", help="Dataset name in "
                                               "the model card."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Draw PNG plots."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..errors import AssayError
    from ..report import summarize_run, write_report
    from ._common import out_console, print_json

    src = Path(source)
    if (src / "comparison.json").is_file() or src.suffix == ".json":
        from ..compare import load_comparison

        report, default_out = load_comparison(src), (src if src.is_dir() else src.parent)
    elif (src / "manifest.json").is_file():
        report, default_out = summarize_run(src), src / "report"
    else:
        raise AssayError(f"{source} is neither a comparison (comparison.json) nor a run "
                         "directory (manifest.json). Fix: pass `assay compare --out` output or "
                         "an `assay eval --out` directory")
    card = None
    if base_model:
        card = dict(base_model=base_model, adapter=adapter, model_name=model_name,
                    dataset_name=dataset_name)
    files = write_report(report, out or default_out, plots=plots, model_card=card)
    if as_json:
        print_json({"report": report.to_dict(), "files": files_dict(files)})
        return
    show_summary(report)
    from ..text.inert import terminal

    page = f"{files.html}, " if files.html else ""
    out_console().print(terminal(f"wrote {files.markdown}, {page}{files.json}, {len(files.plots)} "
                                 "plot(s)" + (f" and {files.model_card}" if files.model_card
                                              else "")), markup=False)


def show_summary(report) -> None:
    """What the terminal shows of a report: the table and the warnings, not the whole file
    (report.md has the details and the flipped items)."""
    from ..compare import Comparison
    from .compare import show_comparison

    if isinstance(report, Comparison):
        show_comparison(report)
        return
    from rich import box
    from rich.table import Table

    from ..text.inert import cell, terminal
    from ._common import out_console

    table = Table(title=cell(f"{report.task}: {', '.join(report.models)}", None),
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Metric", overflow="fold", ratio=1)
    for label in report.models:
        table.add_column(cell(label), no_wrap=True)
    for row in report.rows:
        table.add_row(cell(row.name), *[_value_cell(row, label) for label in report.models])
    console = out_console()
    console.print(table)
    for label, details in report.details.items():
        for w in (details or {}).get("warnings", []):
            console.print(terminal(f"warning: {label}: {w}"), style="bold yellow", markup=False)


def _value_cell(row, label: str) -> str:
    import math

    v, lo, hi = row.values.get(label), row.low.get(label), row.high.get(label)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    ci = (f" [{lo:.3f},{hi:.3f}]" if isinstance(lo, float) and math.isfinite(lo)
          and isinstance(hi, float) and math.isfinite(hi) else "")
    return f"{v:.3f}{ci} n={row.n.get(label, 0)}"




def register(app) -> None:
    app.command("report", help=REPORT_HELP)(report_command)
