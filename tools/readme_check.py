"""Check that the README's output blocks are what the commands print today.

A block that claims real output is marked by a comment line just above it::

    <!-- readme-check -->                    runs on the bundled data
    <!-- readme-check: shared columns=120 --> needs ../shared/data (skipped when absent); width

and is a transcript: lines starting with ``$ `` are commands (run by bash, in order, every block
in one scratch directory, so a later block may use what an earlier one wrote), the lines after a
command are what it printed (stdout and stderr together, as a terminal shows them). The tool runs
every marked block in a scratch directory that sees the repository's ``examples/`` and ``bench/`` (and
``../shared`` when present), with ``assay`` and ``python`` this interpreter, and compares the
printed text with the README's, after masking what changes from run to run (times, rates,
latencies, dates). It exits 1 and shows a diff when a block differs.

Run: python tools/readme_check.py           (check)
     python tools/readme_check.py --update  (rewrite the blocks with today's output)
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"
MARK = re.compile(r"^<!-- readme-check(?::\s*(?P<opts>.*?))?\s*-->$")

# What differs between two honest runs: masked on both sides before comparing.
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?"), "<TIME>"),
    (re.compile(r"[\d,]+(\.\d+)? tokens/s"), "<N> tokens/s"),
    (re.compile(r"[\d.]+ req(uest)?s?/s"), "<N> requests/s"),
    (re.compile(r"ETA (\d+(\.\d+)? (s|min|h)|unknown)"), "ETA <T>"),
    (re.compile(r"took \d+s \([^)]*\)"), "took <T>"),
    (re.compile(r"\b\d+(\.\d+)?s with plots"), "<T>s with plots"),
]
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?")
# Lines whose numbers are timings (latency), masked whole.
TIMING_LINE = re.compile(r"latency")
VERDICT = re.compile(r"better|worse|inconclusive|equivalent|no significant change")
# An interval progress line short of 100% (the final one is kept).
PROGRESS = re.compile(r"^\S+: \d+/\d+ \((?!100%)\d+%\), .* ETA ")


@dataclass
class Block:
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    columns: int
    shared: bool
    text: str


def find_blocks(lines: list[str]) -> list[Block]:
    blocks = []
    for i, line in enumerate(lines):
        m = MARK.match(line.strip())
        if not m:
            continue
        opts = (m.group("opts") or "").split()
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise SystemExit(f"line {i + 1}: a readme-check mark must sit right above "
                             "a ``` block")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        cols = next((int(o.split("=")[1]) for o in opts if o.startswith("columns=")), 80)
        blocks.append(Block(i + 2, end, cols, "shared" in opts,
                            "\n".join(lines[i + 2:end])))
    return blocks


def commands(block: str) -> list[str]:
    return [ln[2:] for ln in block.splitlines() if ln.startswith("$ ")]


def scratch() -> Path:
    """A directory that looks like a checkout to the commands: examples/ and ../shared."""
    top = Path(tempfile.mkdtemp(prefix="readme-check-"))
    work = top / "assay"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    (work / "bench").symlink_to(ROOT / "bench")
    if SHARED.is_dir():
        (top / "shared").symlink_to(SHARED)
    bin_dir = top / "bin"
    bin_dir.mkdir()
    for name, target in (("assay", f'"{sys.executable}" -m assay'),
                         ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/usr/bin/env bash\nexec {target} "$@"\n')
        shim.chmod(0o755)
    return work


def run_block(block: Block, work: Path) -> str:
    env = dict(os.environ, COLUMNS=str(block.columns), PYTHONUNBUFFERED="1",
               OMP_NUM_THREADS="2", TQDM_DISABLE="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
               PATH=f"{work.parent / 'bin'}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1",
               TERM="dumb", PYTHONWARNINGS="ignore")
    out = []
    for cmd in commands(block.text):
        res = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        out.append(f"$ {cmd}")
        out += [ln.rstrip() for ln in res.stdout.rstrip("\n").splitlines()]
    return "\n".join(out)


def normalise(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        if PROGRESS.match(line):  # printed every N seconds: how many depends on the speed
            continue
        if TIMING_LINE.search(line):  # its numbers, the verdict drawn from them, the padding
            line = re.sub(r" +", " ", VERDICT.sub("<VERDICT>", NUMBER.sub("<N>", line)))
        for pattern, repl in VOLATILE:
            line = pattern.sub(repl, line)
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the blocks in README.md")
    ap.add_argument("--readme", default=str(README), help="the file to check (README.md)")
    args = ap.parse_args(argv)
    readme = Path(args.readme)
    lines = readme.read_text(encoding="utf-8").split("\n")
    blocks = find_blocks(lines)
    work, failed, skipped = scratch(), 0, 0
    for k, block in enumerate(blocks, 1):
        first = commands(block.text)[0] if commands(block.text) else "?"
        if block.shared and not SHARED.is_dir():
            print(f"[{k}/{len(blocks)}] skipped (no ../shared): $ {first}")
            skipped += 1
            continue
        got = run_block(block, work)
        same = normalise(got) == normalise(block.text)
        print(f"[{k}/{len(blocks)}] {'same' if same else 'DIFFERS'}: $ {first}", flush=True)
        if not same:
            failed += 1
            sys.stdout.writelines(difflib.unified_diff(
                normalise(block.text).splitlines(True), normalise(got).splitlines(True),
                "README.md", "today's output", n=1))
            print()
        block.text = got
    if args.update:
        for block in reversed(blocks):
            lines[block.start:block.end] = block.text.split("\n")
        readme.write_text("\n".join(lines), encoding="utf-8")
        print(f"rewrote {len(blocks) - skipped} block(s) of {readme}")
        return 0
    if failed:
        print(f"{failed} README block(s) differ from today's output. Fix: run "
              "`make readme-check UPDATE=1` (python tools/readme_check.py --update) and read "
              "the diff before committing it")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
