"""Run a training command under ``accelerate launch`` (FSDP2, DeepSpeed ZeRO-3, several GPUs).

When a recipe names ``accelerate_config``, the CLI re-runs itself as
``python -m accelerate.commands.launch --config_file FILE -m assay.cli train ...`` with the same
arguments; the child sees ``ASSAY_UNDER_ACCELERATE=1`` and trains instead of relaunching. TRL
reads the distributed set-up from accelerate, so the recipe itself does not change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import AssayError

CHILD_ENV = "ASSAY_UNDER_ACCELERATE"


def under_accelerate() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def accelerate_command(config_file: str | Path, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``assay`` with ``argv`` under accelerate's launcher."""
    if not Path(config_file).is_file():
        raise AssayError(f"accelerate config {config_file} not found. Fix: see "
                         "examples/accelerate/fsdp2.yaml and zero3.yaml")
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
            str(config_file), "-m", "assay.cli", *argv]


def relaunch(config_file: str | Path, argv: Sequence[str]) -> int:
    """Run the command under accelerate and return its exit code."""
    env = {**os.environ, CHILD_ENV: "1"}
    return subprocess.call(accelerate_command(config_file, argv), env=env)
