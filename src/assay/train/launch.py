"""Run a training command under ``accelerate launch``: several processes (DDP), FSDP2,
DeepSpeed ZeRO-3, several machines.

When a recipe names ``accelerate_config`` or ``num_processes`` above 1, the CLI re-runs itself as
``python -m accelerate.commands.launch [--config_file FILE] [--num_processes N] -m assay.cli
train ...`` with the same arguments; the children see ``ASSAY_UNDER_ACCELERATE=1`` and train
instead of relaunching. TRL reads the distributed set-up from accelerate, so the recipe itself
does not change. Without a config file, N processes are data parallel (DDP through torchrun),
one per GPU, or CPU processes on gloo where there is no CUDA (how the tests run it).

Several machines: run the same command on each with an accelerate config that sets
``num_machines``, ``machine_rank`` (0 on the main one), ``main_process_ip`` and
``main_process_port`` (``accelerate launch --help``); ``num_processes`` counts the processes
of all the machines together.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import AssayError

CHILD_ENV = "ASSAY_UNDER_ACCELERATE"


def under_accelerate() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def is_main_process() -> bool:
    """Rank 0, or not launched by torchrun at all (the one that prints the result)."""
    return os.environ.get("RANK", "0") == "0"


def _free_port() -> int:
    """A free local port for the processes' rendezvous (29500, torchrun's default, may be
    taken by another training on the machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accelerate_command(config_file: str | Path | None, argv: Sequence[str],
                       num_processes: int = 1, mixed_precision: str = "no") -> list[str]:
    """The command line that runs ``assay`` with ``argv`` under accelerate's launcher."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if config_file is not None:
        if not Path(config_file).is_file():
            raise AssayError(f"accelerate config {config_file} not found. Fix: see "
                             "examples/accelerate/fsdp2.yaml and zero3.yaml")
        cmd += ["--config_file", str(config_file)]
        if num_processes > 1:
            cmd += ["--num_processes", str(num_processes)]
    else:
        cmd += ["--multi_gpu", "--num_processes", str(num_processes), "--num_machines", "1",
                "--mixed_precision", mixed_precision, "--dynamo_backend", "no",
                "--main_process_port", str(_free_port())]
    return [*cmd, "-m", "assay.cli", *argv]


def relaunch(config_file: str | Path | None, argv: Sequence[str], num_processes: int = 1,
             mixed_precision: str = "no") -> int:
    """Run the command under accelerate and return its exit code."""
    env = {**os.environ, CHILD_ENV: "1"}
    return subprocess.call(accelerate_command(config_file, argv, num_processes,
                                              mixed_precision), env=env)


def mixed_precision_of(recipe) -> str:
    return "bf16" if recipe.bf16 else "fp16" if recipe.fp16 else "no"
