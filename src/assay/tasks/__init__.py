"""Tasks: the registry (a plain dict of names to constructors) and the protocol they share.

Built-in tasks are imported lazily so that ``assay --help`` stays fast. A user's own task is
plugged in with ``--task-module my_pkg.my_task``: the module defines a Task subclass (or a
``task()`` factory, or a ``TASK`` object) and is registered under its ``name``.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import AssayError
from ._protocol import (MIN_SLICE_N, ORIGINAL, SWAPPED, Check, Messages, Metric, Output, Record,
                        Task, Tier, Unparsed, greedy)

__all__ = ["MIN_SLICE_N", "ORIGINAL", "SWAPPED", "Check", "Messages", "Metric", "Output", "Record",
           "Task", "Tier", "Unparsed", "greedy", "TASKS", "get_task", "load_task_module"]

# name -> "module:Class", resolved on first use.
TASKS: dict[str, Any] = {
    "paper-review": "assay.tasks.paper_review:PaperReview",
    "bias-judge": "assay.tasks.bias_judge:BiasJudge",
    "haiku-review": "assay.tasks.haiku_review:HaikuReview",
}


def _resolve(entry: Any) -> Any:
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        return getattr(importlib.import_module(module), attr)
    return entry


def get_task(name: str, **options: Any) -> Task:
    """Build a registered task by name; options go to its constructor."""
    if name not in TASKS:
        raise AssayError(f"unknown task '{name}'. Known tasks: {', '.join(sorted(TASKS))}. "
                         "Fix: pick one of these, or plug in your own with --task-module MODULE")
    factory = _resolve(TASKS[name])
    try:
        return factory(**options)
    except TypeError as exc:
        raise AssayError(f"task '{name}' does not take options {sorted(options)}: {exc}") from exc


def load_task_module(module_name: str) -> str:
    """Import a user's module and register its task; returns the task's name."""
    try:
        mod = importlib.import_module(module_name)
    except ImportError as exc:
        raise AssayError(f"cannot import task module '{module_name}': {exc}. Fix: make it "
                         "importable (pip install -e your package, or set PYTHONPATH)") from exc
    candidates = [getattr(mod, "TASK", None), getattr(mod, "task", None)]
    candidates += [v for v in vars(mod).values()
                   if isinstance(v, type) and issubclass(v, Task) and v is not Task
                   and v.__module__ == mod.__name__]
    for cand in filter(None, candidates):
        factory = (lambda c=cand: c) if isinstance(cand, Task) else cand
        # a class or an object carries its name; only a bare factory has to be called for it
        name = getattr(cand, "name", "") or getattr(factory(), "name", "")
        if name:
            TASKS[name] = factory
            return name
    raise AssayError(f"module '{module_name}' defines no task. Fix: define a subclass of "
                     "assay.tasks.Task with a 'name', a task() factory, or a TASK object")
