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
from ..metrics import BINARY, Metric, confusion, custom, rate, sliced
from ..records import by_item, greedy, greedy_record, score, slice_values
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
_LIST_OR_LABEL = re.compile(r"^\s*(?:[-+]\s+|\d+[.)]\s*)?(?:(?:final\s+)?(?:recommendation|"
                            r"decision|verdict)\s*[:\-]\s*)?", re.IGNORECASE)
_DECISION = re.compile(r"^I\s+recommend\s+this\s+paper\s+for\s+(ACCEPTANCE|REJECTION)\s*[.!]?$",
                       re.IGNORECASE)
_DECISION_WORD = re.compile(r"for\W*(ACCEPTANCE|REJECTION)", re.IGNORECASE)


def decision_lines(text: str) -> list[tuple[int, str]]:
    """(line number, accept|reject) for every recommendation line; lenient on case and markdown."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        clean = _LIST_OR_LABEL.sub("", _MARKUP.sub("", line)).strip()
        m = _DECISION.match(clean)
        if m:
            found.append((number, ACCEPT if m.group(1).upper() == "ACCEPTANCE" else REJECT))
    return found


def sections_present(text: str) -> list[str]:
    """The review sections that appear as headings (a line starting with the name)."""
    heads = set()
    for line in text.splitlines():
        clean = re.sub(r"^\s*(?:\d+[.)]\s*)", "", _MARKUP.sub("", line)).strip().lower()
        for name in SECTIONS:
            rest = clean[len(name):].strip() if clean.startswith(name.lower()) else None
            if rest is not None and (not rest or rest[0] in ":-"):
                heads.add(name)
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
N_BINS = 10


def _scores(item) -> dict | None:
    row = greedy_record(item)
    return None if row is None else row["scores"]


def _pair(item):
    """(gold, predicted) of the greedy review; a parse failure counts as the wrong label."""
    s = _scores(item)
    if s is None:
        return None
    return s["gold"], s["predicted"] or (REJECT if s["gold"] == ACCEPT else ACCEPT)


def _always_accept_pair(item):
    s = _scores(item)
    return None if s is None else (s["gold"], ACCEPT)


def _always_accept(statistic: str) -> Metric:
    return confusion("always accept", LABELS, _always_accept_pair, statistic,
                     direction="none", role="descriptive")


def _gold_stats(item):
    s = _scores(item)
    return None if s is None else (1.0, float(s["gold"] == ACCEPT))


def _majority(s):
    return np.maximum(s[..., 1], s[..., 0] - s[..., 1]) / s[..., 0]


MAJORITY = custom("majority label", _gold_stats, 2, _majority, direction="none",
                  role="descriptive")
TRUE_ACCEPT_RATE = rate("true_accept_rate", lambda item: None if _scores(item) is None
                        else _scores(item)["gold"] == ACCEPT, direction="none",
                        role="descriptive", description="share of papers the venue accepted "
                        "(the same for both models: a property of the items)")


def _gap_stats(item):
    s = _scores(item)
    if s is None:
        return None
    return (1.0, float(s["predicted"] == ACCEPT), float(s["gold"] == ACCEPT))


def _gap(s):
    return np.abs(s[..., 1] - s[..., 2]) / s[..., 0]


def _calibration_stats(item):
    """(in bin k, P(accept), accepted) for the item's bin, in N_BINS equal-width bins of [0, 1]
    (the binning of assay.stats.calibration)."""
    s = _scores(item)
    if s is None or s.get("p_accept") is None:
        return None
    p = float(s["p_accept"])
    k = min(int(np.searchsorted(np.linspace(0, 1, N_BINS + 1)[1:-1], p, side="right")),
            N_BINS - 1)
    out = np.zeros(3 * N_BINS)
    out[3 * k:3 * k + 3] = (1.0, p, float(s["gold"] == ACCEPT))
    return out


def _ece(s):
    cells = s.reshape(s.shape[:-1] + (N_BINS, 3))
    return np.abs(cells[..., 2] - cells[..., 1]).sum(axis=-1) / cells[..., 0].sum(axis=-1)


def _outcome(key: str):
    return lambda item: None if _scores(item) is None else bool(_scores(item)[key])


ACCURACY = rate("accuracy", _outcome("correct"), role="primary", baseline=MAJORITY,
                cluster="paper", description="share of papers whose decision matches the venue's")
F1 = confusion("f1", LABELS, _pair, "f1", role="primary", baseline=_always_accept("f1"),
               cluster="paper", description="F1 with accept as positive")
PRECISION = confusion("precision", LABELS, _pair, "precision",
                      baseline=_always_accept("precision"), cluster="paper")
RECALL = confusion("recall", LABELS, _pair, "recall", baseline=_always_accept("recall"),
                   cluster="paper")
PREDICTED_ACCEPT_RATE = rate(
    "predicted_accept_rate", lambda item: None if _scores(item) is None
    else _scores(item)["predicted"] == ACCEPT, direction="target", role="descriptive",
    baseline=TRUE_ACCEPT_RATE, description="share of papers the model accepts; closer to the "
    "true accept rate is better")
ACCEPT_RATE_GAP = custom("accept_rate_gap", _gap_stats, 3, _gap, direction="lower",
                         cluster="paper", description="|predicted - true accept rate|; stands "
                         "in for calibration when the backend gives no logprobs")
STRUCTURE = rate("structure_compliance", _outcome("structure_ok"), cluster="paper",
                 description="all seven sections and exactly one recommendation line")
ECE = custom("ece", _calibration_stats, 3 * N_BINS, _ece, direction="lower", cluster="paper",
             description="expected calibration error of P(ACCEPTANCE)")


def _metrics(records: Sequence[Record]) -> list[Metric]:
    out = [ACCURACY, F1, PRECISION, RECALL, PREDICTED_ACCEPT_RATE, TRUE_ACCEPT_RATE,
           ACCEPT_RATE_GAP, STRUCTURE]
    if any(score(r, "p_accept") is not None for r in greedy(records)):
        out.append(ECE)
    return out + sliced([ACCURACY, F1], "venue", slice_values(records, "venue"))


def _sums(metric: Metric, records: Sequence[Record]) -> np.ndarray:
    return metric.matrix(list(by_item(records).values())).sum(axis=0)


def _details(records: Sequence[Record]) -> dict[str, Any]:
    rows = greedy(records)
    cells = _sums(F1, records)[1:]
    out: dict[str, Any] = {"n": len(rows), "warnings": []}
    if rows:
        out["confusion"] = {"tp": int(cells[0]), "fn": int(cells[1] + cells[2]),
                            "fp": int(cells[3]), "tn": int(cells[4]), "positive": ACCEPT,
                            "parse_failures_counted_as_errors": True}
        out["baselines"] = {
            "always_accept": {s: _always_accept(s).value(records) for s in BINARY},
            "majority_accuracy": MAJORITY.value(records)}
    venues = {}
    for venue in slice_values(records, "venue"):
        n = sum(str(score(r, "venue")) == venue for r in rows)
        venues[venue] = {"n": n}
        if n < MIN_SLICE_N:
            out["warnings"].append(f"venue '{venue}' has only n={n} scored items "
                                   f"(< {MIN_SLICE_N}); it gets no verdict")
    out["venues"] = venues
    out["input_truncated_share"] = (sum(bool(score(r, "input_truncated")) for r in rows)
                                    / len(rows) if rows else None)
    reasons: dict[str, int] = {}
    for r in rows:
        if r.get("parse_error"):
            key = r["parse_error"].split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
    out["parse_failures"] = reasons
    out["calibration"] = _reliability(_sums(ECE, records))
    return out


def _reliability(sums: np.ndarray) -> dict[str, Any]:
    """ECE and its reliability bins from the summed calibration statistics (for the plot)."""
    if sums[0] == 0:
        return {"available": False,
                "note": "no logprobs from the backend; accept_rate_gap stands in"}
    cells = sums[1:].reshape(N_BINS, 3)
    edges = np.linspace(0, 1, N_BINS + 1)
    bins = [{"low": float(edges[k]), "high": float(edges[k + 1]), "n": int(n),
             "mean_confidence": float(p / n), "accuracy": float(y / n)}
            for k, (n, p, y) in enumerate(cells) if n > 0]
    return {"ece": float(ECE.of_sums(sums)), "n": int(sums[0]), "bins": bins}
