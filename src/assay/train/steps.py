"""What training reports per logging step: one StepLog (step, loss, learning rate, tokens/s),
handed to the caller's ``on_step`` in place of the trainer's own printed dicts.

transformers prints each log as a raw dict (``{'loss': 2.31, 'grad_norm': ..., 'epoch': ...}``)
through its PrinterCallback, or through tqdm.write beside its bar; both are removed here, the bar
kept when nobody asked for step lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StepLog:
    """One logging step of a training run."""

    step: int
    max_steps: int
    loss: float | None
    learning_rate: float | None
    tokens_per_s: float | None
    epoch: float | None


def step_callback(on_step: Callable[[StepLog], None]):
    """A TrainerCallback that turns each log with a loss into a StepLog."""
    from transformers import TrainerCallback

    class StepLines(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self._t, self._tokens = time.perf_counter(), 0

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or "loss" not in logs:
                return
            now, seen = time.perf_counter(), int(state.num_input_tokens_seen or 0)
            rate = (seen - self._tokens) / (now - self._t) if seen and now > self._t else None
            self._t, self._tokens = now, seen
            on_step(StepLog(int(state.global_step), int(state.max_steps), logs.get("loss"),
                            logs.get("learning_rate"), rate, logs.get("epoch")))

    return StepLines()


def run_trainer(trainer, on_step: Callable[[StepLog], None] | None = None) -> None:
    """trainer.train() with step lines instead of printed dicts, and no empty checkpoints/."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    if on_step is not None:
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(step_callback(on_step))
    elif trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(_bar_only())
    try:
        trainer.train()
    finally:
        _drop_if_empty(Path(trainer.args.output_dir))


def _bar_only():
    from transformers.trainer_callback import ProgressCallback

    class BarOnly(ProgressCallback):
        """The trainer's bar, without the dict it writes under it at every log."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            pass

    return BarOnly()


def _drop_if_empty(path: Path) -> None:
    """Checkpoints are off (the adapter is saved once at the end); the trainer still makes
    the directory."""
    try:
        path.rmdir()
    except OSError:  # absent, or something was written there: keep it
        pass
