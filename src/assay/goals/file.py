"""goals.yaml: the goals a candidate must meet, written down before training.

One entry per metric (optionally under a top-level ``goals:`` key, with ``task:``)::

    accuracy: ">= 0.80"                     # the candidate's value clears a threshold
    parse_failure_rate: "<= 0.1"            # ... or stays under one
    f1: improve                             # better than the base (one-sided, in the family)
    relevance: {goal: improve, alpha: 0.01}
    kappa: {goal: hold_gap, margin: 0.02}   # keeps the base's gap over the baseline, to 0.02
    structure_compliance: {goal: equivalent, margin: 0.03}   # within +-0.03 of the base
    f1: [">= 0.7", improve]                 # several goals for one metric

Every goal is judged on a confidence bound, never on a point estimate (see assay.goals.judge).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssayError, InputError

ACCEPTED = ('">= 0.37"', '"<= 0.1"', "improve", "{goal: improve, alpha: 0.01}",
            "{goal: hold_gap, margin: 0.02}", "{goal: equivalent, margin: 0.02}",
            "a list of these")
KINDS = ("at_least", "at_most", "improve", "hold_gap", "equivalent")
# metrics of `assay judge` (pairwise judges), not of a task: goals on them are judged there
JUDGED_METRICS = ("win_rate",)
_THRESHOLD = re.compile(r"^\s*(>=|<=)\s*([-+]?(?:\d{1,30}\.?\d{0,30}|\.\d{1,30})"
                        r"(?:[eE][-+]?\d{1,4})?)\s*$")
_KEYS = {"goal", "alpha", "margin"}


@dataclass(frozen=True)
class Goal:
    """One goal on one metric. kind: at_least | at_most | improve | hold_gap | equivalent."""

    metric: str
    kind: str
    threshold: float | None = None
    alpha: float = 0.05
    margin: float | None = None

    @property
    def text(self) -> str:
        if self.kind == "at_least":
            return f">= {self.threshold:g}"
        if self.kind == "at_most":
            return f"<= {self.threshold:g}"
        if self.kind == "improve":
            return f"improve (alpha {self.alpha:g})"
        if self.kind == "hold_gap":
            return f"hold gap (margin {self.margin:g})"
        return f"equivalent (margin {self.margin:g})"


@dataclass(frozen=True)
class GoalsFile:
    """A parsed goals.yaml and its hash."""

    path: str
    sha256: str
    goals: tuple[Goal, ...]
    task: str | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.metric for g in self.goals))


def _bad(path: str, metric: str, value: Any, what: str) -> InputError:
    return InputError(f"{what}", file=path, field=metric, value=value,
                      fix="write one of " + ", ".join(ACCEPTED))


def _number(path: str, metric: str, name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise _bad(path, f"{metric}.{name}", value, f"'{name}' must be a number in ({low:g}, "
                   f"{high:g})")
    return float(value)


def _from_text(path: str, metric: str, text: str, alpha: float, margin: float | None) -> Goal:
    m = _THRESHOLD.match(text)
    if m:
        kind = "at_least" if m.group(1) == ">=" else "at_most"
        return Goal(metric, kind, threshold=float(m.group(2)), alpha=alpha)
    word = text.strip().lower().replace("-", "_").replace(" ", "_")
    if word == "improve":
        return Goal(metric, "improve", alpha=alpha)
    if word in ("hold_gap", "equivalent"):
        if margin is None:
            raise _bad(path, metric, text, f"'{word}' needs a margin locked with it (e.g. "
                       f"{{goal: {word}, margin: 0.02}}): without one, no finite sample can show "
                       "it")
        return Goal(metric, word, alpha=alpha, margin=margin)
    raise _bad(path, metric, text, "unrecognised goal")


def _from_mapping(path: str, metric: str, value: dict) -> Goal:
    if len(value) == 1 and next(iter(value)) in ("hold_gap", "equivalent", "improve") \
            and isinstance(next(iter(value.values())), dict):
        word, inner = next(iter(value.items()))  # the form hold_gap: {margin: 0.02}
        value = {"goal": word, **inner}
    unknown = set(value) - _KEYS
    if "gap" in unknown:
        raise _bad(path, f"{metric}.gap", value["gap"], "'gap' (a stated gap on a point "
                   "estimate) is no longer a goal; hold_gap is a non-inferiority test with a "
                   "'margin'")
    if unknown or not isinstance(value.get("goal"), str):
        raise _bad(path, metric, value, "a goal mapping needs a 'goal' string and only "
                   "'alpha' or 'margin' besides" + (f" (unknown keys {sorted(unknown)})"
                                                    if unknown else ""))
    alpha = _number(path, metric, "alpha", value.get("alpha", 0.05), 0, 0.5)
    margin = value.get("margin")
    if margin is not None:
        margin = _number(path, metric, "margin", margin, 0, math.inf)
    return _from_text(path, metric, value["goal"], alpha, margin)


def parse_goal(path: str, metric: str, value: Any) -> Goal:
    """One goal from its YAML value (a string or a mapping with 'goal', 'alpha', 'margin')."""
    if isinstance(value, str):
        return _from_text(path, metric, value, 0.05, None)
    if isinstance(value, dict):
        return _from_mapping(path, metric, value)
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
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(p),
                         fix="save the goals file as UTF-8") from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=str(p),
                         line=None if line is None else line + 1,
                         fix="check the indentation and quote values such as '>= 0.8'") from exc
    goals, task = parse_goals(data, str(p))
    return GoalsFile(str(p), hashlib.sha256(raw).hexdigest(), goals, task)
