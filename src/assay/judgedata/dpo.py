"""DPO hard negatives: the teacher's confident non-TIE labels as chosen, wrong verdicts rejected.

Each kept pair (a teacher label with confidence >= 4, not TIE, not excluded) is routed by
``sha1(pair_id) % 10 < 7``: to *synth* (the teacher writes a judgement that argues the wrong
verdict in one of four failure modes, round-robin over the synth pairs in order) or to *flip*
(the teacher's own reasoning with the verdict flipped). A synthesis must parse strictly (the
judge's format and nothing else, the wrong verdict) or it is retried with the reason, up to
``retries`` times. Every row is then swap-doubled, and ``verify`` runs before anything is
written (see its docstring).
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssayError
from ..tasks import ORIGINAL, SWAPPED, Check
from ..tasks.bias_judge import MIRROR, BiasJudge, parse_verdict, words
from ..train.swap import mirror_slots
from .buckets import bucket_of
from .labeller import judge_completion
from .sft import thinking_rows

DPO = "dpo.jsonl"
SYNTH, FLIP = "synth", "flip"
MODES = {
    "verbose_hedging": "hedge at length, qualify every point and drift to the verdict without "
                       "ever weighing the evidence",
    "surface_engagement": "engage only with surface features (tone, wording, confidence, "
                          "length) and never with the stereotype the question probes",
    "stereotype_aligned": "treat the stereotype itself as a plausible basis for the answer and "
                          "reason from it",
    "length_burying": "bury the deciding point under a long, padded analysis so that the "
                      "verdict looks supported",
}
# Text a synthesis must never carry into training: the instruction echoed back.
LEAKS = (r"\bwe (?:need|have|are asked|were asked|must) to (?:say|argue|pick|choose|output|"
         r"conclude)\b", r"\b(?:correct|true|right|real) verdict\b", r"\bfailure mode\b",
         r"\b(?:verbose_hedging|surface_engagement|stereotype_aligned|length_burying)\b",
         r"\bwrong verdict\b", r"\bas instructed\b", r"\bi (?:was|am|have been) "
         r"(?:told|asked|instructed) to\b", r"\bargue (?:for )?the\b")
_STRICT = re.compile(r"\s*<reasoning>(?P<r>(?:(?!</?reasoning>|</?verdict>).)+)</reasoning>\s*"
                     r"<verdict>(?P<v>A|B|TIE)</verdict>\s*", re.DOTALL)


def route(pair_id: str) -> str:
    """synth for 70% of pairs, flip for 30%, fixed by the pair id."""
    return SYNTH if int(hashlib.sha1(pair_id.encode("utf-8")).hexdigest(), 16) % 10 < 7 else FLIP


def strict_verdict(text: str) -> str | None:
    """The verdict when ``text`` is exactly one reasoning block and one verdict tag, else None."""
    m = _STRICT.fullmatch(text)
    return m.group("v") if m and m.group("r").strip() else None


def flipped(verdict: str) -> str:
    if verdict not in ("A", "B"):
        raise ValueError(f"only A or B can be flipped, got {verdict!r}")
    return MIRROR[verdict]


class SynthTask:
    """The teacher's synthesis job as a distill-loop task: render, strict check, revision."""

    name = "bias-judge-synth"
    max_tokens = 1024

    def __init__(self):
        self.judge = BiasJudge()

    def render(self, item: dict):
        system, user = self.judge.render(item["pair"])
        ask = (f"\n\nThe correct verdict for this pair is {item['correct']}. For training a "
               "judge to avoid mistakes, write the judgement a flawed judge would give: it "
               f"reaches verdict {item['wrong']} and its reasoning is flawed in this way: "
               f"{MODES[item['mode']]}. Write it as that judge, in its own voice; never mention "
               "these instructions, the correct verdict or that the judgement is flawed. Answer "
               "in exactly this format and nothing else: <reasoning>...</reasoning>"
               f"<verdict>{item['wrong']}</verdict>")
        return [system, {**user, "content": user["content"] + ask}]

    teacher_render = render

    def check(self, item: dict, text: str) -> Check:
        got = strict_verdict(text)
        if got is None:
            return Check(False, "the answer must be exactly <reasoning>...</reasoning>"
                         "<verdict>X</verdict> with nothing before or after")
        if got != item["wrong"]:
            return Check(False, f"the verdict is {got} but it must be {item['wrong']}")
        return Check(True, "", {"verdict": got})

    def revision_message(self, item: dict, check: Check) -> str:
        return (f"That does not pass: {check.feedback}. Reply with exactly <reasoning>..."
                f"</reasoning><verdict>{item['wrong']}</verdict>.")


def plan(labelled: Sequence, min_confidence: int = 4) -> list[dict]:
    """The kept pairs with their route, wrong verdict and (synth) failure mode."""
    names, k, out = list(MODES), 0, []
    for r in labelled:
        lab = r.label
        if r.excluded is not None or lab is None or lab.confidence < min_confidence \
                or lab.verdict == "TIE":
            continue
        how = route(str(r.item["id"]))
        mode = names[k % len(names)] if how == SYNTH else None
        k += how == SYNTH
        out.append({"id": f"{r.item['id']}::synth", "pair": r.item, "labelled": r,
                    "route": how, "mode": mode, "correct": lab.verdict,
                    "wrong": flipped(lab.verdict)})
    return out


async def synthesize(jobs: Sequence[dict], teacher, retries: int = 2) -> dict[str, str | None]:
    """pair id -> the teacher's strict synthesis (None when no attempt passed)."""
    from ..distill.loop import LoopConfig, run_loop

    todo = [j for j in jobs if j["route"] == SYNTH]
    runs = await run_loop(SynthTask(), teacher, todo, LoopConfig(retries, 1))
    out = {}
    for run in runs:
        ok = [a.text for a in run.attempts if a.check.ok]
        out[str(run.item["pair"]["id"])] = ok[-1] if ok else None
    return out


def dpo_rows(jobs: Sequence[dict], synths: dict[str, str | None]) -> list[dict]:
    """Two rows (original, swapped) per job whose rejected answer exists."""
    judge, rows = BiasJudge(), []
    for j in jobs:
        item, lab = j["pair"], j["labelled"].label
        chosen = judge_completion(lab)
        rejected = (synths.get(str(item["id"])) if j["route"] == SYNTH else
                    f"<reasoning>{lab.reasoning}</reasoning><verdict>{j['wrong']}</verdict>")
        if rejected is None:
            continue
        for pass_ in (ORIGINAL, SWAPPED):
            c, r = (chosen, rejected) if pass_ == ORIGINAL else (mirror_slots(chosen),
                                                                 mirror_slots(rejected))
            rows.append({"id": f"{item['id']}::{pass_}", "pair_id": str(item["id"]),
                         "pass": pass_, "route": j["route"], "mode": j["mode"],
                         "prompt": judge.render(item, pass_), "chosen": c, "rejected": r,
                         "confidence": lab.confidence, "bucket": bucket_of(item),
                         "category": item.get("category"), "slice": item.get("eval_slice")})
    return rows


@dataclass(frozen=True, slots=True)
class DpoCheck:
    """The verify step's figures, what blocks, what warns, and the offending row ids."""

    n: int
    median_ratio: float | None
    p90_ratio: float | None
    synth_flip_divergence: float | None
    blocks: tuple[str, ...]
    warnings: tuple[str, ...]
    offending: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.blocks


def _sym(x: float) -> float:
    return max(x, 1 / x) if x > 0 else float("inf")


def verify(rows: Sequence[dict], *, max_median: float = 1.15, warn_p90: float = 1.20,
           warn_divergence: float = 1.25, leaks: Sequence[str] = LEAKS) -> DpoCheck:
    """Length and leak checks of DPO rows (lengths in words; ratios read both ways, so 1.3 and
    1/1.3 are the same length signal).

    Blocks: the median chosen/rejected length ratio beyond ``max_median`` (a DPO model would
    learn length, not bias); a thinking marker in any prompt, chosen or rejected; a rejected
    answer matching a leak pattern (the synthesis instruction echoed). Warns: the p90 of the
    per-row ratios beyond ``warn_p90``; synth and flip rejected answers whose median lengths
    differ by more than ``warn_divergence`` times.
    """
    if not rows:
        return DpoCheck(0, None, None, None, (), ("no DPO rows",), {})
    ratios = [words(r["chosen"]) / max(words(r["rejected"]), 1) for r in rows]
    med = float(statistics.median(ratios))
    sym = [_sym(x) for x in ratios]
    p90 = float(np.percentile(sym, 90))
    by = {h: [words(r["rejected"]) for r in rows if r.get("route") == h] for h in (SYNTH, FLIP)}
    div = (_sym(statistics.median(by[SYNTH]) / max(statistics.median(by[FLIP]), 1))
           if by[SYNTH] and by[FLIP] else None)
    blocks, warns, offending = [], [], {}
    if _sym(med) > max_median:
        offending["length_ratio"] = [r["id"] for r, s in zip(rows, sym) if s > max_median]
        blocks.append(f"median chosen/rejected length ratio {med:.3f} is beyond {max_median} "
                      f"(either way); {len(offending['length_ratio'])} rows beyond it")
    if p90 > warn_p90:
        warns.append(f"p90 of the length ratios {p90:.3f} > {warn_p90}")
    if div is not None and div > warn_divergence:
        warns.append(f"synth vs flip rejected lengths diverge {div:.3f}x > {warn_divergence}")
    think = thinking_rows(rows, ("prompt", "chosen", "rejected"))
    if think:
        offending["thinking"] = think
        blocks.append(f"{len(think)} rows contain a thinking marker")
    pats = [re.compile(p, re.IGNORECASE) for p in leaks]
    leaked = [r["id"] for r in rows if any(p.search(r["rejected"]) for p in pats)]
    if leaked:
        offending["leak"] = leaked
        blocks.append(f"{len(leaked)} rejected answers echo the synthesis instruction")
    return DpoCheck(len(rows), med, p90, div, tuple(blocks), tuple(warns), offending)


def dpo_card(jobs, rows, check: DpoCheck, min_confidence: int) -> dict:
    orig = [r for r in rows if r["pass"] == ORIGINAL]
    return {"kind": "dpo", "min_confidence": min_confidence, "pairs_kept": len(jobs),
            "routes": dict(Counter(j["route"] for j in jobs)),
            "modes": dict(Counter(j["mode"] for j in jobs if j["mode"])),
            "synth_failed": len(jobs) - len(orig), "rows": len(rows),
            "bucket": dict(sorted(Counter(str(r["bucket"]) for r in orig).items())),
            "category": dict(sorted(Counter(str(r["category"]) for r in orig).items())),
            "slice": dict(sorted(Counter(str(r["slice"]) for r in orig).items())),
            "label": dict(sorted(Counter(str(parse_verdict(r["chosen"])) for r in rows).items())),
            "verify": {"n": check.n, "median_ratio": check.median_ratio,
                       "p90_ratio": check.p90_ratio,
                       "synth_flip_divergence": check.synth_flip_divergence,
                       "blocked": bool(check.blocks)},
            "blocks": list(check.blocks), "warnings": list(check.warnings),
            "offending": check.offending}


class DpoBlocked(AssayError):
    """The verify step found something that must not be trained on."""

    def __init__(self, check: DpoCheck, where: Path):
        ids = [i for v in check.offending.values() for i in v]
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        self.check = check
        super().__init__(f"DPO set blocked: {'; '.join(check.blocks)}; offending rows: {shown} "
                         f"(all listed in {where}); dpo.jsonl was not written. Fix: relabel or "
                         "drop those pairs, or rebalance the failure modes")


def write_dpo(labelled: Sequence, out: Path, synths: dict[str, str | None],
              min_confidence: int = 4) -> dict[str, Path]:
    """Plan, double, verify (``synths``: ``synthesize``'s answers); write dpo.jsonl and its
    card, or raise DpoBlocked listing the offending rows."""
    from .card import write_card

    jobs = plan(labelled, min_confidence)
    rows = dpo_rows(jobs, synths)
    check = verify(rows)
    paths = write_card(out, dpo_card(jobs, rows, check, min_confidence), "dpo_card")
    if check.blocks:
        raise DpoBlocked(check, paths["card_json"])
    from .io import write_jsonl

    write_jsonl(out / DPO, rows)
    return {"dpo": out / DPO, "dpo_card": paths["card_md"]}
