"""The run record written beside every adapter: config, data hash, versions, seed, loss curve.

``train_record.json`` is what makes an adapter reproducible and auditable later: which base,
which data (sha256), which settings, which library versions, and how the loss went.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RECORD = "train_record.json"
PACKAGES = ("assay", "torch", "transformers", "peft", "trl", "datasets", "accelerate")


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def loss_curve(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """(step, loss[, learning_rate]) from the trainer's log history, training entries only."""
    curve = []
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            point = {"step": int(entry["step"]), "loss": float(entry["loss"])}
            if "learning_rate" in entry:
                point["learning_rate"] = float(entry["learning_rate"])
            curve.append(point)
    return curve


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_record(out: Path, *, recipe: dict, data, trainer_state, started: str,
                 extra: dict[str, Any] | None = None) -> Path:
    """Write ``OUT/train_record.json`` and return its path."""
    record = {
        "method": recipe["method"], "config": recipe, "seed": recipe["seed"],
        "base_model": recipe["model"],
        "data": {"path": data.source, "sha256": data.sha256, "prompts": data.prompt_source,
                 **asdict(data.stats)},
        "versions": versions(), "started": started, "finished": now(),
        "global_step": int(trainer_state.global_step),
        "loss_curve": loss_curve(trainer_state.log_history),
        **(extra or {}),
    }
    path = out / RECORD
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_record(out: str | Path) -> dict[str, Any]:
    return json.loads((Path(out) / RECORD).read_text(encoding="utf-8"))
