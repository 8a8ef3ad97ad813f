"""The SQLite journal: WAL, one row per key, errors apart and cleared by a later success."""

from __future__ import annotations

import sqlite3

from assay.models import Completion
from assay.store import Store, canonical_hash, model_key


def test_put_get_and_no_duplicates(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        c = Completion(text="hi", finish_reason="stop", prompt_tokens=3, completion_tokens=1,
                       latency_s=0.1, logprobs=[{"token": "hi", "logprob": -0.5}])
        s.put("k1", "m", "p", None, c)
        s.put("k1", "m", "p", None, Completion(text="other"))  # a second write never replaces
        got = s.get_many(["k1", "k2"])
        assert list(got) == ["k1"] and got["k1"].text == "hi"
        assert got["k1"].logprobs == [{"token": "hi", "logprob": -0.5}]
        assert s.count() == 1
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_errors_are_kept_apart_and_cleared_by_success(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        s.put("k", "m", "p", 0, Completion(error="HTTP 500"))
        assert s.get_many(["k"]) == {} and s.errors_for(["k"]) == {"k": "HTTP 500"}
    with Store(tmp_path / "s.sqlite") as s:  # reopened: the error is still known
        s.put("k", "m", "p", 0, Completion(text="ok"))
        assert s.errors_for(["k"]) == {} and s.get_many(["k"])["k"].text == "ok"


def test_keys_are_canonical():
    assert canonical_hash({"a": 1, "b": [1, 2]}) == canonical_hash({"b": [1, 2], "a": 1})
    assert model_key({"model": "a"}, {"t": 0}) != model_key({"model": "b"}, {"t": 0})


def test_complete_cached_sends_each_distinct_prompt_once_and_reads_back(tmp_path):
    """The helper-model path (judges, reflectors): duplicates share a request, a rerun sends
    nothing, and the answers come back in prompt order."""
    from assay.models import Decoding
    from assay.models._types import Completion
    from assay.store import complete_cached

    class Backend:
        sent: list = []

        def identity(self):
            return {"backend": "stub", "model": "m"}

        def generate(self, requests, on_done):
            for r in requests:
                self.sent.append(r.messages[-1]["content"])
                on_done(r, Completion(text="answer to " + r.messages[-1]["content"]))

    prompts = [[{"role": "user", "content": t}] for t in ("a", "b", "a")]
    got, sent = complete_cached(Backend(), tmp_path / "s.sqlite", prompts, Decoding(max_tokens=4))
    assert [c.text for c in got] == ["answer to a", "answer to b", "answer to a"]
    assert sent == 2 and sorted(Backend.sent) == ["a", "b"]
    again, sent = complete_cached(Backend(), tmp_path / "s.sqlite", prompts[::-1],
                                  Decoding(max_tokens=4))
    assert sent == 0 and [c.text for c in again] == ["answer to a", "answer to b", "answer to a"]
    assert all(c.cached for c in again) and len(Backend.sent) == 2
