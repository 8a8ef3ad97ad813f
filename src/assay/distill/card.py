"""The dataset card: who taught, how, what survived each gate, how the loop converged, what it cost,
and what was excluded (card.json for machines, card.md for people)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .attempts import ItemRun
from .contamination import Contamination, ExclusionSet


def convergence(runs: Sequence[ItemRun], rounds: int) -> list[dict]:
    """Items with a passing attempt after round 0, 1, ... (cumulative), of the items sent."""
    n = len(runs)
    passed = [r.passed_by_round(rounds) for r in runs]
    return [{"round": k, "valid_items": sum(p[k] for p in passed),
             "share": (sum(p[k] for p in passed) / n) if n else None} for k in range(rounds)]


def revisions(runs: Sequence[ItemRun]) -> dict:
    """Revision requests per item (attempts after the drafts)."""
    per_item = [sum(a.round > 0 for a in r.attempts) for r in runs]
    hist = Counter(per_item)
    return {"total": sum(per_item), "mean": (sum(per_item) / len(per_item)) if per_item else None,
            "histogram": {str(k): hist[k] for k in sorted(hist)}}


def exclusions(sets: Sequence[ExclusionSet], hits: dict[str, Contamination]) -> list[dict]:
    out = []
    for s in sets:
        mine = [h for h in hits.values() if h.path == s.path]
        ratios = [h.overlap_ratio for h in mine]
        out.append({**s.summary(), "contaminated": len(mine),
                    "exact_matches": sum(h.how == "exact" for h in mine),
                    "ngram_matches": sum(h.how == "ngram" for h in mine),
                    "overlap_ratio_mean": (sum(ratios) / len(ratios)) if ratios else None,
                    "overlap_ratio_max": max(ratios) if ratios else None,
                    "items": sorted(h.item_id for h in mine)})
    return out


def _row(cells: Sequence) -> str:
    return "| " + " | ".join("" if c is None else str(c) for c in cells) + " |"


def _fmt(x) -> str:
    return "n/a" if x is None else (f"{x:.4f}" if isinstance(x, float) else str(x))


def card_markdown(card: dict) -> str:
    """card.md: the same figures as card.json, as tables."""
    t = card["teacher"]
    lines = [f"# Distilled data: {card['task']}", "",
             f"Teacher `{t['spec']}` ({t['identity'].get('backend')}), temperature "
             f"{t['decoding']['temperature']}, max_tokens {t['decoding']['max_tokens']}; "
             f"up to {card['loop']['max_revisions']} revision(s), "
             f"{card['loop']['candidates']} candidate(s) per round, keep "
             f"{card['loop']['keep']}.", "",
             f"Data `{card['data']['path']}` (sha256 {card['data']['sha256'][:12]}...).", "",
             "## Gates", "", _row(["gate", "items"]), _row(["---", "---:"])]
    lines += [_row([k.replace("_", " "), v]) for k, v in card["gates"].items()]
    lines += ["", "## Convergence (items valid after each round, cumulative)", "",
              _row(["round", "valid items", "share"]), _row(["---:", "---:", "---:"])]
    lines += [_row([c["round"], c["valid_items"], _fmt(c["share"])])
              for c in card["convergence"]]
    led = card["ledger"]
    lines += ["", "## Ledger", "", _row(["round", "requests sent", "cache hits", "errors",
                                         "prompt tokens", "completion tokens"]),
              _row(["---:"] * 6)]
    lines += [_row([r["round"], r["requests_sent"], r["cache_hits"], r["errors"],
                    r["prompt_tokens"], r["completion_tokens"]]) for r in led["rounds"]]
    tot = led["totals"]
    lines += [_row(["total", tot["requests_sent"], tot["cache_hits"], tot["errors"],
                    tot["prompt_tokens"], tot["completion_tokens"]]), "",
              f"Cost: {_fmt(led['cost_usd'])} USD (prices per 1M tokens: in "
              f"{_fmt(led['price_in_per_1m'])}, out {_fmt(led['price_out_per_1m'])}); budget "
              f"{_fmt(led['budget_usd'])}; stopped by budget: {led['stopped_by_budget']}. "
              f"Revision requests: {card['revisions']['total']} (mean "
              f"{_fmt(card['revisions']['mean'])} per item). Wall time "
              f"{card['wall_s']:.2f} s.", "", "## Exclusions (contamination, before any request)",
              ""]
    if not card["exclusions"]:
        lines.append("No --exclude set was given: contamination was not checked.")
    for e in card["exclusions"]:
        lines.append(f"- `{e['path']}` (sha256 {e['sha256'][:12]}..., {e['n_items']} items, "
                     f"{e['n_hashes']} input hashes with digest {e['hashes_sha256'][:12]}..., "
                     f"{e['n_ngrams']} {e['ngram']}-grams): {e['contaminated']} removed "
                     f"({e['exact_matches']} exact, {e['ngram_matches']} by n-gram; overlap "
                     "ratio mean "
                     f"{_fmt(e['overlap_ratio_mean'])}, max {_fmt(e['overlap_ratio_max'])})")
    return "\n".join(lines) + "\n"
