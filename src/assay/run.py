"""The eval runner: items -> the same prompts for every model -> store-backed generation ->
parse -> score -> a run directory (manifest.json, items.jsonl, metrics.json).

The store is the journal: each completion is committed as it arrives, so an interrupted run
loses nothing and the same command again sends only what is missing. ``items.jsonl`` and
``metrics.json`` are rebuilt from the store at the end of every run.
"""

from __future__ import annotations

import asyncio
import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .config import layered, opt, read_yaml
from .dataset import Dataset
from .errors import AssayError
from .models.openai import DEFAULT_TIMEOUT_S
from .models import Completion, Decoding, ModelSpec, Request, make_backend, parse_labeled
from .rundir import (ITEMS, MANIFEST, METRICS, Run, check_out_dir, default_run_dir,
                     existing_run)
from .shard import Shard, parse_shard, shard_items
from .store import DEFAULT_STORE, Store, canonical_hash, model_key
from .tasks import ORIGINAL, Output, Task, Unparsed, get_task, load_task_module


@dataclass
class EvalConfig:
    """Settings of one `assay eval` run, each declared once: the flags of `assay eval`, the keys
    of its ``--config`` YAML and of ``--set KEY=VALUE`` are all generated from these fields."""

    task: str = opt("", "Task name (paper-review, bias-judge, haiku-review, pr-describe, "
                    "pr-review, pr-improve) or one registered by --task-module.",
                    metavar="TASK")
    data: str = opt("", "Items: JSONL, JSON, Parquet or an HF dataset dir.", metavar="FILE")
    models: list = opt([], "LABEL=SPEC, repeatable. SPEC: openai:MODEL@URL[,URL2] | "
                       "openai-batch:MODEL@URL (the Batch API) | hf:PATH[+ADAPTER] | "
                       "vllm:PATH[+ADAPTER] | embedded:smollm2[+ADAPTER].", flag="--model",
                       metavar="LABEL=SPEC")
    model_revisions: dict = opt({}, "LABEL=REV, repeatable: a revision (git sha, adapter "
                                "hash, date) that joins the model's identity, for servers that "
                                "say nothing useful about what they serve.",
                                flag="--model-revision", metavar="LABEL=REV")
    out: str | None = opt(None, "Run directory to write (default: a new runs/TASK-DATE-TIME, "
                          "printed).", metavar="DIR")
    force: bool = opt(False, "Replace the run at --out even when it is of another task, data "
                      "or model (by default a run there only gains new model labels).")
    store: str | None = opt(None, "SQLite store of completions (default "
                            "./.assay/store.sqlite).", metavar="FILE")
    concurrency: int = opt(32, "Requests in flight per model (openai).", metavar="N")
    max_tokens: int | None = opt(None, "Token limit of a completion (default: the task's).",
                                 metavar="N")
    samples: int | None = opt(None, "Sampled completions per item (default: the task's).",
                              metavar="N")
    sample_temperature: float | None = opt(None, "Temperature of the samples (default: the "
                                           "task's).", metavar="T")
    cache: bool = opt(True, "Answer from the store what it already holds for this exact "
                      "model, decoding and prompt; --no-cache sends every request and the new "
                      "completions supersede the stored ones (kept in the store's history).")
    max_errors: int = opt(0, "Stop the run as soon as more requests than this have failed.",
                          metavar="N")
    skip_invalid: bool = opt(False, "Skip and count invalid items instead of failing.")
    api_key_env: str = opt("OPENAI_API_KEY", "Environment variable with the API key (never "
                           "written anywhere).", metavar="NAME")
    logprobs: bool = opt(False, "Ask for token logprobs (calibration).")
    top_logprobs: int = opt(0, "Alternatives per token with --logprobs.", metavar="N")
    enable_thinking: bool = opt(False, "Let the chat template think (off by default).",
                                flag="--thinking")
    task_options: dict = opt({}, "KEY=VALUE for the task, repeatable (the value is read as "
                             "JSON when it parses).", flag="--task-option", metavar="KEY=VALUE")
    task_module: str | None = opt(None, "Import your own task module.", metavar="MODULE")
    limit: int | None = opt(None, "Only the first N items.", metavar="N")
    shard: str | None = opt(None, "K/N: run only the items whose id hashes to shard K of N "
                            "(0-based; after --limit), with its own store (default "
                            ".assay/store-shard-K-of-N.sqlite); `assay merge` joins the N run "
                            "directories.", metavar="K/N")
    batch_size: int = opt(8, "Batch size of local (hf) generation.", metavar="N")
    timeout_s: float = opt(DEFAULT_TIMEOUT_S, "Seconds one request may take (openai).",
                           metavar="SECONDS")
    max_retries: int = opt(5, "Retries per request (openai).", metavar="N")
    rpm: float | None = opt(None, "Requests per minute each model may send (openai): a "
                            "token bucket, one request at a time, so the requests are spread "
                            "evenly.", metavar="N")
    tpm: float | None = opt(None, "Tokens per minute each model may use (openai): each request "
                            "is charged prompt characters / 4 + max_tokens before it is sent, "
                            "corrected by the usage the server reports.", metavar="N")
    extra_body: dict | None = opt(None, "JSON merged into each request (or KEY=VALUE, "
                                  "repeatable), e.g. '{\"chat_template_kwargs\": "
                                  "{\"enable_thinking\": false}}' for vLLM.", metavar="JSON")
    backend_options: dict = opt({}, "KEY=VALUE for the backend, repeatable, e.g. "
                                "dtype=bfloat16 or device=cuda:1 (hf), max_model_len=8192 "
                                "(vllm).", flag="--backend-option", metavar="KEY=VALUE")


def load_eval_config(config: str | Path | None = None, sets: dict[str, Any] | None = None,
                     flags: dict[str, Any] | None = None) -> EvalConfig:
    """An EvalConfig from its defaults, then a YAML file, then --set pairs, then flags (only
    those given: None means "not given"); each key and value checked where it enters."""
    layers = [(read_yaml(config), str(config))] if config else []
    layers.append((dict(sets or {}), "--set"))
    layers.append(({k: v for k, v in (flags or {}).items() if v is not None}, "command line"))
    return EvalConfig(**layered(EvalConfig, layers, "assay eval"))


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
    max_tokens = cfg.max_tokens if cfg.max_tokens is not None else task.max_tokens
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


class RunObserver:
    """What a run reports while it runs; this default ignores it all.

    The CLI renders it (a bar on a terminal, a line at a steady interval elsewhere); a library
    user may subclass it. Every method is called on the thread that runs the generation and
    must return quickly.
    """

    def planned(self, label: str, to_send: int, cached: int) -> None:
        """Before anything is sent: how many requests a model needs, and how many were cached."""

    def generating(self, label: str) -> None:
        """A model's generation starts (served models together, local ones one after another)."""

    def completed(self, label: str, request: Request, completion: Completion) -> None:
        """One request finished (``completion.error`` says it failed after its retries)."""

    def retrying(self, label: str, message: str) -> None:
        """A request waits before another attempt; the message says why and for how long."""

    def limited(self, label: str, message: str) -> None:
        """The rate limiter (--rpm, --tpm) holds a request; the message names the limit and
        the wait."""

    def status(self, label: str, message: str) -> None:
        """News from a backend that works in the background (a batch submitted, its status)."""

    def finished(self) -> None:
        """Generation is over (or was stopped)."""


class _ErrorBudget:
    """--max-errors, enforced as errors occur: the one that exceeds it stops the run."""

    def __init__(self, max_errors: int):
        self.max_errors = max_errors
        self.n = 0
        self.first: tuple[str, str] | None = None

    def count(self, label: str, completion: Completion) -> None:
        if completion.error is None:
            return
        self.n += 1
        self.first = self.first or (label, completion.error)
        if self.n > self.max_errors:
            raise TooManyErrors(self)


class TooManyErrors(AssayError):
    """More requests failed than --max-errors allows; raised as soon as that happens."""

    def __init__(self, budget: _ErrorBudget):
        label, cause = budget.first
        super().__init__(
            f"stopped after {budget.n} failed request(s) (more than --max-errors "
            f"{budget.max_errors}); the first, for model '{label}': {cause}. Every finished "
            "completion is stored. Fix: check the server, then rerun the same command (only "
            "the missing requests are sent), or raise --max-errors")
        self.n_errors, self.first_error = budget.n, budget.first


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
    replace: bool = False  # --no-cache: new completions supersede the stored ones

    def stats(self) -> dict[str, Any]:
        return {"requests_sent": len(self.missing), "cache_hits": self.cache_hits,
                "generation_wall_s": self.generation_wall_s}


def prepare_model(spec: ModelSpec, prompts: Sequence[Prompt], cfg: EvalConfig, task: Task,
                  store: Store) -> ModelJob:
    """Build the backend and the requests of one model; look up what the store already has."""
    backend = make_backend(spec, cfg.backend_options, concurrency=cfg.concurrency,
                           api_key_env=cfg.api_key_env,
                           batch_size=cfg.batch_size, timeout_s=cfg.timeout_s,
                           max_retries=cfg.max_retries, extra_body=cfg.extra_body,
                           rpm=cfg.rpm, tpm=cfg.tpm)
    if hasattr(backend, "fetch_served"):  # what the server says it serves joins the identity
        backend.fetch_served()
    if hasattr(backend, "attach_store"):  # a batch backend journals its batches there
        backend.attach_store(store)
    identity = backend.identity()
    if spec.label in cfg.model_revisions:
        identity = {**identity, "revision": str(cfg.model_revisions[spec.label])}
    requests = build_requests(prompts, identity, cfg, task)
    results: dict[str, Completion] = store.get_many(r.key for r in requests) if cfg.cache else {}
    missing = list({r.key: r for r in requests if r.key not in results}.values())
    return ModelJob(spec, backend, identity, requests, results, missing, len(results),
                    replace=not cfg.cache)


@dataclass
class _Generation:
    """What every model's generation shares: the store, the observer and the error budget."""

    store: Store
    observer: RunObserver
    budget: _ErrorBudget

    def on_done(self, job: ModelJob):
        """on_done for one model: commit the completion at once, keep it, report it, and stop
        the run when the errors exceed --max-errors."""
        mkey = canonical_hash(job.identity)
        label = job.spec.label

        def on_done(req: Request, completion: Completion) -> None:
            made = self.store.put(req.key, mkey, req.prompt_hash, req.sample, completion,
                                  replace=job.replace)
            job.results[req.key] = replace(completion, created_at=made, cached=False)
            self.observer.completed(label, req, completion)
            self.budget.count(label, completion)
        return on_done

    def on_retry(self, job: ModelJob):
        return lambda message: self.observer.retrying(job.spec.label, message)

    def on_wait(self, job: ModelJob):
        return lambda message: self.observer.limited(job.spec.label, message)


def generate_all(jobs: Sequence[ModelJob], gen: _Generation) -> float:
    """Generate what each model lacks; returns the wall seconds of generation.

    Backends with an async ``agenerate`` (served models) are checked first (``apreflight``:
    a dead URL or a refused key fails in seconds, naming the cause), then run concurrently in
    one event loop, each within its own --concurrency: base and candidate behind one vLLM
    server take the time of one. Local backends (hf, vllm) run one after another: they share
    the machine's devices.
    """
    start = time.perf_counter()
    served = [j for j in jobs if j.missing and hasattr(j.backend, "agenerate")]
    if served:
        asyncio.run(_generate_served(served, gen))
    for job in jobs:
        if job.missing and job not in served:
            t = time.perf_counter()
            gen.observer.generating(job.spec.label)
            if hasattr(job.backend, "notify"):
                job.backend.notify = lambda m, label=job.spec.label: gen.observer.status(label, m)
            job.backend.generate(job.missing, gen.on_done(job))
            job.generation_wall_s = time.perf_counter() - t
    return time.perf_counter() - start


async def _preflight(job: ModelJob) -> None:
    check = getattr(job.backend, "apreflight", None)
    if check is None:
        return
    try:
        await check()
    except AssayError as exc:
        raise AssayError(f"model '{job.spec.label}' ({job.spec}): {exc}") from None


async def _generate_served(jobs: Sequence[ModelJob], gen: _Generation) -> None:
    async def one(job: ModelJob) -> None:
        t = time.perf_counter()
        gen.observer.generating(job.spec.label)
        await job.backend.agenerate(job.missing, gen.on_done(job), gen.on_retry(job),
                                    gen.on_wait(job))
        job.generation_wall_s = time.perf_counter() - t

    await _all_or_none([_preflight(j) for j in jobs])
    await _all_or_none([one(j) for j in jobs])


async def _all_or_none(coros) -> None:
    """Run together; the first failure cancels the rest (gather alone would let them run on)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def iso_utc(t: float | None) -> str | None:
    """A unix time as ISO 8601 UTC with milliseconds, e.g. 2026-05-01T12:00:00.000+00:00."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def make_record(label: str, req: Request, c: Completion, parsed: Any) -> dict[str, Any]:
    """One row of items.jsonl; ``created_at`` is when the completion was made (journaled),
    ``cached`` whether this run took it from the store instead of sending the request."""
    unparsed = isinstance(parsed, Unparsed)
    return {"id": req.item_id, "model": label, "pass": req.pass_, "sample": req.sample,
            "prompt_hash": req.prompt_hash, "output": c.text, "finish_reason": c.finish_reason,
            "truncated": c.finish_reason == "length",
            "parsed": None if unparsed or c.error else parsed,
            "parse_error": parsed.reason if unparsed and not c.error else None,
            "scores": {}, "latency_s": c.latency_s, "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens, "error": c.error,
            "created_at": iso_utc(c.created_at), "cached": c.cached}


def cache_provenance(records: Sequence[dict]) -> dict[str, Any]:
    """How many answers came from the cache and when those were made: ``{"answers",
    "from_cache", "made_from", "made_to"}`` (times ISO UTC, None when nothing was cached)."""
    answers = [r for r in records if not r.get("error")]
    times = sorted(r["created_at"] for r in answers if r.get("cached") and r.get("created_at"))
    return {"answers": len(answers), "from_cache": sum(bool(r.get("cached")) for r in answers),
            "made_from": times[0] if times else None, "made_to": times[-1] if times else None}


def coverage_of(records_by_model: dict[str, list[dict]], item_ids: Sequence[str]
                ) -> dict[str, dict[str, Any]]:
    """Per model: ``{"covered", "items", "missing"}``: items with at least one answer that did
    not fail, of the items in the data, and up to 20 ids of the others."""
    out = {}
    for label, records in records_by_model.items():
        answered = {str(r["id"]) for r in records if not r.get("error")}
        missing = [i for i in item_ids if i not in answered]
        out[label] = {"covered": len(item_ids) - len(missing), "items": len(item_ids),
                      "missing": missing[:20]}
    return out


def coverage_line(coverage: dict[str, dict[str, Any]]) -> str:
    """'coverage: base 16 of 16 items, ft 15 of 16 (1 without an answer, e.g. q3)'."""
    parts = []
    for label, c in coverage.items():
        text = f"{label} {c['covered']} of {c['items']} items"
        gap = c["items"] - c["covered"]
        if gap:
            text += f" ({gap} without an answer, e.g. {c['missing'][0]})"
        parts.append(text)
    return "coverage: " + ", ".join(parts)


def cache_line(prov: dict[str, Any]) -> str:
    """'12 of 16 answers from the cache, made between T1 and T2' (the manifest's cache)."""
    text = f"{prov['from_cache']} of {prov['answers']} answers from the cache"
    if prov.get("made_from"):
        text += f", made between {prov['made_from']} and {prov['made_to']}"
    return text


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
    """metrics.json: each metric and its baseline per model, plus shares every run reports
    (parse_failure_rate and truncated_share are the runner's metrics, defined once)."""
    from .metrics import metrics_of
    from .records import succeeded

    out: dict[str, Any] = {"task": task.name, "models": {}, "baselines": {}, "details": {},
                           "parse_failure_rate": {}, "truncated_share": {}, "errors": {},
                           "n_items": {}}
    for label, records in records_by_model.items():
        ok = succeeded(records)
        values, baselines = {}, {}
        for m in metrics_of(task, ok):
            values[m.name] = m.value(ok)
            if m.baseline is not None:
                baselines[m.name] = {"name": m.baseline.name, "value": m.baseline.value(ok)}
        out["models"][label] = values
        out["baselines"][label] = baselines
        out["details"][label] = task.details(ok)
        out["parse_failure_rate"][label] = _none_if_nan(values["parse_failure_rate"])
        out["truncated_share"][label] = _none_if_nan(values["truncated_share"])
        out["errors"][label] = len(records) - len(ok)
        out["n_items"][label] = len({r["id"] for r in records})
    return out


def _none_if_nan(x: float) -> float | None:
    return None if x != x else x


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


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _write_json(path: Path, obj: Any) -> None:
    from .atomic import write_text
    from .jsonable import to_jsonable

    write_text(path, json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def write_run_dir(out: Path, manifest: dict, records: Sequence[dict], metrics: dict,
                  prompts: dict[str, Any] | None = None) -> None:
    """Write the run files as one set (``atomic.directory``: a staging directory exchanged
    with ``out`` in one step, so a reader or a kill -9 sees the old run or the new one), stamped
    with one run id (manifest and metrics.json) and the sha256 of items.jsonl and of
    prompts.jsonl (``prompts``: hash -> messages, when given; in the manifest): a directory
    mixed by hand is refused by load_run. A full or read-only disk is one error with the fix."""
    try:
        _write_run_files(out, manifest, records, metrics, prompts)
    except OSError as exc:
        raise AssayError(f"{out}: cannot write the run directory ({exc.strerror or exc}); every "
                         "completion is kept in the store. Fix: free disk space or give a "
                         "writable --out, then rerun the same command (nothing is sent again)"
                         ) from None


def _write_run_files(out: Path, manifest: dict, records: Sequence[dict], metrics: dict,
                     prompts: dict[str, Any] | None = None) -> None:
    import uuid

    from .atomic import directory, replacing
    from .jsonable import to_jsonable
    from .rundir import PROMPTS, items_sha256, prompts_jsonl

    raw = "".join(json.dumps(to_jsonable(r), ensure_ascii=False) + "\n"
                  for r in records).encode("utf-8")
    # stamped in place, so that the caller's manifest and metrics are what was written
    metrics["run_id"] = manifest["run_id"] = uuid.uuid4().hex
    manifest["items_sha256"] = items_sha256(raw)
    with directory(out) as stage:
        with replacing(stage / ITEMS) as tmp:
            tmp.write_bytes(raw)
        if prompts is not None:
            praw = prompts_jsonl(prompts)
            manifest["prompts_sha256"] = items_sha256(praw)
            with replacing(stage / PROMPTS) as tmp:
                tmp.write_bytes(praw)
        _write_json(stage / METRICS, metrics)
        _write_json(stage / MANIFEST, manifest)


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


def check_revisions(revisions: dict, specs: Sequence[ModelSpec]) -> None:
    labels = [s.label for s in specs]
    for label in revisions:
        if label not in labels:
            raise AssayError(f"--model-revision names model '{label}', which is not given "
                             f"(models: {', '.join(labels)}). Fix: write --model-revision "
                             "LABEL=REV with the LABEL of a --model LABEL=SPEC")


def load_dataset(task: Task, data: str, skip_invalid: bool, limit: int | None,
                 shard: Shard | None = None) -> Dataset:
    """The task's items: the first ``limit``, then those of ``shard``."""
    ds = task.load(data, skip_invalid=skip_invalid)
    if limit is not None or shard is not None:
        items = ds.items[:limit] if limit is not None else ds.items
        ds = Dataset(shard_items(items, shard), ds.path, ds.sha256, ds.skipped)
    return ds


def check_shard_nonempty(ds: Dataset, shard: Shard | None, data: str) -> None:
    if shard is not None and not ds.items:
        raise AssayError(f"--shard {shard}: no item of {data} hashes to shard {shard.index} "
                         f"of {shard.count}. Fix: split into fewer shards (N smaller than the "
                         "number of items)")


# (setting, smallest allowed value); None means "the task's default" and is always allowed
_MINIMA = (("max_tokens", 1), ("samples", 0), ("concurrency", 1), ("max_errors", 0),
           ("top_logprobs", 0), ("limit", 1), ("batch_size", 1), ("max_retries", 0))
_POSITIVE = ("timeout_s", "rpm", "tpm")  # None (not given) is always allowed


def check_config(cfg: EvalConfig) -> None:
    """Settings missing or out of range, named with the flag that sets them (before any work
    is done)."""
    for name, flag in (("task", "TASK"), ("data", "--data FILE")):
        if not getattr(cfg, name):
            raise AssayError(f"no {name} given. Fix: pass {flag} (or set '{name}' in the "
                             "--config YAML)")
    for name, low in _MINIMA:
        value = getattr(cfg, name)
        if value is not None and value < low:
            flag = "--" + name.replace("_", "-")
            default = " (leave it out for the task's default)" if name in (
                "max_tokens", "samples") else ""
            raise AssayError(f"{flag} must be at least {low} (got {value}). Fix: give {flag} "
                             f"{low} or more{default}")
    parse_shard(cfg.shard)
    examples = {"timeout_s": "--timeout-s 120", "rpm": "--rpm 500", "tpm": "--tpm 200000"}
    for name in _POSITIVE:
        value = getattr(cfg, name)
        if value is not None and value <= 0:
            flag = "--" + name.replace("_", "-")
            raise AssayError(f"{flag} must be positive (got {value:g}). Fix: give e.g. "
                             f"{examples[name]}" + ("" if name == "timeout_s" else
                                                    ", or leave it out for no limit"))


def evaluate(cfg: EvalConfig, observer: RunObserver | None = None) -> RunResult:
    """Run an eval end to end and write the run directory.

    observer hears how many requests each model needs before anything is sent, then every
    completion and every retry as it happens (see RunObserver). A run whose failed requests
    exceed ``cfg.max_errors`` stops at that request with TooManyErrors, naming the first
    cause; what finished is in the store, and the run directory is not written.
    """
    observer = observer or RunObserver()
    check_config(cfg)
    out = check_out_dir(cfg.out or default_run_dir(cfg.task))
    budget = _ErrorBudget(cfg.max_errors)
    task = build_task(cfg.task, cfg.task_options, cfg.task_module)
    specs = _parse_models(cfg.models)
    check_revisions(cfg.model_revisions, specs)
    shard = parse_shard(cfg.shard)
    ds = load_dataset(task, cfg.data, cfg.skip_invalid, cfg.limit, shard)
    check_shard_nonempty(ds, shard, cfg.data)
    samples = cfg.samples if cfg.samples is not None else task.samples
    earlier = existing_run(out, task.name, {s.label: str(s) for s in specs}, ds.sha256,
                           cfg.force)
    prompts = plan_prompts(task, ds.items, samples)
    items_by_id = {str(i["id"]): i for i in ds.items}
    started = utc_now()
    store_path = Path(cfg.store) if cfg.store else (
        shard.default_store(DEFAULT_STORE.parent) if shard else DEFAULT_STORE)
    records_by_model, model_info = {}, {}
    with Store(store_path) as store:
        jobs = [prepare_model(spec, prompts, cfg, task, store) for spec in specs]
        for job in jobs:
            observer.planned(job.spec.label, len(job.missing), job.cache_hits)
        try:
            wall = generate_all(jobs, _Generation(store, observer, budget))
        finally:
            observer.finished()
    for job in jobs:
        label = job.spec.label
        pairs = [(r, job.results[r.key]) for r in job.requests]
        records_by_model[label] = score_records(task, items_by_id, label, pairs)
        model_info[label] = {"spec": str(job.spec), "identity": job.identity,
                             "backend_options": cfg.backend_options,
                             "decoding": asdict(decoding_for(prompts[0], cfg, task)),
                             "cache": cache_provenance(records_by_model[label]),
                             **job.stats()}
    fresh = [r for rs in records_by_model.values() for r in rs]
    records_by_model, model_info = merged(earlier, records_by_model, model_info)
    records = [r for rs in records_by_model.values() for r in rs]
    totals = {"requests_sent": sum(len(j.missing) for j in jobs),
              "cache_hits": sum(j.cache_hits for j in jobs), "generation_wall_s": wall,
              "cache": cache_provenance(fresh)}
    metrics = compute_metrics(task, records_by_model)
    errors = sum(metrics["errors"].values())
    manifest = _manifest(cfg, task, ds, samples, model_info, totals, metrics, started,
                         len(prompts), store_path)
    manifest["coverage"] = coverage_of(records_by_model, list(items_by_id))
    manifest["shard"] = shard.to_dict() if shard else None
    write_run_dir(out, manifest, records, metrics, prompts_of(earlier, prompts))
    if errors > cfg.max_errors:
        raise AssayError(f"{errors} completion(s) failed (more than --max-errors "
                         f"{cfg.max_errors}): a request failed after retries, or parsing or "
                         f"scoring raised (see 'error' in {out / ITEMS}); the run directory "
                         f"{out} was written and every finished completion is stored. Fix: "
                         "check the server, then rerun the same command (only the failed "
                         "requests are sent again), or raise --max-errors")
    return RunResult(out, manifest, metrics, totals["requests_sent"], totals["cache_hits"],
                     errors)


def prompts_of(earlier: Run | None, prompts: Sequence[Prompt]) -> dict[str, list]:
    """Hash -> messages of this run's prompts, after those of the run it adds models to."""
    out = dict(earlier.prompts) if earlier is not None else {}
    out.update((p.prompt_hash, list(p.messages)) for p in prompts)
    return out


def merged(earlier: Run | None, records_by_model: dict[str, list[dict]], model_info: dict
           ) -> tuple[dict[str, list[dict]], dict]:
    """This run's models after the models of the run already at --out that it does not
    re-run (a new label added to a run keeps the others)."""
    if earlier is None:
        return records_by_model, model_info
    keep = [lab for lab in earlier.models if lab not in records_by_model]
    records = {lab: earlier.records_of(lab) for lab in keep}
    info = {lab: earlier.manifest["models"][lab] for lab in keep}
    return {**records, **records_by_model}, {**info, **model_info}


def manifest_common(kind: str, task: Task, options: dict | None, module: str | None,
                    ds: Dataset, metrics: dict, started: str) -> dict[str, Any]:
    """The manifest fields every run directory has, from `assay eval` or `assay score`."""
    return {
        "assay_version": __version__, "kind": kind, "task": task.name,
        "task_options": options or {}, "task_module": module,
        "data": {"path": str(ds.path), "sha256": ds.sha256, "n_items": len(ds.items),
                 "skipped_invalid": len(ds.skipped), "skipped_messages": list(ds.skipped[:20])},
        "versions": _versions(), "git_commit": git_commit(), "started_at": started,
        "finished_at": utc_now(), "errors": metrics["errors"],
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
        "store": str(store_path), "no_cache": not cfg.cache,
        "cache": totals["cache"],
        "requests_sent": totals["requests_sent"], "cache_hits": totals["cache_hits"],
        "generation_wall_s": round(wall, 4),
        "requests_per_s": (totals["requests_sent"] / wall) if wall > 0 else None,
    }
