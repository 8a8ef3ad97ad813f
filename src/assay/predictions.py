"""`assay score`: score completions made elsewhere (the predictions format of DESIGN.md).

Each line: ``{"id": ..., "output": "raw model text", "pass": "original" | "swapped" (optional),
"sample": k (optional; absent = the greedy pass), "finish_reason": ... (optional)}``. The prompt
each prediction answers is rendered by the task, so its hash is recorded and a comparison with an
`assay eval` run of the same task and data is still paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dataset import file_sha256, read_records
from .rundir import check_out_dir, default_run_dir, existing_run
from .errors import AssayError, InputError
from .models import Completion, Decoding, Request
from .run import (RunResult, utc_now, build_task, compute_metrics, coverage_of, load_dataset,
                  manifest_common, merged, score_records, write_run_dir)
from .store import canonical_hash
from .tasks import ORIGINAL


@dataclass
class ScoreConfig:
    """Settings of one `assay score` run."""

    task: str
    data: str
    predictions: list[str]
    out: str | None = None
    skip_invalid: bool = False
    task_options: dict[str, Any] | None = None
    task_module: str | None = None
    allow_missing: bool = False  # score the covered items when some have no prediction
    force: bool = False  # replace a run at --out of another task, data or models


def _label_and_path(text: str) -> tuple[str, str]:
    label, eq, path = text.partition("=")
    if eq and label and not Path(text).exists():
        return label, path
    return Path(text).stem, text


def read_predictions(path: str, task, items_by_id: dict[str, dict], skip_invalid: bool) -> tuple[list[tuple[Request, Completion]], list[str]]:
    """Validate a predictions file against the items; returns (request, completion) pairs."""
    pairs, skipped, seen, hashes = [], [], {}, {}
    for line, rec in read_records(path, "--predictions"):
        try:
            pairs.append(_one_prediction(path, line, rec, task, items_by_id, seen, hashes))
        except InputError as exc:
            if not skip_invalid:
                raise
            skipped.append(str(exc))
    if not pairs:
        raise InputError("no valid predictions", file=path, fix="write one JSON object per line "
                         'like {"id": ..., "output": "..."}')
    return pairs, skipped


def _one_prediction(path, line, rec, task, items_by_id, seen,
                    hashes) -> tuple[Request, Completion]:
    if isinstance(rec, InputError):
        raise rec
    for name in ("id", "output"):
        if name not in rec:
            raise InputError("missing required field", file=path, line=line, field=name,
                             fix='write {"id": ..., "output": "raw model text"}')
    item_id = str(rec["id"])
    if item_id not in items_by_id:
        raise InputError("id not found in --data", file=path, line=line, field="id",
                         value=rec["id"], fix="score predictions against the data they answer")
    if not isinstance(rec["output"], str):
        raise InputError("expected a string", file=path, line=line, field="output",
                         value=rec["output"])
    item = items_by_id[item_id]
    pass_ = rec.get("pass") or ORIGINAL
    if pass_ not in task.passes(item):
        raise InputError(f"unknown pass for task {task.name}", file=path, line=line,
                         field="pass", value=pass_, fix=f"use one of {task.passes(item)}")
    sample = rec.get("sample")
    if sample is not None and (not isinstance(sample, int) or isinstance(sample, bool)
                               or sample < 0):
        raise InputError("expected a non-negative integer or absent", file=path, line=line,
                         field="sample", value=sample)
    key = (item_id, pass_, sample)
    if key in seen:
        raise InputError(f"duplicate prediction (first on line {seen[key]})", file=path,
                         line=line, field="id", value=rec["id"],
                         fix="keep one prediction per id, pass and sample")
    seen[key] = line
    if (item_id, pass_) not in hashes:  # samples share their pass's prompt: render it once
        messages = tuple(task.render(item, pass_))
        hashes[item_id, pass_] = canonical_hash(list(messages)), messages
    phash, messages = hashes[item_id, pass_]
    # the messages travel with the request only so that the run stores what was asked
    req = Request(key="", messages=messages, decoding=Decoding(), item_id=item_id,
                  pass_=pass_, sample=sample, prompt_hash=phash)
    return req, Completion(text=rec["output"], finish_reason=rec.get("finish_reason"))


def check_coverage(coverage: dict[str, dict], allow_missing: bool) -> list[str]:
    """Refuse items without a prediction (a score on 1 of 16 items is not a score of the 16),
    or with ``allow_missing`` the warning every output of the run carries."""
    out = []
    for label, c in coverage.items():
        gap = c["items"] - c["covered"]
        if not gap:
            continue
        text = (f"'{label}' has no prediction for {gap} of {c['items']} items (e.g. id "
                f"{c['missing'][0]})")
        if not allow_missing:
            raise AssayError(f"{text}. Fix: predict every item of --data, or pass "
                             "--allow-missing to score only the covered items")
        out.append(f"PARTIAL COVERAGE: {text}; '{label}' is scored on the {c['covered']} "
                   "covered items only (--allow-missing)")
    return out


def score_predictions(cfg: ScoreConfig) -> RunResult:
    """Score one or more prediction files (LABEL=FILE each) and write a run directory."""
    out = check_out_dir(cfg.out or default_run_dir(cfg.task))
    task = build_task(cfg.task, cfg.task_options, cfg.task_module)
    ds = load_dataset(task, cfg.data, cfg.skip_invalid, None)
    items_by_id = {str(i["id"]): i for i in ds.items}
    labeled = [_label_and_path(text) for text in cfg.predictions]
    earlier = existing_run(out, task.name, {lab: f"predictions:{p}" for lab, p in labeled},
                           ds.sha256, cfg.force)
    started = utc_now()
    records_by_model, models, skipped = {}, {}, {}
    prompts = dict(earlier.prompts) if earlier is not None else {}
    for text in cfg.predictions:
        label, path = _label_and_path(text)
        if label in records_by_model:
            raise AssayError(f"predictions label '{label}' given twice. Fix: write LABEL=FILE")
        pairs, skipped[label] = read_predictions(path, task, items_by_id, cfg.skip_invalid)
        records_by_model[label] = score_records(task, items_by_id, label, pairs)
        prompts.update((req.prompt_hash, list(req.messages)) for req, _ in pairs)
        answered = {r["id"] for r in records_by_model[label]}
        models[label] = {"spec": f"predictions:{path}", "predictions_sha256": file_sha256(path),
                         "identity": {"backend": "predictions", "path": str(path)},
                         "items_without_prediction": len(items_by_id) - len(answered)}
    records_by_model, models = merged(earlier, records_by_model, models)
    coverage = coverage_of(records_by_model, list(items_by_id))
    warnings = check_coverage(coverage, cfg.allow_missing)
    metrics = compute_metrics(task, records_by_model)
    manifest = {**manifest_common("score", task, cfg.task_options, cfg.task_module, ds,
                                  metrics, started),
                "models": models, "skipped_predictions": {k: len(v) for k, v in skipped.items()},
                "requests_sent": 0, "cache_hits": 0, "coverage": coverage,
                "warnings": warnings}
    if warnings:
        metrics["warnings"] = warnings
    write_run_dir(out, manifest, [r for rs in records_by_model.values() for r in rs], metrics,
                  prompts)
    return RunResult(out, manifest, metrics, 0, 0, 0)
