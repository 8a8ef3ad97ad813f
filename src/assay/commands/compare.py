"""`assay compare`: the paired comparison of two models, and its terminal table."""

from __future__ import annotations

import math
from typing import Optional

import typer

from ._common import files_dict

COMPARE_HELP = """Compare a candidate model with its base on the same items (paired tests).

Examples:

\b
  assay compare runs/pr1                       # one run with two models (base = first)
  assay compare runs/base runs/ft --base base --goals goals.yaml --out reports/ft
  assay compare runs/pr1 --noise runs/pr1-repeat --json
"""

def compare_command(
    run_a: str = typer.Argument(..., help="Run directory (with two models, or the base's)."),
    run_b: Optional[str] = typer.Argument(None, help="Second run directory (the candidate's)."),
    base: Optional[str] = typer.Option(None, "--base", help="Label of the base model."),
    candidate: Optional[str] = typer.Option(None, "--candidate", help="Label of the candidate "
                                            "(when a run holds more than two models)."),
    goals: Optional[str] = typer.Option(None, "--goals", help="goals.yaml (its lock is read "
                                        "from beside it)."),
    noise: Optional[str] = typer.Option(None, "--noise", help="A repeat run of the base: the "
                                        "noise floor."),
    out: Optional[str] = typer.Option(None, "--out", help="Write comparison.json, report.md, "
                                      "report.html and plots here."),
    allow_prompt_mismatch: bool = typer.Option(False, "--allow-prompt-mismatch",
                                               help="Compare even when prompts differ (warns)."),
    allow_data_mismatch: bool = typer.Option(False, "--allow-data-mismatch",
                                             help="Compare runs made on different data or gold "
                                             "labels (warns)."),
    resamples: int = typer.Option(10_000, "--resamples", help="Random swaps of the paired "
                                  "randomization tests."),
    bootstrap_resamples: int = typer.Option(2_000, "--bootstrap-resamples", help="Resamples of "
                                            "the bootstrap intervals."),
    confidence_level: float = typer.Option(0.95, "--confidence-level", help="Level of every "
                                           "interval (goals need at least 1 - 2 alpha)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the resampling."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the verdicts "
                                "(family-wise for the confirmatory family)."),
    min_slice_n: int = typer.Option(20, "--min-slice-n", help="Slices with fewer items get no "
                                    "verdict."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Draw PNG plots with --out."),
    wide: bool = typer.Option(False, "--wide", help="Show every slice row in the terminal table."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..compare import CompareConfig, compare_runs

    with _Status(enabled=not as_json) as status:
        cmp = compare_runs(run_a, run_b, CompareConfig(
            base=base, candidate=candidate, allow_prompt_mismatch=allow_prompt_mismatch,
            allow_data_mismatch=allow_data_mismatch, n_resamples=resamples,
            bootstrap_resamples=bootstrap_resamples, seed=seed,
            confidence_level=float(confidence_level), alpha=float(alpha),
            min_slice_n=min_slice_n),
            goals=goals, noise=noise, on_metric=status.update)
    files = None
    if out:
        from ..report import write_report

        files = write_report(cmp, out, plots=plots)
    if as_json:
        from ._common import print_json

        data = cmp.to_dict(distributions=False)  # per-item scores stay in comparison.json
        if files is not None:
            data["files"] = files_dict(files)
        print_json(data)
    else:
        show_comparison(cmp, files, wide=wide)


class _Status:
    """A one-line status on stderr while metrics are compared (only on a terminal)."""

    def __init__(self, enabled: bool):
        import sys

        self.enabled = enabled and sys.stderr.isatty()
        self._status = None

    def __enter__(self):
        if self.enabled:
            from ._common import err_console

            self._status = err_console().status("loading runs")
            self._status.__enter__()
        return self

    def __exit__(self, *exc):
        if self._status is not None:
            self._status.__exit__(*exc)

    def update(self, name: str, i: int, n: int) -> None:
        if self._status is not None:
            self._status.update(f"comparing {name} ({i + 1}/{n})")


def _fmt(x, digits: int = 3, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _console():
    """stdout console; when piped, wide enough that the table does not wrap."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=120)


def short_verdict(m) -> str:
    """The verdict in a few characters for the terminal table (report.md has the long form)."""
    p = m.pvalue_holm if m.family == "confirmatory" else m.pvalue
    mark = "*" if m.family == "exploratory" else ""
    if m.verdict in ("better", "worse"):
        return f"{m.verdict}{mark} p={p:.1g}" if p < 0.001 else f"{m.verdict}{mark} p={p:.3f}"
    return {"too few items": "no verdict", "descriptive": "-"}.get(m.verdict,
                                                                   f"{m.verdict}{mark}")


GOAL_SHORT = {"Hit": "Hit", "Miss": "Miss", "Inconclusive": "Inc.", "Not evaluable": "n/e"}


def _goal_cell(cmp, m) -> str:
    verdicts = cmp.goals.for_metric(m.name) if cmp.goals is not None else []
    return " ".join(GOAL_SHORT.get(v.outcome, v.outcome) for v in verdicts)


def _ci(m) -> str:
    return f"[{_fmt(m.ci_low, sign=True)},{_fmt(m.ci_high, sign=True)}]"


def comparison_table(cmp, *, wide: bool = False):
    """The terminal table: metric, n, base, candidate, the CI of the difference, goal outcomes
    and the verdict; slice rows folded into a count unless ``wide``, so it reads at 80 columns
    (report.md and --json carry everything)."""
    from rich import box
    from rich.table import Table

    from ..text.inert import cell

    table = Table(title=cell(f"{cmp.task}: {cmp.candidate.label} vs {cmp.base.label} "
                             f"({cmp.n_items} items)", None), box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    table.add_column("Metric", overflow="fold", min_width=10, ratio=1)
    for col in ["n", "Base", "Cand", "Diff CI"] + (["Goal"] if cmp.goals else []) + ["Verdict"]:
        table.add_column(col, no_wrap=True,
                         justify="right" if col in ("n", "Base", "Cand") else "left")
    rows = [m for m in cmp.metrics if wide or m.slice is None]
    for m in rows:
        cells = [cell(m.name), str(m.n), _fmt(m.base), _fmt(m.candidate), _ci(m)]
        cells += [cell(_goal_cell(cmp, m))] if cmp.goals else []
        table.add_row(*cells, short_verdict(m))
    return table, len(cmp.metrics) - len(rows)


def show_comparison(cmp, files=None, *, wide: bool = False) -> None:
    from ..report.markdown import family_sentence
    from ..text.inert import terminal

    console = _console()
    table, folded = comparison_table(cmp, wide=wide)
    console.print(table)
    notes = ["* exploratory (outside the confirmatory family: unadjusted p)"]
    if folded:
        notes.append(f"{folded} slice row(s) not shown: --wide shows them, report.md has all")
    console.print("; ".join(notes), markup=False, highlight=False)
    console.print(terminal(family_sentence(cmp).replace("*", "")), markup=False, highlight=False)
    console.print(terminal(cmp.coverage()), markup=False, highlight=False)
    if cmp.goals is not None:
        for v in cmp.goals.verdicts:
            console.print(terminal(f"goal {v.metric} {v.goal}: {v.outcome} ({v.reason})"),
                          markup=False, highlight=False)
    for m in cmp.metrics:
        if m.mcnemar is not None and (wide or m.slice is None):
            console.print(terminal(f"{m.name}: McNemar {m.mcnemar.b} lost / {m.mcnemar.c} "
                                   f"gained (n_discordant {m.mcnemar.n_discordant}, exact p "
                                   f"{m.mcnemar.pvalue:.3g}, mid-p {m.mcnemar.midp:.3g})"),
                          markup=False, highlight=False)
    warnings = list(cmp.warnings) + (list(cmp.goals.warnings) if cmp.goals else [])
    for w in warnings:
        console.print(terminal(f"warning: {w}"), style="bold yellow", markup=False)
    if files is not None:
        page = f", {files.html}" if files.html else ""
        console.print(terminal(f"wrote {files.markdown}{page}, {files.json} and "
                               f"{len(files.plots)} plot(s)"), markup=False)


def register(app) -> None:
    app.command("compare", help=COMPARE_HELP)(compare_command)
