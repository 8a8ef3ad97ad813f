"""The SFT set: confident teacher labels in the judge's own format, swap-doubled.

Each kept pair gives two rows: the prompt as `assay eval` renders it with the teacher's
reasoning and verdict, and the swapped prompt (the two response texts traded) with the verdict
mirrored (A <-> B, TIE stays TIE) and the reasoning's "Response A/B" mentions swapped. A thinking
marker anywhere in a prompt or completion blocks the set: training on it teaches a format the
eval never asks for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..errors import AssayError
from ..tasks import ORIGINAL, SWAPPED
from ..tasks.bias_judge import MIRROR, BiasJudge
from ..train.swap import mirror_slots
from .buckets import bucket_of
from .labeller import Label, judge_completion

SFT = "sft.jsonl"


def mirrored(label: Label) -> Label:
    """The label of the swapped pair: verdict mirrored, slot mentions in the reasoning swapped."""
    return Label(MIRROR[label.verdict], label.confidence, mirror_slots(label.reasoning))


def thinking_rows(rows: Sequence[dict], fields: Sequence[str]) -> list[str]:
    """Ids of rows with a thinking marker (<think>, ...) in any of ``fields``."""
    from ..models.chat import THINKING_MARKERS

    def text(v) -> str:
        return v if isinstance(v, str) else "\n".join(str(m.get("content", "")) for m in v)
    return [r["id"] for r in rows
            if any(m in text(r[f]) for f in fields for m in THINKING_MARKERS)]


def block_thinking(rows: Sequence[dict], fields: Sequence[str], what: str) -> None:
    bad = thinking_rows(rows, fields)
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise AssayError(f"{what}: {len(bad)} row(s) contain a thinking marker ({shown}); "
                         "nothing was written. Fix: relabel those pairs without thinking "
                         "(a chat template or teacher with thinking off)")


def sft_rows(labelled: Sequence, min_confidence: int = 3) -> list[dict]:
    """Two rows per kept pair (original, swapped); kept: a teacher label with confidence >=
    ``min_confidence``, not excluded by a cross-check."""
    task = BiasJudge()
    rows = []
    for r in labelled:
        if r.excluded is not None or r.label is None or r.label.confidence < min_confidence:
            continue
        for pass_, lab in ((ORIGINAL, r.label), (SWAPPED, mirrored(r.label))):
            rows.append({"id": f"{r.item['id']}::{pass_}", "pair_id": str(r.item["id"]),
                         "pass": pass_, "prompt": task.render(r.item, pass_),
                         "completion": judge_completion(lab), "verdict": lab.verdict,
                         "confidence": lab.confidence, "bucket": bucket_of(r.item),
                         "category": r.item.get("category"),
                         "slice": r.item.get("eval_slice")})
    return rows


def sft_card(labelled: Sequence, rows: Sequence[dict], min_confidence: int) -> dict:
    orig = [r for r in rows if r["pass"] == ORIGINAL]
    return {"kind": "sft", "min_confidence": min_confidence, "pairs_labelled": len(labelled),
            "pairs_kept": len(orig), "rows": len(rows),
            "dropped_low_confidence": sum(1 for r in labelled if r.label is not None
                                          and r.excluded is None
                                          and r.label.confidence < min_confidence),
            "dropped_excluded": sum(r.excluded is not None for r in labelled),
            "label": dict(sorted(Counter(r["verdict"] for r in rows).items())),
            "bucket": dict(sorted(Counter(str(r["bucket"]) for r in orig).items())),
            "category": dict(sorted(Counter(str(r["category"]) for r in orig).items())),
            "slice": dict(sorted(Counter(str(r["slice"]) for r in orig).items()))}


def write_sft(labelled: Sequence, out: Path, min_confidence: int = 3) -> dict[str, Path]:
    from .card import write_card
    from .io import write_jsonl

    rows = sft_rows(labelled, min_confidence)
    block_thinking(rows, ("prompt", "completion"), "SFT set blocked")
    write_jsonl(out / SFT, rows)
    paths = write_card(out, sft_card(labelled, rows, min_confidence), "sft_card")
    return {"sft": out / SFT, "sft_card": paths["card_md"]}
