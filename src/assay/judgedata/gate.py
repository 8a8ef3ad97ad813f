"""The labelling gate: the teacher's labels on a dry run against a reference labeller's.

Pure functions over verdicts: which pairs make the dry run (seeded, a fixed share from the hard
buckets), the agreement overall and on the hard buckets, the decision, and the cross-check
disagreement by bucket. judge-from-scratch's gate: 50 pairs, 30 of them hard; proceed at >= 46/50
overall and >= 24/30 on the hard ones; abort below 22/30. In between the run is *marginal*: it
stops too, but the teacher is not written off (revise the labelling and run the dry run again).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .buckets import BUCKETS, HARD, bucket_of

PROCEED, MARGINAL, ABORT = "proceed", "marginal", "abort"
VERDICTS = ("A", "B", "TIE")


@dataclass(frozen=True, slots=True)
class GateRule:
    """Sizes and thresholds of the dry run (thresholds as shares of the pairs they count)."""

    n: int = 50
    hard_share: float = 0.6
    min_overall: float = 46 / 50
    min_hard: float = 24 / 30
    abort_hard: float = 22 / 30

    def __post_init__(self):
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"gate n must be an int of at least 1, got {self.n!r}")
        for name in ("hard_share", "min_overall", "min_hard", "abort_hard"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"gate {name} must be in [0, 1], got {v!r}")
        if self.abort_hard > self.min_hard:
            raise ValueError(f"gate abort_hard ({self.abort_hard}) must not exceed min_hard "
                             f"({self.min_hard})")


@dataclass(frozen=True, slots=True)
class GateResult:
    """The dry run's agreement and the decision; ``by_bucket``: bucket -> (n, agree);
    ``confusion``: teacher verdict -> reference verdict -> count (None = no valid label)."""

    n: int
    agree: int
    hard_n: int
    hard_agree: int
    by_bucket: dict
    confusion: dict
    decision: str
    reason: str

    def to_dict(self) -> dict:
        return {"n": self.n, "agree": self.agree, "hard_n": self.hard_n,
                "hard_agree": self.hard_agree, "by_bucket": self.by_bucket,
                "confusion": self.confusion, "decision": self.decision, "reason": self.reason}

    def table(self) -> str:
        """The agreement by bucket in one line."""
        return "; ".join(f"{b} {v['agree']}/{v['n']}" for b, v in self.by_bucket.items()
                         if v["n"])


def dry_run_ids(items: Sequence[dict], rule: GateRule, seed: int) -> list[str]:
    """``rule.n`` pair ids, ``round(n * hard_share)`` of them from the hard buckets (as many as
    there are), drawn with ``seed``; in item order."""
    rng = np.random.default_rng(seed)
    hard = [str(i["id"]) for i in items if bucket_of(i) in HARD]
    easy = [str(i["id"]) for i in items if bucket_of(i) not in HARD]
    n = min(rule.n, len(items))
    n_hard = min(round(n * rule.hard_share), len(hard))
    n_easy = min(n - n_hard, len(easy))
    n_hard = min(n - n_easy, len(hard))
    chosen = set(rng.choice(hard, n_hard, replace=False).tolist() if n_hard else [])
    chosen |= set(rng.choice(easy, n_easy, replace=False).tolist() if n_easy else [])
    return [str(i["id"]) for i in items if str(i["id"]) in chosen]


def _need(share: float, n: int) -> int:
    return math.ceil(share * n - 1e-9)


def decide(rule: GateRule, n: int, agree: int, hard_n: int, hard_agree: int) -> tuple[str, str]:
    need, need_hard, abort_at = (_need(rule.min_overall, n), _need(rule.min_hard, hard_n),
                                 _need(rule.abort_hard, hard_n))
    facts = (f"{agree}/{n} overall (need {need}), {hard_agree}/{hard_n} on hard buckets (need "
             f"{need_hard}, abort below {abort_at})")
    if hard_n == 0 and rule.min_hard > 0:
        return MARGINAL, (f"{facts}: the dry run holds no hard-bucket pair (pass "
                          "--gate-hard-min 0 --gate-abort-hard 0 to gate on the overall "
                          "agreement only)")
    if hard_agree < abort_at:
        return ABORT, facts
    if agree < need or hard_agree < need_hard:
        return MARGINAL, facts
    return PROCEED, facts


def gate(items: Sequence[dict], teacher: dict, reference: dict, rule: GateRule) -> GateResult:
    """Agreement of ``teacher`` and ``reference`` verdicts (id -> verdict or None) on ``items``;
    a pair where either has no valid label counts as a disagreement."""
    by_bucket = {b: {"n": 0, "agree": 0} for b in BUCKETS}
    confusion = {t: {r: 0 for r in (*VERDICTS, None)} for t in (*VERDICTS, None)}
    for item in items:
        i, b = str(item["id"]), bucket_of(item)
        t, r = teacher.get(i), reference.get(i)
        cell = by_bucket.setdefault(b, {"n": 0, "agree": 0})
        cell["n"] += 1
        cell["agree"] += t is not None and t == r
        confusion[t][r] += 1
    n = sum(v["n"] for v in by_bucket.values())
    agree = sum(v["agree"] for v in by_bucket.values())
    hard_n = sum(by_bucket[b]["n"] for b in HARD)
    hard_agree = sum(by_bucket[b]["agree"] for b in HARD)
    decision, reason = decide(rule, n, agree, hard_n, hard_agree)
    return GateResult(n, agree, hard_n, hard_agree, by_bucket, confusion, decision, reason)


def disagreements(items: Sequence[dict], teacher: dict, others: dict[str, dict]) -> dict:
    """Per cross-check labeller: pairs checked, disagreements with the teacher (a missing label
    on either side counts), overall and by bucket, and the ids."""
    out = {}
    for name, verdicts in others.items():
        checked = [i for i in items if str(i["id"]) in verdicts]
        differ = [i for i in checked if teacher.get(str(i["id"])) is None
                  or verdicts[str(i["id"])] != teacher[str(i["id"])]]
        by = {b: {"n": sum(bucket_of(i) == b for i in checked),
                  "disagree": sum(bucket_of(i) == b for i in differ)} for b in BUCKETS}
        out[name] = {"n": len(checked), "disagree": len(differ),
                     "rate": len(differ) / len(checked) if checked else None,
                     "by_bucket": by, "ids": sorted(str(i["id"]) for i in differ)}
    return out
