"""distill() end to end on a small word-count task (no embeddings): budget stop and resume,
best-effort admission, duplicates in the candidates file, the seeded split, config errors."""

from __future__ import annotations

import json
import re

import pytest

from assay.distill import DistillConfig, check_config, distill
from assay.errors import AssayError
from assay.tasks import TASKS
from assay.testing import FakeOpenAIServer

from .test_loop import WordTask


def responder(body: dict) -> str:
    """Draft: one word; revision: the number of words the feedback asks for, except for items
    whose prompt says 'stubborn' (never fixed); 'twin' items all answer the same words."""
    first = body["messages"][0]["content"]
    wanted = re.search(r"; write (\d+)", body["messages"][-1]["content"])
    if "stubborn" in first or len(body["messages"]) == 1 or not wanted:
        return "w"
    word = "twin" if "twin" in first else first.split()[1].rstrip(":")
    return " ".join([word] * int(wanted.group(1)))


@pytest.fixture
def words_task(monkeypatch):
    monkeypatch.setitem(TASKS, "words", WordTask)


def _items(tmp_path, rows):
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _cfg(tmp_path, url, data, **kw):
    return DistillConfig(task="words", data=data, teacher=f"openai:t@{url}",
                         out=str(tmp_path / "out"), store=str(tmp_path / "s.sqlite"), **kw)


def _candidates(tmp_path):
    return [json.loads(x) for x in (tmp_path / "out" / "candidates.jsonl").read_text().splitlines()]


def test_budget_stops_cleanly_and_a_higher_budget_resumes(words_task, tmp_path):
    data = _items(tmp_path, [{"id": f"a{k}", "want": 3} for k in range(6)])
    with FakeOpenAIServer(responder) as srv:
        # prices of 1 USD per token in and out: each request's worst case is about 16 USD
        small = distill(_cfg(tmp_path, srv.base_url, data, price_in=1e6, price_out=1e6,
                             budget=60.0, concurrency=1, max_tokens=8))
        sent = srv.stats.requests
        assert small.stopped_by_budget and small.card["ledger"]["cost_usd"] <= 60.0
        assert small.card["gates"]["unfinished_at_budget"] > 0
        assert {c["decision"] for c in _candidates(tmp_path)} >= {"budget"}
        full = distill(_cfg(tmp_path, srv.base_url, data, price_in=1e6, price_out=1e6,
                            budget=1e4, concurrency=1, max_tokens=8))
        assert 0 < sent < 12 and srv.stats.requests == 12  # 6 drafts + 6 revisions, none twice
    assert not full.stopped_by_budget and full.card["gates"]["written"] == 6
    assert full.cache_hits == sent


def test_best_effort_admits_what_never_passed_marked(words_task, tmp_path):
    data = _items(tmp_path, [{"id": "stubborn", "want": 3}, {"id": "ok", "want": 2}])
    with FakeOpenAIServer(responder) as srv:
        strict = distill(_cfg(tmp_path, srv.base_url, data, max_revisions=1))
        assert strict.card["gates"]["never_passed"] == 1 and strict.card["gates"]["written"] == 1
        effort = distill(_cfg(tmp_path, srv.base_url, data, max_revisions=1,
                              keep="best-effort"))
    rows = [json.loads(x) for x in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    assert [r.get("best_effort", False) for r in rows] == [True, False]
    assert effort.card["gates"]["best_effort"] == 1


def test_duplicate_targets_are_dropped_and_recorded(words_task, tmp_path):
    data = _items(tmp_path, [{"id": "twin1", "want": 2}, {"id": "twin2", "want": 2},
                             {"id": "solo", "want": 2}])
    with FakeOpenAIServer(responder) as srv:
        res = distill(_cfg(tmp_path, srv.base_url, data))
    g = res.card["gates"]
    assert g["selected"] == 3 and g["dropped_exact_duplicates"] == 1 and g["written"] == 2
    dup = [c for c in _candidates(tmp_path) if c["decision"] == "duplicate"]
    assert {c["id"] for c in dup} == {"twin2"} and "duplicate of twin1" in dup[0]["reason"]


def test_the_split_is_seeded(words_task, tmp_path):
    data = _items(tmp_path, [{"id": f"s{k}", "want": 2} for k in range(10)])
    with FakeOpenAIServer(responder) as srv:
        distill(_cfg(tmp_path, srv.base_url, data, val_fraction=0.3, seed=4))
        val1 = (tmp_path / "out" / "val.jsonl").read_text()
        distill(_cfg(tmp_path, srv.base_url, data, val_fraction=0.3, seed=4))
        assert (tmp_path / "out" / "val.jsonl").read_text() == val1
        distill(_cfg(tmp_path, srv.base_url, data, val_fraction=0.3, seed=5))
    assert len(val1.splitlines()) == 3
    assert (tmp_path / "out" / "val.jsonl").read_text() != val1


@pytest.mark.parametrize("change,words", [
    ({"candidates": 3}, ["--candidates", "--temperature"]),
    ({"budget": 5.0}, ["--budget", "--price-in"]),
    ({"val_fraction": 1.0}, ["val_fraction"]),
    ({"keep": "all"}, ["keep"]),
    ({"teacher": ""}, ["--teacher"]),
])
def test_contradictions_and_bad_values_name_the_settings(change, words):
    cfg = DistillConfig(task="words", data="x.jsonl", teacher="openai:t@http://h/v1")
    for k, v in change.items():
        setattr(cfg, k, v)
    with pytest.raises(AssayError) as err:
        check_config(cfg)
    assert all(w in str(err.value) for w in words)


def test_no_cache_sends_every_request_again_and_the_new_answers_supersede(words_task, tmp_path):
    data = _items(tmp_path, [{"id": f"n{k}", "want": 2} for k in range(3)])
    with FakeOpenAIServer(responder) as srv:
        first = distill(_cfg(tmp_path, srv.base_url, data))
        sent = srv.stats.requests
        again = distill(_cfg(tmp_path, srv.base_url, data))
        assert srv.stats.requests == sent and again.cache_hits == sent
        fresh = distill(_cfg(tmp_path, srv.base_url, data, cache=False))
        assert srv.stats.requests == 2 * sent and fresh.requests_sent == sent
    assert first.card["gates"]["written"] == fresh.card["gates"]["written"] == 3
    import sqlite3

    with sqlite3.connect(tmp_path / "s.sqlite") as db:  # every superseded answer kept
        assert db.execute("SELECT COUNT(*) FROM completions_history").fetchone()[0] == sent


def test_shards_partition_the_items_each_with_its_own_store(words_task, tmp_path, monkeypatch):
    from assay.shard import shard_of

    monkeypatch.chdir(tmp_path)
    data = _items(tmp_path, [{"id": f"a{k}", "want": 3} for k in range(9)])
    written = {}
    with FakeOpenAIServer(responder) as srv:
        for k in (0, 1):
            cfg = DistillConfig(task="words", data=data, teacher=f"openai:t@{srv.base_url}",
                                out=str(tmp_path / f"out{k}"), shard=f"{k}/2")
            res = distill(cfg)
            assert res.card["shard"] == {"index": k, "count": 2}
            assert (tmp_path / ".assay" / f"store-shard-{k}-of-2.sqlite").is_file()
            rows = (tmp_path / f"out{k}" / "candidates.jsonl").read_text().splitlines()
            written[k] = {json.loads(r)["id"] for r in rows}
        assert srv.stats.requests == 18  # 9 drafts + 9 revisions, each sent by one shard
    assert written[0] | written[1] == {f"a{k}" for k in range(9)}
    assert not written[0] & written[1]
    assert all(shard_of(i, 2) == 0 for i in written[0])
