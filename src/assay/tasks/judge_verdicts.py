"""Convert judge-from-scratch's per-pair verdict files into assay's predictions format.

Its ``sft_verdicts.jsonl`` keeps one parsed verdict per pair and run: ``{"pair_id", "run_type",
"verdict"}`` with run_type ``original`` | ``swapped`` | ``consistency_K`` and verdict ``A`` | ``B``
| ``TIE`` | ``PARSE_FAIL``. Each becomes ``{"id", "output", "pass", "sample"}``: the output is a
minimal judge answer carrying that verdict, and a ``PARSE_FAIL`` an answer with no verdict tag, so
``assay score bias-judge`` reads back exactly the published verdicts.

Run it as ``python -m assay.tasks.judge_verdicts VERDICTS.jsonl PREDICTIONS.jsonl``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..dataset import read_records
from ..errors import InputError
from ._protocol import ORIGINAL, SWAPPED

PARSE_FAIL = "PARSE_FAIL"
_CONSISTENCY = re.compile(r"^consistency_(\d+)$")


def verdict_output(verdict: str) -> str:
    """A judge answer that parses to ``verdict``; PARSE_FAIL gives one with no verdict tag."""
    if verdict == PARSE_FAIL:
        return "<reasoning>(the published run recorded a parse failure here)</reasoning>"
    return f"<reasoning>(verdict from the published run)</reasoning><verdict>{verdict}</verdict>"


def pass_and_sample(run_type: str) -> tuple[str, int | None]:
    """original -> (original, None); swapped -> (swapped, None); consistency_K -> (original, K)."""
    if run_type == ORIGINAL:
        return ORIGINAL, None
    if run_type == SWAPPED:
        return SWAPPED, None
    m = _CONSISTENCY.match(run_type)
    if m:
        return ORIGINAL, int(m.group(1))
    raise ValueError(f"run_type must be original, swapped or consistency_K, got {run_type!r}")


def convert_row(row: dict) -> dict:
    """One verdict row as one prediction."""
    pass_, sample = pass_and_sample(row["run_type"])
    verdict = row["verdict"]
    if verdict not in ("A", "B", "TIE", PARSE_FAIL):
        raise ValueError(f"verdict must be A, B, TIE or PARSE_FAIL, got {verdict!r}")
    pred = {"id": row["pair_id"], "output": verdict_output(verdict), "pass": pass_}
    if sample is not None:
        pred["sample"] = sample
    return pred


def convert_verdicts(rows: Iterable[dict]) -> list[dict]:
    """Every verdict row as a prediction, in order."""
    return [convert_row(r) for r in rows]


def convert_file(src: str | Path, dst: str | Path) -> int:
    """Read a verdicts JSONL, write predictions JSONL; returns the number written."""
    preds = []
    for line, rec in read_records(src):
        if isinstance(rec, InputError):
            raise rec
        try:
            preds.append(convert_row(rec))
        except (KeyError, ValueError) as exc:
            raise InputError(str(exc).strip("'"), file=str(src), line=line,
                             fix='each line needs "pair_id", "run_type" and "verdict"') from exc
    with open(dst, "w", encoding="utf-8") as f:
        for p in preds:
            f.write(json.dumps(p) + "\n")
    return len(preds)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] in ("-h", "--help"):
        print("usage: python -m assay.tasks.judge_verdicts VERDICTS.jsonl PREDICTIONS.jsonl\n"
              "then: assay score bias-judge --data eval_set.jsonl --predictions PREDICTIONS.jsonl")
        return 0 if args and args[0] in ("-h", "--help") else 2
    n = convert_file(args[0], args[1])
    print(f"wrote {n} predictions to {args[1]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
