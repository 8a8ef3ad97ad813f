"""`assay compare`, `assay goals lock|check` and `assay report`: the paired comparison of two
models, goals fixed before training, and the reports people publish."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

COMPARE_HELP = """Compare a candidate model with its base on the same items (paired tests).

Examples:

\b
  assay compare runs/pr1                       # one run with two models (base = first)
  assay compare runs/base runs/ft --base base --goals goals.yaml --out reports/ft
  assay compare runs/pr1 --noise runs/pr1-repeat --json
"""

GOALS_HELP = """Goals fixed before training (goals.yaml) and their lock.

Example goals.yaml:

\b
  accuracy: ">= 0.80"
  parse_failure_rate: "<= 0.05"
  f1: {goal: improve, alpha: 0.05}
  relevance: hold_gap
"""

LOCK_HELP = """Lock goals.yaml before training: writes goals.yaml.lock.json beside it (sha256, UTC time,
git commit).

Example:

\b
  assay goals lock goals.yaml && git add goals.yaml goals.yaml.lock.json && git commit -m "goals"
"""

REPORT_HELP = """Write the report of a comparison (a directory from `assay compare --out`) or of one
run: report.md, JSON, PNG plots, and with --base-model a Hugging Face model card (README.md).

Examples:

\b
  assay report reports/ft --out reports/ft
  assay report reports/ft --base-model Qwen/Qwen2.5-0.5B-Instruct --adapter ./adapter --out ./adapter
  assay report runs/pr1 --json
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
    out: Optional[str] = typer.Option(None, "--out", help="Write comparison.json, report.md "
                                      "and plots here."),
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
            data["files"] = _files_dict(files)
        print_json(data)
    else:
        show_comparison(cmp, files)


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


def _files_dict(files) -> dict:
    return {"markdown": str(files.markdown), "json": str(files.json),
            "plots": [str(p) for p in files.plots],
            "model_card": str(files.model_card) if files.model_card else None}


def _fmt(x, digits: int = 3, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _console():
    """stdout console; when piped, wide enough that the table does not wrap."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def show_comparison(cmp, files=None) -> None:
    from rich.table import Table

    from ..report.markdown import family_sentence, goal_cells

    console = _console()
    table = Table(title=f"{cmp.task}: {cmp.candidate.label} vs {cmp.base.label} "
                        f"({cmp.n_items} items)")
    cols = ["Metric", "n", "Base", "Candidate", "Diff [CI]"]
    cols += ["Goal"] if cmp.goals is not None else []
    for col in cols + ["Verdict"]:
        table.add_column(col, no_wrap=col in ("Metric", "Diff [CI]"))
    for m in cmp.metrics:
        goal, verdict = goal_cells(cmp, m)
        row = [m.name, str(m.n), _fmt(m.base), _fmt(m.candidate),
               f"{_fmt(m.difference, sign=True)} [{_fmt(m.ci_low, sign=True)}, "
               f"{_fmt(m.ci_high, sign=True)}]"]
        row += [goal.replace("**", "")] if cmp.goals is not None else []
        table.add_row(*row, verdict.replace("**", ""))
    console.print(table)
    console.print(family_sentence(cmp).replace("*", ""), markup=False, highlight=False)
    console.print(cmp.coverage(), markup=False, highlight=False)
    for m in cmp.metrics:
        if m.mcnemar is not None:
            console.print(f"{m.name}: McNemar {m.mcnemar.b} lost / {m.mcnemar.c} gained "
                          f"(n_discordant {m.mcnemar.n_discordant}, exact p "
                          f"{m.mcnemar.pvalue:.3g}, mid-p {m.mcnemar.midp:.3g})",
                          markup=False, highlight=False)
    warnings = list(cmp.warnings) + (list(cmp.goals.warnings) if cmp.goals else [])
    for w in warnings:
        console.print(f"warning: {w}", style="bold yellow", markup=False)
    if files is not None:
        console.print(f"wrote {files.markdown}, {files.json} and {len(files.plots)} plot(s)",
                      markup=False)


def lock_command(
    goals_file: str = typer.Argument(..., help="goals.yaml"),
    task: Optional[str] = typer.Option(None, "--task", help="Validate every goal against this "
                                       "task's metrics and store each goal's power."),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option", help="KEY=VALUE "
                                                    "option of the task (repeatable)."),
    data: Optional[str] = typer.Option(None, "--data", help="The eval items: their count is "
                                       "the n of the power figures."),
    discordance: float = typer.Option(0.2, "--discordance", help="Assumed share of items on "
                                      "which base and candidate differ (pass/fail power)."),
    force: bool = typer.Option(False, "--force", help="Re-lock goals that changed since their "
                               "lock (moves the lock time)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..goals import lock_goals
    from ._common import out_console, print_json

    task_obj, n_items = _lock_task(task, task_option, data)
    lock = lock_goals(goals_file, task=task_obj, n_items=n_items, discordance=discordance,
                      force=force)
    if as_json:
        print_json(lock)
        return
    console = out_console()
    console.print(f"locked {len(lock.goals)} goal(s) of {goals_file} at {lock.locked_at} "
                  f"(sha256 {lock.sha256[:12]}, commit {lock.git_commit or 'none'}) in "
                  f"{lock.path}", markup=False)
    for p in lock.power:
        mdd = (f"detects a change of {p.min_detectable:.3f} ({100 * p.min_detectable:.1f} "
               f"points) with power {p.power:g} at {p.discordance:.0%} discordance"
               if p.min_detectable is not None else p.note)
        console.print(f"  {p.metric} {p.goal}: n {p.n if p.n is not None else '?'}, alpha "
                      f"{p.alpha:.3g} after the family; {mdd}", markup=False)


def _lock_task(task: str | None, options: list[str] | None, data: str | None):
    if task is None:
        if data is not None:
            from ..errors import AssayError

            raise AssayError("--data needs --task (the task reads the items). Fix: pass "
                             "--task TASK")
        return None, None
    from ..run import build_task
    from .eval import parse_options

    t = build_task(task, parse_options(options or [], "--task-option"))
    return t, (len(t.load(data).items) if data is not None else None)


def check_command(
    goals_file: str = typer.Argument(..., help="goals.yaml"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Check a goals file's syntax and whether it still matches its lock.

    Example:

    \b
      assay goals check goals.yaml          # after `assay goals lock goals.yaml`
      assay goals check goals.yaml --json
    """
    from ..goals import lock_status, read_goals, read_lock
    from ._common import out_console, print_json

    gf, lock = read_goals(goals_file), read_lock(goals_file)
    edited, _, warnings = lock_status(gf, lock, None)
    data = {"path": gf.path, "sha256": gf.sha256, "goals": [dict(metric=g.metric, goal=g.text)
                                                            for g in gf.goals],
            "locked": lock is not None, "locked_at": lock.locked_at if lock else None,
            "edited_after_lock": edited,
            "warnings": [w for w in warnings if not w.startswith("NOT PRE-REGISTERED")]}
    if as_json:
        print_json(data)
        return
    console = out_console()
    for g in gf.goals:
        console.print(f"{g.metric}: {g.text}", markup=False)
    state = ("not locked" if lock is None else
             f"EDITED after the lock of {lock.locked_at}" if edited else
             f"locked at {lock.locked_at}, unchanged")
    console.print(f"{gf.path}: {len(gf.goals)} goal(s), {state}", markup=False)


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
        print_json({"report": report.to_dict(), "files": _files_dict(files)})
        return
    out_console().print(files.markdown.read_text(), markup=False, highlight=False)
    out_console().print(f"wrote {files.markdown}, {files.json}, {len(files.plots)} plot(s)"
                        + (f" and {files.model_card}" if files.model_card else ""), markup=False)


def register(app) -> None:
    app.command("compare", help=COMPARE_HELP)(compare_command)
    goals_app = typer.Typer(help=GOALS_HELP, no_args_is_help=True, rich_markup_mode=None)
    goals_app.command("lock", help=LOCK_HELP)(lock_command)
    goals_app.command("check")(check_command)
    app.add_typer(goals_app, name="goals")
    app.command("report", help=REPORT_HELP)(report_command)
