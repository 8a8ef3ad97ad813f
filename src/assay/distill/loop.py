"""The loop: draft, check, revise with the checker's feedback, as a dependency chain per attempt.

Each item runs ``candidates`` chains. A chain sends the teacher prompt (the task's
``teacher_render``, the student's prompt plus what only the teacher may see); when the check
fails, it sends the original prompt, its previous attempt as the assistant turn and the checker's
feedback as the next user turn (lgtm-575's revision request), up to ``max_revisions`` times. A
chain stops at its first attempt that passes. Chains never wait for a round to finish: an item's
revision leaves as soon as its own check fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..tasks import Check, Task
from .attempts import BUDGET, ERROR, NEVER_PASSED, PASSED, Attempt, ItemRun
from .ledger import BudgetExhausted
from .teacher import Teacher


@dataclass(frozen=True)
class LoopConfig:
    max_revisions: int = 3
    candidates: int = 1


def revision_messages(prompt: Sequence[dict], previous: str, feedback: str) -> list[dict]:
    """The original prompt, the previous attempt, and the feedback asking for a revision."""
    return [*prompt, {"role": "assistant", "content": previous},
            {"role": "user", "content": feedback}]


def teacher_prompt(task: Task, item: dict) -> list[dict]:
    """The task's teacher prompt (a task object that is no Task subclass: its render)."""
    hook = getattr(task, "teacher_render", None) or task.render
    return list(hook(item))


def revision_request(task: Task, item: dict, check: Check) -> str:
    """The user turn of a revision: the task's own wording, or the protocol's."""
    hook = getattr(task, "revision_message", None)
    return hook(item, check) if hook is not None else Task.revision_message(task, item, check)


async def run_chain(task: Task, teacher: Teacher, run: ItemRun, candidate: int,
                    cfg: LoopConfig, on_attempt: Callable[[Attempt], None]) -> str:
    """One chain of attempts for one item; returns how it ended."""
    prompt = teacher_prompt(task, run.item)
    messages, feedback = prompt, None
    for round_ in range(cfg.max_revisions + 1):
        try:
            answer = await teacher.ask(messages, run.item_id, candidate, round_)
        except BudgetExhausted:
            return BUDGET
        c = answer.completion
        check = Check(False, "request failed") if c.error else task.check(run.item, c.text)
        attempt = Attempt(run.item_id, round_, candidate, answer.request.key,
                          answer.request.prompt_hash, c.text, check, feedback,
                          c.prompt_tokens, c.completion_tokens, answer.cached, c.error,
                          c.finish_reason)
        run.attempts.append(attempt)
        on_attempt(attempt)
        if c.error:
            return ERROR
        if check.ok:
            return PASSED
        feedback = revision_request(task, run.item, check)
        messages = revision_messages(prompt, c.text, feedback)
    return NEVER_PASSED


def _status(endings: Sequence[str]) -> str:
    for status in (PASSED, BUDGET, ERROR):
        if status in endings:
            return status
    return NEVER_PASSED


async def run_item(task: Task, teacher: Teacher, item: dict, cfg: LoopConfig,
                   on_attempt: Callable[[Attempt], None]) -> ItemRun:
    run = ItemRun(item)
    endings = await asyncio.gather(*(run_chain(task, teacher, run, k, cfg, on_attempt)
                                     for k in range(cfg.candidates)))
    run.status = _status(endings)
    run.attempts.sort(key=lambda a: (a.candidate, a.round))
    return run


async def run_loop(task: Task, teacher: Teacher, items: Sequence[dict], cfg: LoopConfig,
                   on_attempt: Callable[[Attempt], None] = lambda a: None) -> list[ItemRun]:
    """Every item's chains at once (bounded by the teacher's concurrency), in item order."""
    return list(await asyncio.gather(*(run_item(task, teacher, i, cfg, on_attempt)
                                       for i in items)))
