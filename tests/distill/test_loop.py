"""The loop and the teacher: chains per attempt, revision requests, the store, local batching."""

from __future__ import annotations

import asyncio
import re
import time


from assay.distill import (BUDGET, NEVER_PASSED, PASSED, Ledger, LoopConfig, Teacher,
                           revision_messages, run_loop)
from assay.models import Completion
from assay.store import Store
from assay.tasks import Check, Task


class WordTask(Task):
    """Answer with exactly `want` words."""

    name = "words"

    def render(self, item, pass_="original"):
        return [{"role": "user", "content": f"item {item['id']}: say {item['want']} words"}]

    def parse(self, text):
        return text

    def check(self, item, text):
        n = len(text.split())
        if n == item["want"]:
            return Check(True, "", {"words": n})
        return Check(False, f"you wrote {n} words; write {item['want']}", {"words": n})


def answer(messages) -> str:
    """Wrong (one word) on a draft, right once the feedback says how many words."""
    wanted = re.search(r"; write (\d+)", messages[-1]["content"])
    if len(messages) > 1 and wanted:
        return " ".join(["w"] * int(wanted.group(1)))
    return "w"


class AsyncBackend:
    """agenerate with a per-item latency; logs (event, item, round, time)."""

    def __init__(self, latency: dict[str, float]):
        self.latency, self.log = latency, []

    def identity(self):
        return {"backend": "fake-async"}

    async def agenerate(self, requests, on_done):
        for r in requests:
            rnd = (len(r.messages) - 1) // 2
            self.log.append(("sent", r.item_id, rnd, time.perf_counter()))
            await asyncio.sleep(self.latency.get(r.item_id, 0.01))
            self.log.append(("done", r.item_id, rnd, time.perf_counter()))
            on_done(r, Completion(text=answer(r.messages), prompt_tokens=3,
                                  completion_tokens=1))


class SyncBackend:
    """generate in batches (like hf): records each batch's size."""

    def __init__(self):
        self.batches = []

    def identity(self):
        return {"backend": "fake-sync"}

    def generate(self, requests, on_done):
        self.batches.append(len(requests))
        for r in requests:
            on_done(r, Completion(text=answer(r.messages)))


def _run(backend, items, tmp_path, cfg=LoopConfig(), ledger=None, store=None):
    store = store or Store(tmp_path / "s.sqlite")
    teacher = Teacher(backend, store, ledger or Ledger(), temperature=0.0, max_tokens=8,
                      concurrency=8)
    return asyncio.run(run_loop(WordTask(), teacher, items, cfg)), store


def test_revision_is_prompt_then_attempt_then_feedback():
    got = revision_messages([{"role": "user", "content": "p"}], "old", "fix it")
    assert got == [{"role": "user", "content": "p"}, {"role": "assistant", "content": "old"},
                   {"role": "user", "content": "fix it"}]


def test_each_item_revises_as_soon_as_its_own_check_fails(tmp_path):
    backend = AsyncBackend({"slow": 0.4, "fast": 0.01})
    items = [{"id": "slow", "want": 2}, {"id": "fast", "want": 3}]
    runs, _ = _run(backend, items, tmp_path)
    assert [r.status for r in runs] == [PASSED, PASSED]
    when = {(e, i, r): t for e, i, r, t in backend.log}
    # the fast item's revision went out (and came back) while the slow draft was in flight
    assert when[("done", "fast", 1)] < when[("done", "slow", 0)]
    fast = runs[1]
    assert [a.round for a in fast.attempts] == [0, 1]
    assert fast.attempts[1].feedback_sent.startswith("Your answer does not pass the check: "
                                                     "you wrote 1 words; write 3")


def test_the_store_serves_a_rerun_and_nothing_is_sent_twice(tmp_path):
    items = [{"id": str(k), "want": 2 + k % 3} for k in range(6)]
    first = AsyncBackend({})
    runs, store = _run(first, items, tmp_path)
    assert sum(e == "sent" for e, *_ in first.log) == 12
    again = AsyncBackend({})
    runs2, _ = _run(again, items, tmp_path, store=store)
    assert again.log == []
    assert [a.text for r in runs2 for a in r.attempts] == [a.text for r in runs for a in r.attempts]
    assert all(a.cached for r in runs2 for a in r.attempts)


def test_a_chain_stops_after_max_revisions(tmp_path):
    class Never(AsyncBackend):
        async def agenerate(self, requests, on_done):
            for r in requests:
                on_done(r, Completion(text=f"w{len(r.messages)}"))
    runs, _ = _run(Never({}), [{"id": "a", "want": 5}], tmp_path, LoopConfig(max_revisions=2))
    assert runs[0].status == NEVER_PASSED
    assert [a.round for a in runs[0].attempts] == [0, 1, 2]


def test_candidates_are_independent_chains(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    teacher = Teacher(AsyncBackend({}), store, Ledger(), temperature=0.7, max_tokens=8,
                      concurrency=4)
    runs = asyncio.run(run_loop(WordTask(), teacher, [{"id": "a", "want": 2}],
                                LoopConfig(candidates=3)))
    atts = runs[0].attempts
    assert [(a.candidate, a.round) for a in atts] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0),
                                                     (2, 1)]
    assert len({a.request_key for a in atts}) == 6  # seeds differ per candidate


def test_budget_stops_chains_cleanly(tmp_path):
    ledger = Ledger(price_in=1e6, price_out=1e6, budget=30.0)  # 1 USD a token
    runs, _ = _run(AsyncBackend({}), [{"id": str(k), "want": 2} for k in range(4)], tmp_path,
                   ledger=ledger)
    assert BUDGET in {r.status for r in runs}
    assert ledger.spent() <= 30.0


def test_local_backends_get_the_waiting_requests_as_one_batch(tmp_path):
    backend = SyncBackend()
    items = [{"id": str(k), "want": 2} for k in range(5)]
    runs, _ = _run(backend, items, tmp_path)
    assert all(r.status == PASSED for r in runs)
    assert backend.batches == [5, 5]  # the drafts, then the revisions


def test_two_items_with_the_same_prompt_both_finish_on_a_batching_backend(tmp_path):
    """Same prompt, same request key: generated once, and both chains get the answer (the
    batcher once kept one future per key and the other chain waited forever)."""
    class SamePrompt(WordTask):
        def render(self, item, pass_="original"):
            return [{"role": "user", "content": f"say {item['want']} words"}]

    backend = SyncBackend()
    items = [{"id": "a", "want": 1}, {"id": "b", "want": 1}]
    teacher = Teacher(backend, Store(tmp_path / "s.sqlite"), Ledger(), temperature=0.0,
                      max_tokens=8, concurrency=8)
    runs = asyncio.run(asyncio.wait_for(run_loop(SamePrompt(), teacher, items, LoopConfig()),
                                        20))
    assert [r.status for r in runs] == [PASSED, PASSED]
    assert backend.batches[0] == 1  # one request generated for the two identical prompts
