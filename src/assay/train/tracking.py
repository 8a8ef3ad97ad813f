"""Experiment tracking: trackio, TensorBoard or W&B, only when asked for and installed.

``report_to: none`` (the default) logs nowhere but the run record; a tracker that is asked for
but missing is an error naming the pip install, never a silent no-op.
"""

from __future__ import annotations

import importlib.util

from ..errors import AssayError

TRACKERS = {"trackio": ("trackio",), "tensorboard": ("tensorboard", "tensorboardX"),
            "wandb": ("wandb",)}


def resolve_report_to(report_to: str | list) -> list[str]:
    """The trackers for transformers' ``report_to``: [] for none; each must be installed."""
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    names = [n.strip().lower() for n in names if n and n.strip().lower() != "none"]
    for name in names:
        if name not in TRACKERS:
            raise AssayError(f"unknown tracker '{name}' in report_to. Fix: use none or any of "
                             f"{', '.join(TRACKERS)}")
        if not any(importlib.util.find_spec(m) for m in TRACKERS[name]):
            raise AssayError(f"report_to asks for {name}, which is not installed. Fix: pip "
                             f"install {TRACKERS[name][0]}, or --set report_to=none")
    return names
