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
from ._decision import (MIN_SLICE_N, in_slice, mean, scored, share, slice_values,
                        small_slice_warning)
from ._protocol import ORIGINAL, Check, Messages, Metric, Output, Record, Task, Unparsed
from ._sums import greedy_record, rate_stats, ratio
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
    schema = (Field("id", (str, int)), Field("title", nonempty=True), Field("abstract"),
              Field("body", required=False), Field("decision", choices=(ACCEPT, REJECT)),
              Field("venue", required=False))
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
                "structure_ok": len(found) == len(SECTIONS) and n_lines == 1,
                "sections_found": len(found),
                "missing_sections": [s for s in SECTIONS if s not in found],
                "decision_lines": n_lines, "p_accept": accept_probability(output.logprobs),
                "input_truncated": cut.truncated, "body_tokens": cut.tokens}

    def metrics(self, records: Sequence[Record]) -> list[Metric]:
        return _metrics(records)

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


# ---- metric functions: each takes one model's records and returns a float (nan if undefined)

def _labels(rows: Sequence[Record]) -> tuple[list[str], list[str]]:
    """Gold and predicted labels; a parse failure counts against the model (the wrong label)."""
    gold = [r["scores"]["gold"] for r in rows]
    pred = [r["scores"]["predicted"] or (REJECT if g == ACCEPT else ACCEPT)
            for r, g in zip(rows, gold)]
    return gold, pred


def binary(rows: Sequence[Record]):
    """BinaryMetrics of the decisions (accept positive), or None for no rows."""
    from ..stats import binary_metrics

    if not rows:
        return None
    gold, pred = _labels(rows)
    return binary_metrics(gold, pred, positive=ACCEPT)


def _binary_field(name: str, venue: str | None = None):
    def compute(records: Sequence[Record]) -> float:
        rows = scored(records)
        rows = in_slice(rows, "venue", venue) if venue is not None else rows
        result = binary(rows)
        return math.nan if result is None else float(getattr(result, name))
    return compute


def _always_accept(name: str):
    def compute(records: Sequence[Record]) -> float:
        from ..stats import always_positive_baseline

        rows = scored(records)
        if not rows:
            return math.nan
        return float(getattr(always_positive_baseline([r["scores"]["gold"] for r in rows],
                                                      positive=ACCEPT), name))
    return compute


def _majority_accuracy(records: Sequence[Record]) -> float:
    from ..stats import majority_baseline

    rows = scored(records)
    if not rows:
        return math.nan
    return majority_baseline([r["scores"]["gold"] for r in rows], labels=[ACCEPT, REJECT]).accuracy


def _accuracy(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r["scores"]["correct"])


def _predicted_accept_rate(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r["scores"]["predicted"] == ACCEPT)


def _true_accept_rate(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r["scores"]["gold"] == ACCEPT)


def _rate_gap(records: Sequence[Record]) -> float:
    return abs(_predicted_accept_rate(records) - _true_accept_rate(records))


def _calibrated_rows(records: Sequence[Record]) -> list[Record]:
    return [r for r in scored(records) if r["scores"].get("p_accept") is not None]


def calibration_of(records: Sequence[Record], n_bins: int = 10):
    """CalibrationResult of P(ACCEPTANCE) against the venue's decision, or None without logprobs."""
    rows = _calibrated_rows(records)
    if not rows:
        return None
    from ..stats import calibration

    return calibration([r["scores"]["p_accept"] for r in rows],
                       [r["scores"]["gold"] == ACCEPT for r in rows], n_bins=n_bins)


def _ece(records: Sequence[Record]) -> float:
    result = calibration_of(records)
    return math.nan if result is None else float(result.ece)


def _structure(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r["scores"]["structure_ok"])


def _parse_failures(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r["scores"]["predicted"] is None)


def _truncated(records: Sequence[Record]) -> float:
    return share(scored(records), lambda r: r.get("truncated"))


def _latency(records: Sequence[Record]) -> float:
    return mean([r.get("latency_s") for r in scored(records)])


# ---- the same metrics as per-item sums, so a comparison bootstraps them in matrix products

def _cells(venue: str | None = None):
    """item_stats: the item's (tp, fp, fn, tn) cell with accept positive (parse failure = wrong)."""
    def stats(item_records: Sequence[Record]) -> list[float]:
        row = greedy_record(item_records)
        if row is None or (venue is not None and str(row["scores"].get("venue")) != venue):
            return [0.0, 0.0, 0.0, 0.0]
        (gold,), (pred,) = _labels([row])
        pos, said = gold == ACCEPT, pred == ACCEPT
        return [float(pos and said), float(not pos and said), float(pos and not said),
                float(not pos and not said)]
    return stats


def _from_cells(name: str):
    """Vectorized precision / recall / f1 / accuracy from summed cells (0 when undefined, nan
    with no items), as binary_metrics."""
    def from_sums(s):
        tp, fp, fn, tn = s[..., 0], s[..., 1], s[..., 2], s[..., 3]
        num, den = {"precision": (tp, tp + fp), "recall": (tp, tp + fn),
                    "f1": (2 * tp, 2 * tp + fp + fn), "accuracy": (tp + tn, tp + fp + fn + tn)}[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / den, 0.0)
        return np.where(tp + fp + fn + tn > 0, value, np.nan)
    return from_sums


def _binary_sums(name: str, venue: str | None = None) -> dict:
    return {"item_stats": _cells(venue), "from_sums": _from_cells(name)}


def _greedy_outcome(value):
    def outcome(item_records):
        row = greedy_record(item_records)
        return None if row is None else value(row)
    return {"item_stats": rate_stats(outcome), "from_sums": ratio}


def _gap_stats(item_records) -> list[float]:
    row = greedy_record(item_records)
    if row is None:
        return [0.0, 0.0, 0.0]
    return [1.0, float(row["scores"]["predicted"] == ACCEPT), float(row["scores"]["gold"] == ACCEPT)]


def _gap_from_sums(s):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[..., 0] > 0, np.abs(s[..., 1] - s[..., 2]) / s[..., 0], np.nan)


def _metrics(records: Sequence[Record]) -> list[Metric]:
    out = [
        Metric("accuracy", _accuracy, test="mcnemar", outcome="correct",
               baseline=_majority_accuracy, baseline_name="majority label",
               description="share of papers whose decision matches the venue's"),
        Metric("precision", _binary_field("precision"), baseline=_always_accept("precision"),
               baseline_name="always accept", **_binary_sums("precision")),
        Metric("recall", _binary_field("recall"), baseline=_always_accept("recall"),
               baseline_name="always accept", **_binary_sums("recall")),
        Metric("f1", _binary_field("f1"), baseline=_always_accept("f1"),
               baseline_name="always accept", description="F1 with accept as positive",
               **_binary_sums("f1")),
        Metric("predicted_accept_rate", _predicted_accept_rate, baseline=_true_accept_rate,
               baseline_name="true accept rate",
               **_greedy_outcome(lambda r: r["scores"]["predicted"] == ACCEPT)),
        Metric("true_accept_rate", _true_accept_rate,
               **_greedy_outcome(lambda r: r["scores"]["gold"] == ACCEPT)),
        Metric("accept_rate_gap", _rate_gap, higher_is_better=False,
               description="|predicted - true accept rate|; stands in for calibration when "
                           "the backend gives no logprobs",
               item_stats=_gap_stats, from_sums=_gap_from_sums),
        Metric("structure_compliance", _structure, test="mcnemar", outcome="structure_ok",
               description="all seven sections and exactly one recommendation line"),
        Metric("parse_failure_rate", _parse_failures, higher_is_better=False,
               **_greedy_outcome(lambda r: r["scores"]["predicted"] is None)),
        Metric("truncated_share", _truncated, higher_is_better=False,
               description="completions cut by the token limit",
               **_greedy_outcome(lambda r: bool(r.get("truncated")))),
        Metric("mean_latency_s", _latency, higher_is_better=False,
               **_greedy_outcome(lambda r: r.get("latency_s"))),
    ]
    if _calibrated_rows(records):
        out.append(Metric("ece", _ece, higher_is_better=False,
                          description="expected calibration error of P(ACCEPTANCE)"))
    for venue in slice_values(scored(records), "venue"):
        out += [Metric(f"accuracy/{venue}", _venue_accuracy(venue),
                       **_binary_sums("accuracy", venue)),
                Metric(f"f1/{venue}", _binary_field("f1", venue), **_binary_sums("f1", venue))]
    return out


def _venue_accuracy(venue: str):
    return lambda records: share(in_slice(scored(records), "venue", venue),
                                 lambda r: r["scores"]["correct"])


def _details(records: Sequence[Record]) -> dict[str, Any]:
    rows = scored(records)
    result = binary(rows)
    out: dict[str, Any] = {"n": len(rows), "warnings": []}
    if result is not None:
        out["confusion"] = {"tp": result.tp, "fp": result.fp, "fn": result.fn, "tn": result.tn,
                            "positive": ACCEPT, "parse_failures_counted_as_errors": True}
        out["baselines"] = {"always_accept": _as_dict(_always_accept_result(rows)),
                            "majority": _as_dict(_majority_result(rows))}
    venues = {}
    for venue in slice_values(rows, "venue"):
        n = len(in_slice(rows, "venue", venue))
        venues[venue] = {"n": n}
        warning = small_slice_warning("venue", venue, n, MIN_SLICE_N)
        if warning:
            out["warnings"].append(warning)
    out["venues"] = venues
    out["input_truncated_share"] = share(rows, lambda r: r["scores"].get("input_truncated"))
    reasons: dict[str, int] = {}
    for r in rows:
        if r.get("parse_error"):
            key = r["parse_error"].split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
    out["parse_failures"] = reasons
    cal = calibration_of(records)
    out["calibration"] = _as_dict(cal) if cal is not None else {
        "available": False, "note": "no logprobs from the backend; accept_rate_gap stands in"}
    return out


def _always_accept_result(rows):
    from ..stats import always_positive_baseline

    return always_positive_baseline([r["scores"]["gold"] for r in rows], positive=ACCEPT)


def _majority_result(rows):
    from ..stats import majority_baseline

    return majority_baseline([r["scores"]["gold"] for r in rows], labels=[ACCEPT, REJECT])


def _as_dict(obj: Any) -> Any:
    import dataclasses

    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
