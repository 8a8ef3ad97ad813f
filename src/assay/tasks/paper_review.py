"""Task paper-review: a paper in, a structured review out, ending in one accept/reject line.

The review has seven sections (Summary, Strengths, Weaknesses, Technical Soundness, Clarity and
Writing, Significance, Final Recommendation) and ends in exactly one line, "I recommend this paper
for ACCEPTANCE." or "... REJECTION.". The decision is scored against the venue's decision with
accept as the positive class, beside the two baselines that flatter a model on a set skewed to
"accept" (always-accept and the majority label).

Label leaks are guarded: the prompt never shows the item's id, the reviews or comments, and
statements of the decision are stripped from the abstract and body (see ``peerread``). Bodies are
cut to an approximate token budget and each item's score records whether it was cut.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset, Field, load_items
from ..metrics import (BINARY, Metric, calibration_error, confusion, from_scores, majority,
                       greedy_score, rate, reliability_bins, share_gap, sliced)
from ..records import by_item, greedy, slice_values
from ._protocol import (MIN_SLICE_N, ORIGINAL, Check, Messages, Output, Record, Task, Tier,
                        Unparsed)
from .peerread import cut_to_tokens, is_peerread_dir, read_peerread, strip_decision_statements

ACCEPT, REJECT = "accept", "reject"
SECTIONS = ("Summary", "Strengths", "Weaknesses", "Technical Soundness", "Clarity and Writing",
            "Significance", "Final Recommendation")
DECISION_LINES = {ACCEPT: "I recommend this paper for ACCEPTANCE.",
                  REJECT: "I recommend this paper for REJECTION."}

SYSTEM_PROMPT = (
    "You are an expert scientific peer reviewer. Read the paper and write a structured review "
    "with exactly these seven sections, in this order, each introduced by its heading on its own "
    "line:\n\n" + "\n".join(f"## {s}" for s in SECTIONS) + "\n\n"
    "Judge the paper only on its content: its claims, evidence, clarity and significance. Under "
    "'Final Recommendation', give your reasons briefly and then end the review with exactly one "
    "of these two lines, written exactly as shown:\n\n"
    f"{DECISION_LINES[ACCEPT]}\n{DECISION_LINES[REJECT]}\n\n"
    "Write that line once, as the last line, and write nothing after it."
)

_MARKUP = re.compile(r"[*_`#>]")
_SP = r"[^\S\n]"  # whitespace within a line
# Whole-text patterns over the review with markdown markup removed and line breaks made "\n"
# (one pass each, linear: two whitespace runs are never adjacent without a required character
# between them, and a match starts only at a line start).
_DECISION_LINE = re.compile(
    rf"^{_SP}*(?:[-+]{_SP}+|\d+[.)]{_SP}*)?"
    rf"(?:(?:final{_SP}+)?(?:recommendation|decision|verdict){_SP}*[:\-]{_SP}*)?"
    rf"I{_SP}+recommend{_SP}+this{_SP}+paper{_SP}+for{_SP}+(ACCEPTANCE|REJECTION)"
    rf"{_SP}*(?:[.!]{_SP}*)?$", re.IGNORECASE | re.MULTILINE)
_HEADING = re.compile(
    rf"^{_SP}*(?:\d+[.)]{_SP}*)?(" + "|".join(re.escape(s) for s in SECTIONS) + rf"){_SP}*(?:[:\-]|$)",
    re.IGNORECASE | re.MULTILINE)
_DECISION_WORD = re.compile(r"for\W*(ACCEPTANCE|REJECTION)", re.IGNORECASE)


def _plain(text: str) -> str:
    return _MARKUP.sub("", "\n".join(text.splitlines()))


def decision_lines(text: str) -> list[tuple[int, str]]:
    """(line number, accept|reject) for every recommendation line; lenient on case and markdown."""
    plain = _plain(text)
    found, line, pos = [], 1, 0
    for m in _DECISION_LINE.finditer(plain):
        line += plain.count("\n", pos, m.start())
        pos = m.start()
        found.append((line, ACCEPT if m.group(1).upper() == "ACCEPTANCE" else REJECT))
    return found


def sections_present(text: str) -> list[str]:
    """The review sections that appear as headings (a line starting with the name)."""
    by_lower = {s.lower(): s for s in SECTIONS}
    heads = {by_lower[m.group(1).lower()] for m in _HEADING.finditer(_plain(text))}
    return [s for s in SECTIONS if s in heads]


def parse_review(text: str) -> dict | Unparsed:
    """The decision and the structure of a review, or Unparsed with the reason."""
    lines = decision_lines(text)
    if not lines:
        return Unparsed("no recommendation line: expected 'I recommend this paper for "
                        "ACCEPTANCE.' or 'I recommend this paper for REJECTION.'")
    decisions = {d for _, d in lines}
    if len(decisions) > 1:
        where = ", ".join(f"{d} on line {n}" for n, d in lines)
        return Unparsed(f"contradicting recommendation lines ({where})")
    return {"decision": lines[0][1], "sections": sections_present(text),
            "decision_lines": len(lines),
            "decision_is_last_line": _is_last_nonblank(text, lines[-1][0])}


def _is_last_nonblank(text: str, number: int) -> bool:
    rest = text.splitlines()[number:]
    return not any(ln.strip() for ln in rest)


def accept_probability(logprobs: Sequence[dict] | None) -> float | None:
    """P(ACCEPTANCE) at the decision token, from OpenAI-format chat logprobs, or None.

    The token that starts the last recommendation word is located in the completion; its chosen
    token and top alternatives are split into those that begin ACCEPTANCE and those that begin
    REJECTION, and the accept share of that mass is returned. When only one side appears among
    the alternatives, the rest of the mass is taken as the other side (the format allows no
    third answer).
    """
    if not logprobs:
        return None
    tokens = [str(e.get("token", "")) for e in logprobs]
    matches = list(_DECISION_WORD.finditer("".join(tokens)))
    if not matches:
        return None
    entry = logprobs[_token_at(tokens, matches[-1].start(1))]
    cands = {entry.get("token", ""): entry.get("logprob")}
    for alt in entry.get("top_logprobs") or []:
        cands.setdefault(alt.get("token", ""), alt.get("logprob"))
    p_acc = sum(math.exp(lp) for t, lp in cands.items() if lp is not None
                and _begins(t, "acceptance"))
    p_rej = sum(math.exp(lp) for t, lp in cands.items() if lp is not None
                and _begins(t, "rejection"))
    if p_acc > 0 and p_rej > 0:
        return p_acc / (p_acc + p_rej)
    if p_acc > 0:
        return min(1.0, p_acc)
    return max(0.0, 1.0 - p_rej) if p_rej > 0 else None


def _token_at(tokens: Sequence[str], offset: int) -> int:
    pos = 0
    for i, tok in enumerate(tokens):
        if pos + len(tok) > offset:
            return i
        pos += len(tok)
    return len(tokens) - 1


def _begins(token: str, word: str) -> bool:
    m = re.match(r"[a-z]+", re.sub(r"^[^A-Za-z]+", "", token).lower())
    return bool(m) and (word.startswith(m.group(0)) or m.group(0).startswith(word))


class PaperReview(Task):
    """Structured paper review ending in an accept/reject decision (accept is positive)."""

    name = "paper-review"
    description = "a paper in; a seven-section review ending in one accept/reject line"
    gold_keys = ("gold",)
    schema = (Field("id", (str, int)), Field("title", nonempty=True), Field("abstract"),
              Field("body", required=False), Field("decision", choices=(ACCEPT, REJECT)),
              Field("venue", required=False),
              Field("paper_id", (str, int), required=False))
    # A full seven-section review runs 500-900 tokens; a budget sized for a short answer would
    # cut exactly the long, careful reviews and hide their decisions.
    max_tokens = 1024

    def __init__(self, body_tokens: int = 3000):
        if body_tokens < 0:
            raise ValueError(f"body_tokens must be >= 0, got {body_tokens}")
        self.body_tokens = body_tokens

    def load(self, path: str | Path, *, skip_invalid: bool = False) -> Dataset:
        """JSONL/JSON/Parquet items, or a PeerRead folder (``VENUE/SPLIT/reviews/*.json``)."""
        if is_peerread_dir(path):
            return load_items(path, self.schema, skip_invalid=skip_invalid,
                              records=read_peerread(path))
        return super().load(path, skip_invalid=skip_invalid)

    def render(self, item: dict, pass_: str = ORIGINAL) -> Messages:
        cut = cut_to_tokens(strip_decision_statements(item.get("body") or ""), self.body_tokens)
        parts = [f"Title: {item['title'].strip()}",
                 f"Abstract:\n{strip_decision_statements(item['abstract']).strip()}"]
        if cut.text:
            parts.append(f"Paper text:\n{cut.text}")
        if cut.truncated:
            parts.append(f"[The paper text was cut here to about {cut.kept_tokens} of its "
                         f"{cut.tokens} tokens.]")
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": "\n\n".join(parts)}]

    def parse(self, text: str) -> dict | Unparsed:
        return parse_review(text)

    def score(self, item: dict, parsed: Any, output: Output) -> dict[str, Any]:
        predicted = None if isinstance(parsed, Unparsed) else parsed["decision"]
        found = sections_present(output.text)
        n_lines = len(decision_lines(output.text))
        cut = cut_to_tokens(strip_decision_statements(item.get("body") or ""), self.body_tokens)
        return {"gold": item["decision"], "predicted": predicted,
                "correct": predicted == item["decision"], "venue": item.get("venue"),
                "paper": item.get("paper_id"),
                "structure_ok": len(found) == len(SECTIONS) and n_lines == 1,
                "sections_found": len(found),
                "missing_sections": [s for s in SECTIONS if s not in found],
                "decision_lines": n_lines, "p_accept": accept_probability(output.logprobs),
                "input_truncated": cut.truncated, "body_tokens": cut.tokens}

    def metrics(self, records: Sequence[Record]) -> list[Metric]:
        return _metrics(records)

    def declared_metrics(self) -> list[Metric]:
        return _metrics([]) + [ECE]

    def details(self, records: Sequence[Record]) -> dict[str, Any]:
        return _details(records)

    def check(self, item: dict, text: str) -> Check:
        """A usable review: parses, has every section, and reaches the venue's decision."""
        parsed = parse_review(text)
        if isinstance(parsed, Unparsed):
            return Check(False, parsed.reason)
        missing = [s for s in SECTIONS if s not in parsed["sections"]]
        problems = []
        if missing:
            problems.append(f"missing sections: {', '.join(missing)}")
        if parsed["decision_lines"] != 1 or not parsed["decision_is_last_line"]:
            problems.append("the recommendation line must appear once, as the last line")
        if parsed["decision"] != item.get("decision", parsed["decision"]):
            problems.append(f"the decision is {parsed['decision']} but the paper was "
                            f"{item['decision']}ed")
        return Check(not problems, "; ".join(problems),
                     {"decision": parsed["decision"], "sections": parsed["sections"]})

    # distillation hooks

    def revision_message(self, item: dict, check: Check) -> str:
        """The check's findings, with the exact headings and decision lines to write."""
        heads = "\n".join(f"## {name}" for name in SECTIONS)
        return (f"That review does not pass the check: {check.feedback}. Revise it: keep its "
                f"content, give every one of these headings on its own line, in this order:\n"
                f"{heads}\nand end with exactly one of these lines, once, as the last line:\n"
                f"{DECISION_LINES[ACCEPT]}\n{DECISION_LINES[REJECT]}")

    def selection_tiers(self, item: dict, attempts: Sequence[Any], *,
                        relevance_tol: float = 0.05) -> list[Tier]:
        """Tier = how many of (parses, all seven sections, the decision line once and last)
        hold, in that order; then valid (the venue's decision) before not, earliest first."""
        return [_review_tier(a) for a in attempts]


def _review_tier(attempt: Any) -> Tier:
    parsed = parse_review(attempt.text)
    gates = [not isinstance(parsed, Unparsed)]
    if gates[0]:
        gates += [len(parsed["sections"]) == len(SECTIONS),
                  parsed["decision_lines"] == 1 and parsed["decision_is_last_line"]]
    tier = next((i for i, ok in enumerate(gates) if not ok), len(gates))
    names = ("parses", "all sections", "decision line last")
    return Tier(tier, (bool(attempt.check.ok), -attempt.round, -attempt.candidate),
                ", ".join(names[:tier]) or "does not parse")


# ---- metrics: each declared once, from per-item statistics (assay.metrics)

LABELS = (ACCEPT, REJECT)
# a parse failure counts as the wrong label
_pair = from_scores(lambda s: (s["gold"], s["predicted"]
                               or (REJECT if s["gold"] == ACCEPT else ACCEPT)))
_accepts = from_scores(lambda s: s["predicted"] == ACCEPT)


def _always_accept(statistic: str) -> Metric:
    return confusion("always accept", LABELS, from_scores(lambda s: (s["gold"], ACCEPT)),
                     statistic, direction="none", role="descriptive")


TRUE_ACCEPT_RATE = rate("true_accept_rate", from_scores(lambda s: s["gold"] == ACCEPT),
                        direction="none", role="descriptive", description="share of papers "
                        "the venue accepted (a property of the items)")
# Primary: chance-corrected or not fooled by a skewed set (on 84% accept, always-accept has
# accuracy 0.842 and F1 0.914 but kappa 0).
KAPPA = confusion("kappa", LABELS, _pair, "kappa", role="primary", cluster="paper",
                  description="Cohen's kappa of the decision against the venue's")
STRUCTURE = rate("structure_compliance", greedy_score("structure_ok"), role="primary",
                 cluster="paper", description="all seven sections, one recommendation line")
ACCURACY = rate("accuracy", greedy_score("correct"),
                baseline=majority("majority label", "gold", LABELS), cluster="paper",
                description="share of papers whose decision matches the venue's")
F1, PRECISION, RECALL = (confusion(n, LABELS, _pair, n, baseline=_always_accept(n),
                                   cluster="paper") for n in ("f1", "precision", "recall"))
PREDICTED_ACCEPT_RATE = rate("predicted_accept_rate", _accepts, direction="target",
                             role="descriptive", baseline=TRUE_ACCEPT_RATE,
                             description="share accepted; closer to the true rate is better")
ACCEPT_RATE_GAP = share_gap("accept_rate_gap", lambda s: s["predicted"] == ACCEPT,
                            lambda s: s["gold"] == ACCEPT, cluster="paper",
                            description="|predicted - true accept rate| (no logprobs needed)")
ECE = calibration_error("ece", "p_accept", lambda s: s["gold"] == ACCEPT, cluster="paper",
                        description="expected calibration error of P(ACCEPTANCE)")


def _metrics(records: Sequence[Record]) -> list[Metric]:
    out = [KAPPA, STRUCTURE, ACCURACY, F1, PRECISION, RECALL, PREDICTED_ACCEPT_RATE,
           TRUE_ACCEPT_RATE, ACCEPT_RATE_GAP]
    if any(r["scores"].get("p_accept") is not None for r in greedy(records)):
        out.append(ECE)
    return out + sliced([KAPPA, ACCURACY, F1], "venue", slice_values(records, "venue"))


def _sums(metric: Metric, records: Sequence[Record]) -> np.ndarray:
    return metric.matrix(list(by_item(records).values())).sum(axis=0)


def _details(records: Sequence[Record]) -> dict[str, Any]:
    rows = greedy(records)
    cells = _sums(F1, records)[1:]
    out: dict[str, Any] = {"n": len(rows), "warnings": []}
    if rows:
        out["confusion"] = {"tp": int(cells[0]), "fn": int(cells[1] + cells[2]),
                            "fp": int(cells[3]), "tn": int(cells[4]), "positive": ACCEPT,
                            "negative": REJECT,
                            "parse_failures_counted_as_errors": True}
        out["baselines"] = {
            "always_accept": {s: _always_accept(s).value(records) for s in BINARY},
            "majority_accuracy": ACCURACY.baseline.value(records)}
    venues = {}
    for venue in slice_values(records, "venue"):
        n = sum(str(r["scores"].get("venue")) == venue for r in rows)
        venues[venue] = {"n": n}
        if n < MIN_SLICE_N:
            out["warnings"].append(f"venue '{venue}' has only n={n} scored items "
                                   f"(< {MIN_SLICE_N}); it gets no verdict")
    out["venues"] = venues
    out["input_truncated_share"] = (sum(bool(r["scores"].get("input_truncated")) for r in rows)
                                    / len(rows) if rows else None)
    reasons: dict[str, int] = {}
    for r in rows:
        if r.get("parse_error"):
            key = r["parse_error"].split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
    out["parse_failures"] = reasons
    out["calibration"] = reliability_bins(ECE, _sums(ECE, records))
    if not out["calibration"].get("available", True):
        out["calibration"]["note"] = "no logprobs from the backend; accept_rate_gap stands in"
    return out
