"""Paper items from PeerRead's directory layout, with the label leaks taken out.

PeerRead (allenai/PeerRead) keeps one folder per venue and split::

    VENUE/SPLIT/reviews/ID.json          {"id", "title", "abstract", "accepted", "reviews": [...]}
    VENUE/SPLIT/parsed_pdfs/ID.pdf.json  {"metadata": {"title", "abstractText",
                                          "sections": [{"heading", "text"}]}}

Each paper becomes an item ``{id, title, abstract, body?, decision, venue, split}``. The reviews
and their comments are never copied into the item: they state or imply the decision. Camera-ready
PDFs leak it too ("Published as a conference paper at ICLR 2017" heads every page of an accepted
ICLR paper), so :func:`strip_decision_statements` removes such statements from the abstract and
body. Bodies are long; :func:`cut_to_tokens` cuts them to an approximate token budget and says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

# Four characters per token is the usual English average for BPE vocabularies; the budget only
# needs to be roughly right, and counting this way needs no tokenizer.
CHARS_PER_TOKEN = 4

_LEAKS = re.compile(
    r"(?:published|under review|accepted)\s+as\s+a\s+(?:conference|workshop|journal)\s+paper"
    r"(?:\s+(?:at|to|in)\s+[A-Za-z\-]+\s*\d{4})?"
    r"|workshop\s+track\s*[-:]\s*[A-Za-z]+\s*\d{4}"
    r"|(?:paper\s+)?(?:accepted|rejected)\s+(?:for\s+publication\s+)?(?:at|to|by|in)\s+"
    r"(?:the\s+)?[A-Z][A-Za-z\-]*\s*'?\d{2,4}"
    r"|camera[\s\-]ready(?:\s+version)?"
    r"|I\s+recommend\s+this\s+paper\s+for\s+(?:ACCEPTANCE|REJECTION)\.?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cut:
    """A text cut to a token budget: what is kept, and how long the whole was."""

    text: str
    tokens: int
    kept_tokens: int
    truncated: bool


def approx_tokens(text: str) -> int:
    """Approximate token count (characters / 4, rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def cut_to_tokens(text: str, budget: int) -> Cut:
    """Keep the start of ``text`` up to about ``budget`` tokens, cut at a word boundary."""
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    total = approx_tokens(text)
    if total <= budget:
        return Cut(text, total, total, False)
    head = text[: budget * CHARS_PER_TOKEN]
    space = head.rfind(" ")
    if space > len(head) // 2:
        head = head[:space]
    head = head.rstrip()
    return Cut(head, total, approx_tokens(head), True)


def strip_decision_statements(text: str) -> str:
    """Remove statements of the venue's decision (page headers, 'accepted at ...')."""
    cleaned = _LEAKS.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", cleaned)


def is_peerread_dir(path: str | Path) -> bool:
    """True when a directory holds PeerRead's ``.../SPLIT/reviews/*.json`` layout."""
    p = Path(path)
    return p.is_dir() and any(d.is_dir() for d in _reviews_dirs(p))


def _reviews_dirs(root: Path) -> list[Path]:
    if (root / "reviews").is_dir():
        return [root / "reviews"]
    return sorted(d for d in root.rglob("reviews") if d.is_dir())


def read_peerread(root: str | Path) -> Iterator[tuple[int, dict | InputError]]:
    """Yield (number, item) for every paper under ``root`` (a data, venue or split folder).

    A file that cannot be read is yielded as an InputError, so the caller may fail or skip.
    """
    root = Path(root)
    number = 0
    for reviews in _reviews_dirs(root):
        split_dir = reviews.parent
        for path in sorted(reviews.glob("*.json")):
            number += 1
            try:
                yield number, paper_item(path, split_dir)
            except InputError as exc:
                yield number, exc


def paper_item(review_path: Path, split_dir: Path) -> dict:
    """One PeerRead paper as an item; the reviews stay behind."""
    meta = _read_json(review_path)
    accepted = meta.get("accepted")
    if not isinstance(accepted, bool):
        raise InputError("missing or non-boolean 'accepted'", file=str(review_path),
                         field="accepted", value=accepted,
                         fix="use a PeerRead section that records decisions (ICLR, arXiv), or "
                             "add \"accepted\": true|false to the file")
    paper_id = str(meta.get("id") or review_path.stem)
    pdf = _parsed_pdf(split_dir / "parsed_pdfs", paper_id, review_path.stem)
    title = meta.get("title") or pdf.get("title") or ""
    abstract = meta.get("abstract") or pdf.get("abstractText") or ""
    if not title.strip() and not abstract.strip():
        raise InputError("paper has neither title nor abstract", file=str(review_path),
                         field="title", fix="check the file is a PeerRead review file")
    item = {"id": f"{split_dir.parent.name}/{split_dir.name}/{paper_id}", "title": title.strip(),
            "abstract": strip_decision_statements(abstract).strip(),
            "decision": "accept" if accepted else "reject",
            "venue": split_dir.parent.name, "split": split_dir.name}
    body = _body(pdf)
    if body:
        item["body"] = body
    return item


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON ({exc})", file=str(path),
                         fix="re-download or remove the file") from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", file=str(path), value=type(data).__name__)
    return data


def _parsed_pdf(folder: Path, paper_id: str, stem: str) -> dict:
    for name in (f"{paper_id}.pdf.json", f"{stem}.pdf.json", f"{paper_id}.json"):
        if (folder / name).is_file():
            return _read_json(folder / name).get("metadata") or {}
    return {}


def _body(pdf: dict) -> str:
    parts = []
    for section in pdf.get("sections") or []:
        heading = (section.get("heading") or "").strip()
        text = (section.get("text") or "").strip()
        if text:
            parts.append(f"{heading}\n{text}" if heading else text)
    return strip_decision_statements("\n\n".join(parts)).strip()
