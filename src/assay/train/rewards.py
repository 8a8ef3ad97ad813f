"""Reward functions with TRL's signature ``(prompts, completions, **kwargs) -> list[float]``.

``task_check`` is the task's own quality gate (the same check distillation uses): 1.0 when the
completion passes, else 0.0. ``parses`` gives 1.0 when the task can read an answer at all. Both
read the task item from the ``item_json`` column that assay's SDPO data carries. Anything else
is ``module:function``, imported as is.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import AssayError

Reward = Callable[..., list[float]]


def completion_text(completion: Any) -> str:
    """TRL passes strings, or [{"role": "assistant", "content": ...}] for chat data."""
    if isinstance(completion, list):
        return "".join(str(m.get("content") or "") for m in completion)
    return str(completion)


def _items(n: int, item_json: Sequence[str] | None) -> list[dict]:
    return [json.loads(s) for s in item_json] if item_json else [{} for _ in range(n)]


def task_check_reward(task) -> Reward:
    """1.0 when ``task.check(item, completion)`` passes, else 0.0."""

    def reward(prompts, completions, item_json=None, **_: Any) -> list[float]:
        items = _items(len(completions), item_json)
        return [1.0 if task.check(item, completion_text(c)).ok else 0.0
                for item, c in zip(items, completions)]

    reward.__name__ = f"{task.name.replace('-', '_')}_check"
    return reward


def parses_reward(task) -> Reward:
    """1.0 when the task can parse an answer from the completion, else 0.0."""
    from ..tasks import Unparsed

    def reward(prompts, completions, **_: Any) -> list[float]:
        return [0.0 if isinstance(task.parse(completion_text(c)), Unparsed) else 1.0
                for c in completions]

    reward.__name__ = f"{task.name.replace('-', '_')}_parses"
    return reward


def import_reward(spec: str) -> Reward:
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise AssayError(f"cannot import reward '{spec}': {exc}. Fix: write it as "
                         "module:function, importable from here") from exc
    if not callable(fn):
        raise AssayError(f"reward '{spec}' is not callable")
    return fn


def build_rewards(names: Sequence[str], task) -> list[Reward]:
    """The reward functions named in a recipe; task rewards need ``task`` set."""
    built = {"task_check": task_check_reward, "parses": parses_reward}
    out = []
    for name in names:
        if name in built:
            if task is None:
                raise AssayError(f"conflicting settings: reward '{name}' needs 'task' but none "
                                 "is set. Fix: set task in the YAML given to --config (or "
                                 "--task NAME), or use a module:function reward")
            out.append(built[name](task))
        elif ":" in name:
            out.append(import_reward(name))
        else:
            raise AssayError(f"unknown reward '{name}'. Fix: use task_check, parses or "
                             "module:function")
    return out
