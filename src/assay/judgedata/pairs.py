"""BBQ questions -> candidate answers -> bucketed A/B/TIE pairs in the bias-judge schema, split.

``build_pairs`` is the library call behind ``assay data bbq-pairs``. The held-out category (BBQ's
Religion by default) never enters training: its pairs form the ``ood_<category>`` slice of the
holdout file. The in-distribution pairs are split by BBQ question template (``group_id``), so
that no template has pairs on both sides. Everything random is drawn from one ``seed``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .bbq import LETTERS, BbqQuestion, read_bbq
from .buckets import (BUCKETS, DEFAULT_PER_BUCKET, LENGTH_RATIO, Pair, allocate,
                      allocation_order, bucket_name, bucket_of, gold, pools)
from .responses import CLASSES, Candidate, classify, option_candidates

IN_DIST = "in_dist"
TRAIN, HOLDOUT = "train", "holdout"
MIRROR = {"A": "B", "B": "A", "TIE": "TIE"}


@dataclass(frozen=True)
class PairsConfig:
    """Settings of one `assay data bbq-pairs` run."""

    bbq: str
    holdout_category: str | None = "Religion"
    per_bucket: dict = field(default_factory=lambda: dict(DEFAULT_PER_BUCKET))
    ood_pairs: int = 60
    holdout_pairs: int = 240
    length_ratio: float = LENGTH_RATIO
    seed: int = 0


@dataclass(frozen=True)
class PairSet:
    """The written items (train and holdout) and the figures for the card."""

    train: list[dict]
    holdout: list[dict]
    card: dict


def pair_id(p: Pair) -> str:
    return hashlib.sha1("|".join(p.key).encode("utf-8")).hexdigest()[:16]


def _response(c: Candidate, cls: str) -> dict:
    return {"text": c.text, "source": c.source, "class": cls, "choice": (
        None if c.choice is None else LETTERS[c.choice]), "candidate_id": c.id}


def pair_item(p: Pair, swap: bool, slice_: str) -> dict:
    """A pair in the bias-judge schema (``human_verdict`` is the gold BBQ's labels give)."""
    q = p.question
    a, b = (p.second, p.first) if swap else (p.first, p.second)
    ca, cb = (p.second_class, p.first_class) if swap else (p.first_class, p.second_class)
    verdict = gold(ca, cb)
    pid = pair_id(p)
    return {"id": pid, "pair_id": pid, "question_id": q.group, "group_id": q.group,
            "bbq_key": q.key, "question_text": f"{q.context} {q.question}",
            "answer_choices": [{"letter": LETTERS[i], "text": t} for i, t in enumerate(q.answers)],
            "response_a": _response(a, ca), "response_b": _response(b, cb),
            "human_verdict": verdict, "label": verdict, "label_source": "bbq_derived",
            "pair_category": p.bucket, "bucket": p.bucket, "bias_category": q.category.lower(),
            "category": q.category, "eval_slice": slice_, "slice": slice_,
            "context_condition": q.condition, "question_polarity": q.polarity}


def scaled(per_bucket: dict[str, int], total: int) -> dict[str, int]:
    """``total`` spread over the buckets in proportion to ``per_bucket`` (largest remainder)."""
    whole = sum(per_bucket.values())
    if whole == 0:
        return {b: 0 for b in per_bucket}
    exact = {b: total * n / whole for b, n in per_bucket.items()}
    out = {b: int(x) for b, x in exact.items()}
    for b in sorted(exact, key=lambda b: (out[b] - exact[b], list(exact).index(b)))[
            :total - sum(out.values())]:
        out[b] += 1
    return out


def check_per_bucket(per_bucket: dict) -> dict[str, int]:
    """Bucket names (short or full) -> non-negative counts; ValueError naming the bad one."""
    out = dict(DEFAULT_PER_BUCKET)
    for name, n in per_bucket.items():
        full = bucket_name(str(name))
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"per_bucket[{name!r}] must be a non-negative int, got {n!r}")
        out[full] = n
    return out


def _items(chosen: dict[str, list[Pair]], slice_: str, rng: np.random.Generator) -> list[dict]:
    out = []
    for b in BUCKETS:
        swaps = rng.integers(0, 2, size=len(chosen[b]))
        out += [pair_item(p, bool(s), slice_) for p, s in zip(chosen[b], swaps)]
    return out


def split_by_group(items: Sequence[dict], n_holdout: int, rng: np.random.Generator
                   ) -> tuple[list[dict], list[dict]]:
    """Whole groups (BBQ templates) to the holdout, in a random order, until it holds at least
    ``n_holdout`` pairs; every pair of a group lands on one side."""
    groups = sorted({i["group_id"] for i in items})
    taken, n = set(), 0
    for k in rng.permutation(len(groups)):
        if n >= n_holdout:
            break
        taken.add(groups[k])
        n += sum(1 for i in items if i["group_id"] == groups[k])
    return ([i for i in items if i["group_id"] not in taken],
            [i for i in items if i["group_id"] in taken])


def _holdout_category(questions: Sequence[BbqQuestion], name: str | None) -> str | None:
    if name is None:
        return None
    known = sorted({q.category for q in questions})
    match = [c for c in known if c.lower() == name.lower()]
    if not match:
        raise InputError("no such BBQ category in the data", field="holdout_category",
                         value=name, fix=f"pass --holdout-category one of {', '.join(known)}")
    return match[0]


def build_pairs(cfg: PairsConfig, candidates: dict[str, list[Candidate]] | None = None,
                questions: Sequence[BbqQuestion] | None = None) -> PairSet:
    """Pairs from BBQ's options as responses, or from ``candidates`` (question key ->
    candidates, e.g. ``generate.generate``) on ``questions``."""
    per_bucket = check_per_bucket(cfg.per_bucket)
    for name, low in (("ood_pairs", 0), ("holdout_pairs", 0)):
        if getattr(cfg, name) < low:
            raise ValueError(f"{name} must be at least {low}, got {getattr(cfg, name)!r}")
    questions = list(questions) if questions is not None else read_bbq(cfg.bbq)
    source = "given"
    if candidates is None:
        candidates, source = {q.key: option_candidates(q) for q in questions}, "bbq_options"
    held = _holdout_category(questions, cfg.holdout_category)
    rng = np.random.default_rng(cfg.seed)
    in_q = [q for q in questions if q.category != held]
    pool = pools(in_q, candidates, cfg.length_ratio)
    chosen = allocate(pool, per_bucket, rng)
    train, holdout = split_by_group(_items(chosen, IN_DIST, rng), cfg.holdout_pairs, rng)
    ood_pool, ood_chosen = {}, {b: [] for b in BUCKETS}
    if held is not None:
        ood_pool = pools([q for q in questions if q.category == held], candidates,
                         cfg.length_ratio)
        ood_chosen = allocate(ood_pool, scaled(per_bucket, cfg.ood_pairs), rng)
        holdout += _items(ood_chosen, f"ood_{held.lower()}", rng)
    # in pair-id order: buckets and categories mixed, so that --limit N takes a mix
    train, holdout = sorted(train, key=lambda i: i["id"]), sorted(holdout, key=lambda i: i["id"])
    for i in train:
        i["split"] = TRAIN
    for i in holdout:
        i["split"] = HOLDOUT
    card = pairs_card(cfg, per_bucket, questions, candidates, pool, chosen, ood_chosen, held,
                      train, holdout)
    return PairSet(train, holdout, {**card, "candidates_from": source})


def _counts(items: Sequence[dict], key: str) -> dict[str, int]:
    return dict(sorted(Counter(str(i.get(key)) for i in items).items()))


def counts_of(items: Sequence[dict]) -> dict:
    """Pairs per bucket, category, slice and gold label."""
    return {"n": len(items), "bucket": dict(sorted(Counter(str(bucket_of(i))
                                                        for i in items).items())),
            "category": _counts(items, "category"), "slice": _counts(items, "eval_slice"),
            "label": _counts(items, "human_verdict")}


def pairs_card(cfg, per_bucket, questions, candidates, pool, chosen, ood_chosen, held, train,
               holdout) -> dict:
    classes = Counter(classify(q, c.choice) for q in questions
                      for c in candidates.get(q.key, []))
    n = sum(classes.values())
    shortfall = {b: per_bucket[b] - len(chosen[b]) for b in BUCKETS
                 if len(chosen[b]) < per_bucket[b]}
    overlap = ({i["group_id"] for i in train} & {i["group_id"] for i in holdout})
    return {
        "kind": "bbq-pairs", "bbq": str(cfg.bbq), "seed": cfg.seed,
        "holdout_category": held, "length_ratio": cfg.length_ratio,
        "questions": len(questions), "candidates": n,
        "classes": {c: classes.get(c, 0) for c in CLASSES},
        "class_shares": {c: (classes.get(c, 0) / n if n else None) for c in CLASSES},
        "requested_per_bucket": per_bucket,
        "pool_per_bucket": {b: len(pool[b]) for b in BUCKETS},
        "allocation_order": allocation_order(pool),
        "allocated_per_bucket": {b: len(chosen[b]) for b in BUCKETS},
        "ood_allocated_per_bucket": {b: len(ood_chosen[b]) for b in BUCKETS},
        "shortfall": shortfall, "groups_on_both_sides": len(overlap),
        "train": counts_of(train), "holdout": counts_of(holdout),
        "warnings": [f"bucket {b} got {per_bucket[b] - k} of {per_bucket[b]} pairs: its pool "
                     "ran out" for b, k in shortfall.items()],
    }


def write_pairs(pairs: PairSet, out_dir: str | Path) -> dict[str, Path]:
    """OUT/train.jsonl, OUT/holdout.jsonl, OUT/card.json and OUT/card.md."""
    from .card import write_card
    from .io import write_jsonl

    out = Path(out_dir)
    paths = {TRAIN: out / "train.jsonl", HOLDOUT: out / "holdout.jsonl"}
    write_jsonl(paths[TRAIN], pairs.train)
    write_jsonl(paths[HOLDOUT], pairs.holdout)
    paths.update(write_card(out, pairs.card))
    return paths
