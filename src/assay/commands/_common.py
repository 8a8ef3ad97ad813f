"""Helpers shared by CLI verbs: JSON output on stdout, human output on stderr-aware consoles."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..jsonable import to_jsonable

__all__ = ["to_jsonable", "print_json", "err_console", "out_console", "files_dict"]


def print_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (the --json contract)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def out_console():
    from rich.console import Console

    return Console()


def files_dict(files) -> dict:
    return {"markdown": str(files.markdown), "json": str(files.json),
            "plots": [str(p) for p in files.plots],
            "model_card": str(files.model_card) if files.model_card else None,
            "html": str(files.html) if getattr(files, "html", None) else None}
