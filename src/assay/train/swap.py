"""Swap-doubling of pairwise examples: the same pair shown in the other order, answer mirrored.

A pairwise judge that prefers whichever response comes first learns that bias from data where the
better answer sits in one slot more often. Doubling every pair with the two responses traded,
the verdict mirrored and the reasoning's "Response A/B" mentions swapped removes the position
signal from the training data (judge-from-scratch did this for its DPO pairs).
"""

from __future__ import annotations

import re

# Labels that name a slot: "Response A", "answer B", "Assistant A's", "[[A]]", "<verdict>B".
_SLOT = re.compile(
    r"(?P<pre>\b(?:Response|Answer|Assistant|Output|Option|Candidate|Model)\s+)(?P<s>[AB])\b"
    r"|(?P<pre2>\[\[)(?P<s2>[AB])(?=\]\])"
    r"|(?P<pre3><verdict>\s*)(?P<s3>[AB])(?=\s*</verdict>)"
    r"|(?P<pre4>\b(?:verdict|winner|choice|preferred)\s*[:=]\s*)(?P<s4>[AB])\b",
    re.IGNORECASE,
)
_MIRROR = {"A": "B", "B": "A", "a": "b", "b": "a"}


def mirror_slots(text: str) -> str:
    """Swap every A/B slot label (verdicts and 'Response A/B' mentions); TIE stays TIE."""

    def repl(m: re.Match) -> str:
        for pre, slot in (("pre", "s"), ("pre2", "s2"), ("pre3", "s3"), ("pre4", "s4")):
            if m.group(slot) is not None:
                return m.group(pre) + _MIRROR[m.group(slot)]
        return m.group(0)  # pragma: no cover - the pattern always sets one pair

    return _SLOT.sub(repl, text)


def trade_texts(prompt: str, a: str, b: str) -> str:
    """The prompt with the texts of response A and response B traded in place."""
    if not a or not b or a == b:
        raise ValueError("trade_texts needs two different, non-empty response texts")
    if a not in prompt or b not in prompt:
        raise ValueError("both response texts must occur in the prompt")
    # Longer text first: one response may contain the other as a substring.
    swaps = sorted([(a, "\x00ASSAY_A\x00", b), (b, "\x00ASSAY_B\x00", a)],
                   key=lambda t: -len(t[0]))
    for old, marker, _ in swaps:
        prompt = prompt.replace(old, marker)
    for _, marker, new in swaps:
        prompt = prompt.replace(marker, new)
    return prompt
