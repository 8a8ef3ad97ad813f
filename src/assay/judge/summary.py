"""From judgments to numbers: per judge and pooled over judges, for each candidate.

A pair (judge, candidate, item) is judged in both orders. Its outcome is the candidate's when
both orders agree, and a tie when they disagree (MT-Bench); a pair with an unparsed or failed
order has no outcome and is counted under ``pairs_unparsed``. The judge's *lean* on a pair is
(times it chose the first slot) - (times it chose the second): every inconsistent pair leans one
way, and the first-slot preference is the share of inconsistent pairs that lean to the first
slot, tested against 0.5 with an exact binomial test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

VALUE = {"win": 1.0, "tie": 0.5, "loss": 0.0}
OUTCOMES = ("loss", "tie", "win")  # ordered, for the ordinal alpha


@dataclass(frozen=True, slots=True)
class PairOutcome:
    """One judge's verdict on one (candidate, item) pair over both orders."""

    judge: str
    candidate: str
    id: str
    outcome: str | None
    consistent: bool | None
    lean: int | None
    score_difference: float | None
    candidate_chars: int
    reference_chars: int


@dataclass(frozen=True, slots=True)
class JudgeSummary:
    """The candidate against the reference, for one judge or pooled over judges.

    win_rate: ties as half, the mean over items of the (judges') pair outcomes; ci_*: its
    percentile bootstrap interval over items. position_consistency: share of parsed pairs whose
    two orders agree. first_slot_preference / first_slot_pvalue: among inconsistent pairs, the
    share leaning to the first slot and its exact two-sided binomial p-value against 0.5.
    parse_failures: judgments (single orders) that did not parse; request_errors: that failed.
    lc_*: AlpacaEval 2's length-controlled win rate (None below 3 items or without variation).
    score_*: the judges' 1-10 scores (judge-relative: compare them within a judge only)."""

    judge: str
    n_items: int
    wins: int
    ties: int
    losses: int
    pairs_unparsed: int
    win_rate: float | None
    ci_low: float | None
    ci_high: float | None
    position_consistency: float | None
    n_inconsistent: int
    first_slot_preference: float | None
    first_slot_pvalue: float | None
    parse_failures: int
    request_errors: int
    lc_win_rate: float | None
    lc_length_coef: float | None
    length_correlation: float | None
    candidate_score: float | None
    reference_score: float | None
    score_difference: float | None
    score_pvalue: float | None
    n_scored: int


def pair_outcomes(judgments: Sequence) -> list[PairOutcome]:
    """Group the judgments by (judge, candidate, item) and combine the two orders."""
    groups: dict[tuple, list] = {}
    for j in judgments:
        groups.setdefault((j.judge, j.candidate, j.id), []).append(j)
    out = []
    for (judge, cand, item), js in groups.items():
        ok = [j for j in js if j.outcome is not None]
        parsed = len(ok) == 2
        consistent = parsed and ok[0].outcome == ok[1].outcome
        outcome = (ok[0].outcome if consistent else "tie") if parsed else None
        lean = sum((j.better == 1) - (j.better == 2) for j in ok) if parsed else None
        diffs = [j.candidate_score - j.reference_score for j in ok
                 if j.candidate_score is not None and j.reference_score is not None]
        out.append(PairOutcome(judge, cand, item, outcome, consistent if parsed else None, lean,
                               float(np.mean(diffs)) if diffs else None, js[0].candidate_chars,
                               js[0].reference_chars))
    return out


def _per_item(pairs: Sequence[PairOutcome], attr: str) -> dict[str, float]:
    """Item -> the mean over judges of a pair value (items where no judge has one: absent)."""
    acc: dict[str, list[float]] = {}
    for p in pairs:
        v = VALUE.get(p.outcome) if attr == "outcome" else getattr(p, attr)
        if v is not None:
            acc.setdefault(p.id, []).append(float(v))
    return {k: float(np.mean(v)) for k, v in acc.items()}


def summarize_pairs(name: str, pairs: Sequence[PairOutcome], judgments: Sequence, *,
                    n_resamples: int, confidence_level: float, seed: int) -> JudgeSummary:
    from scipy.stats import binomtest

    from ..stats import permutation_test
    from ..stats.pairwise import lc_win_rate, win_rate

    parsed = [p for p in pairs if p.outcome is not None]
    counts = {o: sum(p.outcome == o for p in parsed) for o in VALUE}
    values = _per_item(pairs, "outcome")
    wr = (win_rate(list(values.values()), n_resamples=n_resamples,
                   confidence_level=confidence_level, seed=seed) if values else None)
    inconsistent = [p for p in parsed if not p.consistent]
    first = sum(p.lean > 0 for p in inconsistent)
    test = binomtest(first, len(inconsistent), 0.5) if inconsistent else None
    lc = _lc(values, pairs, lc_win_rate)
    scores = _per_item(pairs, "score_difference")
    score_test = (permutation_test(np.zeros(len(scores)), list(scores.values()),
                                   n_resamples=n_resamples, seed=seed) if scores else None)
    cand_s = [j.candidate_score for j in judgments if j.candidate_score is not None]
    ref_s = [j.reference_score for j in judgments if j.reference_score is not None]
    return JudgeSummary(
        name, len({p.id for p in pairs}), counts["win"], counts["tie"], counts["loss"],
        len(pairs) - len(parsed), wr.win_rate if wr else None, wr.ci_low if wr else None,
        wr.ci_high if wr else None,
        (len(parsed) - len(inconsistent)) / len(parsed) if parsed else None, len(inconsistent),
        first / len(inconsistent) if inconsistent else None,
        float(test.pvalue) if test else None,
        sum(j.parse_error is not None for j in judgments), sum(j.error is not None for j in judgments),
        lc.lc_win_rate if lc else None, lc.length_coef if lc else None,
        lc.length_correlation if lc else None,
        float(np.mean(cand_s)) if cand_s else None, float(np.mean(ref_s)) if ref_s else None,
        score_test.mean_difference if score_test else None,
        score_test.pvalue if score_test else None, len(scores))


def _lc(values: dict[str, float], pairs: Sequence[PairOutcome], fit):
    chars = {p.id: (p.candidate_chars, p.reference_chars) for p in pairs}
    ids = list(values)
    if len(ids) < 3 or len({chars[i][0] - chars[i][1] for i in ids}) < 2:
        return None
    return fit([values[i] for i in ids], [chars[i][0] for i in ids],
               [chars[i][1] for i in ids])


def agreement(pairs: Sequence[PairOutcome], judges: Sequence[str], *, n_resamples: int,
              confidence_level: float, seed: int) -> dict[str, Any]:
    """Between judges, on one candidate's pair outcomes (loss < tie < win): Cohen's kappa for
    each two judges (items both parsed), Fleiss' kappa (items all parsed) and Krippendorff's
    alpha nominal and ordinal (every item, missing allowed), each with a bootstrap CI."""
    from ..stats import kappa_bootstrap
    from ..stats.raters import agreement_bootstrap

    by = {(p.judge, p.id): p.outcome for p in pairs}
    items = sorted({p.id for p in pairs})
    ratings = [[by.get((j, i)) for i in items] for j in judges]
    cohen = {}
    for a, b in combinations(range(len(judges)), 2):
        both = [(x, y) for x, y in zip(ratings[a], ratings[b]) if x and y]
        if len(both) >= 2:
            k = kappa_bootstrap([x for x, _ in both], [y for _, y in both], labels=OUTCOMES,
                                n_resamples=n_resamples, confidence_level=confidence_level,
                                seed=seed)
            cohen[f"{judges[a]} vs {judges[b]}"] = {"kappa": k.kappa, "ci_low": k.ci_low,
                                                    "ci_high": k.ci_high, "n": k.n}
    multi = agreement_bootstrap(ratings, labels=OUTCOMES, n_resamples=n_resamples,
                                confidence_level=confidence_level, seed=seed)
    return {"cohen_kappa": cohen, **{name: {"value": r.value, "ci_low": r.ci_low,
                                            "ci_high": r.ci_high, "n": r.n_items}
                                     for name, r in multi.items()}}


def compare_candidates(pairs: Sequence[PairOutcome], base: str, cand: str, *,
                       n_resamples: int, confidence_level: float, seed: int) -> dict[str, Any]:
    """The paired comparison of two candidates' win rates against the same reference, on the
    items both have an outcome for: the difference, its paired bootstrap CI and a sign-flip
    randomization p-value."""
    from ..stats import paired_bootstrap, permutation_test

    vb = _per_item([p for p in pairs if p.candidate == base], "outcome")
    vc = _per_item([p for p in pairs if p.candidate == cand], "outcome")
    ids = [i for i in vb if i in vc]
    if len(ids) < 2:
        return {"candidate": cand, "baseline": base, "n": len(ids), "difference": None}
    b, c = [vb[i] for i in ids], [vc[i] for i in ids]
    boot = paired_bootstrap(b, c, n_resamples=n_resamples, confidence_level=confidence_level,
                            seed=seed)
    test = permutation_test(b, c, n_resamples=n_resamples, seed=seed)
    return {"candidate": cand, "baseline": base, "n": len(ids), "baseline_win_rate": boot.base,
            "candidate_win_rate": boot.candidate, "difference": boot.difference,
            "ci_low": boot.ci_low, "ci_high": boot.ci_high, "pvalue": test.pvalue}


def bradley_terry_of(pairs: Sequence[PairOutcome], reference: str, candidates: Sequence[str],
                     *, n_resamples: int, confidence_level: float, seed: int) -> dict | None:
    from ..stats.pairwise import bradley_terry

    comps = [(p.id, p.candidate, reference, VALUE[p.outcome]) for p in pairs
             if p.outcome is not None]
    if len(candidates) < 2 or not comps:
        return None
    r = bradley_terry(comps, [reference, *candidates], n_resamples=min(n_resamples, 1000),
                      confidence_level=confidence_level, seed=seed)
    return {"models": list(r.models), "strengths": list(r.strengths), "ci_low": list(r.ci_low),
            "ci_high": list(r.ci_high), "anchor": reference, "n_items": r.n_items,
            "scale": "log-strength; P(a beats b) = 1 / (1 + exp(s_b - s_a))"}


def summarize(judgments: Sequence, cfg, judges: dict[str, str], run) -> dict[str, Any]:
    """judge.json: per candidate, per judge and pooled; agreement; the candidates compared;
    Bradley-Terry when there are more than two models."""
    opts = dict(n_resamples=cfg.n_resamples, confidence_level=cfg.confidence_level,
                seed=cfg.seed)
    pairs = pair_outcomes(judgments)
    names = list(judges)
    results, agree = {}, {}
    for cand in cfg.candidates:
        cp = [p for p in pairs if p.candidate == cand]
        cj = [j for j in judgments if j.candidate == cand]
        per = {n: summarize_pairs(n, [p for p in cp if p.judge == n],
                                  [j for j in cj if j.judge == n], **opts) for n in names}
        results[cand] = {"judges": per, "pooled": summarize_pairs("pooled", cp, cj, **opts)}
        if len(names) >= 2:
            agree[cand] = agreement(cp, names, **opts)
    comparisons = [compare_candidates(pairs, a, b, **opts)
                   for a, b in combinations(cfg.candidates, 2)]
    return {"run": str(run.path), "task": run.task, "reference": cfg.reference,
            "candidates": list(cfg.candidates), "judges": judges,
            "n_items": len({p.id for p in pairs}), "results": results, "agreement": agree,
            "comparisons": comparisons,
            "bradley_terry": bradley_terry_of(pairs, cfg.reference, cfg.candidates, **opts),
            "seed": cfg.seed, "n_resamples": cfg.n_resamples,
            "confidence_level": cfg.confidence_level,
            "notes": ["a pair whose two orders disagree counts as a tie (MT-Bench)",
                      "win rates count ties as half; intervals resample items",
                      "scores (1-10) are judge-relative: compare them within one judge"]}


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))
