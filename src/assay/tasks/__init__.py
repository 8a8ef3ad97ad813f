"""Tasks: the registry (a plain dict of names to constructors) and the protocol they share.

Built-in tasks are imported lazily so that ``assay --help`` stays fast. A user's own task is
plugged in with ``--task-module my_pkg.my_task``: the module defines a Task subclass (or a
``task()`` factory, or a ``TASK`` object) and is registered under its ``name``.
"""

from __future__ import annotations

import importlib
import json
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
    "pr-describe": "assay.tasks.pr.describe:PRDescribe",
    "pr-review": "assay.tasks.pr.review:PRReviewTask",
    "pr-improve": "assay.tasks.pr.improve:PRImprove",
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
    check_options(name, factory, options)
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        raise AssayError(f"task '{name}': {exc}. Fix: change the --task-option (task_options "
                         f"in a config); its options: {_described(task_options(factory))}"
                         ) from exc


def task_options(factory: Any) -> dict[str, tuple[Any, Any]] | None:
    """A task constructor's options: name -> (type hint or None, default); None when it takes
    any keyword (``**kwargs``), so that nothing can be checked."""
    import inspect
    import typing

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    try:
        hints = typing.get_type_hints(factory.__init__ if isinstance(factory, type) else factory)
    except Exception:  # an unresolvable annotation: check names only
        hints = {}
    return {n: (hints.get(n), p.default) for n, p in params.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _type_name(hint: Any) -> str:
    import typing

    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    names = [getattr(typing.get_origin(a) or a, "__name__", str(a)) for a in args]
    return " or ".join(names)


def _described(opts: dict | None) -> str:
    if not opts:
        return "none" if opts is not None else "any (the task takes **kwargs)"
    return ", ".join(f"{n} ({_type_name(h) if h else 'any'}, default {d!r})"
                     for n, (h, d) in opts.items())


def check_options(name: str, factory: Any, options: dict[str, Any]) -> None:
    """Unknown option names and values of the wrong type, each named with the valid ones."""
    opts = task_options(factory)
    if opts is None:
        return
    for key, value in options.items():
        if key not in opts:
            raise AssayError(f"task '{name}' has no option '{key}'. Its options: "
                             f"{_described(opts)}. Fix: --task-option NAME=VALUE with one "
                             "of these")
        hint = opts[key][0]
        if hint is not None and not _fits(value, hint):
            default = opts[key][1]
            example = "VALUE" if default is None else json.dumps(default)
            raise AssayError(f"task '{name}' option '{key}' must be {_type_name(hint)}, got "
                             f"{value!r}. Fix: e.g. --task-option {key}={example}")


def _fits(value: Any, hint: Any) -> bool:
    import typing

    if hint is Any:
        return True
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _union()) else (hint,)
    for t in args:
        base = typing.get_origin(t) or t
        if value is None and t is type(None):
            return True
        if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if base is int and isinstance(value, bool):
            continue
        if isinstance(base, type) and isinstance(value, base):
            return True
        if not isinstance(base, type):  # Literal, TypeVar, ...: not checked here
            return True
    return False


def _union():
    import types

    return types.UnionType


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
