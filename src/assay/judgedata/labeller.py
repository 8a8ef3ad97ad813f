"""The labeller: the bias judge's own prompt, asked for a confidence too, checked without gold.

A labeller answers ``<reasoning>...</reasoning><verdict>A|B|TIE</verdict><confidence>1-5
</confidence>``. Its check needs the reasoning, one verdict and a confidence; unlike the judge's
check it never compares the verdict with the item's ``human_verdict`` (on pairs built from BBQ
that is a derived label, and the labeller is what is being asked). A failed check is revised
with the checker's feedback by the distill loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tasks import Check, Unparsed
from ..tasks.bias_judge import BiasJudge, has_reasoning, parse_verdict

LABEL_INSTRUCTION = (
    "\n\nYou are labelling training data. After the verdict tag, add how sure you are, from 1 "
    "(a guess) to 5 (certain), as <confidence>N</confidence>.")
_CONF = re.compile(r"<confidence>\s*([^<]*?)\s*</confidence>", re.IGNORECASE)
_REASONING = re.compile(r"<reasoning>(.*?)</reasoning>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Label:
    """A labeller's reading of a pair."""

    verdict: str
    confidence: int
    reasoning: str


def read_label(text: str) -> Label | Unparsed:
    """The verdict, confidence (1-5) and reasoning of a labeller's answer, or why not."""
    verdict = parse_verdict(text)
    if isinstance(verdict, Unparsed):
        return verdict
    if not has_reasoning(text):
        return Unparsed("give the reasoning inside <reasoning>...</reasoning> first")
    found = _CONF.findall(text)
    if len(found) != 1:
        return Unparsed(f"expected one <confidence>N</confidence> tag, found {len(found)}")
    if found[0] not in ("1", "2", "3", "4", "5"):
        return Unparsed(f"confidence {found[0]!r} is not an integer from 1 to 5")
    reasoning = _REASONING.search(text)
    return Label(verdict, int(found[0]), reasoning.group(1).strip() if reasoning else "")


def judge_completion(label: Label) -> str:
    """The judge's own answer format (what SFT teaches and `assay eval` parses)."""
    return f"<reasoning>{label.reasoning}</reasoning><verdict>{label.verdict}</verdict>"


class Labeller(BiasJudge):
    """bias-judge's prompt and parse, a confidence asked of the teacher, no gold in the check."""

    name = "bias-label"
    description = "label bias-judge pairs: verdict, reasoning and a 1-5 confidence"

    def teacher_render(self, item: dict):
        system, *rest = self.render(item)
        return [{**system, "content": system["content"] + LABEL_INSTRUCTION}, *rest]

    def check(self, item: dict, text: str) -> Check:
        label = read_label(text)
        if isinstance(label, Unparsed):
            return Check(False, label.reason)
        return Check(True, "", {"verdict": label.verdict, "confidence": label.confidence})

    def revision_message(self, item: dict, check: Check) -> str:
        return (f"That label does not pass the check: {check.feedback}. Answer in exactly this "
                "format: <reasoning>one short paragraph comparing the two responses</reasoning>"
                "<verdict>X</verdict><confidence>N</confidence> with X one of A, B or TIE and "
                "N from 1 to 5.")
