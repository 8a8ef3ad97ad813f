"""The eval runner through a loopback server: caching keyed by full identity, resume, samples,
errors, truncation, the run directory, and bad input."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from assay.errors import AssayError, InputError
from assay.rundir import load_run
from assay.run import EvalConfig, evaluate, sample_seed
from assay.testing import FakeOpenAIServer

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))


def write_items(path: Path, n: int, **extra) -> Path:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": f"what is {i}?", "answer": "yes",
                                **extra}) + "\n")
    return path


def config(tmp_path, srv_urls, n=10, **kw) -> EvalConfig:
    data = write_items(tmp_path / "items.jsonl", n)
    models = kw.pop("models", None) or [f"{lab}=openai:{lab}-model@{u}" for lab, u in srv_urls]
    return EvalConfig(task="exact", task_module="exact_task", data=str(data), models=models,
                      out=str(tmp_path / "run"), store=str(tmp_path / "store.sqlite"),
                      **kw)


def yes_for(model):
    return lambda body: "yes" if body["model"] == model else "no"


def test_run_directory_and_metrics(tmp_path):
    with FakeOpenAIServer(yes_for("a-model")) as srv:
        res = evaluate(config(tmp_path, [("a", srv.base_url), ("b", srv.base_url)]))
    run = load_run(res.out_dir)
    assert run.models == ["a", "b"]
    assert {k: v["accuracy"] for k, v in res.metrics["models"].items()} == {"a": 1.0, "b": 0.0}
    assert res.metrics["models"]["a"]["parse_failure_rate"] == 0.0 == \
        res.metrics["parse_failure_rate"]["a"]
    assert len(run.records) == 20 and res.requests_sent == 20 and res.cache_hits == 0
    rec = run.records_of("a")[0]
    assert rec["scores"] == {"correct": True} and rec["parsed"] == "yes"
    assert rec["finish_reason"] == "stop" and rec["truncated"] is False
    # the same prompt (hash) for every model
    hashes = {(r["id"], r["prompt_hash"]) for r in run.records}
    assert len(hashes) == 10
    m = run.manifest
    assert m["data"]["n_items"] == 10 and len(m["data"]["sha256"]) == 64
    assert m["requests_sent"] == 20 and m["models"]["a"]["spec"].startswith("openai:a-model@")
    assert m["versions"]["assay"] and m["started_at"] <= m["finished_at"]


def test_rerun_sends_nothing_and_gives_the_same_records(tmp_path):
    with FakeOpenAIServer(yes_for("a-model")) as srv:
        cfg = config(tmp_path, [("a", srv.base_url)])
        evaluate(cfg)
        first = (tmp_path / "run" / "items.jsonl").read_text()
        res = evaluate(cfg)
    assert srv.stats.requests == 10
    assert res.requests_sent == 0 and res.cache_hits == 10
    strip = lambda text: [{k: v for k, v in json.loads(l).items() if k != "cached"}
                          for l in text.splitlines()]
    assert strip((tmp_path / "run" / "items.jsonl").read_text()) == strip(first)


def test_cache_is_keyed_by_model_and_base_url(tmp_path):
    with FakeOpenAIServer() as s1, FakeOpenAIServer() as s2:
        evaluate(config(tmp_path, [], models=[f"a=openai:same@{s1.base_url}"]))
        evaluate(config(tmp_path, [], models=[f"a=openai:same@{s2.base_url}"]))
        # label 'a' now names another model: the run at --out is replaced only with force
        evaluate(config(tmp_path, [], models=[f"a=openai:other@{s1.base_url}"], force=True))
    assert (s1.stats.requests, s2.stats.requests) == (20, 10)
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT model_key) FROM completions"
                          ).fetchone() == (30, 3)


def test_decoding_is_part_of_the_key(tmp_path):
    with FakeOpenAIServer() as srv:
        evaluate(config(tmp_path, [("a", srv.base_url)]))
        evaluate(config(tmp_path, [("a", srv.base_url)], max_tokens=5))
    assert srv.stats.requests == 20


def test_samples_get_per_item_seeds_shared_across_models(tmp_path):
    with FakeOpenAIServer() as srv:
        res = evaluate(config(tmp_path, [("a", srv.base_url), ("b", srv.base_url)], n=3,
                              samples=2, sample_temperature=0.7))
    assert res.requests_sent == 3 * 3 * 2
    sampled = [b for b in srv.stats.bodies if b["temperature"] == 0.7]
    assert len(sampled) == 12
    seeds = {(b["model"], b["seed"]) for b in sampled}
    expected = {sample_seed(f"q{i}", k) for i in range(3) for k in range(2)}
    assert {s for _, s in seeds} == expected and len(seeds) == 12
    run = load_run(res.out_dir)
    assert sorted({r["sample"] for r in run.records}, key=str) == [0, 1, None]


def test_errors_are_recorded_counted_and_retried_on_rerun(tmp_path):
    fail = {"on": True}
    fault = lambda i, body: {"status": 400} if fail["on"] and "3" in body["messages"][-1]["content"] else None
    with FakeOpenAIServer(fault=fault) as srv:
        cfg = config(tmp_path, [("a", srv.base_url)], max_retries=0, max_errors=1)
        evaluate(cfg)
        run = load_run(tmp_path / "run")
        errs = [r for r in run.records if r["error"]]
        assert len(errs) == 1 and errs[0]["id"] == "q3" and errs[0]["scores"] == {}
        assert run.metrics["errors"] == {"a": 1}
        fail["on"] = False
        res = evaluate(cfg)
    assert res.requests_sent == 1 and res.errors == 0


def test_max_errors_lets_a_run_finish(tmp_path):
    with FakeOpenAIServer(fault=lambda i, b: {"status": 400} if i == 0 else None) as srv:
        res = evaluate(config(tmp_path, [("a", srv.base_url)], max_errors=1, concurrency=1))
    assert res.errors == 1


def test_truncated_share_is_reported(tmp_path):
    responder = lambda body: "yes" if "1" in body["messages"][-1]["content"] else "a b c d e f"
    with FakeOpenAIServer(responder) as srv:
        res = evaluate(config(tmp_path, [("a", srv.base_url)], max_tokens=3))
    # items 1 answers briefly; 9 of 10 are cut by the limit
    assert res.metrics["truncated_share"]["a"] == pytest.approx(0.9)
    assert res.manifest["truncated_share"]["a"] == pytest.approx(0.9)


def test_unknown_task_lists_the_tasks(tmp_path):
    with pytest.raises(AssayError, match="Known tasks: .*paper-review"):
        evaluate(EvalConfig(task="nope", data="x", models=["a=openai:m@http://h/v1"],
                            out=str(tmp_path)))


def test_bad_items_name_file_line_and_field(tmp_path):
    data = tmp_path / "items.jsonl"
    data.write_text('{"id": 1, "question": "q", "answer": "a"}\n{"id": 2, "question": 5, '
                    '"answer": "a"}\n{"id": 1, "question": "q", "answer": "a"}\n{oops\n')
    with FakeOpenAIServer() as srv:
        cfg = EvalConfig(task="exact", task_module="exact_task", data=str(data),
                         models=[f"a=openai:m@{srv.base_url}"], out=str(tmp_path / "r"),
                         store=str(tmp_path / "s.sqlite"), max_retries=0)
        with pytest.raises(InputError) as exc:
            evaluate(cfg)
        assert "items.jsonl, line 2: field 'question'" in str(exc.value)
        assert "expected str, found int" in str(exc.value)
        assert srv.stats.requests == 0  # bad items fail before anything is sent
        cfg.skip_invalid = True
        res = evaluate(cfg)
    assert res.manifest["data"]["skipped_invalid"] == 3
    msgs = " | ".join(res.manifest["data"]["skipped_messages"])
    assert "duplicate id" in msgs and "line 4" in msgs and "malformed JSON" in msgs


def test_missing_and_empty_files(tmp_path):
    base = dict(task="exact", task_module="exact_task", models=["a=openai:m@http://h/v1"],
                out=str(tmp_path / "r"))
    with pytest.raises(InputError, match="file not found"):
        evaluate(EvalConfig(data=str(tmp_path / "none.jsonl"), **base))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InputError, match="no valid items"):
        evaluate(EvalConfig(data=str(tmp_path / "empty.jsonl"), **base))


def test_duplicate_labels_rejected(tmp_path):
    with pytest.raises(AssayError, match="given twice"):
        evaluate(config(tmp_path, [], models=["a=openai:m@http://h/v1", "a=hf:x"]))


def test_backend_options_reach_the_backend_and_unknown_ones_are_named(tmp_path):
    fault = lambda i, body: {"status": 503} if i == 0 else None
    with FakeOpenAIServer(fault=fault) as srv:
        cfg = config(tmp_path, [("a", srv.base_url)], n=1, max_errors=1,
                     backend_options={"max_retries": 0})
        res = evaluate(cfg)
        assert res.errors == 1 and srv.stats.requests == 1  # no retry: the option took effect
        assert res.manifest["models"]["a"]["backend_options"] == {"max_retries": 0}
        cfg.backend_options = {"dtype": "bfloat16"}
        with pytest.raises(AssayError, match="the openai backend has no option \\['dtype'\\]"):
            evaluate(cfg)


def test_served_models_generate_concurrently_each_within_its_concurrency(tmp_path):
    with FakeOpenAIServer(latency_s=0.1) as srv:
        res = evaluate(config(tmp_path, [("a", srv.base_url), ("b", srv.base_url)], n=24,
                              concurrency=6))
    # both models' requests were in flight together, each model capped at its own 6
    assert srv.stats.max_in_flight == 12
    assert res.requests_sent == 48
    m = res.manifest
    assert m["models"]["a"]["requests_sent"] == m["models"]["b"]["requests_sent"] == 24


def test_a_parse_or_score_exception_is_that_items_error_and_the_run_is_written(tmp_path):
    def answer(body):
        return "recurse" if body["messages"][-1]["content"] == "what is 1?" else "yes"

    with FakeOpenAIServer(answer) as srv:
        cfg = config(tmp_path, [("a", srv.base_url)], n=6)
        cfg.task, cfg.task_module = "fragile", "fragile_task"
        with pytest.raises(AssayError, match="2 completion.*parsing or scoring raised"):
            evaluate(cfg)
        run = load_run(tmp_path / "run")  # written before the error was raised
        by_id = {r["id"]: r for r in run.records}
        assert by_id["q1"]["error"].startswith("parsing raised RecursionError")
        assert by_id["q3"]["error"].startswith("scoring raised ValueError: cannot score")
        assert len(by_id["q3"]["error"]) < 400  # the message is cut
        assert all(by_id[f"q{i}"]["scores"] == {"correct": True} for i in (0, 2, 4, 5))
        assert run.metrics["models"]["a"]["accuracy"] == 1.0 and run.metrics["errors"]["a"] == 2
        cfg.max_errors = 2  # the rerun reads the cached outputs and no longer crashes
        res = evaluate(cfg)
        assert res.requests_sent == 0 and res.errors == 2
