"""Join the run directories of one eval split across machines (``--shard K/N``) into one.

The runs must be of the same task (and task options) on the same data file, with the same model
labels, each label the same model: its identity (what enters the cache key) and its decoding
equal in every run, since joining two models' answers under one label is the error a response
cache keyed without the model's identity makes. No record (item, model, pass, sample) may be in
two runs: an overlap means two shards of different splits, or a run given twice. The joined
run's metrics are recomputed from the joined records, and its manifest names the runs it came
from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AssayError
from .rundir import MANIFEST, Run, check_out_dir, load_run, task_of


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What ``merge_runs`` wrote."""

    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    n_records: int
    n_runs: int


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _check_same(runs: Sequence[Run], what: str, get) -> None:
    first = get(runs[0])
    for run in runs[1:]:
        if _canon(get(run)) != _canon(first):
            raise AssayError(f"cannot merge {runs[0].path} and {run.path}: their {what} differ "
                             f"({_canon(first)[:120]} vs {_canon(get(run))[:120]}). Fix: merge "
                             "only the shards of one run (same task, data and models)")


def _check_models(runs: Sequence[Run]) -> None:
    _check_same(runs, "model labels", lambda r: sorted(r.models))
    for label in runs[0].models:
        for field in ("identity", "decoding"):
            first = runs[0].manifest["models"][label].get(field)
            for run in runs[1:]:
                other = run.manifest["models"][label].get(field)
                if _canon(other) != _canon(first):
                    raise AssayError(
                        f"cannot merge {runs[0].path} and {run.path}: model '{label}' has "
                        f"another {field} in each ({_canon(first)[:160]} vs "
                        f"{_canon(other)[:160]}): they are not the same model. Fix: merge "
                        "runs of the same model, or rerun the odd shard against it")


def _check_shards(runs: Sequence[Run]) -> None:
    shards = [r.manifest.get("shard") for r in runs]
    if not any(shards):
        return
    counts = {s["count"] for s in shards if s}
    indices = [s["index"] for s in shards if s]
    if None in shards or len(counts) > 1 or len(set(indices)) < len(indices):
        shown = ", ".join(f"{r.path}: {s['index']}/{s['count']}" if s else f"{r.path}: none"
                          for r, s in zip(runs, shards))
        raise AssayError(f"the runs are not distinct shards of one split ({shown}). Fix: "
                         "merge the runs of --shard 0/N .. N-1/N, each once")


def _check_overlap(runs: Sequence[Run]) -> None:
    seen: dict[tuple, Path] = {}
    for run in runs:
        for r in run.records:
            key = (r["model"], str(r["id"]), r.get("pass"), r.get("sample"))
            if key in seen and seen[key] != run.path:
                raise AssayError(f"cannot merge: item '{key[1]}' (model '{key[0]}', pass "
                                 f"{key[2]}, sample {key[3]}) is in both {seen[key]} and "
                                 f"{run.path}. Fix: merge shards of one --shard K/N split, "
                                 "each run once")
            seen[key] = run.path


def check_mergeable(runs: Sequence[Run]) -> None:
    """Refuse runs that are not shards of one run (each check names both directories)."""
    if len(runs) < 2:
        raise AssayError("assay merge needs two run directories or more. Fix: pass the --out "
                         "directory of each shard")
    _check_same(runs, "kinds", lambda r: r.manifest.get("kind"))
    _check_same(runs, "tasks", lambda r: (r.task, r.manifest.get("task_options") or {}))
    _check_same(runs, "data files (sha256)", lambda r: (r.manifest.get("data") or {}).get(
        "sha256"))
    _check_models(runs)
    _check_shards(runs)
    _check_overlap(runs)


def _model_info(runs: Sequence[Run], label: str) -> dict[str, Any]:
    infos = [r.manifest["models"][label] for r in runs]
    info = dict(infos[0])
    for name in ("requests_sent", "cache_hits"):
        info[name] = sum(i.get(name) or 0 for i in infos)
    info["generation_wall_s"] = max(i.get("generation_wall_s") or 0.0 for i in infos)
    return info


def _manifest(runs: Sequence[Run], records_by_model: dict, metrics: dict) -> dict[str, Any]:
    from .run import cache_provenance, coverage_of, utc_now

    first = runs[0].manifest
    records = [r for rs in records_by_model.values() for r in rs]
    ids = list(dict.fromkeys(str(r["id"]) for r in records))
    data = {**first.get("data", {}),
            "n_items": sum((r.manifest.get("data") or {}).get("n_items", 0) for r in runs)}
    manifest = {k: v for k, v in first.items() if k not in ("run_id", "items_sha256")}
    manifest.update(
        data=data, models={lab: _model_info(runs, lab) for lab in records_by_model},
        shard=None, errors=metrics["errors"], truncated_share=metrics["truncated_share"],
        parse_failure_rate=metrics["parse_failure_rate"],
        requests_sent=sum(r.manifest.get("requests_sent") or 0 for r in runs),
        cache_hits=sum(r.manifest.get("cache_hits") or 0 for r in runs),
        generation_wall_s=max(r.manifest.get("generation_wall_s") or 0.0 for r in runs),
        cache=cache_provenance(records), coverage=coverage_of(records_by_model, ids),
        started_at=min(r.manifest.get("started_at") or "" for r in runs),
        finished_at=utc_now(),
        merged_from=[{"path": str(r.path), "run_id": r.manifest.get("run_id"),
                      "shard": r.manifest.get("shard"),
                      "n_items": (r.manifest.get("data") or {}).get("n_items")} for r in runs])
    manifest.pop("requests_per_s", None)
    return manifest


def merge_runs(dirs: Sequence[str | Path], out: str | Path, *, force: bool = False
               ) -> MergeResult:
    """Join shard run directories into one at ``out`` (refused when ``out`` holds a run,
    unless ``force``); the metrics are recomputed from the joined records."""
    from .run import compute_metrics, write_run_dir

    out = check_out_dir(out)
    if (out / MANIFEST).is_file() and not force:
        raise AssayError(f"--out '{out}' already holds a run. Fix: give --out a new directory, "
                         "or pass --force to replace it")
    if any(Path(d).resolve() == out.resolve() for d in dirs):
        raise AssayError(f"--out '{out}' is one of the runs to merge. Fix: give --out a new "
                         "directory")
    runs = [load_run(d) for d in dirs]
    check_mergeable(runs)
    labels = runs[0].models
    records_by_model = {lab: [rec for run in runs for rec in run.records_of(lab)]
                        for lab in labels}
    metrics = compute_metrics(task_of(runs[0]), records_by_model)
    manifest = _manifest(runs, records_by_model, metrics)
    records = [r for rs in records_by_model.values() for r in rs]
    prompts = {h: m for run in runs for h, m in run.prompts.items()}
    write_run_dir(out, manifest, records, metrics, prompts or None)
    return MergeResult(out, manifest, metrics, len(records), len(runs))
