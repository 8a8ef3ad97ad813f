"""A pull request's unified diffs as the PR tasks show them: per file, each hunk with its new-side
lines numbered, cut to a token budget at a line boundary, with a record of what was cut.

The numbers are what a model's answer must point at (``start_line``/``end_line`` of a review
issue), so the rendering keeps, per file, the set of numbered lines it showed and the text of
the new side: the structural scores check answers against exactly what the model saw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

CHARS_PER_TOKEN = 4
_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True, slots=True)
class ShownFile:
    """What the prompt showed of one file: its numbered new-side lines and their text."""

    path: str
    lines: frozenset[int]
    new_text: str
    cut: bool


@dataclass(frozen=True, slots=True)
class ShownDiff:
    """The rendered diff of a PR and its budget record.

    tokens: approximate tokens of the whole rendering; shown_tokens: of what was kept; cut:
    whether anything was left out; omitted: paths of files not shown at all."""

    text: str
    files: tuple[ShownFile, ...]
    tokens: int
    shown_tokens: int
    cut: bool
    omitted: tuple[str, ...]

    def file(self, path: str) -> ShownFile | None:
        """The shown file at ``path`` (a leading ``a/`` or ``b/`` or ``./`` is ignored)."""
        want = _norm_path(path)
        return next((f for f in self.files if _norm_path(f.path) == want), None)


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _norm_path(path: str) -> str:
    p = str(path).strip().strip("'\"`")
    for prefix in ("a/", "b/", "./"):
        if p.startswith(prefix):
            p = p[len(prefix):]
    return p


def numbered_lines(diff: str) -> list[tuple[int | None, str, str]]:
    """(new line number or None, rendered line, code) for one file's unified diff: hunk headers
    and removed lines carry no number; git's file header lines are dropped."""
    out: list[tuple[int | None, str, str]] = []
    new = None
    for raw in diff.split("\n"):
        m = _HUNK.match(raw)
        if m:
            new = int(m.group(1))
            out.append((None, raw, ""))
        elif new is None or raw.startswith("\\"):
            continue  # diff --git / index / --- / +++ lines, "\ No newline at end of file"
        elif raw.startswith("-"):
            out.append((None, f"{'':>5} {raw}", raw[1:]))
        elif raw.startswith("+") or raw.startswith(" ") or raw == "":
            body = raw if raw else " "
            out.append((new, f"{new:>5} {body}", body[1:]))
            new += 1
    while out and out[-1][0] is not None and not out[-1][2] and diff.endswith("\n"):
        out.pop()  # the empty string after the diff's final newline
    return out


def render_diff(files: Sequence[dict], budget_tokens: int) -> ShownDiff:
    """Every file's numbered hunks, in order, until about ``budget_tokens``; a file that does
    not fit is cut at a line, the files after it are named as omitted."""
    per_file = [(str(f["path"]), numbered_lines(str(f.get("diff") or ""))) for f in files]
    full = "\n".join(_file_block(p, [t for _, t, _ in rows]) for p, rows in per_file)
    budget = budget_tokens * CHARS_PER_TOKEN
    blocks, shown, used, omitted = [], [], 0, []
    for path, rows in per_file:
        if used >= budget and shown:
            omitted.append(path)
            continue
        kept, size = [], len(_file_block(path, []))
        for number, text, code in rows:
            if used + size + len(text) + 1 > budget and (kept or shown):
                break
            kept.append((number, text, code))
            size += len(text) + 1
        if rows and not kept:
            omitted.append(path)
            continue
        used += size
        cut = len(kept) < len(rows)
        blocks.append(_file_block(path, [t for _, t, _ in kept]) + ("\n[... cut ...]" if cut else ""))
        shown.append(ShownFile(path, frozenset(n for n, _, _ in kept if n is not None),
                               "\n".join(c for n, _, c in kept if n is not None), cut))
    text = "\n".join(blocks)
    if omitted:
        text += "\n\n[Files not shown (over the diff budget): " + ", ".join(omitted) + "]"
    cut = bool(omitted) or any(f.cut for f in shown)
    return ShownDiff(text, tuple(shown), approx_tokens(full), approx_tokens(text), cut,
                     tuple(omitted))


def _file_block(path: str, lines: Sequence[str]) -> str:
    return "\n".join([f"## File: {path}", *lines])
