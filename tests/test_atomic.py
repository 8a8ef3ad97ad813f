"""assay.atomic: files and directories replaced whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from assay import atomic


def test_directory_replaces_written_entries_and_keeps_the_others(tmp_path):
    d = tmp_path / "rep"
    (d / "plots").mkdir(parents=True)
    (d / "plots" / "stale.png").write_text("old plot")
    (d / "report.md").write_text("old")
    (d / "notes.txt").write_text("the user's own file")
    with atomic.directory(d) as stage:
        (stage / "plots").mkdir()
        (stage / "plots" / "new.png").write_text("new plot")
        (stage / "report.md").write_text("new")
    assert (d / "report.md").read_text() == "new"
    assert (d / "notes.txt").read_text() == "the user's own file"
    assert sorted(p.name for p in (d / "plots").iterdir()) == ["new.png"]  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no staging left


def test_a_failing_block_leaves_the_directory_untouched(tmp_path):
    d = tmp_path / "rep"
    d.mkdir()
    (d / "report.md").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.directory(d) as stage:
            (stage / "report.md").write_text("half")
            raise RuntimeError("boom")
    assert (d / "report.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_a_new_directory_is_created_by_one_rename(tmp_path):
    with atomic.directory(tmp_path / "a" / "new") as stage:
        (stage / "f").write_text("x")
    assert (tmp_path / "a" / "new" / "f").read_text() == "x"


def test_a_kill_between_the_fallback_renames_is_repaired_by_the_next_writer(tmp_path):
    """Where the file system cannot exchange two directories, the switch is two renames; a
    kill -9 between them leaves the target missing, and the next writer puts the old one back
    before it writes."""
    d = tmp_path / "rep"
    d.mkdir()
    (d / "report.md").write_text("old")
    script = textwrap.dedent(f"""
        import os
        from assay import atomic
        atomic._exchange = lambda a, b: False
        os.environ["ASSAY_TEST_KILL_AT_WRITE"] = "2"  # 1: before the switch, 2: between
        with atomic.directory({str(d)!r}) as stage:
            (stage / "report.md").write_text("new")
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == -9, res.stderr
    assert not d.exists() and len(list(tmp_path.glob(".rep.old-*"))) == 1
    with atomic.directory(d) as stage:
        assert (d / "report.md").read_text() == "old"  # repaired before the block runs
        (stage / "extra").write_text("x")
    assert (d / "report.md").read_text() == "old" and (d / "extra").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_exchange_swaps_two_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "f").write_text("a")
    (b / "f").write_text("b")
    if not atomic._exchange(a, b):
        pytest.skip("this platform has no renameat2 RENAME_EXCHANGE (the fallback is tested)")
    assert (a / "f").read_text() == "b" and (b / "f").read_text() == "a"
