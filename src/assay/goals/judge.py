"""Judging a comparison against its goals, on confidence bounds, never on point estimates.

- ``>= x``: Hit when the lower bound of the candidate's interval clears x, Miss when its upper
  bound is below x, Inconclusive otherwise (``<= x`` mirrors it). 77/95 correct is 0.811 with a
  95% interval of about [0.72, 0.88]: ``accuracy >= 0.80`` is Inconclusive, not a Hit.
- ``improve``: the one-sided paired p toward the better side, Holm-adjusted within the
  confirmatory family (the goals' metrics), below the goal's alpha: Hit; an interval entirely on
  the worse side: Miss; otherwise Inconclusive.
- ``hold_gap`` (non-inferiority): Hit when the lower bound of (candidate gap - base gap) is above
  -margin; Miss when its upper bound is below -margin. With the 95% interval that is a one-sided
  test at 0.025, inside the goal's alpha.
- ``equivalent`` (TOST): Hit when the interval of the difference lies inside +-margin; Miss
  when it lies entirely outside.
A bound is only trusted when it can be: a Wilson or Newcombe interval always, a bootstrap
interval from 20 items (10 clusters) and with a non-zero width; otherwise the goal is
Inconclusive, saying why. Each bound goal is a one-sided test at its own alpha, so the
comparison's intervals must be at least 1 - 2 alpha (95% for the default 0.05: one-sided 2.5%);
Holm's family-wise control covers the ``improve`` claims. A goal on a metric the comparison
could not compute is "Not evaluable" (``hit`` None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..compare.family import reliable
from ..errors import InputError
from .file import Goal, GoalsFile, read_goals
from .lock import lock_status, read_lock

HIT, MISS, INCONCLUSIVE, NOT_EVALUABLE = "Hit", "Miss", "Inconclusive", "Not evaluable"
OUTCOME = {True: HIT, False: MISS, None: INCONCLUSIVE}  # a decided goal's hit -> its word


@dataclass(frozen=True)
class GoalVerdict:
    """One goal's outcome with the numbers it was judged on. hit: True, False or None."""

    metric: str
    goal: str
    hit: bool | None
    outcome: str
    value: float | None
    reason: str
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def verdict(self) -> str:
        return self.outcome


@dataclass(frozen=True)
class GoalsCheck:
    """The goals applied to one comparison, and whether they were really fixed in advance."""

    path: str
    sha256: str
    verdicts: tuple[GoalVerdict, ...]
    locked: bool
    locked_at: str | None
    lock_commit: str | None
    edited_after_lock: bool
    pre_registered: bool
    warnings: tuple[str, ...] = ()

    @property
    def hits(self) -> int:
        return sum(v.hit is True for v in self.verdicts)

    def for_metric(self, name: str) -> list[GoalVerdict]:
        return [v for v in self.verdicts if v.metric == name]


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def bounds(goal: Goal, lo, hi, value) -> GoalVerdict:
    """Hit / Miss / Inconclusive of the candidate's interval ``lo..hi`` against a threshold."""
    x = goal.threshold
    if goal.kind == "at_least":
        hit = True if lo >= x else False if hi < x else None
    else:
        hit = True if hi <= x else False if lo > x else None
    return GoalVerdict(goal.metric, goal.text, hit, OUTCOME[hit], value,
                       f"{value:.4g}, CI [{lo:.4g}, {hi:.4g}] vs {x:g}", lo, hi)


def _untrusted(goal: Goal, m, what: str, method: str, lo, hi, value) -> GoalVerdict | None:
    """Inconclusive (with the reason) when the interval cannot decide a goal, else None."""
    if reliable(method, m.n, m.n_groups, lo, hi):
        return None
    why = ("a degenerate bootstrap interval" if "degenerate" in method or
           (_finite(lo) and _finite(hi) and hi <= lo) else
           f"a bootstrap interval on only {m.n} items" + (f" in {m.n_groups} clusters"
                                                           if m.n_groups else ""))
    return GoalVerdict(m.name, goal.text, None, INCONCLUSIVE, value,
                       f"{what} has {why}: too little to decide", lo, hi)


def _level_too_low(goal: Goal, m, level: float) -> GoalVerdict | None:
    need = 1 - 2 * goal.alpha
    if level + 1e-12 >= need:
        return None
    return GoalVerdict(m.name, goal.text, None, NOT_EVALUABLE, None,
                       f"the comparison's intervals are {level:.0%}; this goal (alpha "
                       f"{goal.alpha:g}) needs at least {need:.0%}. Fix: compare with "
                       f"--confidence-level {need:g}")


def _threshold(goal: Goal, m) -> GoalVerdict:
    lo, hi = m.candidate_ci_low, m.candidate_ci_high
    if not (_finite(lo) and _finite(hi)):
        return GoalVerdict(m.name, goal.text, None, NOT_EVALUABLE, None,
                           "the candidate's value has no interval")
    bad = _untrusted(goal, m, "the candidate's value", m.value_ci_method, lo, hi, m.candidate)
    if bad is not None:
        return bad
    return bounds(goal, lo, hi, m.candidate)


def _improve(goal: Goal, m, p: float) -> GoalVerdict:
    if not _finite(p):
        return GoalVerdict(m.name, goal.text, None, NOT_EVALUABLE, m.difference,
                           "no p-value (the metric was not tested)")
    if p < goal.alpha and m.improved:
        hit, why = True, f"p {p:.3g} < {goal.alpha:g}"
    elif _worse_side(m):
        hit, why = False, "its interval lies entirely on the worse side"
    else:
        hit, why = None, f"p {p:.3g} >= {goal.alpha:g}"
    return GoalVerdict(m.name, goal.text, hit, OUTCOME[hit],
                       m.difference, f"difference {m.difference:+.4g} [CI {m.ci_low:+.4g}, "
                       f"{m.ci_high:+.4g}], one-sided {why} (Holm within the goals)",
                       m.ci_low, m.ci_high)


def _worse_side(m) -> bool:
    if not (_finite(m.ci_low) and _finite(m.ci_high)):
        return False
    if m.direction == "higher":
        return m.ci_high < 0
    if m.direction in ("lower", "magnitude"):  # magnitude: the interval is of |value|
        return m.ci_low > 0
    return False


def _hold_gap(goal: Goal, m) -> GoalVerdict:
    lo, hi = m.gap_ci_low, m.gap_ci_high
    if m.candidate_gap is None or m.base_gap is None or not (_finite(lo) and _finite(hi)):
        return GoalVerdict(m.name, goal.text, None, NOT_EVALUABLE, None,
                           "no gap over a baseline could be computed")
    change = m.candidate_gap - m.base_gap
    bad = _untrusted(goal, m, "the change of the gap", m.gap_ci_method, lo, hi, change)
    if bad is not None:
        return bad
    margin = goal.margin
    hit = True if lo > -margin else False if hi < -margin else None
    return GoalVerdict(m.name, goal.text, hit, OUTCOME[hit],
                       change, f"gap over {m.baseline_name or 'baseline'} {m.base_gap:+.4g} -> "
                       f"{m.candidate_gap:+.4g}, change {change:+.4g} [CI {lo:+.4g}, {hi:+.4g}] "
                       f"vs -{margin:g}", lo, hi)


def _equivalent(goal: Goal, m) -> GoalVerdict:
    lo, hi, margin = m.ci_low, m.ci_high, goal.margin
    if not (_finite(lo) and _finite(hi)):
        return GoalVerdict(m.name, goal.text, None, NOT_EVALUABLE, m.difference,
                           "the difference has no interval")
    bad = _untrusted(goal, m, "the difference", m.ci_method, lo, hi, m.difference)
    if bad is not None:
        return bad
    from ..stats import tost

    hit = True if tost(lo, hi, margin) else False if lo >= margin or hi <= -margin else None
    return GoalVerdict(m.name, goal.text, hit, OUTCOME[hit],
                       m.difference, f"difference {m.difference:+.4g} [CI {lo:+.4g}, {hi:+.4g}] "
                       f"vs +-{margin:g}", lo, hi)


def family_pvalues(goals: tuple[Goal, ...], comparison) -> dict[str, float]:
    """Holm-adjusted p per family metric: one-sided toward better for a metric with an improve
    goal, two-sided otherwise."""
    from ..stats import holm

    improve = {g.metric for g in goals if g.kind == "improve"}
    names = [n for n in comparison.family]
    raw = []
    for n in names:
        m = comparison.metric(n)
        raw.append(m.pvalue_improve if n in improve else m.pvalue)
    keep = [i for i, p in enumerate(raw) if _finite(p)]
    adjusted = holm([raw[i] for i in keep]) if keep else ()
    return {names[i]: float(p) for i, p in zip(keep, adjusted)}


def judge(goals: tuple[Goal, ...], comparison) -> tuple[GoalVerdict, ...]:
    p_of = family_pvalues(goals, comparison)
    out = []
    for g in goals:
        m = comparison.metric(g.metric)
        low_level = _level_too_low(g, m, comparison.confidence_level)
        if low_level is not None and g.kind != "improve":
            out.append(low_level)
        elif g.kind == "improve":
            out.append(_improve(g, m, p_of.get(g.metric, math.nan)))
        elif g.kind == "hold_gap":
            out.append(_hold_gap(g, m))
        elif g.kind == "equivalent":
            out.append(_equivalent(g, m))
        else:
            out.append(_threshold(g, m))
    return tuple(out)


def _check_names(gf: GoalsFile, comparison) -> None:
    known = [m.name for m in comparison.metrics]
    unknown = [g.metric for g in gf.goals if g.metric not in known]
    if unknown:
        raise InputError(f"goal for unknown metric '{unknown[0]}'", file=gf.path,
                         field=unknown[0], fix=f"use a metric of task '{comparison.task}': "
                         + ", ".join(known))
    if gf.task and gf.task != comparison.task:
        raise InputError(f"the goals are for task '{gf.task}', the runs are '{comparison.task}'",
                         file=gf.path, field="task", fix="compare with the goals of this task")


def candidate_times(comparison) -> list[str | None] | None:
    """The ``created_at`` of the candidate's completions, read from its run directory (None
    when that run is gone)."""
    from ..rundir import load_run

    side = comparison.candidate
    try:
        run = load_run(side.run)
    except Exception:  # a comparison.json whose runs were moved: judged by the start time
        return None
    label = side.model or side.label
    return [r.get("created_at") for r in run.records_of(label) if not r.get("error")]


def check_goals(path, comparison, times: list[str | None] | None = None) -> GoalsCheck:
    """Judge a comparison against a goals file (path or GoalsFile) and its lock.

    times: the ``created_at`` of every candidate completion the comparison used (read from
    the candidate's run when not given); pre-registered only if all were made after the lock.
    """
    gf = path if isinstance(path, GoalsFile) else read_goals(path)
    _check_names(gf, comparison)
    lock = read_lock(gf.path)
    if times is None and lock is not None:
        times = candidate_times(comparison)
    edited, pre, warnings = lock_status(gf, lock, comparison.candidate.started_at, times)
    return GoalsCheck(gf.path, gf.sha256, judge(gf.goals, comparison), lock is not None,
                      lock.locked_at if lock else None, lock.git_commit if lock else None, edited,
                      pre, tuple(warnings))
