"""The report of one run on its own (no comparison): each model's metrics, with a Wilson
interval for pass/fail rates, beside the metric's baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..rundir import Run, load_run


@dataclass(frozen=True)
class MetricRow:
    """One metric across the run's models: value, its interval and n per model."""

    name: str
    kind: str
    direction: str
    role: str
    values: dict[str, float]
    low: dict[str, float | None]
    high: dict[str, float | None]
    n: dict[str, int] = field(default_factory=dict)
    baseline_name: str | None = None
    baselines: dict[str, float | None] = field(default_factory=dict)
    description: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


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
        from ..jsonable import to_jsonable

        return to_jsonable(self)


def _rows(task, by_model: dict[str, list[dict]]) -> tuple[MetricRow, ...]:
    from ..metrics import cluster_labels, metrics_of, value_interval
    from ..records import by_item

    per_model = {label: {m.name: m for m in metrics_of(task, rs)} for label, rs in by_model.items()}
    names = list(dict.fromkeys(n for ms in per_model.values() for n in ms))
    rows = []
    for name in names:
        first = next(ms[name] for ms in per_model.values() if name in ms)
        values, low, high, n, baselines = {}, {}, {}, {}, {}
        for label, ms in per_model.items():
            if name not in ms:
                continue
            m, grouped = ms[name], by_item(by_model[label])
            items = list(grouped.values())
            iv = value_interval(m, items, groups=cluster_labels(m, items, list(grouped)))
            values[label], low[label], high[label], n[label] = (iv["value"], iv["ci_low"],
                                                                iv["ci_high"], iv["n"])
            baselines[label] = m.baseline.value_of_items(items) if m.baseline else None
        rows.append(MetricRow(name, first.kind, first.direction, first.role, values, low, high,
                              n, first.baseline.name if first.baseline else None, baselines,
                              first.description))
    return tuple(rows)


def summarize_run(run: Run | str | Path) -> RunSummary:
    """Metrics of every model of a run, recomputed from items.jsonl."""
    from ..metrics import shares as run_shares
    from ..rundir import task_of

    run = run if isinstance(run, Run) else load_run(run)
    task = task_of(run)
    by_model = {label: [r for r in run.records_of(label) if not r.get("error")]
                for label in run.models}
    shares = {label: run_shares(run.records_of(label)) for label in run.models}
    return RunSummary(
        task=run.task, path=str(run.path), models=tuple(run.models),
        n_items={k: len({r["id"] for r in v}) for k, v in by_model.items()},
        rows=_rows(task, by_model),
        parse_failure_rate={k: v[1] for k, v in shares.items()},
        truncated_share={k: v[0] for k, v in shares.items()},
        errors={k: v[2] for k, v in shares.items()},
        details={k: task.details(v) or {} for k, v in by_model.items()},
        started_at=run.manifest.get("started_at"), git_commit=run.manifest.get("git_commit"))
