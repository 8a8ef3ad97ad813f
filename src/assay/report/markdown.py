"""Markdown reports: the table people publish (Metric | Base | Candidate | Goal | Verdict), a
details line per metric, the warnings that qualify the result, and the items that flipped."""

from __future__ import annotations

import math

from ..compare import Comparison, Discordant, MetricComparison, verdict_text
from ..text.inert import md_code, md_fence, md_inline

ALPHA = 0.05
# Discordant items written out in full in the Markdown (all of them are in comparison.json).
MAX_LISTED = 20
# The end of each output is kept: a review's decision is its last line.
MAX_OUTPUT_CHARS = 600
MAX_IDS_LISTED = 40  # ids named in a flipped section's summary line, each whole


def num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, float) and x != 0 and abs(x) < 10 ** -digits:
        return f"{x:.2g}"
    return f"{x:.{digits}f}"


def signed(x: float | None, digits: int = 3) -> str:
    text = num(x, digits)
    return text if text == "n/a" or text.startswith("-") else "+" + text


def pval(p: float | None) -> str:
    if p is None or (isinstance(p, float) and not math.isfinite(p)):
        return "n/a"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def statistical_verdict(m: MetricComparison) -> str:
    """The verdict words of a metric (see assay.compare.family)."""
    return verdict_text(m)


def goal_cells(c: Comparison, m: MetricComparison) -> tuple[str, str]:
    verdicts = c.goals.for_metric(m.name) if c.goals is not None else []
    if not verdicts:
        return "", statistical_verdict(m)
    goal = "; ".join(f"{md_inline(v.goal)}: **{v.verdict}**" for v in verdicts)
    if c.goals.edited_after_lock or not c.goals.pre_registered:
        goal += " (not pre-registered)"
    return goal, statistical_verdict(m)


def diff_cell(m: MetricComparison) -> str:
    return f"{signed(m.difference)} [{signed(m.ci_low)}, {signed(m.ci_high)}]"


def table(c: Comparison) -> list[str]:
    lines = ["| Metric | n | Base | Candidate | Difference [CI] | Goal | Verdict |",
             "|---|---|---|---|---|---|---|"]
    for m in c.metrics:
        goal, verdict = goal_cells(c, m)
        lines.append(f"| {md_inline(m.name)} | {m.n} | {num(m.base)} | {num(m.candidate)} | "
                     f"{diff_cell(m)} | {goal} | {verdict} |")
    return lines


def details_line(m: MetricComparison, level: float) -> str:
    parts = [f"**{md_inline(m.name)}** ({m.family}; {m.test}, n {m.n}"
             + (f", {m.n_groups} clusters" if m.n_groups else "") + "):",
             f"difference {signed(m.difference)} [{level:.0%} CI {signed(m.ci_low)}, "
             f"{signed(m.ci_high)}{', ' + m.ci_method if m.ci_method else ''}], "
             f"p {pval(m.pvalue)}" + (f" (Holm {pval(m.pvalue_holm)})"
                                      if m.family == "confirmatory" else "")]
    if m.mcnemar is not None:
        t = m.mcnemar
        parts.append(f"McNemar exact p {pval(t.pvalue)}, mid-p {pval(t.midp)}, n_discordant "
                     f"{t.n_discordant}: lost {t.b}, gained {t.c}")
    parts.append(f"candidate {num(m.candidate)} [{num(m.candidate_ci_low)}, "
                 f"{num(m.candidate_ci_high)}]")
    if m.baseline_name or m.base_baseline is not None:
        parts.append(f"{md_inline(m.baseline_name or 'baseline')} {num(m.base_baseline)} / "
                     f"{num(m.candidate_baseline)}, gap {signed(m.base_gap)} -> "
                     f"{signed(m.candidate_gap)}")
    if m.noise is not None:
        n = m.noise
        parts.append(f"noise floor: a repeat of the base moved {signed(n.difference)}"
                     + (f" (flip rate {pct(n.flip_rate)})" if n.flip_rate is not None else "")
                     + ("; this change is within it" if n.within_noise else ""))
    return "- " + "; ".join(parts[:1]) + " " + "; ".join(parts[1:])


def family_sentence(c: Comparison) -> str:
    """What the verdicts mean, in one paragraph (README and model card say the same)."""
    names = ", ".join(c.family) or "none"
    source = "the goals file's metrics" if c.family_source == "goals" else \
        "the task's primary metrics"
    return (f"Confirmatory family ({source}): {names}; their p-values are Holm-adjusted "
            f"together at alpha {c.alpha:g}. Every other tested metric and every slice is "
            "exploratory (unadjusted p, read it as a lead, not a result); descriptive metrics "
            "are not tested. A verdict is *better* or *worse* only when its p is below alpha, "
            "*inconclusive* (with the interval) otherwise; slices under "
            f"{c.min_slice_n} items get none. A goal is a *Hit* only when the confidence bound "
            "clears it.")


def _models_table(c: Comparison) -> list[str]:
    b, k = c.base, c.candidate
    return [f"| | {md_inline(b.label)} (base) | {md_inline(k.label)} (candidate) |",
            "|---|---|---|", f"| model | {md_inline(b.spec or '')} | {md_inline(k.spec or '')} |",
            f"| completions | {b.n_records} | {k.n_records} |",
            f"| parse failures | {pct(b.parse_failure_rate)} | {pct(k.parse_failure_rate)} |",
            f"| truncated | {pct(b.truncated_share)} | {pct(k.truncated_share)} |",
            f"| failed requests | {b.errors} | {k.errors} |"]


def _goals_block(c: Comparison) -> list[str]:
    g = c.goals
    if g is None:
        return []
    head = (f"Goals: {md_code(g.path)} ({g.hits} of {len(g.verdicts)} hit). "
            + (f"Locked at {g.locked_at}" + (f" (commit {g.lock_commit})" if g.lock_commit
                                             else "") if g.locked else "Not locked")
            + (". Pre-registered: the goals are unchanged since the lock and the candidate "
               "run started after it." if g.pre_registered else "."))
    lines = ["## Goals", "", head, ""]
    lines += [f"- {md_inline(v.metric)} {md_inline(v.goal)}: **{v.verdict}** "
              f"({md_inline(v.reason, 1000)})" for v in g.verdicts]
    lines += ["", "A Hit means the confidence bound clears the goal (for a threshold, the "
              "candidate's interval; for improve, the one-sided test within the family; for "
              "hold_gap, the lower bound of the gap's change above -margin). Inconclusive means "
              "the items cannot tell."]
    return lines + [""]


def _warnings(c: Comparison) -> list[str]:
    ws = list(c.warnings) + (list(c.goals.warnings) if c.goals is not None else [])
    if not ws:
        return []
    return ["> **Warnings**", ">"] + [f"> - {md_inline(w, 1000)}" for w in ws] + [""]


def _quote(text: str | None) -> list[str]:
    if text is None:
        return ["(no output)"]
    return md_fence(text, MAX_OUTPUT_CHARS, tail=True)


def _value(v) -> str:
    import json

    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


def _answer(parsed, error: str | None) -> str:
    if error:
        return f"parse failure: {md_inline(error, MAX_OUTPUT_CHARS)}"
    return "parsed " + (md_code(_value(parsed)) if parsed is not None else "nothing")


def _item(d: Discordant, base: str, cand: str) -> list[str]:
    gold = ("; ".join(f"{md_inline(k)} {md_code(_value(v))}" for k, v in d.gold.items())
            if d.gold else "")
    return [f"**item {md_inline(d.id, None)}**" + (f" (gold: {gold})" if gold else ""), "",
            f"{md_inline(base)} ({_answer(d.base_parsed, d.base_parse_error)}), the end of "
            "its output:", *_quote(d.base_output),
            f"{md_inline(cand)} ({_answer(d.candidate_parsed, d.candidate_parse_error)}), the "
            "end of its output:", *_quote(d.candidate_output), ""]


def _ids(items) -> str:
    """Whole ids (never cut inside one), the first MAX_IDS_LISTED, then how many more."""
    shown = ", ".join(md_inline(d.id, None) for d in items[:MAX_IDS_LISTED])
    more = len(items) - MAX_IDS_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def discordant_section(c: Comparison) -> list[str]:
    lines = []
    for m in c.metrics:
        t = m.mcnemar
        if t is None or not t.n_discordant:
            continue
        lines += [f"### {md_inline(m.name)}: {t.b} lost, {t.c} gained", ""]
        for title, items in (("Lost (base passed, candidate failed)", t.lost),
                             ("Gained (base failed, candidate passed)", t.gained)):
            if not items:
                continue
            lines += [f"<details><summary>{title}: {len(items)} — {_ids(items)}</summary>", ""]
            for d in items[:MAX_LISTED]:
                lines += _item(d, c.base.label, c.candidate.label)
            if len(items) > MAX_LISTED:
                lines += [f"... and {len(items) - MAX_LISTED} more in comparison.json", ""]
            lines += ["</details>", ""]
    return (["## Items that flipped", ""] + lines) if lines else []


def markdown(c: Comparison) -> str:
    """The Markdown report of a comparison."""
    head = [f"# {md_inline(c.task)}: {md_inline(c.candidate.label)} vs {md_inline(c.base.label)}",
            "",
            f"Paired comparison on {c.n_items} items ({c.n_paired} paired completions); "
            f"{c.n_resamples:,} resamples, seed {c.seed}; {c.confidence_level:.0%} intervals.",
            "", family_sentence(c), "", c.coverage() + ".", ""]
    body = table(c) + [""] + [details_line(m, c.confidence_level) for m in c.metrics] + [""]
    only = []
    if c.only_base or c.only_candidate:
        only = [f"Left out (one side only): {len(c.only_base)} in {md_inline(c.base.label)}, "
                f"{len(c.only_candidate)} in {md_inline(c.candidate.label)}.", ""]
    return "\n".join(head + _warnings(c) + body + only + _goals_block(c) + ["## Models", ""]
                     + _models_table(c) + [""] + discordant_section(c))


def run_markdown(s) -> str:
    """The Markdown report of one run (a RunSummary): each model's metrics beside baselines."""
    labels = [md_inline(label) for label in s.models]
    lines = [f"# {md_inline(s.task)}: {', '.join(labels)}", "",
             f"Run {md_code(s.path)}" + (f" (commit {md_inline(s.git_commit)})"
                                         if s.git_commit else "")
             + f"; {max(s.n_items.values(), default=0)} items. Each value with its n and 95% "
             "interval (Wilson for rates, bootstrap otherwise).", "",
             "| Metric | " + " | ".join(labels) + " | Baseline |",
             "|---|" + "---|" * (len(labels) + 1)]
    for row in s.rows:
        cells = []
        for label in s.models:
            v = row.values.get(label)
            lo, hi = row.low.get(label), row.high.get(label)
            cells.append(num(v) + (f" [{num(lo)}, {num(hi)}]" if lo is not None else "")
                         + f" (n {row.n.get(label, 0)})")
        base_vals = [b for b in row.baselines.values() if b is not None]
        baseline = (f"{md_inline(row.baseline_name or 'baseline')} {num(base_vals[0])}"
                    if base_vals else "")
        lines.append(f"| {md_inline(row.name)} | " + " | ".join(cells) + f" | {baseline} |")
    lines += ["", "| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels),
              "| parse failures | " + " | ".join(pct(s.parse_failure_rate[k]) for k in s.models)
              + " |",
              "| truncated | " + " | ".join(pct(s.truncated_share[k]) for k in s.models) + " |",
              "| failed requests | " + " | ".join(str(s.errors[k]) for k in s.models) + " |", ""]
    return "\n".join(lines)
