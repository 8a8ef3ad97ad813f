"""Untrusted text made inert for where assay shows it: a terminal, a Markdown report, a model card.

Model outputs, parse errors, item ids, slice and venue names, labels and paths come from data
or from a model, so each renderer passes them through one of these functions:

- ``terminal(text)``: no escape sequences (CSI, OSC 52 clipboard writes, OSC 8 links, window
  titles), no C0/C1 control characters other than newline and tab, no bidirectional overrides.
- ``cell(text)``: the same, on one line, cut, and with Rich markup escaped, for a Rich table cell,
  column or title (Rich reads ``[/bold]`` or ``[link=...]`` in a plain string as markup).
- ``md_inline(text)``: one line of Markdown that renders as the literal text: ``|``, backticks,
  emphasis and link brackets backslash-escaped, ``<`` as ``&lt;`` (so ``<img onerror=...>`` and
  ``</details>`` are text; an entity decodes to text, never to a tag), newlines as spaces, cut.
- ``md_code(text)``: an inline code span that holds any text; ``md_fence(text)``: a fenced block
  whose fence is longer than any backtick run inside (the text itself is kept), cut.
- ``cut(text, limit)``: at most ``limit`` characters, saying how many were left out;
  ``cut_start(text, limit)`` keeps the end instead (where a review's decision line is).

Every function strips what ``terminal`` strips first, because a report is also printed to a
terminal (``assay report``).
"""

from __future__ import annotations

import re

__all__ = ["CELL_CHARS", "FENCE_CHARS", "INLINE_CHARS", "cell", "cut", "cut_start", "md_code",
           "md_fence",
           "md_inline", "one_line", "terminal"]

CELL_CHARS = 120      # a terminal table cell
INLINE_CHARS = 300    # one Markdown value (an id, a name, a parse error)
FENCE_CHARS = 2000    # a fenced model output in a report

# ESC-introduced sequences: CSI (ESC [ ... final byte), OSC / DCS / SOS / PM / APC strings (up to
# BEL or ST, or the end when unterminated), and two-character escapes; then the 8-bit C1 forms.
# Each alternative is a bounded or single-class run, so the scan is linear.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?")
# Remaining C0 controls except tab and newline, DEL, C1 controls, and the bidirectional
# embedding/override/isolate marks that reorder what a reader sees ("Trojan Source").
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Backslash-escaped: always the characters that open code, emphasis, links, tables and strike;
# an underscore only where it can open emphasis (not inside snake_case); "#" only at the start.
_MD_SPECIAL = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|^#")
_BACKTICK_RUN = re.compile(r"`+")


def cut(text: str, limit: int | None) -> str:
    """``text`` when it fits in ``limit`` characters, else its start and how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def cut_start(text: str, limit: int | None) -> str:
    """``text`` when it fits in ``limit`` characters, else how much was left out and its end."""
    if limit is None or len(text) <= limit:
        return text
    return f"({len(text) - limit:,} earlier characters left out) ...{text[-limit:]}"


def terminal(value: object) -> str:
    """``str(value)`` without escape sequences and control characters (newline and tab stay)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() or not _needs_cleaning(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def _needs_cleaning(text: str) -> bool:
    return _CONTROLS.search(text) is not None or "\r" in text


def one_line(value: object) -> str:
    """``terminal(value)`` with every run of whitespace (newlines included) as one space."""
    return " ".join(terminal(value).split())


def cell(value: object, limit: int | None = CELL_CHARS) -> str:
    """A Rich table cell, column header or title: one inert line, cut, markup escaped."""
    from rich.markup import escape

    return escape(cut(one_line(value), limit))


def md_inline(value: object, limit: int | None = INLINE_CHARS) -> str:
    """One line of Markdown showing ``value`` literally (in a table cell, a heading, a list)."""
    text = cut(one_line(value), limit)
    text = text.replace("<", "&lt;")
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def md_code(value: object, limit: int | None = INLINE_CHARS) -> str:
    """An inline code span holding ``value`` literally, whatever backticks it contains."""
    text = cut(one_line(value), limit)
    ticks = "`" * (max((len(r) for r in _BACKTICK_RUN.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(value: object, limit: int | None = FENCE_CHARS, info: str = "",
             tail: bool = False) -> list[str]:
    """The lines of a fenced code block holding ``value`` (cut: its start kept, or its end with
    ``tail``), fenced by more backticks than any run inside it, so nothing in the text can close
    the block early."""
    text = (cut_start if tail else cut)(terminal(value), limit)
    ticks = "`" * max(3, max((len(r) for r in _BACKTICK_RUN.findall(text)), default=0) + 1)
    return [ticks + info, text, ticks]
