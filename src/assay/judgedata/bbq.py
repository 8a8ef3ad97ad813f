"""BBQ questions read from the benchmark's JSONL files, validated once, with their biased answer.

BBQ (Parrish et al. 2022, nyu-mll/BBQ, CC-BY-4.0) gives each example three answer options: two
people and an "unknown" option (``answer_info[ansK][1] == "unknown"``). One person belongs to a
group named in ``additional_metadata.stereotyped_groups`` (the *target*). The biased answer is
BBQ's own: the target for a negative question ("Who was bad with the phone?") and the other
person for a non-negative one ("Who was good with the phone?"). Only in an ambiguous context is
the biased answer wrong by construction (the gold is then always "unknown"), so only there is an
answer classified as biased (see ``responses.classify``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

LETTERS = ("A", "B", "C")
_REQUIRED = ("example_id", "question_index", "question_polarity", "context_condition",
             "category", "answer_info", "additional_metadata", "context", "question", "ans0",
             "ans1", "ans2", "label")
_FIX = "give the BBQ benchmark's own data/*.jsonl files (nyu-mll/BBQ)"


@dataclass(frozen=True, slots=True)
class BbqQuestion:
    """One BBQ example: its context, question, three answers, gold, target and biased answer."""

    example_id: int
    category: str
    question_index: str
    polarity: str  # "neg" or "nonneg"
    condition: str  # "ambig" or "disambig"
    context: str
    question: str
    answers: tuple[str, str, str]
    label: int
    unknown: int
    target: int
    file: str
    line: int

    @property
    def biased(self) -> int:
        """BBQ's bias-aligned answer: the target for a negative question, else the other one."""
        if self.polarity == "neg":
            return self.target
        return next(i for i in range(3) if i not in (self.target, self.unknown))

    @property
    def key(self) -> str:
        """A unique id: category, template, example and polarity (judge-from-scratch's form)."""
        return f"{self.category.lower()}::{self.question_index}::{self.example_id}::{self.polarity}"

    @property
    def group(self) -> str:
        """The BBQ question template (both polarities and contexts): the cluster for statistics
        and the unit a split keeps on one side."""
        return f"{self.category.lower()}::{self.question_index}"


def _err(msg: str, file: str, line: int, field: str, value=None, fix: str = _FIX) -> InputError:
    return InputError(msg, file=file, line=line, field=field, value=value, fix=fix)


def _target(rec: dict, unknown: int, file: str, line: int) -> int:
    groups = rec["additional_metadata"].get("stereotyped_groups")
    if not isinstance(groups, list) or not groups:
        raise _err("expected a non-empty list", file, line,
                   "additional_metadata.stereotyped_groups", groups)
    wanted = {str(g).lower() for g in groups}
    hits = []
    for i in range(3):
        name, label = (str(x).lower() for x in rec["answer_info"][f"ans{i}"][:2])
        if i != unknown and ({name, label, label.split("-", 1)[-1]} & wanted):
            hits.append(i)
    if len(hits) != 1:
        raise _err(f"{len(hits)} answers belong to a stereotyped group (expected exactly one)",
                   file, line, "answer_info", rec["answer_info"])
    return hits[0]


def _unknown(rec: dict, file: str, line: int) -> int:
    info = rec["answer_info"]
    if not isinstance(info, dict) or any(not isinstance(info.get(f"ans{i}"), list)
                                         or len(info[f"ans{i}"]) < 2 for i in range(3)):
        raise _err("expected {ans0: [name, group], ans1: ..., ans2: ...}", file, line,
                   "answer_info", info)
    found = [i for i in range(3) if info[f"ans{i}"][1] == "unknown"]
    if len(found) != 1:
        raise _err(f"{len(found)} answers are marked 'unknown' (expected exactly one)", file,
                   line, "answer_info", info)
    return found[0]


def parse_question(rec: object, file: str, line: int) -> BbqQuestion:
    """One validated BBQ record."""
    if not isinstance(rec, dict):
        raise _err("expected a JSON object", file, line, "(record)", rec)
    for name in _REQUIRED:
        if name not in rec:
            raise _err("missing required field", file, line, name)
    for name in ("context", "question", "ans0", "ans1", "ans2"):
        if not isinstance(rec[name], str) or not rec[name].strip():
            raise _err("expected a non-empty string", file, line, name, rec[name])
    if rec["label"] not in (0, 1, 2) or isinstance(rec["label"], bool):
        raise _err("expected 0, 1 or 2", file, line, "label", rec["label"])
    if rec["context_condition"] not in ("ambig", "disambig"):
        raise _err("expected 'ambig' or 'disambig'", file, line, "context_condition",
                   rec["context_condition"])
    if rec["question_polarity"] not in ("neg", "nonneg"):
        raise _err("expected 'neg' or 'nonneg'", file, line, "question_polarity",
                   rec["question_polarity"])
    if not isinstance(rec["additional_metadata"], dict):
        raise _err("expected an object", file, line, "additional_metadata",
                   rec["additional_metadata"])
    unknown = _unknown(rec, file, line)
    return BbqQuestion(int(rec["example_id"]), str(rec["category"]), str(rec["question_index"]),
                       rec["question_polarity"], rec["context_condition"], rec["context"].strip(),
                       rec["question"].strip(), (rec["ans0"], rec["ans1"], rec["ans2"]),
                       rec["label"], unknown, _target(rec, unknown, file, line), file, line)


def read_bbq_file(path: Path) -> list[BbqQuestion]:
    out = []
    with open(path, "rb") as f:
        for line, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _err(f"malformed JSON ({exc})", str(path), line, "(line)",
                           raw[:60].decode("utf-8", "replace")) from exc
            out.append(parse_question(rec, str(path), line))
    return out


def read_bbq(source: str | Path) -> list[BbqQuestion]:
    """Every question of a BBQ folder (its ``*.jsonl``, sorted by name) or of one file."""
    p = Path(source)
    files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    if not p.exists() or not files:
        raise InputError("no BBQ .jsonl files found", file=str(p),
                         fix="pass --bbq a folder holding BBQ's Age.jsonl, Religion.jsonl, ...")
    questions = [q for f in files for q in read_bbq_file(f)]
    seen: dict[str, BbqQuestion] = {}
    for q in questions:
        if q.key in seen:
            raise _err(f"repeats the example of {seen[q.key].file} line {seen[q.key].line}",
                       q.file, q.line, "example_id", q.example_id,
                       "give each BBQ category file once")
        seen[q.key] = q
    return questions
