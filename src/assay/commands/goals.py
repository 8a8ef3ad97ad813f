"""`assay goals lock|check`: goals fixed before training, checked against the task, with the
power they have."""

from __future__ import annotations

from typing import Optional

import typer

GOALS_HELP = """Goals fixed before training (goals.yaml) and their lock.

Example goals.yaml:

\b
  accuracy: ">= 0.80"
  parse_failure_rate: "<= 0.05"
  f1: {goal: improve, alpha: 0.05}
  relevance: {goal: hold_gap, margin: 0.02}
"""

LOCK_HELP = """Lock goals.yaml before training: writes goals.yaml.lock.json beside it (sha256, UTC time,
git commit).

Example:

\b
  assay goals lock goals.yaml && git add goals.yaml goals.yaml.lock.json && git commit -m "goals"
"""

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


def register(app) -> None:
    goals_app = typer.Typer(help=GOALS_HELP, no_args_is_help=True, rich_markup_mode=None)
    goals_app.command("lock", help=LOCK_HELP)(lock_command)
    goals_app.command("check")(check_command)
    app.add_typer(goals_app, name="goals")
