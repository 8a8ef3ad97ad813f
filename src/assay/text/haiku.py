"""The form of a haiku: three lines of 5, 7 and 5 syllables, under any listed pronunciation.

``haiku_form(lines)`` counts each line with ``count_syllables`` and keeps the evidence (each
line's primary count, every possible count, and the tokens counted without the dictionary), and
says what to fix in words a teacher model can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .syllables import SyllableCount, count_syllables

TARGETS = (5, 7, 5)


@dataclass(frozen=True)
class LineForm:
    """One line measured against its target."""

    text: str
    target: int
    count: SyllableCount

    @property
    def ok(self) -> bool:
        return self.count.can_be(self.target)

    def problem(self, number: int) -> str:
        """"line 2 has 8 syllables; it needs 7" (with other readings when there are some)."""
        others = [n for n in self.count.possible if n != self.count.total]
        alt = f" (or {', '.join(map(str, others))} by another reading)" if others else ""
        return (f"line {number} has {self.count.total} syllables{alt}; it needs "
                f"{self.target}")


@dataclass(frozen=True)
class HaikuForm:
    """Three lines measured against their targets; ``ok`` when every line can hit its own."""

    lines: tuple[LineForm, ...]
    ok: bool

    @property
    def counts(self) -> list[int]:
        return [line.count.total for line in self.lines]

    @property
    def low_confidence(self) -> list[str]:
        return [tok for line in self.lines for tok in line.count.low_confidence]

    def feedback(self) -> str:
        """What to fix, one clause per wrong line; empty when the form is right."""
        problems = [line.problem(i) for i, line in enumerate(self.lines, 1) if not line.ok]
        return "; ".join(problems)


def haiku_form(lines: Sequence[str], targets: Sequence[int] = TARGETS) -> HaikuForm:
    """Measure three lines against their syllable targets (5, 7, 5 by default)."""
    if isinstance(lines, str) or len(lines) != len(targets):
        raise ValueError(f"lines must be a sequence of {len(targets)} strings, got {lines!r:.120}")
    measured = tuple([LineForm(text, target, count_syllables(text))
                      for text, target in zip(lines, targets)])
    return HaikuForm(measured, all([m.count.can_be(m.target) for m in measured]))
