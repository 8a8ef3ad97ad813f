"""Text normalisation shared by the dedupe and contamination filters.

Normalised text is lower-cased, every run of characters that is not a letter or digit becomes one
space, and the ends are stripped: "Fix  the `Lock`!" and "fix the lock" are the same text. This is
the normalisation of GPT-3's contamination study (lower case, punctuation removed, words split on
whitespace).
"""

from __future__ import annotations

import hashlib
import re

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, punctuation and whitespace runs collapsed to one space."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def words(text: str) -> list[str]:
    """The words of the normalised text."""
    return normalise(text).split()


def text_hash(text: str) -> str:
    """sha256 of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    """Every run of n consecutive tokens (none when there are fewer than n)."""
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}
