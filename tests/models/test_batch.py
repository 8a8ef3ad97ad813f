"""The openai-batch backend against a loopback Batch API (files, batches, status, output and
error files): results journaled under their store keys, a rerun sends nothing, per-request
errors inside a completed batch, a failed batch, and a process killed (SIGKILL) between
submission and completion resumes the same batch: exactly one batch is ever created."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.models import parse_spec
from assay.rundir import load_run
from assay.run import EvalConfig, evaluate
from assay.testing import script_env
from assay.testing_batch import FakeBatchServer

FIXTURES = Path(__file__).parents[1] / "fixtures"
FAST = {"poll_s": 0.02, "max_poll_s": 0.05}


@pytest.fixture(autouse=True)
def _fixtures_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))


def _answer(body):
    q = body["messages"][-1]["content"]
    return "yes" if int(q.split()[-1].rstrip("?")) % 2 == 0 else "no"


def _data(tmp_path, n=6) -> str:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": f"what is {i}?",
                                        "answer": "yes"}) + "\n" for i in range(n)))
    return str(path)


def _cfg(tmp_path, url, **kw):
    return EvalConfig(task="exact", task_module="exact_task", data=_data(tmp_path, kw.pop("n", 6)),
                      models=[f"b=openai-batch:m@{url}"], out=str(tmp_path / "run"),
                      store=str(tmp_path / "store.sqlite"),
                      backend_options=kw.pop("backend_options", FAST), **kw)


def _journal(tmp_path):
    db = sqlite3.connect(str(tmp_path / "store.sqlite"))
    rows = db.execute("SELECT batch_id, state, status, keys FROM batches ORDER BY created_at")
    return [(b, s, st, json.loads(k)) for b, s, st, k in rows]


def _uploaded(srv, fid="file-1"):
    return [json.loads(x) for x in srv.batch_stats.files[fid].decode().splitlines()]


def test_spec_parses_and_refuses_several_urls():
    spec = parse_spec("openai-batch:gpt-4o-mini@https://api.openai.com/v1")
    assert spec.backend == "openai-batch" and str(spec).startswith("openai-batch:gpt-4o-mini@")
    with pytest.raises(AssayError, match="a batch goes to one server"):
        parse_spec("openai-batch:m@http://a:1/v1,http://b:1/v1")


def test_batch_results_are_journaled_under_their_keys_and_a_rerun_sends_nothing(tmp_path):
    with FakeBatchServer(_answer, hold=False) as srv:
        res = evaluate(_cfg(tmp_path, srv.base_url))
        assert srv.batch_stats.uploads == 1 and srv.batch_stats.batches_created == 1
        lines = _uploaded(srv)
        polls = srv.batch_stats.polls
        again = evaluate(_cfg(tmp_path, srv.base_url))
        assert srv.batch_stats.uploads == 1 and srv.batch_stats.batches_created == 1
        assert srv.batch_stats.polls == polls and srv.stats.requests == 0  # no chat at all
    assert res.requests_sent == 6 and again.requests_sent == 0 and again.cache_hits == 6
    run = load_run(res.out_dir)
    assert res.metrics["models"]["b"]["accuracy"] == pytest.approx(3 / 6)  # even i says yes
    db = sqlite3.connect(str(tmp_path / "store.sqlite"))
    stored = {k for (k,) in db.execute("SELECT key FROM completions")}
    assert {x["custom_id"] for x in lines} == stored and len(stored) == 6
    assert all(x["url"] == "/v1/chat/completions" and x["body"]["model"] == "m"
               and x["body"]["max_tokens"] == 16 for x in lines)
    assert {r["output"] for r in run.records} == {"yes", "no"}
    [(bid, state, status, keys)] = _journal(tmp_path)
    assert (bid, state, status, set(keys)) == ("batch_1", "journaled", "completed", stored)
    assert run.manifest["models"]["b"]["identity"]["backend"] == "openai-batch"


def test_per_request_errors_inside_a_completed_batch(tmp_path):
    fault = lambda i, body: {"status": 400, "message": "bad max_tokens"} if i in (1, 4) else None
    with FakeBatchServer(_answer, hold=False, fault=fault) as srv:
        res = evaluate(_cfg(tmp_path, srv.base_url, max_errors=10))
        failed = [r for r in load_run(res.out_dir).records if r["error"]]
        assert len(failed) == 2 and res.errors == 2
        assert all(r["error"] == "HTTP 400 in batch batch_1: bad max_tokens" for r in failed)
        keys = {x["custom_id"] for i, x in enumerate(_uploaded(srv)) if i in (1, 4)}
        db = sqlite3.connect(str(tmp_path / "store.sqlite"))
        assert {k for (k,) in db.execute("SELECT key FROM errors")} == keys
        # the rerun sends only the two failed requests, as a second batch
        srv.batch_fault = None
        again = evaluate(_cfg(tmp_path, srv.base_url, max_errors=10))
        assert srv.batch_stats.batches_created == 2 and again.requests_sent == 2
        second = srv.batch_stats.batches["batch_2"]["input_file_id"]
        assert {x["custom_id"] for x in _uploaded(srv, second)} == keys
    assert again.errors == 0


def test_a_failed_batch_fails_its_requests_with_the_cause(tmp_path):
    with FakeBatchServer(_answer, hold=False, batch_status="expired") as srv:
        res = evaluate(_cfg(tmp_path, srv.base_url, max_errors=10))
    errors = {r["error"] for r in load_run(res.out_dir).records}
    assert errors == {"batch batch_1 ended expired without a result for this request; a "
                      "rerun submits it again"}


def test_a_kill_after_creating_the_batch_before_journaling_its_id_finds_it(tmp_path):
    """The batch id was never journaled (the process died right after POST /batches): the
    rerun finds the batch by the token in its metadata instead of creating another."""
    with FakeBatchServer(_answer, hold=True) as srv:
        cfg = _cfg(tmp_path, srv.base_url,
                   backend_options={**FAST, "max_wait_s": 0.2})
        with pytest.raises(AssayError, match="still in_progress"):
            evaluate(cfg)
        db = sqlite3.connect(str(tmp_path / "store.sqlite"), isolation_level=None)
        db.execute("UPDATE batches SET state = 'uploaded', batch_id = NULL, status = NULL")
        srv.release()
        res = evaluate(_cfg(tmp_path, srv.base_url))
        assert srv.batch_stats.batches_created == 1 and srv.batch_stats.lists == 1
    assert res.errors == 0 and res.requests_sent == 6


def test_sigkill_between_submission_and_completion_resumes_the_same_batch(tmp_path):
    with FakeBatchServer(_answer, hold=True) as srv:
        data = _data(tmp_path, 8)
        cmd = [sys.executable, "-m", "assay", "eval", "exact", "--task-module", "exact_task",
               "--data", data, "--model", f"b=openai-batch:m@{srv.base_url}",
               "--backend-option", "poll_s=0.05", "--backend-option", "max_poll_s=0.1",
               "--store", str(tmp_path / "store.sqlite"), "--out", str(tmp_path / "run"),
               "--json"]
        p = subprocess.Popen(cmd, env=script_env(FIXTURES), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while srv.batch_stats.polls < 3 and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()
        os.kill(p.pid, signal.SIGKILL)  # submitted, polled, not complete
        p.communicate()
        assert srv.batch_stats.batches_created == 1
        assert [(b, s) for b, s, _, _ in _journal(tmp_path)] == [("batch_1", "submitted")]
        srv.release()
        q = subprocess.run(cmd, env=script_env(FIXTURES), capture_output=True, text=True,
                           timeout=120)
        assert q.returncode == 0, q.stderr
        assert srv.batch_stats.batches_created == 1 and srv.batch_stats.uploads == 1
        third = subprocess.run(cmd, env=script_env(FIXTURES), capture_output=True, text=True,
                               timeout=120)
        assert srv.batch_stats.batches_created == 1 and srv.batch_stats.uploads == 1
    out = json.loads(q.stdout)
    assert out["requests_sent"] == 8 and out["errors"] == 0
    assert json.loads(third.stdout)["requests_sent"] == 0
    assert [(b, s, st) for b, s, st, _ in _journal(tmp_path)] == [("batch_1", "journaled",
                                                                  "completed")]


def test_distill_with_a_batch_teacher_is_priced_at_the_batch_rate(tmp_path, monkeypatch):
    from assay.distill import DistillConfig, distill
    from assay.tasks import TASKS

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1]))
    from distill.test_loop import WordTask
    from distill.test_pipeline import responder

    monkeypatch.setitem(TASKS, "words", WordTask)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": f"a{k}", "want": 3}) + "\n" for k in range(4)))
    common = dict(task="words", data=str(data), price_in=2.0, price_out=8.0)
    with FakeBatchServer(responder, hold=False) as srv:
        batch = distill(DistillConfig(teacher=f"openai-batch:t@{srv.base_url}",
                                      out=str(tmp_path / "b"), store=str(tmp_path / "b.db"),
                                      backend_options=FAST, **common))
        sync = distill(DistillConfig(teacher=f"openai:t@{srv.base_url}",
                                     out=str(tmp_path / "s"), store=str(tmp_path / "s.db"),
                                     **common))
        assert srv.batch_stats.batches_created == 2  # the drafts, then the revisions
    lb, ls = batch.card["ledger"], sync.card["ledger"]
    assert lb["totals"] == ls["totals"] and lb["totals"]["requests_sent"] == 8
    assert lb["price_rate"] == 0.5 and ls["price_rate"] == 1.0
    assert lb["cost_usd"] == pytest.approx(ls["cost_usd"] / 2) and ls["cost_usd"] > 0
    assert batch.card["gates"]["written"] == sync.card["gates"]["written"] == 4
