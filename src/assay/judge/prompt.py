"""The pairwise judge's prompt and the reading of its YAML answer.

Written for assay in the spirit of PR-Agent's evaluation prompt: the judge sees the task's
instructions and input and two responses, and answers which one better answers the prompt and
would likely be perceived by a human as better (0 = a tie), why, and a 1-10 score for each. Unlike
that prompt, assay asks it twice, once in each order (see ``assay.judge.run``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tasks import Unparsed

JUDGE_SYSTEM = (
    "You are a fair and careful judge. You are shown a task (its instructions and its input) "
    "and two responses to it. Decide which response better answers the task and would likely "
    "be perceived by a human expert as better: more correct, more useful, more faithful to the "
    "input and to the requested format. Length alone is not quality, and the order in which "
    "the responses are shown says nothing about them.\n\n"
    "Answer with YAML only, inside one ```yaml fenced block, with exactly these keys:\n"
    "```yaml\n"
    "which_response_was_better: 0   # 1 or 2, or 0 if they are equally good\n"
    "why: one or two sentences\n"
    "score_response1: 7   # 1 (useless) to 10 (excellent)\n"
    "score_response2: 5\n"
    "```")

KEYS = ("which_response_was_better",)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judge's answer for one order: ``better`` 1 (first slot), 2 (second slot) or 0 (tie),
    its reason and the two 1-10 scores (None when not given)."""

    better: int
    why: str
    score_first: int | None
    score_second: int | None


def judge_messages(instructions: str, task_input: str, first: str, second: str
                   ) -> list[dict[str, str]]:
    """The judge's chat messages for one order of one pair."""
    user = (f"## Task instructions\n{instructions.strip()}\n\n## Task input\n{task_input.strip()}"
            f"\n\n## Response 1\n{first.strip()}\n\n## Response 2\n{second.strip()}")
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def _answer_model():
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class JudgeAnswer(BaseModel):
        model_config = ConfigDict(extra="ignore")
        which_response_was_better: Literal[0, 1, 2]
        why: str = ""
        score_response1: int | None = Field(None, ge=1, le=10)
        score_response2: int | None = Field(None, ge=1, le=10)

        @field_validator("which_response_was_better", mode="before")
        @classmethod
        def _number(cls, v):
            return int(v) if isinstance(v, str) and v.strip().isdigit() else v

        @field_validator("why", mode="before")
        @classmethod
        def _text(cls, v):
            return "" if v is None else str(v)

    return JudgeAnswer


_MODEL = None


def parse_verdict(text: str) -> Verdict | Unparsed:
    """The judge's Verdict from its answer, or Unparsed naming the problem (bounded work on
    hostile text: see assay.tasks.pr.answer)."""
    global _MODEL
    from ..tasks.pr import parse_answer

    _MODEL = _MODEL or _answer_model()
    got = parse_answer(text, _MODEL, KEYS)
    if isinstance(got, Unparsed):
        return got
    return Verdict(got.which_response_was_better, got.why, got.score_response1,
                   got.score_response2)
