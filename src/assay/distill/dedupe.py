"""Duplicate targets: exact (normalised hash) and near (MinHash LSH via ``datasketch``).

A distilled set with the same answer twice teaches that answer twice; the scientific reviewer's
set was deduped by a hash of the review text. Near-duplicates are found with MinHash over word
3-grams of the normalised target (the words themselves for a target under three words) and
datasketch's LSH index; each candidate the index returns is confirmed by its estimated Jaccard
similarity, so an LSH false positive is not dropped. The first occurrence (in item order) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import require
from .textnorm import ngrams, text_hash, words

NUM_PERM = 128
SHINGLE = 3


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A dropped target: which kept one it repeats, and how closely."""

    item_id: str
    of: str
    how: str  # "exact" or "near"
    similarity: float


def exact_duplicates(ids: Sequence[str], texts: Sequence[str]) -> dict[str, Duplicate]:
    """Targets whose normalised text repeats an earlier one, by id."""
    first: dict[str, str] = {}
    out = {}
    for item_id, text in zip(ids, texts):
        h = text_hash(text)
        if h in first:
            out[item_id] = Duplicate(item_id, first[h], "exact", 1.0)
        else:
            first[h] = item_id
    return out


def shingles(text: str) -> set[str]:
    tokens = words(text)
    grams = ngrams(tokens, SHINGLE) if len(tokens) >= SHINGLE else {tuple(tokens)}
    return {" ".join(g) for g in grams}


def minhash(text: str, seed: int = 1):
    datasketch = require("datasketch", "distill")
    m = datasketch.MinHash(num_perm=NUM_PERM, seed=seed)
    m.update_batch([s.encode("utf-8") for s in shingles(text)])
    return m


def near_duplicates(ids: Sequence[str], texts: Sequence[str],
                    threshold: float = 0.8) -> dict[str, Duplicate]:
    """Targets whose estimated Jaccard similarity to an earlier kept one is >= threshold."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if threshold >= 1.0 or not ids:
        return {}
    datasketch = require("datasketch", "distill")
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    kept: dict[str, object] = {}
    out = {}
    for item_id, text in zip(ids, texts):
        m = minhash(text)
        best = max(((m.jaccard(kept[k]), k) for k in lsh.query(m)), default=None)
        if best is not None and best[0] >= threshold:
            out[item_id] = Duplicate(item_id, best[1], "near", float(best[0]))
            continue
        lsh.insert(item_id, m)
        kept[item_id] = m
    return out
