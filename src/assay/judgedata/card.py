"""Data cards of the judge data: card.json for machines, card.md with the same figures as tables.

Each card holds counts per bucket, category, slice and label; a labelling card adds the gate's
agreement table and the cross-check disagreement by bucket; an SFT/DPO card the row counts and,
for DPO, the length ratios of the verify step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..jsonable import to_jsonable


def _row(cells) -> str:
    return "| " + " | ".join("" if c is None else _fmt(c) for c in cells) + " |"


def _fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def table(title: str, mapping: dict, head: tuple[str, str] = ("", "n")) -> list[str]:
    """A two-column markdown table of a flat mapping (nested mappings are shown as JSON)."""
    lines = [f"### {title}", "", _row(head), _row(["---", "---:"])]
    for k, v in mapping.items():
        lines.append(_row([k, json.dumps(v) if isinstance(v, (dict, list)) else v]))
    return lines + [""]


def card_markdown(card: dict) -> str:
    """Every flat mapping of the card as a table, scalars as a list at the top."""
    lines = [f"# {card.get('kind', 'data')} card", ""]
    scalars = {k: v for k, v in card.items() if not isinstance(v, (dict, list))}
    lines += [f"- {k}: {_fmt(v)}" for k, v in scalars.items()] + [""]
    for k, v in card.items():
        if isinstance(v, dict):
            flat = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
            if flat:
                lines += table(k.replace("_", " "), flat)
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    lines += table(f"{k.replace('_', ' ')}: {kk.replace('_', ' ')}", vv)
        elif isinstance(v, list) and v:
            lines += [f"### {k.replace('_', ' ')}", ""] + [f"- {_fmt(x) if not isinstance(x, dict) else json.dumps(x)}" for x in v] + [""]
    return "\n".join(lines) + "\n"


def write_card(out: Path, card: dict, stem: str = "card") -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    j, m = out / f"{stem}.json", out / f"{stem}.md"
    tmp = j.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_jsonable(card), indent=2, allow_nan=False) + "\n",
                   encoding="utf-8")
    os.replace(tmp, j)
    m.write_text(card_markdown(card), encoding="utf-8")
    return {"card_json": j, "card_md": m}
