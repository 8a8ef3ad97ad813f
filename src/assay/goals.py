"""Goals fixed before training: a goals.yaml, its lock, and the Hit / Miss verdicts of a comparison.

A goal set written down before the candidate exists cannot be retrofitted to the result. The lock
(``goals.lock.json`` beside the goals file) records the file's sha256, the UTC time and the git
commit; a comparison then says whether the goals were edited after locking (hash mismatch) and
whether the candidate's run started before the lock (so the goals were not pre-registered).

goals.yaml, one entry per metric (optionally under a top-level ``goals:`` key, with ``task:``)::

    accuracy: ">= 0.37"            # the candidate's value reaches a threshold
    parse_failure_rate: "<= 0.1"   # ... or stays under one
    form_rate: improve             # better than base, significant at alpha 0.05 (Holm across
    relevance: {goal: improve, alpha: 0.01}   # the metrics that carry an improve goal)
    category_macro_f1: hold_gap    # keeps at least the base's gap over the metric's baseline
    kappa: {goal: hold_gap, gap: 0.2}         # ... or a stated gap
    f1: [">= 0.8", improve]        # several goals for one metric
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import AssayError, InputError

LOCK_NAME = "goals.lock.json"
ACCEPTED = ('">= 0.37"', '"<= 0.1"', "improve", "{goal: improve, alpha: 0.01}", "hold_gap",
            "{goal: hold_gap, gap: 0.05}", "a list of these")
_THRESHOLD = re.compile(r"^\s*(>=|<=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Goal:
    """One goal on one metric. kind: at_least | at_most | improve | hold_gap."""

    metric: str
    kind: str
    threshold: float | None = None
    alpha: float = 0.05
    gap: float | None = None

    @property
    def text(self) -> str:
        if self.kind == "at_least":
            return f">= {self.threshold:g}"
        if self.kind == "at_most":
            return f"<= {self.threshold:g}"
        if self.kind == "improve":
            return f"improve (alpha {self.alpha:g})"
        return "hold gap" + ("" if self.gap is None else f" >= {self.gap:g}")


@dataclass(frozen=True)
class GoalsLock:
    """What ``assay goals lock`` wrote."""

    goals_file: str
    sha256: str
    locked_at: str
    git_commit: str | None
    goals: tuple[Goal, ...]
    path: str = ""


@dataclass(frozen=True)
class GoalsFile:
    """A parsed goals.yaml and its hash."""

    path: str
    sha256: str
    goals: tuple[Goal, ...]
    task: str | None = None


@dataclass(frozen=True)
class GoalVerdict:
    """Hit or Miss for one goal, with the numbers it was judged on."""

    metric: str
    goal: str
    hit: bool
    value: float | None
    reason: str

    @property
    def verdict(self) -> str:
        return "Hit" if self.hit else "Miss"


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
        return sum(v.hit for v in self.verdicts)

    def for_metric(self, name: str) -> list[GoalVerdict]:
        return [v for v in self.verdicts if v.metric == name]


# ---------------------------------------------------------------------------------------------
# Parsing


def _bad(path: str, metric: str, value: Any, what: str) -> InputError:
    return InputError(f"{what}", file=path, field=metric, value=value,
                      fix="write one of " + ", ".join(ACCEPTED))


def _number(path: str, metric: str, name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise _bad(path, f"{metric}.{name}", value, f"'{name}' must be a number in ({low:g}, "
                   f"{high:g})")
    return float(value)


def _from_text(path: str, metric: str, text: str, alpha: float, gap: float | None) -> Goal:
    m = _THRESHOLD.match(text)
    if m:
        kind = "at_least" if m.group(1) == ">=" else "at_most"
        return Goal(metric, kind, threshold=float(m.group(2)))
    word = text.strip().lower().replace("-", "_").replace(" ", "_")
    if word == "improve":
        return Goal(metric, "improve", alpha=alpha)
    if word == "hold_gap":
        return Goal(metric, "hold_gap", gap=gap)
    raise _bad(path, metric, text, "unrecognised goal")


def parse_goal(path: str, metric: str, value: Any) -> Goal:
    """One goal from its YAML value (a string or a mapping with 'goal', 'alpha', 'gap')."""
    if isinstance(value, str):
        return _from_text(path, metric, value, 0.05, None)
    if isinstance(value, dict):
        unknown = set(value) - {"goal", "alpha", "gap"}
        if unknown or not isinstance(value.get("goal"), str):
            raise _bad(path, metric, value, "a goal mapping needs a 'goal' string and only "
                       "'alpha' or 'gap' besides" + (f" (unknown keys {sorted(unknown)})"
                                                     if unknown else ""))
        alpha = _number(path, metric, "alpha", value.get("alpha", 0.05), 0, 1)
        gap = value.get("gap")
        if gap is not None:
            gap = _number(path, metric, "gap", gap, -math.inf, math.inf)
        return _from_text(path, metric, value["goal"], alpha, gap)
    raise _bad(path, metric, value, "a goal must be a string or a mapping")


def parse_goals(data: Any, path: str = "goals.yaml") -> tuple[tuple[Goal, ...], str | None]:
    """Goals (and the optional task name) from the loaded YAML document."""
    if not isinstance(data, dict) or not data:
        raise InputError("a goals file must be a mapping of metric names to goals", file=path,
                         value=data, fix='write e.g. "accuracy: \'>= 0.8\'" one per line')
    task = data.get("task") if isinstance(data.get("goals"), dict) else None
    entries = data["goals"] if isinstance(data.get("goals"), dict) else data
    goals = []
    for metric, value in entries.items():
        for v in (value if isinstance(value, list) else [value]):
            goals.append(parse_goal(path, str(metric), v))
    return tuple(goals), task


def read_goals(path: str | Path) -> GoalsFile:
    """Read and parse a goals.yaml, with errors that name the file, metric and value."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise AssayError(f"goals file {p} does not exist. Fix: write one (see `assay goals "
                         "lock --help`) or fix the path")
    raw = p.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=str(p),
                         line=None if line is None else line + 1,
                         fix="check the indentation and quote values such as '>= 0.8'") from exc
    goals, task = parse_goals(data, str(p))
    return GoalsFile(str(p), hashlib.sha256(raw).hexdigest(), goals, task)


# ---------------------------------------------------------------------------------------------
# Locking


def lock_path(goals_path: str | Path) -> Path:
    return Path(goals_path).with_name(LOCK_NAME)


def read_lock(goals_path: str | Path) -> GoalsLock | None:
    p = lock_path(goals_path)
    if not p.is_file():
        return None
    try:
        d = json.loads(p.read_text())
        goals = tuple(Goal(**g) for g in d.get("goals", []))
        return GoalsLock(d["goals_file"], d["sha256"], d["locked_at"], d.get("git_commit"),
                         goals, str(p))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable goals lock ({exc})", file=str(p),
                         fix="restore it from version control; do not edit a lock by hand") \
            from exc


def lock_goals(path: str | Path, *, force: bool = False, now: datetime | None = None) -> GoalsLock:
    """Write goals.lock.json beside the goals file: its sha256, the UTC time, the git commit.

    Locking the same content again keeps the first lock (and its time). Changed goals are
    refused unless ``force``: re-locking moves the lock time, so runs started before it no
    longer count as pre-registered.
    """
    from .run import git_commit

    gf = read_goals(path)
    old = read_lock(path)
    if old is not None and old.sha256 == gf.sha256:
        return old
    if old is not None and not force:
        raise AssayError(f"{path} changed since it was locked at {old.locked_at}. Fix: restore "
                         "the locked goals, or pass --force to lock the new ones (runs started "
                         "before the new lock will not count as pre-registered)")
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    lock = GoalsLock(Path(path).name, gf.sha256, when.isoformat(timespec="seconds"),
                     git_commit(Path(path).resolve().parent), gf.goals,
                     str(lock_path(path)))
    body = {k: v for k, v in asdict(lock).items() if k != "path"}
    lock_path(path).write_text(json.dumps(body, indent=2) + "\n")
    return lock


# ---------------------------------------------------------------------------------------------
# Judging a comparison


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _threshold(goal: Goal, m) -> GoalVerdict:
    v = m.candidate
    if not _finite(v):
        return GoalVerdict(m.name, goal.text, False, None, "the metric is undefined")
    hit = v >= goal.threshold if goal.kind == "at_least" else v <= goal.threshold
    op = ">=" if goal.kind == "at_least" else "<="
    return GoalVerdict(m.name, goal.text, hit, v, f"{v:.4g} {op if hit else 'not ' + op} "
                                                  f"{goal.threshold:g}")


def _improve(goal: Goal, m, p: float) -> GoalVerdict:
    if not _finite(p):
        return GoalVerdict(m.name, goal.text, False, m.difference, "no p-value")
    hit = m.improved and p < goal.alpha
    why = ("moved the wrong way" if not m.improved else
           f"p {p:.3g} {'<' if hit else '>='} {goal.alpha:g}")
    return GoalVerdict(m.name, goal.text, hit, m.difference,
                       f"difference {m.difference:+.4g}, {why} (Holm across improve goals)")


def _hold_gap(goal: Goal, m) -> GoalVerdict:
    if m.candidate_gap is None:
        return GoalVerdict(m.name, goal.text, False, None, "the metric has no baseline")
    need = goal.gap if goal.gap is not None else m.base_gap
    if need is None:
        return GoalVerdict(m.name, goal.text, False, m.candidate_gap, "the base has no gap")
    hit = m.candidate_gap >= need
    return GoalVerdict(m.name, goal.text, hit, m.candidate_gap,
                       f"gap over {m.baseline_name or 'baseline'} {m.candidate_gap:+.4g} "
                       f"{'>=' if hit else '<'} {'stated' if goal.gap is not None else 'base'} "
                       f"{need:+.4g}")


def judge(goals: tuple[Goal, ...], comparison) -> tuple[GoalVerdict, ...]:
    """Hit / Miss for each goal. Improve goals are one family: their p-values are Holm-adjusted
    among themselves (the pre-registered hypotheses), not across every metric of the task."""
    from .stats import holm

    improve = [g for g in goals if g.kind == "improve"]
    raw = [comparison.metric(g.metric).pvalue for g in improve]
    finite = [p for p in raw if _finite(p)]
    adjusted = iter(holm(finite)) if finite else iter(())
    p_of = {id(g): (next(adjusted) if _finite(p) else math.nan) for g, p in zip(improve, raw)}
    out = []
    for g in goals:
        m = comparison.metric(g.metric)
        if g.kind == "improve":
            out.append(_improve(g, m, float(p_of[id(g)])))
        elif g.kind == "hold_gap":
            out.append(_hold_gap(g, m))
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


def lock_status(gf: GoalsFile, lock: GoalsLock | None,
                candidate_started: str | None) -> tuple[bool, bool, list[str]]:
    """(edited after lock, pre-registered, warnings)."""
    if lock is None:
        return False, False, [f"goals NOT LOCKED: {gf.path} has no {LOCK_NAME}; nothing shows "
                              "they were fixed before training. Fix: `assay goals lock` before "
                              "the next training run"]
    warnings, edited = [], lock.sha256 != gf.sha256
    if edited:
        warnings.append(f"goals EDITED AFTER LOCKING: {gf.path} no longer matches the lock of "
                        f"{lock.locked_at} (sha256 {gf.sha256[:12]} vs {lock.sha256[:12]})")
    started, locked = _parse_time(candidate_started), _parse_time(lock.locked_at)
    pre = started is not None and locked is not None and started >= locked
    if not pre:
        warnings.append(f"NOT PRE-REGISTERED: the candidate run started "
                        f"{candidate_started or 'at an unknown time'}, before the goals were "
                        f"locked at {lock.locked_at}")
    return edited, pre and not edited, warnings


def check_goals(path: str | Path | GoalsFile, comparison) -> GoalsCheck:
    """Judge a comparison against a goals file and its lock."""
    gf = path if isinstance(path, GoalsFile) else read_goals(path)
    _check_names(gf, comparison)
    lock = read_lock(gf.path)
    edited, pre, warnings = lock_status(gf, lock, comparison.candidate.started_at)
    return GoalsCheck(gf.path, gf.sha256, judge(gf.goals, comparison), lock is not None,
                      lock.locked_at if lock else None, lock.git_commit if lock else None, edited,
                      pre, tuple(warnings))
