"""The steps every method shares: check, load, read the data; then save adapter and record."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Recipe, recipe_dict
from .data import DataStats, TrainData, load_train_data, trl_rows
from .loading import check_hardware, load_tokenizer
from .record import RECORD, now, write_record


@dataclass(frozen=True)
class TrainResult:
    """What a training run wrote and how it went."""

    method: str
    out_dir: Path
    record_path: Path
    global_step: int
    final_loss: float | None
    data: DataStats
    seconds: float
    merged_dir: Path | None = None


@dataclass
class Prepared:
    """Everything read before a trainer is built."""

    recipe: Recipe
    tokenizer: Any
    task: Any
    data: TrainData
    out: Path
    started: str
    t0: float


def prepare(recipe: Recipe) -> Prepared:
    """Hardware checks, tokenizer, task and data: every cheap failure before the model loads."""
    t0 = time.perf_counter()
    check_hardware(recipe)
    tokenizer = load_tokenizer(recipe)
    task = None
    if recipe.task:
        from ..run import build_task

        task = build_task(recipe.task, recipe.task_options, recipe.task_module)
    data = load_train_data(recipe, tokenizer, task)
    out = Path(recipe.out)
    out.mkdir(parents=True, exist_ok=True)
    return Prepared(recipe, tokenizer, task, data, out, now(), t0)


def hf_dataset(p: Prepared):
    from datasets import Dataset

    return Dataset.from_list(trl_rows(p.data, p.tokenizer))


def finish(p: Prepared, trainer, extra: dict[str, Any] | None = None) -> TrainResult:
    """Save the adapter with its tokenizer and chat template, the run record, and merge if set
    (by the main process only when several train: they hold the same weights)."""
    state = trainer.state
    main = trainer.accelerator.is_main_process
    processes = {"world_size": int(trainer.args.world_size),
                 "distributed_type": str(trainer.accelerator.distributed_type).split(".")[-1]}
    record = p.out / RECORD
    if main:
        trainer.model.save_pretrained(str(p.out))
        p.tokenizer.save_pretrained(str(p.out))
        record = write_record(p.out, recipe=recipe_dict(p.recipe), data=p.data,
                              trainer_state=state, started=p.started,
                              extra={"processes": processes, **(extra or {})})
    trainer.accelerator.wait_for_everyone()
    merged = None
    if p.recipe.merge and main:
        from .merge import merge_adapter

        merged = merge_adapter(p.recipe.model, p.out, p.out / "merged",
                               dtype="bfloat16").out_dir
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    return TrainResult(method=p.recipe.method, out_dir=p.out, record_path=record,
                       global_step=int(state.global_step),
                       final_loss=float(losses[-1]) if losses else None, data=p.data.stats,
                       seconds=time.perf_counter() - p.t0, merged_dir=merged)
