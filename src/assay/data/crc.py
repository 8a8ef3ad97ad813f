"""The crc-py dataset as haiku-review items, and a seeded split stratified by category.

crc-py (MIT, busraicoz/crc-py-dataset) holds 1,030 manually labelled review comments on Python
pull requests: a diff hunk (``code``), the comment (lower-cased) and a category. Items become
``{id, diff, comment, category, repo, file_path, subcategory}``. The 7 comments labelled "false
positive" are dropped (they are not review comments), and so are repeated copies of one comment
(same ``comment_id`` and text), which would otherwise leak from train into the held-out split.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

CRC_CATEGORIES = ("refactoring", "discussion", "functional", "documentation")
DROPPED_CATEGORY = "false positive"
_REQUIRED = ("code", "comment", "category", "comment_id")


@dataclass(frozen=True)
class CrcData:
    """Items read from crc-py and what was left out."""

    items: list[dict]
    dropped_false_positive: int
    dropped_duplicates: int


@dataclass(frozen=True)
class Split:
    """Train and held-out items of a seeded stratified split."""

    train: list[dict]
    test: list[dict]
    seed: int


def _item(rec: dict, path: str, index: int) -> dict:
    for name in _REQUIRED:
        if name not in rec:
            raise InputError("missing required field", file=path, line=index, field=name,
                             fix="give the crc-py manual_labeled_data.json file")
    if rec["category"] not in CRC_CATEGORIES:
        raise InputError(f"unknown category (known: {', '.join(CRC_CATEGORIES)})", file=path,
                         line=index, field="category", value=rec["category"])
    return {"id": f"crc-{rec['comment_id']}", "diff": rec["code"], "comment": rec["comment"],
            "category": rec["category"], "repo": rec.get("repo"),
            "file_path": rec.get("file_path"), "subcategory": rec.get("subcategory")}


def load_crc(path: str | Path) -> CrcData:
    """Read crc-py's ``manual_labeled_data.json`` (or the folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / "manual_labeled_data.json"
    if not p.is_file():
        raise InputError("file not found", file=str(p),
                         fix="give the path of crc-py's manual_labeled_data.json")
    try:
        records = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", file=str(p), line=exc.lineno) from exc
    if not isinstance(records, list):
        raise InputError("expected a JSON array of records", file=str(p), value=type(records))
    return _collect(records, str(p))


def _collect(records: list, path: str) -> CrcData:
    items: list[dict] = []
    seen: dict[str, set[str]] = {}
    false_pos = dupes = 0
    for index, rec in enumerate(records, 1):
        if not isinstance(rec, dict):
            raise InputError("expected a JSON object", file=path, line=index, value=rec)
        if rec.get("category") == DROPPED_CATEGORY:
            false_pos += 1
            continue
        item = _item(rec, path, index)
        texts = seen.setdefault(item["id"], set())
        text = " ".join(item["comment"].lower().split())
        if text in texts:
            dupes += 1
            continue
        if texts:  # one comment_id with a different comment: keep it under its own id
            item["id"] = f"{item['id']}-{len(texts) + 1}"
        texts.add(text)
        items.append(item)
    return CrcData(items, false_pos, dupes)


def _allocate(counts: dict[str, int], holdout: int) -> dict[str, int]:
    """Held-out size per class, proportional to its count (largest remainder)."""
    total = sum(counts.values())
    exact = {c: holdout * n / total for c, n in counts.items()}
    sizes = {c: int(x) for c, x in exact.items()}
    by_remainder = sorted(counts, key=lambda c: (-(exact[c] - sizes[c]), c))
    for c in by_remainder[: holdout - sum(sizes.values())]:
        sizes[c] += 1
    return sizes


def stratified_split(items: Sequence[dict], *, holdout: int = 100, seed: int = 0,
                     key: str = "category") -> Split:
    """Hold out ``holdout`` items with each class in proportion, drawn with ``seed``.

    The same items, holdout and seed always give the same split, whatever the input order.
    """
    if not isinstance(holdout, int) or not 0 < holdout < len(items):
        raise ValueError(f"holdout must be an int between 1 and {len(items) - 1} (the number of "
                         f"items less one), got {holdout!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    by_class: dict[str, list[dict]] = {}
    for item in sorted(items, key=lambda i: str(i["id"])):
        by_class.setdefault(str(item[key]), []).append(item)
    sizes = _allocate({c: len(v) for c, v in by_class.items()}, holdout)
    rng = np.random.default_rng(seed)
    test_ids: set[str] = set()
    for c in sorted(by_class):
        chosen = rng.choice(len(by_class[c]), size=sizes[c], replace=False)
        test_ids.update(str(by_class[c][i]["id"]) for i in chosen)
    ordered = sorted(items, key=lambda i: str(i["id"]))
    return Split(train=[i for i in ordered if str(i["id"]) not in test_ids],
                 test=[i for i in ordered if str(i["id"]) in test_ids], seed=seed)


def write_split(split: Split, out_dir: str | Path) -> dict[str, Path]:
    """Write ``train.jsonl`` and ``test.jsonl``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in (("train", split.train), ("test", split.test)):
        path = out / f"{name}.jsonl"
        tmp = path.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(path)
        paths[name] = path
    return paths
