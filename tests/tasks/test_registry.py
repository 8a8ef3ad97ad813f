"""--task-module: a Task subclass, a task() factory or a TASK object are all registered by name."""

from __future__ import annotations

import sys
import types

import pytest

from assay.errors import AssayError
from assay.tasks import TASKS, Task, get_task, load_task_module


@pytest.mark.parametrize("form", ["subclass", "factory", "object"])
def test_each_form_of_user_task_registers(monkeypatch, form):
    mod = types.ModuleType(f"user_task_{form}")
    cls = type("UserTask", (Task,), {"name": f"user-{form}", "__module__": mod.__name__})
    if form == "subclass":
        mod.UserTask = cls
    elif form == "factory":
        cls.__module__ = "elsewhere"
        mod.task = lambda: cls()
    else:
        cls.__module__ = "elsewhere"
        mod.TASK = cls()
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setattr("assay.tasks.TASKS", dict(TASKS))
    assert load_task_module(mod.__name__) == f"user-{form}"
    assert isinstance(get_task(f"user-{form}"), cls)


def test_a_module_without_a_task_says_how_to_write_one(monkeypatch):
    mod = types.ModuleType("no_task_here")
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    with pytest.raises(AssayError, match="defines no task. Fix: define a subclass"):
        load_task_module(mod.__name__)
