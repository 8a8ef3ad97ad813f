"""The eval runner: items -> the same prompts for every model -> store-backed generation ->
parse -> score -> a run directory (manifest.json, items.jsonl, metrics.json).

The store is the journal: each completion is committed as it arrives, so an interrupted run
loses nothing and the same command again sends only what is missing. ``items.jsonl`` and
``metrics.json`` are rebuilt from the store at the end of every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .dataset import Dataset
from .errors import AssayError
from .models import Completion, Decoding, ModelSpec, Request, make_backend, parse_labeled
from .rundir import ITEMS, MANIFEST, METRICS
from .store import DEFAULT_STORE, Store, canonical_hash, model_key
from .tasks import ORIGINAL, Output, Task, Unparsed, get_task, load_task_module


@dataclass
class EvalConfig:
    """Settings of one `assay eval` run (every field is a CLI flag of the same name)."""

    task: str
    data: str
    models: list[str]
    out: str
    store: str | None = None
    concurrency: int = 32
    max_tokens: int | None = None
    samples: int | None = None
    sample_temperature: float | None = None
    max_errors: int = 0
    skip_invalid: bool = False
    api_key_env: str = "OPENAI_API_KEY"
    logprobs: bool = False
    top_logprobs: int = 0
    enable_thinking: bool = False
    task_options: dict[str, Any] = field(default_factory=dict)
    task_module: str | None = None
    limit: int | None = None
    batch_size: int = 8
    timeout_s: float = 300.0
    max_retries: int = 5
    extra_body: dict[str, Any] | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True


@dataclass(frozen=True)
class RunResult:
    """What a run wrote and how it went."""

    out_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    requests_sent: int
    cache_hits: int
    errors: int


@dataclass(frozen=True)
class Prompt:
    """One rendered prompt: the same for every model."""

    item_id: str
    pass_: str
    sample: int | None
    messages: tuple
    prompt_hash: str


def build_task(name: str, options: dict | None = None, module: str | None = None) -> Task:
    if module:
        load_task_module(module)
    return get_task(name, **(options or {}))


def plan_prompts(task: Task, items: Sequence[dict], samples: int) -> list[Prompt]:
    """Render every item once per pass (and once per sample of the original pass)."""
    prompts = []
    for item in items:
        for pass_ in task.passes(item):
            messages = tuple(task.render(item, pass_))
            phash = canonical_hash(list(messages))
            prompts.append(Prompt(str(item["id"]), pass_, None, messages, phash))
            if pass_ == ORIGINAL:
                prompts += [Prompt(str(item["id"]), pass_, k, messages, phash)
                            for k in range(samples)]
    return prompts


def sample_seed(item_id: str, sample: int) -> int:
    """A per-item, per-sample seed, the same for every model (self-consistency is reproducible)."""
    return int(canonical_hash([item_id, sample])[:8], 16)


def decoding_for(prompt: Prompt, cfg: EvalConfig, task: Task) -> Decoding:
    max_tokens = cfg.max_tokens or task.max_tokens
    common = dict(max_tokens=max_tokens, logprobs=cfg.logprobs, top_logprobs=cfg.top_logprobs,
                  enable_thinking=cfg.enable_thinking)
    if prompt.sample is None:
        return Decoding(**common)
    temperature = (cfg.sample_temperature if cfg.sample_temperature is not None
                   else task.sample_temperature)
    return Decoding(temperature=temperature, seed=sample_seed(prompt.item_id, prompt.sample),
                    **common)


def build_requests(prompts: Sequence[Prompt], identity: dict, cfg: EvalConfig,
                   task: Task) -> list[Request]:
    requests = []
    for p in prompts:
        dec = decoding_for(p, cfg, task)
        key = canonical_hash({"model": model_key(identity, dec.key()), "prompt": p.prompt_hash,
                              "sample": p.sample})
        requests.append(Request(key=key, messages=p.messages, decoding=dec, item_id=p.item_id,
                                pass_=p.pass_, sample=p.sample, prompt_hash=p.prompt_hash))
    return requests


class _Progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeRemainingColumn(), transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def task(self, description: str, total: int):
        if self._bar is None:
            return lambda n=1: None
        tid = self._bar.add_task(description, total=total)
        return lambda n=1: self._bar.advance(tid, n)


@dataclass(eq=False)
class ModelJob:
    """One model's share of a run: its backend, requests, and what the store already had."""

    spec: ModelSpec
    backend: Any
    identity: dict
    requests: list[Request]
    results: dict[str, Completion]
    missing: list[Request]
    cache_hits: int
    generation_wall_s: float = 0.0

    def stats(self) -> dict[str, Any]:
        return {"requests_sent": len(self.missing), "cache_hits": self.cache_hits,
                "generation_wall_s": self.generation_wall_s}


def prepare_model(spec: ModelSpec, prompts: Sequence[Prompt], cfg: EvalConfig, task: Task,
                  store: Store) -> ModelJob:
    """Build the backend and the requests of one model; look up what the store already has."""
    backend = make_backend(spec, cfg.backend_options, concurrency=cfg.concurrency,
                           api_key_env=cfg.api_key_env,
                           batch_size=cfg.batch_size, timeout_s=cfg.timeout_s,
                           max_retries=cfg.max_retries, extra_body=cfg.extra_body)
    identity = backend.identity()
    requests = build_requests(prompts, identity, cfg, task)
    results: dict[str, Completion] = store.get_many(r.key for r in requests)
    missing = list({r.key: r for r in requests if r.key not in results}.values())
    return ModelJob(spec, backend, identity, requests, results, missing, len(results))


def _journal(job: ModelJob, store: Store, progress: _Progress):
    """on_done for one model: commit the completion at once, keep it, advance the bar."""
    advance = progress.task(f"{job.spec.label}: generating", len(job.missing))
    mkey = canonical_hash(job.identity)

    def on_done(req: Request, completion: Completion) -> None:
        store.put(req.key, mkey, req.prompt_hash, req.sample, completion)
        job.results[req.key] = completion
        advance()
    return on_done


def generate_all(jobs: Sequence[ModelJob], store: Store, progress: _Progress) -> float:
    """Generate what each model lacks; returns the wall seconds of generation.

    Backends with an async ``agenerate`` (served models) run concurrently in one event loop,
    each within its own --concurrency: base and candidate behind one vLLM server take the time
    of one. Local backends (hf, vllm) run one after another: they share the machine's devices.
    """
    start = time.perf_counter()
    served = [j for j in jobs if j.missing and hasattr(j.backend, "agenerate")]
    if served:
        asyncio.run(_generate_served(served, store, progress))
    for job in jobs:
        if job.missing and job not in served:
            t = time.perf_counter()
            job.backend.generate(job.missing, _journal(job, store, progress))
            job.generation_wall_s = time.perf_counter() - t
    return time.perf_counter() - start


async def _generate_served(jobs: Sequence[ModelJob], store: Store, progress: _Progress) -> None:
    async def one(job: ModelJob) -> None:
        t = time.perf_counter()
        await job.backend.agenerate(job.missing, _journal(job, store, progress))
        job.generation_wall_s = time.perf_counter() - t

    await asyncio.gather(*(one(j) for j in jobs))


def make_record(label: str, req: Request, c: Completion, parsed: Any) -> dict[str, Any]:
    unparsed = isinstance(parsed, Unparsed)
    return {"id": req.item_id, "model": label, "pass": req.pass_, "sample": req.sample,
            "prompt_hash": req.prompt_hash, "output": c.text, "finish_reason": c.finish_reason,
            "truncated": c.finish_reason == "length",
            "parsed": None if unparsed or c.error else parsed,
            "parse_error": parsed.reason if unparsed and not c.error else None,
            "scores": {}, "latency_s": c.latency_s, "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens, "error": c.error}


ITEM_ERROR_CHARS = 300  # an exception's message is kept in the record up to this length


def item_error(stage: str, exc: BaseException) -> str:
    """The record's ``error`` for an exception raised while parsing or scoring one completion."""
    message = " ".join(str(exc).split())
    if len(message) > ITEM_ERROR_CHARS:
        message = message[:ITEM_ERROR_CHARS] + "..."
    return f"{stage} raised {type(exc).__name__}: {message}" if message else \
        f"{stage} raised {type(exc).__name__}"


def _parse_one(task: Task, text: str) -> tuple[Any, str | None]:
    try:
        return task.parse(text), None
    except Exception as exc:  # one hostile output must not lose the run
        return Unparsed("parsing failed"), item_error("parsing", exc)


def score_records(task: Task, items_by_id: dict[str, dict], label: str,
                  pairs: Sequence[tuple[Request, Completion]]) -> list[dict]:
    """Parse and score one model's completions; failed requests are kept but not scored, and a
    completion whose parsing or scoring raises keeps the exception as its ``error``."""
    records, to_score = [], []
    for req, c in pairs:
        parsed, error = (Unparsed("request failed"), None) if c.error else _parse_one(task, c.text)
        rec = make_record(label, req, c, parsed)
        records.append(rec)
        if error:
            rec.update(parsed=None, parse_error=None, error=error)
        elif not c.error:
            to_score.append((rec, parsed, Output(c.text, req.pass_, req.sample,
                                                 c.finish_reason, c.logprobs)))
    if to_score:
        _score_into(task, items_by_id, to_score)
    return records


def _score_into(task: Task, items_by_id: dict[str, dict], to_score: list[tuple]) -> None:
    """Score in one batch; when the batch raises, score item by item so that only the items
    that raise are lost (each keeps its exception as its error)."""
    items = [items_by_id[r["id"]] for r, _, _ in to_score]
    try:
        scores = task.score_batch(items, [p for _, p, _ in to_score], [o for _, _, o in to_score])
    except Exception:  # noqa: BLE001 - retried item by item below
        scores = None
    if scores is not None:
        for (rec, _, _), s in zip(to_score, scores):
            rec["scores"] = s
        return
    for item, (rec, parsed, output) in zip(items, to_score):
        try:
            rec["scores"] = task.score_batch([item], [parsed], [output])[0]
        except Exception as exc:  # noqa: BLE001 - kept as the item's error
            rec["error"] = item_error("scoring", exc)


def compute_metrics(task: Task, records_by_model: dict[str, list[dict]]) -> dict[str, Any]:
    """metrics.json: each metric and its baseline per model, plus shares every run reports."""
    out: dict[str, Any] = {"task": task.name, "models": {}, "baselines": {}, "details": {},
                           "parse_failure_rate": {}, "truncated_share": {}, "errors": {},
                           "n_items": {}}
    for label, records in records_by_model.items():
        ok = [r for r in records if not r["error"]]
        values, baselines = {}, {}
        for m in task.metrics(ok):
            values[m.name] = m.compute(ok)
            if m.baseline is not None:
                baselines[m.name] = {"name": m.baseline_name, "value": m.baseline(ok)}
        out["models"][label] = values
        out["baselines"][label] = baselines
        out["details"][label] = task.details(ok)
        greedy = [r for r in ok if r["sample"] is None]
        out["parse_failure_rate"][label] = (
            sum(r["parse_error"] is not None for r in greedy) / len(greedy) if greedy else None)
        out["truncated_share"][label] = (sum(r["truncated"] for r in ok) / len(ok)
                                         if ok else None)
        out["errors"][label] = len(records) - len(ok)
        out["n_items"][label] = len({r["id"] for r in records})
    return out


def _versions() -> dict[str, str]:
    from importlib import metadata

    names = ["aiohttp", "numpy", "scipy", "torch", "transformers", "peft", "trl", "vllm",
             "sentence-transformers"]
    out = {"assay": __version__, "python": platform.python_version()}
    for n in names:
        if n.replace("-", "_") in sys.modules or n == "aiohttp":
            try:
                out[n] = metadata.version(n)
            except metadata.PackageNotFoundError:
                pass
    return out


def git_commit(cwd: str | Path = ".") -> str | None:
    """The commit of the working tree (with '-dirty' when it has changes), or None."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _write_json(path: Path, obj: Any) -> None:
    from .commands._common import to_jsonable

    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)


def check_out_dir(out: Path) -> None:
    """``--out`` must be a directory assay can write (made when absent). Checked before the
    first request, so a read-only or misspelt --out costs no generation."""
    if out.exists() and not out.is_dir():
        raise AssayError(f"{out}: --out is a file, not a directory. Fix: give --out a new or "
                         "existing directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".assay-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AssayError(f"{out}: cannot write the run directory ({exc.strerror or exc}). Fix: "
                         "give --out a writable directory (and free disk space if it is full)"
                         ) from None


def write_run_dir(out: Path, manifest: dict, records: Sequence[dict], metrics: dict) -> None:
    """Write the three files atomically (each via a temporary file and a rename)."""
    try:
        _write_run_files(out, manifest, records, metrics)
    except OSError as exc:
        raise AssayError(f"{out}: cannot write the run directory ({exc.strerror or exc}); every "
                         "completion is kept in the store. Fix: free disk space or give a "
                         "writable --out, then rerun the same command (nothing is sent again)"
                         ) from None


def _write_run_files(out: Path, manifest: dict, records: Sequence[dict], metrics: dict) -> None:
    from .commands._common import to_jsonable

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (ITEMS + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(to_jsonable(r), ensure_ascii=False) + "\n")
    os.replace(tmp, out / ITEMS)
    _write_json(out / METRICS, metrics)
    _write_json(out / MANIFEST, manifest)


def _parse_models(models: Sequence[str]) -> list[ModelSpec]:
    if not models:
        raise AssayError("no model given. Fix: add --model LABEL=SPEC, e.g. "
                         "--model base=openai:qwen@http://localhost:8000/v1")
    specs = [parse_labeled(m) for m in models]
    labels = [s.label for s in specs]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise AssayError(f"model label(s) {sorted(dup)} given twice. Fix: give each --model a "
                         "distinct LABEL")
    return specs


def load_dataset(task: Task, data: str, skip_invalid: bool, limit: int | None) -> Dataset:
    ds = task.load(data, skip_invalid=skip_invalid)
    if limit is not None:
        ds = Dataset(ds.items[:limit], ds.path, ds.sha256, ds.skipped)
    return ds


def evaluate(cfg: EvalConfig) -> RunResult:
    """Run an eval end to end and write the run directory."""
    task = build_task(cfg.task, cfg.task_options, cfg.task_module)
    specs = _parse_models(cfg.models)
    ds = load_dataset(task, cfg.data, cfg.skip_invalid, cfg.limit)
    samples = cfg.samples if cfg.samples is not None else task.samples
    prompts = plan_prompts(task, ds.items, samples)
    items_by_id = {str(i["id"]): i for i in ds.items}
    check_out_dir(Path(cfg.out))
    started = _now()
    store_path = Path(cfg.store) if cfg.store else DEFAULT_STORE
    records_by_model, model_info = {}, {}
    with Store(store_path) as store, _Progress(cfg.progress) as progress:
        jobs = [prepare_model(spec, prompts, cfg, task, store) for spec in specs]
        wall = generate_all(jobs, store, progress)
    for job in jobs:
        label = job.spec.label
        pairs = [(r, job.results[r.key]) for r in job.requests]
        records_by_model[label] = score_records(task, items_by_id, label, pairs)
        model_info[label] = {"spec": str(job.spec), "identity": job.identity,
                             "backend_options": cfg.backend_options,
                             "decoding": asdict(decoding_for(prompts[0], cfg, task)),
                             **job.stats()}
    totals = {"requests_sent": sum(len(j.missing) for j in jobs),
              "cache_hits": sum(j.cache_hits for j in jobs), "generation_wall_s": wall}
    metrics = compute_metrics(task, records_by_model)
    errors = sum(metrics["errors"].values())
    manifest = _manifest(cfg, task, ds, samples, model_info, totals, metrics, started,
                         len(prompts), store_path)
    out = Path(cfg.out)
    write_run_dir(out, manifest, [r for rs in records_by_model.values() for r in rs], metrics)
    if errors > cfg.max_errors:
        raise AssayError(f"{errors} completion(s) failed (more than --max-errors "
                         f"{cfg.max_errors}): a request failed after retries, or parsing or "
                         f"scoring raised (see 'error' in {out / ITEMS}); the run directory "
                         f"{out} was written and every finished completion is stored. Fix: "
                         "check the server, then rerun the same command (only the failed "
                         "requests are sent again), or raise --max-errors")
    return RunResult(out, manifest, metrics, totals["requests_sent"], totals["cache_hits"],
                     errors)


def manifest_common(kind: str, task: Task, options: dict | None, module: str | None,
                    ds: Dataset, metrics: dict, started: str) -> dict[str, Any]:
    """The manifest fields every run directory has, from `assay eval` or `assay score`."""
    return {
        "assay_version": __version__, "kind": kind, "task": task.name,
        "task_options": options or {}, "task_module": module,
        "data": {"path": str(ds.path), "sha256": ds.sha256, "n_items": len(ds.items),
                 "skipped_invalid": len(ds.skipped), "skipped_messages": list(ds.skipped[:20])},
        "versions": _versions(), "git_commit": git_commit(), "started_at": started,
        "finished_at": _now(), "errors": metrics["errors"],
        "truncated_share": metrics["truncated_share"],
        "parse_failure_rate": metrics["parse_failure_rate"],
    }


def _manifest(cfg: EvalConfig, task: Task, ds: Dataset, samples: int, model_info: dict,
              totals: dict, metrics: dict, started: str, n_prompts: int,
              store_path: Path) -> dict[str, Any]:
    wall = totals["generation_wall_s"]
    return {
        **manifest_common("eval", task, cfg.task_options, cfg.task_module, ds, metrics, started),
        "models": model_info, "samples": samples, "prompts_per_model": n_prompts,
        "store": str(store_path),
        "requests_sent": totals["requests_sent"], "cache_hits": totals["cache_hits"],
        "generation_wall_s": round(wall, 4),
        "requests_per_s": (totals["requests_sent"] / wall) if wall > 0 else None,
    }
