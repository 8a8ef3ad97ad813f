"""The report of one run on its own (no comparison): each model's metrics, with a Wilson
interval for pass/fail rates, beside the metric's baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..rundir import Run, load_run
from ..tasks import Metric


@dataclass(frozen=True)
class MetricRow:
    """One metric across the run's models."""

    name: str
    test: str
    higher_is_better: bool
    values: dict[str, float]
    low: dict[str, float | None]
    high: dict[str, float | None]
    baseline_name: str | None = None
    baselines: dict[str, float | None] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class RunSummary:
    """What ``assay report RUN_DIR`` shows."""

    task: str
    path: str
    models: tuple[str, ...]
    n_items: dict[str, int]
    rows: tuple[MetricRow, ...]
    parse_failure_rate: dict[str, float | None]
    truncated_share: dict[str, float | None]
    errors: dict[str, int]
    details: dict[str, dict]
    started_at: str | None = None
    git_commit: str | None = None

    def to_dict(self) -> dict:
        from ..commands._common import to_jsonable

        return to_jsonable(self)


def _wilson(metric: Metric, records: list[dict]) -> tuple[float | None, float | None]:
    """Wilson interval of a pass/fail rate on the greedy original records."""
    if metric.test != "mcnemar" or not metric.outcome:
        return None, None
    from ..compare import _greedy, _outcome
    from ..stats import wilson_interval

    vals = [_outcome(r, metric.outcome, bool) for r in _greedy(records).values()]
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None
    iv = wilson_interval(sum(vals), len(vals))
    return iv.low, iv.high


def _rows(task, by_model: dict[str, list[dict]]) -> tuple[MetricRow, ...]:
    per_model = {label: {m.name: m for m in task.metrics(rs)} for label, rs in by_model.items()}
    names = list(dict.fromkeys(n for ms in per_model.values() for n in ms))
    rows = []
    for name in names:
        first = next(ms[name] for ms in per_model.values() if name in ms)
        values, low, high, baselines = {}, {}, {}, {}
        for label, ms in per_model.items():
            if name not in ms:
                continue
            m, rs = ms[name], by_model[label]
            values[label] = m.compute(rs)
            low[label], high[label] = _wilson(m, rs)
            baselines[label] = m.baseline(rs) if m.baseline else None
        rows.append(MetricRow(name, first.test, first.higher_is_better, values, low, high,
                              first.baseline_name, baselines, first.description))
    return tuple(rows)


def summarize_run(run: Run | str | Path) -> RunSummary:
    """Metrics of every model of a run, recomputed from items.jsonl."""
    from ..compare import _shares
    from ..rundir import task_of

    run = run if isinstance(run, Run) else load_run(run)
    task = task_of(run)
    by_model = {label: [r for r in run.records_of(label) if not r.get("error")]
                for label in run.models}
    shares = {label: _shares(run.records_of(label)) for label in run.models}
    return RunSummary(
        task=run.task, path=str(run.path), models=tuple(run.models),
        n_items={k: len({r["id"] for r in v}) for k, v in by_model.items()},
        rows=_rows(task, by_model),
        parse_failure_rate={k: v[1] for k, v in shares.items()},
        truncated_share={k: v[0] for k, v in shares.items()},
        errors={k: v[2] for k, v in shares.items()},
        details={k: task.details(v) or {} for k, v in by_model.items()},
        started_at=run.manifest.get("started_at"), git_commit=run.manifest.get("git_commit"))
