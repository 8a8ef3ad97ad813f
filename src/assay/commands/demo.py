"""`assay demo`: build a smoke model, train an adapter, evaluate and compare, all offline."""

from __future__ import annotations

import contextlib
import sys

import typer

DEMO_HELP = """Run the whole loop offline in a few minutes on a CPU: build a tiny smoke model,
train a LoRA adapter with the SFT recipe on the bundled paper-review examples, evaluate base and
adapter on held-out items through the real runner, and print the paired comparison.

Example:

\b
  assay demo
  assay demo --out runs/demo --json
"""


def demo_command(
    out: str = typer.Option("runs/demo", "--out", help="Directory for the model, adapter, run "
                            "and report."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..demo import SMOKE_NOTE, run_demo
    from ._common import err_console, print_json
    from ._progress import progress_for
    from .train import print_step

    console = err_console()
    console.print(f"assay demo — {SMOKE_NOTE}. Nothing is downloaded.")
    # Trainer logs go to stdout; with --json stdout carries the one JSON object only.
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with quiet:
        result = run_demo(out, progress=False, observer=progress_for(not as_json),
                          on_step=None if as_json else print_step)
    if as_json:
        print_json(result)
        return
    # The table and a line per metric; the flipped items (here, gibberish) stay in the file.
    typer.echo(result.report_markdown.split("\n## Items that flipped")[0].rstrip())
    console.print("\n" + verdict_line(result.headline))
    console.print(f"report: {result.report_path}\nrun: {result.run_dir}\nadapter: "
                  f"{result.adapter_dir}\ntook {result.seconds['total']:.0f}s "
                  f"({', '.join(f'{k} {v:.0f}s' for k, v in result.seconds.items() if k != 'total')})")


def verdict_line(h: dict) -> str:
    """What the numbers say about format and judgment, worded from the numbers themselves."""
    pf, acc = h.get("parse_failure_rate", {}), h.get("accuracy", {})
    fmt = {"better": "the adapter learnt the output format",
           "worse": "the adapter made the output format worse"}.get(
        pf.get("verdict"), "no shown change in the output format")
    judged = {"better": "accuracy is better", "worse": "accuracy is worse"}.get(
        acc.get("verdict"), "no shown accuracy change: the judgment is not shown to be better")
    return (f"parse-failure rate: base {_pct(pf.get('base'))} -> adapter {_pct(pf.get('adapter'))}"
            f" ({fmt}); accuracy: base {_pct(acc.get('base'))} -> adapter "
            f"{_pct(acc.get('adapter'))} (majority-label baseline "
            f"{_pct((acc.get('baseline') or {}).get('value'))}; a parse failure counts as wrong), "
            f"McNemar p = {_p(acc.get('pvalue'))} on "
            f"{h.get('n_items')} items ({judged}). Smoke model: read the mechanics, not the "
            "numbers.")


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _p(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def register(app) -> None:
    app.command("demo", help=DEMO_HELP)(demo_command)
