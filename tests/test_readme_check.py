"""tools/readme_check.py: a marked README block is rerun and a changed output fails the check;
what differs between honest runs (rates, times, latencies) does not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "readme_check.py"
spec = importlib.util.spec_from_file_location("readme_check", TOOL)
readme_check = importlib.util.module_from_spec(spec)
sys.modules["readme_check"] = readme_check  # its dataclass looks its module up
spec.loader.exec_module(readme_check)


def write(tmp_path, output: str) -> Path:
    p = tmp_path / "README.md"
    p.write_text("intro\n\n<!-- readme-check -->\n```text\n$ echo hello; echo world >&2\n"
                 f"{output}\n```\n\n```text\n$ echo unmarked\nnot checked\n```\n")
    return p


def test_a_block_that_matches_passes_and_one_that_differs_fails(tmp_path, capsys):
    ok = write(tmp_path, "hello\nworld")
    assert readme_check.main(["--readme", str(ok)]) == 0
    bad = write(tmp_path, "hello\nmars")
    assert readme_check.main(["--readme", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "-mars" in out and "+world" in out and "UPDATE=1" in out
    assert readme_check.main(["--readme", str(bad), "--update"]) == 0
    assert "hello\nworld\n```" in bad.read_text() and "not checked" in bad.read_text()
    assert readme_check.main(["--readme", str(bad)]) == 0


def test_run_to_run_noise_is_masked_and_real_changes_are_not():
    n = readme_check.normalise
    assert n("base: 16/16 (100%), 1.7 req/s, 0 error(s), ETA 0 s") == n(
        "base: 16/16 (100%), 24.6 req/s, 0 error(s), ETA 3 min")
    assert n("step 3/30  loss 5.4876  lr 1.87e-02  502 tokens/s") == n(
        "step 3/30  loss 5.4876  lr 1.87e-02  10,249 tokens/s")
    assert n("| mean_latency_s | 0.013 | 0.013 |  | worse (p 0.014) |") == n(
        "| mean_latency_s | 0.234 | 0.409 |  | better (p 0.002) |")
    assert n("locked at 2026-11-22T00:34:41+00:00") == n("locked at 2026-12-01T20:01:02+00:00")
    assert n("base: 8/16 (50%), 2.0 req/s, 0 error(s), ETA 4 s") == ""  # interval lines
    assert n("step 3/30  loss 5.4876") != n("step 3/30  loss 5.4877")  # the loss is checked
    assert n("| accuracy | 0.000 | 0.875 |") != n("| accuracy | 0.000 | 0.812 |")
