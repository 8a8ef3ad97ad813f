"""The lock: goals fixed before training, checked against the task, with the power they have.

``GOALS.lock.json`` beside the goals file (``goals.yaml.lock.json``: one lock per goals file, so
two goals files in one folder keep their own) records the file's sha256, the UTC time, the git
commit, and, when the task is named, what each goal can detect: the item count, the alpha left
to it after the confirmatory family (Holm's first step: alpha / family size), and for a pass/fail
metric the minimum detectable difference of the exact McNemar test at an assumed discordance
rate. A comparison later says whether the goals were edited after locking and whether every
candidate completion it used was made after the lock (each record's ``created_at``: a rerun
served from a cache filled before the lock is not pre-registered, whenever it started).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import AssayError, InputError
from .file import Goal, GoalsFile, read_goals

LOCK_SUFFIX = ".lock.json"
LEGACY_LOCK = "goals.lock.json"  # one lock per folder, as the first landing wrote it
POWER = 0.8


@dataclass(frozen=True)
class GoalPower:
    """What one goal can detect with the planned items (prospective, at lock time)."""

    metric: str
    goal: str
    n: int | None
    alpha: float
    discordance: float | None
    min_detectable: float | None
    power: float = POWER
    note: str = ""


@dataclass(frozen=True)
class GoalsLock:
    """What ``assay goals lock`` wrote."""

    goals_file: str
    sha256: str
    locked_at: str
    git_commit: str | None
    goals: tuple[Goal, ...]
    path: str = ""
    task: str | None = None
    power: tuple[GoalPower, ...] = field(default_factory=tuple)


def lock_path(goals_path: str | Path) -> Path:
    p = Path(goals_path)
    return p.with_name(p.name + LOCK_SUFFIX)


def _existing_lock(goals_path: str | Path) -> Path | None:
    """The goals file's own lock, else a legacy folder lock written for this same file."""
    own = lock_path(goals_path)
    if own.is_file():
        return own
    legacy = Path(goals_path).with_name(LEGACY_LOCK)
    if legacy.is_file():
        try:
            if json.loads(legacy.read_text()).get("goals_file") == Path(goals_path).name:
                return legacy
        except (json.JSONDecodeError, AttributeError):
            return legacy  # unreadable: read_lock reports it
    return None


def read_lock(goals_path: str | Path) -> GoalsLock | None:
    p = _existing_lock(goals_path)
    if p is None:
        return None
    try:
        d = json.loads(p.read_text())
        goals = tuple(Goal(**g) for g in d.get("goals", []))
        power = tuple(GoalPower(**x) for x in d.get("power", []))
        return GoalsLock(d["goals_file"], d["sha256"], d["locked_at"], d.get("git_commit"),
                         goals, str(p), d.get("task"), power)
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable goals lock ({exc})", file=str(p),
                         fix="restore it from version control, or lock again with --force") \
            from exc


def declared_metrics(task) -> dict:
    """Every metric the task can report, by name (the runner's shares included)."""
    from ..metrics import RUNNER_METRICS

    declared = getattr(task, "declared_metrics", None)
    own = declared() if callable(declared) else task.metrics([])
    return {m.name: m for m in list(own) + list(RUNNER_METRICS)}


def validate(gf: GoalsFile, task) -> None:
    """Refuse, before training, what could never be judged: unknown metrics, a test on a
    descriptive metric, a gap on a metric without a baseline."""
    from .file import JUDGED_METRICS

    known = declared_metrics(task)
    for g in gf.goals:
        if g.metric in JUDGED_METRICS:  # judged by `assay judge --goals`, on any task
            continue
        m = known.get(g.metric) or known.get(g.metric.split("/")[0])
        if m is None:
            raise InputError(f"goal for unknown metric '{g.metric}'", file=gf.path,
                             field=g.metric, fix=f"use a metric of task '{task.name}': "
                             + ", ".join(known))
        if g.kind in ("improve", "hold_gap", "equivalent") and not m.tested:
            raise InputError(f"'{g.metric}' is descriptive (never tested), so '{g.text}' cannot "
                             "be judged", file=gf.path, field=g.metric,
                             fix="use a threshold (>= or <=) on it, or a tested metric")
        if g.kind == "hold_gap" and m.baseline is None:
            raise InputError(f"'{g.metric}' has no baseline, so it has no gap to hold",
                             file=gf.path, field=g.metric,
                             fix="use improve or equivalent on it, or a metric with a baseline: "
                             + ", ".join(n for n, x in known.items() if x.baseline is not None))


def goal_power(gf: GoalsFile, task, n: int | None, discordance: float) -> tuple[GoalPower, ...]:
    from ..stats import min_detectable_difference

    from .file import JUDGED_METRICS

    known = declared_metrics(task)
    tested = [x for x in gf.metrics if x in JUDGED_METRICS
              or (known.get(x) or known.get(x.split("/")[0])).tested]
    out = []
    for g in gf.goals:
        if g.metric in JUDGED_METRICS:
            out.append(GoalPower(g.metric, g.text, n, g.alpha / max(len(tested), 1), None, None,
                                 note="judged by `assay judge --goals` on a pairwise win rate "
                                 "(its detectable change depends on the tie share: run a "
                                 "pilot)"))
            continue
        m = known.get(g.metric) or known[g.metric.split("/")[0]]
        alpha = g.alpha / max(len(tested), 1)
        if n is None or m.kind != "rate" or not m.tested:
            note = ("no item count (pass --data)" if n is None else
                    "not a pass/fail metric: its detectable change depends on the spread of its "
                    "per-item values (run a pilot)" if m.tested else "descriptive")
            out.append(GoalPower(g.metric, g.text, n, alpha, None, None, note=note))
            continue
        side = 1 if g.kind == "improve" else 2
        mdd = min_detectable_difference(n, discordance, alpha=alpha * (2 if side == 1 else 1),
                                        power=POWER, method="exact")
        how = "exact McNemar" + (", one-sided" if side == 1 else "")
        if not math.isfinite(mdd):  # no change the discordant items allow reaches the power
            out.append(GoalPower(g.metric, g.text, n, alpha, discordance, None,
                                 note=f"no change up to {discordance:.0%} (the discordance) is "
                                 f"detected with power {POWER:g} on {n} items ({how}): more "
                                 "items are needed"))
            continue
        out.append(GoalPower(g.metric, g.text, n, alpha, discordance, float(mdd), note=how))
    return tuple(out)


def lock_goals(path: str | Path, *, task=None, n_items: int | None = None,
               discordance: float = 0.2, force: bool = False,
               now: datetime | None = None) -> GoalsLock:
    """Write goals.lock.json beside the goals file: its sha256, the UTC time, the git commit,
    and with ``task`` (a Task) the goals validated against it and their power at ``n_items``.

    Locking the same content again keeps the first lock (and its time). Changed goals are
    refused unless ``force``: re-locking moves the lock time, so runs started before it no
    longer count as pre-registered.
    """
    from ..run import git_commit

    if not 0 < discordance <= 1:
        raise AssayError(f"--discordance must be in (0, 1], got {discordance}. Fix: the share "
                         "of items on which you expect base and candidate to differ, e.g. 0.2")
    gf = read_goals(path)
    if task is not None:
        validate(gf, task)
    old = read_lock(path)
    if old is not None and old.sha256 == gf.sha256 and not force:
        return old
    if old is not None and not force:
        raise AssayError(f"{path} changed since it was locked at {old.locked_at}. Fix: restore "
                         "the locked goals, or pass --force to lock the new ones (runs started "
                         "before the new lock will not count as pre-registered)")
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    power = goal_power(gf, task, n_items, discordance) if task is not None else ()
    lock = GoalsLock(Path(path).name, gf.sha256, when.isoformat(timespec="milliseconds"),
                     git_commit(Path(path).resolve().parent), gf.goals, str(lock_path(path)),
                     task.name if task is not None else None, power)
    from ..atomic import write_text
    from ..jsonable import to_jsonable

    body = {k: v for k, v in asdict(lock).items() if k != "path"}
    write_text(lock_path(path), json.dumps(to_jsonable(body), indent=2, allow_nan=False) + "\n")
    return lock


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def made_before(times: Sequence[str | None], locked_at: str) -> tuple[int, int]:
    """(completions made before the lock, completions with no creation time)."""
    locked = _parse_time(locked_at)
    parsed = [_parse_time(t) for t in times]
    unknown = sum(t is None for t in parsed)
    early = sum(t is not None and locked is not None and t < locked for t in parsed)
    return early, unknown


def _completions_status(lock: GoalsLock, times: Sequence[str | None]) -> tuple[bool, str | None]:
    early, unknown = made_before(times, lock.locked_at)
    if not early and not unknown:
        return True, None
    what = (f"{early} of {len(times)} candidate completions were made before the goals were "
            f"locked at {lock.locked_at} (answers from the cache keep the time they were made)"
            if early else f"{unknown} of {len(times)} candidate completions carry no creation "
            "time")
    return False, (f"NOT PRE-REGISTERED: {what}. Fix: rerun the candidate after the lock with "
                   "`assay eval ... --no-cache`")


def lock_status(gf: GoalsFile, lock: GoalsLock | None, candidate_started: str | None,
                candidate_times: Sequence[str | None] | None = None
                ) -> tuple[bool, bool, list[str]]:
    """(edited after lock, pre-registered, warnings).

    Pre-registered means every candidate completion used (``candidate_times``: their
    ``created_at``) was made after the lock. Runs written before assay recorded those times
    (no time at all) are judged by the run's start, saying so."""
    if lock is None:
        return False, False, [f"goals NOT LOCKED: {gf.path} has no {lock_path(gf.path).name}; "
                              "nothing shows "
                              "they were fixed before training. Fix: `assay goals lock` before "
                              "the next training run"]
    warnings, edited = [], lock.sha256 != gf.sha256
    if edited:
        warnings.append(f"goals EDITED AFTER LOCKING: {gf.path} no longer matches the lock of "
                        f"{lock.locked_at} (sha256 {gf.sha256[:12]} vs {lock.sha256[:12]})")
    if candidate_times and any(t is not None for t in candidate_times):
        pre, warning = _completions_status(lock, candidate_times)
        warnings += [warning] if warning else []
        return edited, pre and not edited, warnings
    started, locked = _parse_time(candidate_started), _parse_time(lock.locked_at)
    pre = started is not None and locked is not None and started >= locked
    if pre and candidate_times is not None:
        warnings.append("pre-registration judged by the candidate run's start: its records "
                        "carry no creation times (a run from an older assay)")
    if not pre:
        warnings.append(f"NOT PRE-REGISTERED: the candidate run started "
                        f"{candidate_started or 'at an unknown time'}, before the goals were "
                        f"locked at {lock.locked_at}")
    return edited, pre and not edited, warnings
