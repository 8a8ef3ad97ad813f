"""`assay distill` as one library call: load -> exclude -> loop -> select -> filter -> write.

A pure composition of the stages in this package; everything the CLI does is reachable from
``distill(DistillConfig(...))``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..store import DEFAULT_STORE, Store
from .attempts import BUDGET, ERROR, NEVER_PASSED, PASSED, Attempt, ItemRun
from .card import card_markdown, convergence, exclusions, revisions
from .config import DistillConfig, check_config, config_dict
from .contamination import exclusion_set, split_contaminated
from .filters import Filtered, apply_filters
from .ledger import Ledger
from .loop import LoopConfig, run_loop
from .outputs import (CANDIDATES, CARD_JSON, CARD_MD, TRAIN, VAL, attempt_rows, excluded_row,
                      split_rows, train_row, write_jsonl)
from .selection import Selection, select


@dataclass(frozen=True)
class DistillResult:
    """What a distillation wrote and how it went (``card`` is card.json)."""

    out_dir: Path
    card: dict[str, Any]
    requests_sent: int
    cache_hits: int
    stopped_by_budget: bool

    def summary(self) -> dict[str, Any]:
        return {"out": str(self.out_dir), "requests_sent": self.requests_sent,
                "cache_hits": self.cache_hits, "stopped_by_budget": self.stopped_by_budget,
                **self.card["gates"], "cost_usd": self.card["ledger"]["cost_usd"],
                "wall_s": self.card["wall_s"]}


def _decide(runs: Sequence[ItemRun], sels: dict[str, Selection],
            filtered: Filtered) -> dict[str, tuple[str, str]]:
    """(decision, reason) per item id, for the candidates file."""
    out = {}
    for run in runs:
        i, sel = run.item_id, sels[run.item_id]
        if not sel.admitted:
            out[i] = (run.status if run.status != PASSED else NEVER_PASSED, sel.reason)
        elif i in filtered.unparsed:
            out[i] = ("unparsed", f"the task cannot parse it: {filtered.unparsed[i]}")
        elif i in filtered.exact or i in filtered.near:
            d = filtered.exact.get(i) or filtered.near[i]
            out[i] = ("duplicate" if d.how == "exact" else "near_duplicate",
                      f"{d.how} duplicate of {d.of} (similarity {d.similarity:.3f})")
        else:
            out[i] = ("written", sel.reason)
    return out


def _gates(n_loaded, n_skipped, hits, runs, sels, filtered, train, val) -> dict[str, int]:
    statuses = [r.status for r in runs]
    admitted = [s for s in sels.values() if s.admitted]
    return {"items": n_loaded, "skipped_invalid": n_skipped, "contaminated": len(hits),
            "sent_to_teacher": len(runs), "passed": statuses.count(PASSED),
            "never_passed": statuses.count(NEVER_PASSED), "request_errors": statuses.count(ERROR),
            "unfinished_at_budget": statuses.count(BUDGET),
            "best_effort": sum(s.best_effort for s in admitted), "selected": len(admitted),
            **filtered.counts(), "train": train, "val": val}


def _run_loop(task, teacher, items, cfg: DistillConfig, on_attempt) -> tuple[list, float]:
    start = time.perf_counter()
    runs = asyncio.run(run_loop(task, teacher, items, LoopConfig(cfg.max_revisions,
                                                                 cfg.candidates), on_attempt))
    return runs, time.perf_counter() - start


def distill(cfg: DistillConfig,
            on_attempt: Callable[[Attempt], None] = lambda a: None) -> DistillResult:
    """Run a distillation end to end and write DIR/{candidates,train,val}.jsonl and the card."""
    from ..run import build_task, check_shard_nonempty, git_commit, load_dataset, utc_now
    from ..models import parse_spec
    from ..shard import parse_shard
    from .teacher import build_teacher

    check_config(cfg)
    started, t0 = utc_now(), time.perf_counter()
    task = build_task(cfg.task, cfg.task_options, cfg.task_module)
    shard = parse_shard(cfg.shard)
    ds = load_dataset(task, cfg.data, cfg.skip_invalid, cfg.limit, shard)
    check_shard_nonempty(ds, shard, cfg.data)
    sets = [exclusion_set(task, p, cfg.ngram) for p in cfg.exclude]
    clean, hits = split_contaminated(task, ds.items, sets)
    batched = parse_spec(cfg.teacher).backend == "openai-batch"
    ledger = Ledger(cfg.price_in, cfg.price_out, cfg.budget,
                    rate=cfg.batch_rate if batched else 1.0)
    store_path = Path(cfg.store) if cfg.store else (
        shard.default_store(DEFAULT_STORE.parent) if shard else DEFAULT_STORE)
    with Store(store_path) as store:
        spec, teacher = build_teacher(
            cfg.teacher, store, ledger, temperature=cfg.temperature,
            max_tokens=cfg.max_tokens or task.max_tokens, concurrency=cfg.concurrency,
            seed=cfg.seed, api_key_env=cfg.api_key_env, timeout_s=cfg.timeout_s,
            max_retries=cfg.max_retries, backend_options=cfg.backend_options, cache=cfg.cache,
            rpm=cfg.rpm, tpm=cfg.tpm)
        runs, loop_wall = _run_loop(task, teacher, clean, cfg, on_attempt)
    sels = {r.item_id: select(task, r, keep=cfg.keep, relevance_tol=cfg.relevance_tol)
            for r in runs}
    chosen = [(r, sels[r.item_id]) for r in runs if sels[r.item_id].admitted]
    filtered = apply_filters(task, [r.item_id for r, _ in chosen],
                             [r.attempts[s.index].text for r, s in chosen],
                             cfg.near_dup_threshold)
    kept = set(filtered.kept)
    rows = [train_row(task, r.item, r.attempts[s.index].text, s.best_effort)
            for r, s in chosen if r.item_id in kept]
    train, val = split_rows(rows, cfg.val_fraction, cfg.seed)
    out = Path(cfg.out)
    decisions = _decide(runs, sels, filtered)
    write_jsonl(out / CANDIDATES, _candidate_rows(ds.items, runs, sels, decisions, hits))
    write_jsonl(out / TRAIN, train)
    if cfg.val_fraction > 0:
        write_jsonl(out / VAL, val)
    gates = _gates(len(ds.items), len(ds.skipped), hits, runs, sels, filtered, len(train),
                   len(val))
    card = {
        "kind": "distill", "assay_version": __version__, "task": task.name,
        "task_options": cfg.task_options, "task_module": cfg.task_module,
        "data": {"path": str(ds.path), "sha256": ds.sha256, "n_items": len(ds.items)},
        "shard": shard.to_dict() if shard else None,
        "teacher": {"spec": str(spec), "identity": teacher.identity,
                    "decoding": {**asdict(teacher.decoding("", 0)),
                                 "seed": None if cfg.temperature == 0 else
                                 f"per item and candidate, from --seed {cfg.seed}"}},
        "loop": {"max_revisions": cfg.max_revisions, "candidates": cfg.candidates,
                 "keep": cfg.keep, "relevance_tol": cfg.relevance_tol},
        "filters": {"near_dup_threshold": cfg.near_dup_threshold, "ngram": cfg.ngram},
        "gates": gates, "convergence": convergence(runs, cfg.max_revisions + 1),
        "revisions": revisions(runs), "ledger": ledger.to_dict(),
        "exclusions": exclusions(sets, hits),
        "split": {"seed": cfg.seed, "val_fraction": cfg.val_fraction, "train": len(train),
                  "val": len(val)},
        "store": str(store_path), "config": config_dict(cfg), "git_commit": git_commit(),
        "started_at": started, "finished_at": utc_now(),
        "loop_wall_s": loop_wall, "wall_s": time.perf_counter() - t0,
    }
    _write_card(out, card)
    totals = card["ledger"]["totals"]
    return DistillResult(out, card, totals["requests_sent"], totals["cache_hits"],
                         card["ledger"]["stopped_by_budget"])


def _candidate_rows(items, runs, sels, decisions, hits):
    by_id = {r.item_id: r for r in runs}
    for item in items:
        i = str(item["id"])
        if i in hits:
            yield excluded_row(i, hits[i])
        elif i in by_id:
            yield from attempt_rows(by_id[i], sels[i], *decisions[i])


def _write_card(out: Path, card: dict) -> None:
    import json
    import os

    from ..jsonable import to_jsonable

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (CARD_JSON + ".tmp")
    tmp.write_text(json.dumps(to_jsonable(card), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, out / CARD_JSON)
    (out / CARD_MD).write_text(card_markdown(card), encoding="utf-8")
