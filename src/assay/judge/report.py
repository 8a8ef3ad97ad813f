"""The files of `assay judge`: judgments.jsonl (every judgment, its reasoning and raw answer),
judge.json (the summary) and judge.md (the Qodo-style table), each written atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JUDGMENTS, SUMMARY, MARKDOWN = "judgments.jsonl", "judge.json", "judge.md"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ci(s) -> str:
    if s.win_rate is None:
        return "-"
    return f"{_pct(s.win_rate)} [{_pct(s.ci_low)}, {_pct(s.ci_high)}]"


def _p(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def markdown(summary: dict[str, Any]) -> str:
    """The Qodo-style table: each candidate against the reference, per judge and pooled, then
    the candidates' paired comparison and agreement between judges."""
    ref = summary["reference"]
    lines = [f"# Pairwise judgments against `{ref}`", "",
             f"{summary['n_items']} items, each pair judged in both orders by "
             f"{len(summary['judges'])} judge(s); an order disagreement is a tie.", "",
             "| candidate | judge | W / T / L | win rate [95% CI] | LC win rate | consistency "
             "| first-slot share (p) | score cand / ref | parse failures |",
             "|---|---|---|---|---|---|---|---|---|"]
    for cand, res in summary["results"].items():
        for s in [*res["judges"].values(), res["pooled"]]:
            score = ("-" if s.candidate_score is None else
                     f"{s.candidate_score:.2f} / {s.reference_score:.2f}")
            lines.append(f"| {cand} | {s.judge} | {s.wins} / {s.ties} / {s.losses} | {_ci(s)} "
                         f"| {_pct(s.lc_win_rate)} | {_pct(s.position_consistency)} | "
                         f"{_pct(s.first_slot_preference)} ({_p(s.first_slot_pvalue)}) | "
                         f"{score} | {s.parse_failures} |")
    if summary["comparisons"]:
        lines += ["", "| comparison | win rate | difference [95% CI] | p |", "|---|---|---|---|"]
        for c in summary["comparisons"]:
            if c.get("difference") is None:
                continue
            lines.append(f"| {c['candidate']} vs {c['baseline']} (n={c['n']}) | "
                         f"{_pct(c['baseline_win_rate'])} -> {_pct(c['candidate_win_rate'])} | "
                         f"{100 * c['difference']:+.1f} pts [{100 * c['ci_low']:+.1f}, "
                         f"{100 * c['ci_high']:+.1f}] | {_p(c['pvalue'])} |")
    for cand, a in summary["agreement"].items():
        kappas = ", ".join(f"{k} {v['kappa']:.2f}" for k, v in a["cohen_kappa"].items())
        lines += ["", f"Agreement between judges on {cand}: Cohen's kappa {kappas or '-'}; "
                  f"Fleiss' kappa {_p(a['fleiss_kappa']['value'])}; Krippendorff's alpha "
                  f"nominal {_p(a['krippendorff_alpha_nominal']['value'])}, ordinal "
                  f"{_p(a['krippendorff_alpha_ordinal']['value'])}."]
    bt = summary.get("bradley_terry")
    if bt:
        lines += ["", "Bradley-Terry log-strengths (anchor " + bt["anchor"] + "): " + ", ".join(
            f"{m} {s:+.2f} [{lo:+.2f}, {hi:+.2f}]" for m, s, lo, hi in
            zip(bt["models"], bt["strengths"], bt["ci_low"], bt["ci_high"]))]
    goals = summary.get("goals")
    if goals:
        state = ("not locked" if not goals["locked"] else "EDITED after its lock"
                 if goals["edited_after_lock"] else f"locked at {goals['locked_at']}")
        lines += ["", f"Goals ({goals['path']}, {state}), for {summary['candidates'][-1]}:"]
        lines += [f"- {v['metric']} {v['goal']}: **{v['outcome']}** ({v['reason']})"
                  for v in goals["verdicts"]]
        lines += [f"- WARNING: {w}" for w in goals["warnings"]]
    lines += ["", "Scores (1-10) are judge-relative: compare them within one judge."]
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, judgments: Sequence, summary: dict[str, Any]) -> dict[str, str]:
    from ..atomic import write_text
    from ..jsonable import to_jsonable
    from .run import judgment_rows

    out.mkdir(parents=True, exist_ok=True)
    files = {"judgments": str(out / JUDGMENTS), "summary": str(out / SUMMARY),
             "markdown": str(out / MARKDOWN)}
    write_text(out / JUDGMENTS, judgment_rows(judgments))
    write_text(out / SUMMARY, json.dumps(to_jsonable({**summary, "files": files}), indent=2,
                                         allow_nan=False) + "\n")
    write_text(out / MARKDOWN, markdown(summary))
    return files
