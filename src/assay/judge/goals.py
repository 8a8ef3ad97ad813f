"""Goals on a judged win rate (``win_rate: [">= 0.40"]`` in goals.yaml), judged on confidence
bounds as every goal is (assay.goals.judge): the *candidate* is the last ``--candidate``, the
baseline of ``improve`` / ``equivalent`` the first.

- ``>= x`` / ``<= x``: the candidate's pooled win rate interval against x (Hit when the whole
  interval clears it, Miss when the whole interval fails it, else Inconclusive);
- ``improve``: the paired comparison of the two candidates' win rates, p < alpha and a gain;
- ``{goal: equivalent, margin: m}``: the difference's interval inside +-m.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..goals import NOT_EVALUABLE, GoalsCheck, GoalVerdict, lock_status, read_goals, read_lock
from ..goals.file import JUDGED_METRICS as JUDGE_METRICS
from ..goals.judge import OUTCOME


def _threshold(goal, pooled) -> GoalVerdict:
    lo, hi, value = pooled.ci_low, pooled.ci_high, pooled.win_rate
    if value is None:
        return GoalVerdict(goal.metric, goal.text, None, NOT_EVALUABLE, None,
                           "no parsed pair: no win rate")
    from ..goals.judge import bounds

    return bounds(goal, lo, hi, value)


def _paired(goal, comparison: dict | None) -> GoalVerdict:
    if not comparison or comparison.get("difference") is None:
        return GoalVerdict(goal.metric, goal.text, None, NOT_EVALUABLE, None,
                           "needs two --candidate models (baseline first) judged on the same "
                           "items")
    d, lo, hi, p = (comparison[k] for k in ("difference", "ci_low", "ci_high", "pvalue"))
    name = f"{comparison['candidate']} vs {comparison['baseline']}"
    if goal.kind == "improve":
        hit = True if p < goal.alpha and d > 0 else False if p < goal.alpha else None
        why = f"{name}: {d:+.4g}, p {p:.3g} vs alpha {goal.alpha:g}"
    elif goal.kind == "equivalent":
        m = goal.margin
        hit = True if -m <= lo and hi <= m else False if hi < -m or lo > m else None
        why = f"{name}: {d:+.4g}, CI [{lo:.4g}, {hi:.4g}] vs +-{m:g}"
    else:
        return GoalVerdict(goal.metric, goal.text, None, NOT_EVALUABLE, d,
                           "a judged win rate has no baseline gap to hold: use improve, "
                           "equivalent or a threshold")
    return GoalVerdict(goal.metric, goal.text, hit, OUTCOME[hit], d, why, lo, hi)


def check_judge_goals(path: str, summary: dict[str, Any],
                      candidate_times: list[str | None] | None) -> GoalsCheck:
    """The goals of a goals.yaml on `assay judge`'s summary, with their lock's status."""
    gf = read_goals(path)
    for g in gf.goals:
        if g.metric not in JUDGE_METRICS:
            raise InputError(f"goal for metric '{g.metric}', which `assay judge` does not "
                             "report", file=gf.path, field=g.metric,
                             fix="on a judged run, set goals on: " + ", ".join(JUDGE_METRICS)
                             + " (the other metrics' goals belong to `assay compare`)")
    cand = summary["candidates"][-1]
    pooled = summary["results"][cand]["pooled"]
    comparison = next((c for c in summary["comparisons"]
                       if c["candidate"] == cand and c["baseline"] == summary["candidates"][0]),
                      None)
    verdicts = tuple(_threshold(g, pooled) if g.kind in ("at_least", "at_most")
                     else _paired(g, comparison) for g in gf.goals)
    lock = read_lock(gf.path)
    edited, pre, warnings = lock_status(gf, lock, None, candidate_times)
    return GoalsCheck(gf.path, gf.sha256, verdicts, lock is not None,
                      lock.locked_at if lock else None, lock.git_commit if lock else None,
                      edited, pre, tuple(warnings))


__all__ = ["JUDGE_METRICS", "check_judge_goals"]
