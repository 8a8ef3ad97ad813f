"""What a distillation writes: candidates.jsonl (every attempt and its fate), train.jsonl (and
val.jsonl) in TRL's prompt/completion format, each via a temporary file and a rename."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..jsonable import to_jsonable
from ..tasks import Task
from .attempts import ItemRun
from .contamination import Contamination
from .selection import Selection

CANDIDATES, TRAIN, VAL, CARD_JSON, CARD_MD = ("candidates.jsonl", "train.jsonl", "val.jsonl",
                                              "card.json", "card.md")


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Write rows as JSON lines, atomically (a unique temporary file renamed over ``path``)."""
    from ..atomic import replacing

    n = 0
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(to_jsonable(r), ensure_ascii=False) + "\n")
            n += 1
    return n


def attempt_rows(run: ItemRun, sel: Selection, decision: str, reason: str) -> list[dict]:
    """One row per attempt: the text, the check, its tier, and the item's fate."""
    rows = []
    for i, a in enumerate(run.attempts):
        t = sel.tiers[i]
        rows.append({
            "id": a.item_id, "round": a.round, "candidate": a.candidate,
            "revises_round": a.round - 1 if a.round else None, "request_key": a.request_key,
            "prompt_hash": a.prompt_hash, "text": a.text, "ok": a.check.ok,
            "feedback": a.check.feedback, "evidence": a.check.evidence,
            "feedback_sent": a.feedback_sent, "tier": None if t is None else t.tier,
            "tier_key": None if t is None else list(t.key),
            "tier_note": None if t is None else t.note,
            "tier_values": None if t is None else t.values,
            "selected": sel.index == i, "best_effort": sel.index == i and sel.best_effort,
            "item_status": run.status, "decision": decision, "reason": reason,
            "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
            "cached": a.cached, "error": a.error, "finish_reason": a.finish_reason})
    return rows


def excluded_row(item_id: str, hit: Contamination) -> dict:
    """A contaminated item: no attempt, the evidence of the match."""
    return {"id": item_id, "round": None, "candidate": None, "text": None, "ok": None,
            "selected": False, "item_status": "contaminated", "decision": "contaminated",
            "reason": f"input matches {hit.path} ({hit.how}, overlap ratio "
                      f"{hit.overlap_ratio:.3f})", "contamination": hit.to_dict()}


def train_row(task: Task, item: dict, text: str, best_effort: bool) -> dict:
    """TRL prompt/completion: the prompt is the eval's own render, the item id kept."""
    row = {"id": str(item["id"]), "prompt": list(task.render(item)), "completion": text}
    if best_effort:
        row["best_effort"] = True
    return row


def split_rows(rows: Sequence[dict], val_fraction: float, seed: int
               ) -> tuple[list[dict], list[dict]]:
    """A seeded train/val split that keeps the item order inside each part."""
    n_val = round(len(rows) * val_fraction)
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    val = set(order[:n_val])
    return ([r for i, r in enumerate(rows) if i not in val],
            [r for i, r in enumerate(rows) if i in val])
