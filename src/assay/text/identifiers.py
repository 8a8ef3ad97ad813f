"""Split a line of review text into tokens, and a code identifier into the words it is read as.

Code review prose is full of identifiers: ``snake_case``, ``camelCase``, ``PascalCase``,
``kebab-case``, ``dotted.names`` and ``path/parts``. A reader pronounces them part by part, so
the syllable counter splits them the same way. Backticks are removed, edge punctuation is
stripped and tokens made only of punctuation are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# One pass over an identifier: an all-caps acronym with a plural "s" (APIs, IDs), an acronym
# before a capitalised word (HTTPServer -> HTTP, Server), a capitalised or lower-case word,
# any other run of capitals, a run of digits, or a run of non-ASCII letters (kept whole).
_PART = re.compile(
    r"[A-Z]{2,}s(?![a-z])"
    r"|[A-Z]+(?=[A-Z][a-z])"
    r"|[A-Z]?[a-z]+(?:'[a-z]+)?"
    r"|[A-Z]+(?:'[a-z]+)?"
    r"|[0-9]+"
    r"|[^\W\d_A-Za-z]+"
)
# Characters that separate the parts of one identifier (and anything else that is not a letter,
# a digit or an apostrophe between letters).
_EDGE = ("\"'`()[]{}<>.,;:!?*~_-/\\|=+&^%$#@"
         "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026")


def strip_edges(token: str) -> str:
    """The token without the punctuation at its two ends (``(foo),`` -> ``foo``)."""
    return token.strip(_EDGE)


def fold_accents(text: str) -> str:
    """Latin letters with accents become plain ASCII letters (``café`` -> ``cafe``)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    # str.translate with this table drops combining marks at C speed (a generator over the
    # characters took half a second on a megabyte of emoji).
    return {cp: None for cp in range(0x300, 0x1F000) if unicodedata.combining(chr(cp))}


@lru_cache(maxsize=65536)
def _punctuation_only(token: str) -> bool:
    return all(unicodedata.category(c).startswith("P") for c in token)


def line_tokens(line: str) -> list[str]:
    """Whitespace-separated tokens of a line, backticks removed, edge punctuation stripped,
    punctuation-only tokens dropped. Emoji and other symbols are kept (they are counted, with
    low confidence, by the syllable counter)."""
    if not isinstance(line, str):
        raise ValueError(f"line must be a str, got {type(line).__name__}: {line!r:.80}")
    stripped = [raw.strip(_EDGE) for raw in line.replace("`", " ").split()]
    return [t for t in stripped if t and (t[0].isalnum() or not _punctuation_only(t))]


def split_identifier(token: str) -> tuple[str, ...]:
    """The parts a reader pronounces: ``api_key`` -> ("api", "key"), ``getHTTPResponse`` ->
    ("get", "HTTP", "Response"), ``v2.0`` -> ("v", "2", "0"). Case is kept, so callers can
    tell acronyms (all capitals) from words."""
    if not isinstance(token, str):
        raise ValueError(f"token must be a str, got {type(token).__name__}: {token!r}")
    return tuple(_PART.findall(fold_accents(token)))
