"""Contamination against eval sets, checked before any teacher request.

An item is contaminated when its input (what the student is shown: the task's render without the
system turn, which every item shares) matches an item of an excluded eval file by normalised
exact hash, or shares an n-gram (13 by default) of normalised words with it: GPT-3's protocol
("Language Models are Few-Shot Learners", appendix C), where one shared 13-gram makes an example
dirty. Each hit keeps its overlap ratio, the share of the item's n-grams found in the eval set.
An input shorter than n words can only match exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .textnorm import ngrams, text_hash, words


@dataclass(frozen=True, slots=True)
class ExclusionSet:
    """The hashes and n-grams of one eval file's inputs."""

    path: str
    sha256: str
    n_items: int
    hashes: frozenset[str]
    grams: frozenset[tuple[str, ...]]
    n: int

    def summary(self) -> dict:
        digest = hashlib.sha256("\n".join(sorted(self.hashes)).encode()).hexdigest()
        return {"path": self.path, "sha256": self.sha256, "n_items": self.n_items,
                "n_hashes": len(self.hashes), "hashes_sha256": digest,
                "ngram": self.n, "n_ngrams": len(self.grams)}


@dataclass(frozen=True, slots=True)
class Contamination:
    """Why one item was removed: which file, how, and the share of its n-grams found there."""

    item_id: str
    path: str
    how: str  # "exact" or "ngram"
    overlap_ratio: float
    shared_ngrams: int

    def to_dict(self) -> dict:
        return {"file": self.path, "how": self.how, "overlap_ratio": self.overlap_ratio,
                "shared_ngrams": self.shared_ngrams}


def item_input(task, item: dict) -> str:
    """The text the student sees for an item, without the system turn shared by every item."""
    messages = task.render(item)
    return "\n".join(m["content"] for m in messages if m.get("role") != "system")


def exclusion_set(task, path: str | Path, n: int = 13) -> ExclusionSet:
    """Read an eval file with the task's loader and index its inputs."""
    if not Path(path).exists():
        raise InputError("file not found", file=str(path), field="--exclude",
                         fix="give an eval item file the task can read")
    ds = task.load(path)
    hashes, grams = set(), set()
    for item in ds.items:
        text = item_input(task, item)
        hashes.add(text_hash(text))
        grams |= ngrams(words(text), n)
    return ExclusionSet(str(path), ds.sha256, len(ds.items), frozenset(hashes),
                        frozenset(grams), n)


def check_item(item_id: str, text: str, sets: Sequence[ExclusionSet]) -> Contamination | None:
    """The first exclusion set this input matches, or None."""
    h = text_hash(text)
    tokens = words(text)
    for s in sets:
        mine = ngrams(tokens, s.n)
        if h in s.hashes:
            return Contamination(item_id, s.path, "exact", 1.0, len(mine & s.grams))
        shared = len(mine & s.grams)
        if shared:
            return Contamination(item_id, s.path, "ngram", shared / len(mine), shared)
    return None


def split_contaminated(task, items: Sequence[dict], sets: Sequence[ExclusionSet]
                       ) -> tuple[list[dict], dict[str, Contamination]]:
    """The clean items, and the contaminated ones by id."""
    clean, hits = [], {}
    for item in items:
        hit = check_item(str(item["id"]), item_input(task, item), sets) if sets else None
        if hit is None:
            clean.append(item)
        else:
            hits[hit.item_id] = hit
    return clean, hits
