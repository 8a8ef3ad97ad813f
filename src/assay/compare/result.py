"""What a comparison returns: frozen result objects, their JSON form, and reading them back."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AssayError

# The words a metric's verdict can take (see family.verdict).
BETTER, WORSE, INCONCLUSIVE, EQUIVALENT = "better", "worse", "inconclusive", "equivalent"
DESCRIPTIVE, TOO_FEW, UNDEFINED = "descriptive", "too few items", "undefined"
CONFIRMATORY, EXPLORATORY = "confirmatory", "exploratory"


@dataclass(frozen=True)
class Discordant:
    """One item whose pass/fail outcome differs between the models, with both outputs, each
    model's parsed answer and the item's gold answer (the task's ``gold_keys`` scores)."""

    id: str
    base_output: str | None
    candidate_output: str | None
    base_parse_error: str | None = None
    candidate_parse_error: str | None = None
    base_parsed: Any = None
    candidate_parsed: Any = None
    gold: dict | None = None


@dataclass(frozen=True)
class McNemarDetail:
    """The paired 2x2 table of one pass/fail metric: b = lost, c = gained."""

    n: int
    b: int
    c: int
    n_discordant: int
    pvalue: float
    midp: float = math.nan
    lost: tuple[Discordant, ...] = ()
    gained: tuple[Discordant, ...] = ()


@dataclass(frozen=True)
class NoiseDetail:
    """How far a repeat run of the base model moved on this metric (the noise floor)."""

    repeat_value: float
    difference: float
    n: int
    flip_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    within_noise: bool = False


@dataclass(frozen=True)
class Distribution:
    """Per-item values of a mean metric, kept for the score-distribution plot."""

    base: tuple[float, ...]
    candidate: tuple[float, ...]


@dataclass(frozen=True)
class MetricComparison:
    """One metric compared on the paired items.

    family: ``confirmatory`` (Holm-adjusted with the goals' metrics, or the task's primary
    metrics when no goals are given), ``exploratory`` (unadjusted p, labelled so), or
    ``descriptive`` (value and CI only). verdict: better | worse | inconclusive | equivalent |
    descriptive | too few items | undefined. pvalue: two-sided, from the metric's paired test;
    pvalue_improve: one-sided toward the better side. difference = candidate - base value (for
    a ``magnitude`` metric |candidate| - |base|, the quantity tested), with its paired CI; candidate_ci_*: the CI of the candidate's own value (what a threshold goal is
    judged on); gap_ci_*: the CI of candidate_gap - base_gap (what hold_gap is judged on).
    """

    name: str
    kind: str
    test: str
    direction: str
    role: str
    family: str
    verdict: str
    n: int
    base: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float
    pvalue_improve: float = math.nan
    pvalue_holm: float = math.nan
    ci_method: str = ""
    description: str = ""
    slice: str | None = None
    base_ci_low: float = math.nan
    base_ci_high: float = math.nan
    candidate_ci_low: float = math.nan
    candidate_ci_high: float = math.nan
    value_ci_method: str = ""
    baseline_name: str | None = None
    base_baseline: float | None = None
    candidate_baseline: float | None = None
    base_gap: float | None = None
    candidate_gap: float | None = None
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None
    gap_ci_method: str = ""
    n_groups: int | None = None
    n_resamples: int | None = None
    mcnemar: McNemarDetail | None = None
    noise: NoiseDetail | None = None
    distribution: Distribution | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    @property
    def improved(self) -> bool:
        """The change points the good way (regardless of significance)."""
        d = self.difference
        if not isinstance(d, (int, float)) or not math.isfinite(d) or d == 0:
            return False
        if self.direction == "higher":
            return d > 0
        if self.direction in ("lower", "magnitude"):  # magnitude: d is |candidate| - |base|
            return d < 0
        return False

    @property
    def tested(self) -> bool:
        return self.family != DESCRIPTIVE


@dataclass(frozen=True)
class Side:
    """One model of the comparison and the facts about its run that bear on the result."""

    label: str
    run: str
    spec: str | None
    n_records: int
    truncated_share: float | None
    parse_failure_rate: float | None
    errors: int
    started_at: str | None
    data: str | None = None
    data_sha256: str | None = None
    model: str | None = None  # the label in its run (``label`` may be made unique)
    n_cached: int | None = None  # completions this run took from the cache (None: unknown)
    created_first: str | None = None  # when its oldest and newest completions were made
    created_last: str | None = None
    items_covered: int | None = None  # items with an answer that did not fail
    items_in_data: int | None = None  # items of the data file the run was made on


@dataclass(frozen=True)
class Comparison:
    """The result of ``compare_runs``; ``assay.report`` renders it, ``to_dict`` serialises it."""

    task: str
    base: Side
    candidate: Side
    n_items: int
    n_paired: int
    metrics: tuple[MetricComparison, ...]
    only_base: tuple[str, ...] = ()
    only_candidate: tuple[str, ...] = ()
    prompt_mismatches: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    goals: Any = None  # assay.goals.GoalsCheck
    noise_run: str | None = None
    details: dict = field(default_factory=dict)
    family: tuple[str, ...] = ()
    family_source: str = ""
    alpha: float = 0.05
    min_slice_n: int = 20
    n_resamples: int = 10_000
    bootstrap_resamples: int = 2_000
    seed: int = 0
    confidence_level: float = 0.95
    created_at: str = ""

    def metric(self, name: str) -> MetricComparison:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric '{name}'; metrics: {[m.name for m in self.metrics]}")

    def coverage(self) -> str:
        """'coverage: 28 items paired; base answered 30 of 30 items, ft 28 of 30'."""
        sides = []
        for s in (self.base, self.candidate):
            if s.items_covered is not None:
                of = f" of {s.items_in_data}" if s.items_in_data is not None else ""
                sides.append(f"{s.label} {s.items_covered}{of}")
        return (f"coverage: {self.n_items} items paired"
                + ("; answered: " + ", ".join(sides) if sides else ""))

    def to_dict(self, *, distributions: bool = True) -> dict:
        """Plain JSON-able data (nan as None); ``distributions=False`` leaves out the per-item
        scores kept for plots (the bulk of a large comparison)."""
        data = plain(self)
        if not distributions:
            for m in data["metrics"]:
                m["distribution"] = None
        return data


def plain(obj: Any) -> Any:
    """JSON-able values (nan and inf as None); see assay.jsonable."""
    from ..jsonable import to_jsonable

    return to_jsonable(obj)


def _decode(tp: Any, value: Any) -> Any:
    import dataclasses
    import types
    import typing

    if value is None:
        return math.nan if tp is float else None
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return _decode_dataclass(arg, value)
        return value
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    return value


def _decode_dataclass(cls, data: dict):
    import dataclasses
    import typing

    from ..goals import GoalsCheck, GoalVerdict

    hints = typing.get_type_hints(cls, localns={"GoalsCheck": GoalsCheck,
                                                "GoalVerdict": GoalVerdict})
    if cls is Comparison:
        hints["goals"] = GoalsCheck | None
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _decode(hints[k], v) for k, v in data.items() if k in names})


def comparison_from_dict(data: dict) -> Comparison:
    """Rebuild a Comparison from ``Comparison.to_dict()`` (the comparison.json of a report)."""
    try:
        return _decode_dataclass(Comparison, data)
    except (TypeError, KeyError) as exc:
        raise AssayError(f"not a comparison written by this version of assay ({exc}). Fix: "
                         "rerun `assay compare ... --out DIR`") from exc


def load_comparison(path: str | Path) -> Comparison:
    """Read comparison.json (or the directory holding it)."""
    import json

    p = Path(path)
    p = p / "comparison.json" if p.is_dir() else p
    if not p.is_file():
        raise AssayError(f"{path} holds no comparison.json. Fix: pass a directory written by "
                         "`assay compare ... --out DIR`, or a run directory")
    return comparison_from_dict(json.loads(p.read_text()))
