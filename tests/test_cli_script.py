"""The installed `assay` console script, run in a subprocess as a user runs it.

The suite's other CLI tests call the full typer app; the script registers only the invoked
verb's module, which once made a one-command verb (`assay demo`) collapse and fail. These tests
run the real entry point for every verb.
"""

from __future__ import annotations

import subprocess

import pytest
import typer.main

from assay.cli import app
from assay.testing import assay_script, script_env


def _paths(cmd, prefix=()):
    """Every command path of the click tree: ("eval",), ("goals", "lock"), ..."""
    subs = getattr(cmd, "commands", None)
    if not subs:
        return [prefix]
    return [p for name, sub in sorted(subs.items()) for p in _paths(sub, (*prefix, name))]


VERB_PATHS = _paths(typer.main.get_command(app))


def run(*argv, timeout=120, cwd=None):
    return subprocess.run([assay_script(), *argv], env=script_env(), capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def test_every_verb_is_listed():
    assert {p[0] for p in VERB_PATHS} >= {"eval", "score", "compare", "goals", "report",
                                          "demo", "traces", "train", "data"}
    assert ("train", "sft") in VERB_PATHS and ("goals", "check") in VERB_PATHS


@pytest.mark.parametrize("path", VERB_PATHS, ids=" ".join)
def test_help_of_every_verb_through_the_script(path):
    out = run(*path, "--help")
    assert out.returncode == 0, out.stderr
    assert f"Usage: assay {' '.join(path)} " in out.stdout  # never `assay [OPTIONS]`
    assert "Example" in out.stdout, f"`assay {' '.join(path)} --help` shows no example"
    # types in click's plain words (TEXT, INTEGER, FILE), never typer's <str> / {task}
    assert "<" not in out.stdout.replace("<=", ""), out.stdout
    assert "{" not in out.stdout.splitlines()[0]


def test_version():
    from assay import __version__

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"assay {__version__}"


@pytest.mark.slow
def test_demo_through_the_script(tmp_path):
    out = run("demo", "--smoke", "--out", str(tmp_path / "demo"), timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "unexpected extra argument" not in out.stderr
    assert "McNemar p" in out.stderr and (tmp_path / "demo").is_dir()
