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
