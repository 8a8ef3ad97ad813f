"""Helpers shared by CLI verbs: JSON output on stdout, human output on stderr-aware consoles."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types in one pass: dataclasses to dicts, numpy to lists and numbers, tuples and
    sets to lists, nan/inf to None (standard JSON has no nan), anything else to its str."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return to_jsonable(obj.tolist())
    return str(obj)


def print_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (the --json contract)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def out_console():
    from rich.console import Console

    return Console()
