"""Task haiku-review: a diff in, a 5-7-5 code-review haiku out, judged on form, relevance and
category, each against its floor.

- **Form**: the three lines count 5, 7 and 5 syllables under some listed pronunciation
  (``assay.text.haiku_form``); per-line counts and the tokens counted without the dictionary are
  kept as evidence. ``check`` returns the same verdict with feedback a teacher can act on.
- **Relevance**: cosine similarity (all-MiniLM-L6-v2, L2-normalised, cached on disk) of the haiku
  and the item's human comment, which the model never sees. Its floor is the shuffle floor: the
  mean similarity of each haiku to the *other* items' comments (the off-diagonal mean of the
  N x N matrix), stored per item so that it is resampled with the items. A parse failure scores
  0 on both: no haiku, no relevance.
- **Category**: a nearest-centroid classifier over MiniLM embeddings, fitted on the human
  comments of the train split (``--task-option train=train.jsonl``), labels the haiku; macro-F1
  over the four classes against the majority baseline, and the same classifier on the held-out
  human comments as the ceiling (in details). Or an LLM judge through any model spec
  (``--task-option judge=openai:MODEL@URL``, see ``category_judge``) labels them instead.

Task options (``--task-option KEY=VALUE``): ``train`` (JSONL of items with ``comment`` and
``category``), ``store`` (folder of the embedding cache, default ``.assay``), ``diff_tokens``
(approximate token budget of the diff in the prompt), ``batch_size`` (embedding batch),
``judge`` (a model spec for the LLM-judge classifier, instead of ``train``) and
``judge_api_key_env`` (the variable holding the judge's API key; the key is never stored).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Field, load_items
from ..embed import embed_present
from ..text.haiku import TARGETS, haiku_form
from ..metrics import Metric, confusion, custom, from_scores, gap_of, greedy_score, mean, rate
from ..records import greedy, greedy_record
from ._protocol import (ORIGINAL, Check, Messages, Output, Record, Task, Tier, Unparsed,
                        run_groups)

CATEGORIES = ("refactoring", "discussion", "functional", "documentation")
CHARS_PER_TOKEN = 4
DEFAULT_DIFF_TOKENS = 1500

SYSTEM_PROMPT = (
    "You are a senior code reviewer who writes every review as a haiku. Read the diff, find the "
    "single most important issue in it, and write a code-review haiku about that issue.\n\n"
    "Rules:\n"
    "- exactly three lines, of 5, 7 and 5 syllables;\n"
    "- name at most one identifier, in backticks;\n"
    "- no title, no numbering, no explanation: write only the three lines."
)

# ---- parsing --------------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:>\s*)*(?:[-*+\u2022]\s+|\(?\d{1,2}[.):]\s*|line\s*\d\s*[:.)-]\s*)?",
                   re.IGNORECASE)
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"


def fences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, body) of each fenced block: a ````` ``` ````` opener, the rest of its line,
    then the body up to the next ````` ``` ````` or the end of the text.

    A forward scan with ``str.find``, linear in the text (the regular expression it replaces
    rescanned the rest of the line from every run of backticks: quadratic)."""
    out, pos = [], 0
    while (start := text.find("```", pos)) >= 0:
        newline = text.find("\n", start + 3)
        if newline < 0:
            break
        close = text.find("```", newline + 1)
        end = len(text) if close < 0 else close + 3
        out.append((start, end, text[newline + 1:len(text) if close < 0 else close]))
        pos = end
    return out


def _unfenced(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each fenced block replaced by its body."""
    pieces, pos = [], 0
    for start, end, body in spans:
        pieces += [text[pos:start], body]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _clean_line(line: str) -> str:
    line = _LEAD.sub("", line).strip()
    if len(line) > 4 and line[:2] == line[-2:] and line[:2] in ("**", "__"):
        line = line[2:-2].strip()
    elif len(line) > 2 and line[0] == line[-1] and line[0] in "*_":
        line = line[1:-1].strip()
    if len(line) > 1 and line[0] in _QUOTES and line[-1] in _QUOTES:
        line = line[1:-1].strip()
    return line.strip(_QUOTES + " ") if line.count('"') == 1 else line


def _is_intro(line: str) -> bool:
    """A title or lead-in line: a markdown heading, a bold-only line, or one ending in ':'."""
    s = line.strip()
    return (s.startswith("#") or s.endswith(":") or bool(re.fullmatch(r"\*\*[^*]+\*\*:?", s))
            or bool(re.match(r"(?i)^(here'?s|here is|title\b|haiku\b)", s)))


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs (separated by blank lines) of cleaned non-empty lines. Title and lead-in lines
    are dropped where they stand alone or open a paragraph of more than three lines, so a haiku
    line that happens to end in ':' is kept."""
    out: list[list[str]] = []
    for para in re.split(r"\n\s*\n", text):
        lines = [ln for ln in para.splitlines() if ln.strip()]
        while lines and _is_intro(lines[0]) and len(lines) != 3:
            lines = lines[1:]
        lines = [c for c in (_clean_line(ln) for ln in lines) if c]
        if lines:
            out.append(lines)
    return out


def _split_slashes(lines: list[str]) -> list[str]:
    """A one-line haiku written 'a / b / c'."""
    if len(lines) == 1 and lines[0].count(" / ") == 2:
        return [p.strip() for p in lines[0].split(" / ")]
    return lines


def parse_haiku(text: str) -> list[str] | Unparsed:
    """The three lines of a haiku out of whatever wraps them, or Unparsed with the reason."""
    if not text or not text.strip():
        return Unparsed("empty output")
    body = _THINK.sub("", text)
    spans = fences(body)
    fenced = [f for _, _, f in spans if f.strip()]
    candidates = _blocks(fenced[0]) if fenced else []
    if not any(len(b) == 3 for b in candidates):
        candidates = _blocks(_unfenced(body, spans))
    candidates = [_split_slashes(b) for b in candidates]
    for block in candidates:
        if len(block) == 3:
            return block
    singles = [b[0] for b in candidates if len(b) == 1]
    if len(singles) == 3 and len(candidates) == 3:  # lines separated by blank lines
        return singles
    found = len(candidates[0]) if candidates else 0
    return Unparsed(f"found {found} line{'s' if found != 1 else ''}, a haiku needs 3")


# ---- the diff in the prompt ------------------------------------------------------------------

def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def cut_diff(diff: str, budget: int) -> tuple[str, bool]:
    """The diff's first whole lines within about ``budget`` tokens, and whether it was cut."""
    if approx_tokens(diff) <= budget:
        return diff, False
    limit = budget * CHARS_PER_TOKEN
    head = diff[:limit]
    newline = head.rfind("\n")
    return (head[:newline] if newline > limit // 2 else head), True


# ---- the task -------------------------------------------------------------------------------

class HaikuReview(Task):
    name = "haiku-review"
    description = "a diff in, a 5-7-5 code-review haiku out: form, relevance, category"
    gold_keys = ("category",)
    schema = (Field("id", (str, int)), Field("diff", (str,)),
              Field("comment", (str,), nonempty=True),
              Field("category", (str,), required=False, choices=CATEGORIES))
    max_tokens = 128

    def __init__(self, train: str | None = None, store: str = ".assay",
                 diff_tokens: int = DEFAULT_DIFF_TOKENS, batch_size: int = 32,
                 judge: str | None = None, judge_api_key_env: str = "OPENAI_API_KEY"):
        if not isinstance(diff_tokens, int) or diff_tokens < 1:
            raise ValueError(f"diff_tokens must be a positive int, got {diff_tokens!r}")
        if train and judge:
            raise ValueError(f"give either train={train!r} (nearest-centroid classifier) or "
                             f"judge={judge!r} (LLM judge), not both: drop one --task-option")
        self.train_path = train
        self.judge = None
        if judge:
            from .category_judge import JudgeClassifier

            self.judge = JudgeClassifier(judge, Path(store) / "store.sqlite", CATEGORIES,
                                         api_key_env=judge_api_key_env)
        self.store = store
        self.diff_tokens = diff_tokens
        self.batch_size = batch_size
        self._embedder = None
        self._classifier = None

    # prompt and parse

    def render(self, item: dict, pass_: str = ORIGINAL) -> Messages:
        diff, cut = cut_diff(item.get("diff") or "", self.diff_tokens)
        if not diff.strip():
            body = "The diff is empty."
        else:
            note = (f"\n(The diff was cut to about {self.diff_tokens} tokens.)" if cut else "")
            body = f"Review this diff:\n\n```diff\n{diff}\n```{note}"
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": body}]

    def parse(self, text: str) -> list[str] | Unparsed:
        return parse_haiku(text)

    # scoring

    def embedder(self):
        if self._embedder is None:
            from ..embed import EmbedConfig, Embedder

            self._embedder = Embedder(EmbedConfig(store_dir=self.store,
                                                  batch_size=self.batch_size))
        return self._embedder

    def classifier(self):
        """The nearest-centroid category classifier, fitted once on the train split."""
        if self._classifier is None and self.train_path:
            ds = load_items(self.train_path, self.schema)
            rows = [i for i in ds.items if i.get("category")]
            self._classifier = CentroidClassifier.fit(
                self.embedder().embed([i["comment"] for i in rows]),
                [i["category"] for i in rows], CATEGORIES)
        return self._classifier

    def score(self, item: dict, parsed: Any, output: Output) -> dict[str, Any]:
        return self.score_batch([item], [parsed], [output])[0]

    def score_batch(self, items: Sequence[dict], parsed: Sequence[Any],
                    outputs: Sequence[Output]) -> list[dict[str, Any]]:
        scores = [_form_scores(i, p, self.diff_tokens) for i, p in zip(items, parsed)]
        haiku = ["\n".join(p) if isinstance(p, list) else None for p in parsed]
        comments = [i["comment"] for i in items]
        emb = self.embedder()
        comment_vecs = emb.embed(comments)
        haiku_vecs = embed_present(emb, haiku, comment_vecs.shape[1])
        groups = run_groups(outputs)
        for idx in groups.values():
            _relevance(scores, idx, haiku_vecs, comment_vecs)
        if self.judge is not None:
            present = [h for h in haiku if h is not None]
            labels = iter(self.judge.predict_texts(present))
            predicted = [next(labels) if h is not None else None for h in haiku]
            _set_categories(scores, haiku, predicted, self.judge.predict_texts(comments))
        elif (clf := self.classifier()) is not None:
            _set_categories(scores, haiku, clf.predict(haiku_vecs), clf.predict(comment_vecs))
        return scores

    @property
    def classifier_name(self) -> str | None:
        if self.judge is not None:
            return f"LLM judge {self.judge.spec}"
        return "nearest centroid of MiniLM embeddings" if self.train_path else None

    # metrics

    def metrics(self, records: Sequence[Record]) -> list[Metric]:
        return _metrics(records)

    def declared_metrics(self) -> list[Metric]:
        return [FORM_RATE, RELEVANCE, RELEVANCE_GAP, RELEVANCE_PARSED, CATEGORY_F1]

    def details(self, records: Sequence[Record]) -> dict[str, Any]:
        return _details(records, self.classifier_name)

    def check(self, item: dict, text: str) -> Check:
        """Three lines, 5-7-5 under some reading, at most one identifier in backticks."""
        parsed = parse_haiku(text)
        if isinstance(parsed, Unparsed):
            return Check(False, parsed.reason)
        form = haiku_form(parsed)
        problems = [form.feedback()] if not form.ok else []
        ticks = _backticked(parsed)
        if len(ticks) > 1:
            problems.append(f"use at most one identifier in backticks (found {len(ticks)}: "
                            f"{', '.join(ticks)})")
        evidence = {"syllables": form.counts, "low_confidence": form.low_confidence}
        return Check(not problems, "; ".join(problems), evidence)

    # distillation hooks

    def teacher_render(self, item: dict) -> Messages:
        """The student's prompt plus the human reviewer's comment, which only the teacher sees
        (the haiku should be about the issue the human raised)."""
        messages = self.render(item)
        note = ("\n\nA human reviewer's comment on this diff (for you only; write the haiku "
                f"about the issue it raises, without quoting it):\n{item['comment'].strip()}")
        return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + note}]

    def revision_message(self, item: dict, check: Check) -> str:
        return (f"That haiku does not pass the check: {check.feedback}. Revise it: keep its "
                "subject, fix only what the check names, and reply with the three lines only.")

    def selection_tiers(self, item: dict, attempts: Sequence[Any], *,
                        relevance_tol: float = 0.05) -> list[Tier]:
        """lgtm-575's v2 key. A revision whose relevance to the human comment is more than
        ``relevance_tol`` below its draft's has drifted; tier 3 valid and not drifted, 2 not
        drifted, 1 valid, 0 neither; then the smaller form distance, then the higher
        relevance (the distance term stops a 5-10-5 beating a 5-7-6 on a relevance edge)."""
        rel = self._relevances(item, [a.text for a in attempts])
        draft = {a.candidate: r for a, r in zip(attempts, rel) if a.round == 0}
        tiers = []
        for a, r in zip(attempts, rel):
            base = draft.get(a.candidate, r)
            drifted = a.round > 0 and r < base - relevance_tol
            valid = bool(a.check.ok)
            tier = 3 if valid and not drifted else 2 if not drifted else 1 if valid else 0
            distance = form_distance(a.text)
            note = f"{'valid' if valid else 'not valid'}, {'drifted' if drifted else 'not drifted'}"
            tiers.append(Tier(tier, (-distance, r), note,
                              {"relevance": r, "draft_relevance": base, "drifted": drifted,
                               "form_distance": distance}))
        return tiers

    def _relevances(self, item: dict, texts: Sequence[str]) -> list[float]:
        """Cosine similarity of each parsed haiku to the human comment; 0 for a parse failure."""
        parsed = [parse_haiku(t) for t in texts]
        haiku = ["\n".join(p) if isinstance(p, list) else None for p in parsed]
        emb = self.embedder()
        comment = emb.embed([item["comment"]])
        vecs = embed_present(emb, haiku, comment.shape[1])
        return [float(v) for v in (vecs.astype(np.float64) @ comment[0].astype(np.float64))]


# ---- scoring helpers ------------------------------------------------------------------------

UNPARSED_DISTANCE = 99


def form_distance(text: str) -> int:
    """Syllables away from 5-7-5, summed over the lines (each line's nearest reading);
    UNPARSED_DISTANCE when the text is no haiku."""
    parsed = parse_haiku(text)
    if isinstance(parsed, Unparsed):
        return UNPARSED_DISTANCE
    form = haiku_form(parsed)
    return sum(min(abs(n - line.target) for n in line.count.possible) for line in form.lines)


def _backticked(lines: Sequence[str]) -> list[str]:
    return re.findall(r"`([^`]+)`", "\n".join(lines))


def _form_scores(item: dict, parsed: Any, diff_tokens: int) -> dict[str, Any]:
    diff = item.get("diff") or ""
    s: dict[str, Any] = {"category": item.get("category"),
                         "diff_tokens": approx_tokens(diff),
                         "diff_truncated": approx_tokens(diff) > diff_tokens,
                         "diff_empty": not diff.strip()}
    if isinstance(parsed, Unparsed) or parsed is None:
        return s | {"form_ok": False, "syllables": None, "syllable_options": None,
                    "low_confidence": [], "backticked": 0}
    form = haiku_form(parsed)
    return s | {"form_ok": form.ok, "syllables": form.counts,
                "syllable_options": [list(line.count.possible) for line in form.lines],
                "low_confidence": form.low_confidence, "backticked": len(_backticked(parsed)),
                "form_feedback": form.feedback()}


def _set_categories(scores: list[dict], haiku: Sequence[str | None], predicted: Sequence,
                    ceiling: Sequence) -> None:
    """The haiku's predicted category (None for a parse failure) and, for the ceiling, the
    category predicted from the item's own human comment."""
    for s, h, p, c in zip(scores, haiku, predicted, ceiling):
        s["category_predicted"] = p if h is not None else None
        s["category_correct"] = h is not None and p == s["category"]
        s["comment_category_predicted"] = c




def _relevance(scores: list[dict], idx: list[int], haiku: np.ndarray,
               comments: np.ndarray) -> None:
    """Per item: similarity to its own comment, and mean similarity to the others' comments."""
    sim = haiku[idx].astype(np.float64) @ comments[idx].astype(np.float64).T
    n = len(idx)
    off = (sim.sum(axis=1) - np.diag(sim)) / (n - 1) if n > 1 else [None] * n
    for row, i in enumerate(idx):
        scores[i]["relevance"] = float(sim[row, row])
        scores[i]["relevance_floor"] = None if off[row] is None else float(off[row])


class CentroidClassifier:
    """Nearest centroid (cosine) over L2-normalised embeddings."""

    def __init__(self, centroids: np.ndarray, labels: Sequence[str]):
        self.centroids, self.labels = centroids, list(labels)

    @classmethod
    def fit(cls, vectors: np.ndarray, y: Sequence[str], labels: Sequence[str]):
        missing = [lab for lab in labels if lab not in set(y)]
        if missing:
            raise ValueError(f"y has no examples of {missing}; the train split needs every "
                             f"category of {list(labels)}")
        rows = []
        for lab in labels:
            c = vectors[[i for i, v in enumerate(y) if v == lab]].mean(axis=0)
            rows.append(c / (np.linalg.norm(c) or 1.0))
        return cls(np.stack(rows), labels)

    def predict(self, vectors: np.ndarray) -> list[str]:
        return [self.labels[int(k)] for k in np.argmax(vectors @ self.centroids.T, axis=1)]


# ---- metrics: each declared once, from per-item statistics (assay.metrics)

def _rows(records: Sequence[Record]) -> list[Record]:
    return greedy(records)


def _mean(values: Sequence[float | None]) -> float:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else math.nan


def _categorised(fn):
    """item -> fn(scores) for items whose human comment has one of the four categories."""
    return from_scores(lambda s: fn(s) if s.get("category") in CATEGORIES else None)


def _majority_macro_f1(s):
    """Macro-F1 of always answering the most frequent category: its F1 is 2m / (1 + m) for the
    majority share m, every other class scores 0."""
    m = s.max(axis=-1) / s.sum(axis=-1)
    return 2 * m / (1 + m) / len(CATEGORIES)


FORM_RATE = rate("form_rate", greedy_score("form_ok"), role="primary",
                 description="share of valid 5-7-5 haiku (a parse failure is not valid)")
RELEVANCE = mean("relevance", greedy_score("relevance"), role="primary",
                 baseline=mean("shuffle floor", greedy_score("relevance_floor"),
                               direction="none", role="descriptive"),
                 description="mean cosine similarity of each haiku to its own human comment "
                 "(MiniLM); 0 for a parse failure")
RELEVANCE_GAP = gap_of(RELEVANCE, "relevance_gap", role="secondary",
                       description="relevance minus the shuffle floor (off-diagonal mean)")
def _parsed_relevance(item):
    row = greedy_record(item)
    return None if row is None or row.get("parse_error") else row["scores"].get("relevance")


RELEVANCE_PARSED = mean("relevance_parsed", _parsed_relevance,
                        description="relevance over the parsed haiku only")
CATEGORY_F1 = confusion(
    "category_macro_f1", CATEGORIES, _categorised(lambda s: (s["category"],
                                                          s.get("category_predicted"))),
    "macro_f1", description="4-class macro-F1 of the haiku's predicted category",
    baseline=custom("majority label", _categorised(lambda s: tuple(
        float(s["category"] == c) for c in CATEGORIES)), len(CATEGORIES), _majority_macro_f1,
        direction="none", role="descriptive"))
CEILING_F1 = confusion("ceiling", CATEGORIES, _categorised(
    lambda s: (s["category"], s.get("comment_category_predicted"))), "macro_f1",
    direction="none", role="descriptive")


def _metrics(records: Sequence[Record]) -> list[Metric]:
    out = [FORM_RATE, RELEVANCE, RELEVANCE_GAP, RELEVANCE_PARSED]
    if any("category_correct" in (r.get("scores") or {}) for r in greedy(records)):
        out.append(CATEGORY_F1)
    return out


def _labelled(records):
    return [r for r in _rows(records) if r["scores"].get("category") in CATEGORIES]


def _ceiling_f1(records):
    rows = [r for r in _labelled(records) if r["scores"].get("comment_category_predicted")]
    return CEILING_F1.value(rows)


def _details(records: Sequence[Record], classifier: str | None) -> dict[str, Any]:
    rows = _rows(records)
    parsed = [r for r in rows if r["scores"].get("syllables")]
    low = sorted({t for r in parsed for t in r["scores"].get("low_confidence", [])})
    line_hits = [_mean([r["scores"]["syllables"][k] == TARGETS[k] for r in parsed])
                 for k in range(3)]
    out: dict[str, Any] = {
        "n": len(rows), "n_parsed": len(parsed),
        "form": {"line_primary_count_on_target": line_hits,
                 "mean_syllables": [_mean([r["scores"]["syllables"][k] for r in parsed])
                                    for k in range(3)],
                 "low_confidence_tokens": low[:50], "n_low_confidence_tokens": len(low),
                 "over_one_backticked": sum(r["scores"].get("backticked", 0) > 1
                                            for r in parsed)},
        "relevance": {"mean": RELEVANCE.value(records),
                      "shuffle_floor": RELEVANCE.baseline.value(records),
                      "gap": RELEVANCE_GAP.value(records), "embedder": "all-MiniLM-L6-v2"},
        "diff_truncated": sum(bool(r["scores"].get("diff_truncated")) for r in rows),
        "diff_empty": sum(bool(r["scores"].get("diff_empty")) for r in rows),
    }
    if classifier:
        out["category"] = {"classifier": classifier,
                           "macro_f1": CATEGORY_F1.value(records),
                           "majority_baseline": CATEGORY_F1.baseline.value(records),
                           "ceiling_human_comments": _ceiling_f1(records),
                           "confusion": _confusion(_labelled(records))}
    else:
        out["warnings"] = ["no category classifier, so no category metric; pass "
                           "--task-option train=train.jsonl (or judge=SPEC)"]
    return out


def _confusion(rows: Sequence[Record]) -> dict[str, dict[str, int]]:
    table = {g: {p: 0 for p in (*CATEGORIES, "none")} for g in CATEGORIES}
    for r in rows:
        table[r["scores"]["category"]][r["scores"].get("category_predicted") or "none"] += 1
    return table

