"""Provenance (issue 11): what was generated when, by what, on which data.

Cache visibility and --no-cache through a loopback server whose answers change between runs,
the store's history of superseded completions, and the refusals that keep a run honest.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.rundir import load_run
from assay.run import EvalConfig, cache_line, evaluate
from assay.store import Store
from assay.testing import FakeOpenAIServer

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))


def write_items(path: Path, n: int) -> Path:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": f"what is {i}?", "answer": "yes"})
                    + "\n")
    return path


def config(tmp_path, url, n=8, **kw) -> EvalConfig:
    data = write_items(tmp_path / "items.jsonl", n)
    models = kw.pop("models", None) or [f"ft=openai:ft@{url}"]
    kw.setdefault("out", str(tmp_path / "run"))
    return EvalConfig(task="exact", task_module="exact_task", data=str(data), models=models,
                      store=str(tmp_path / "store.sqlite"), **kw)


class Answer:
    """A responder whose answer can be changed between runs (a retrained adapter re-served
    under the same name at the same URL)."""

    def __init__(self, text: str):
        self.text = text

    def __call__(self, body: dict) -> str:
        return self.text


def _times(records):
    return [datetime.fromisoformat(r["created_at"]) for r in records]


def test_changed_answers_without_no_cache_are_reported_as_cache_hits(tmp_path):
    answer = Answer("no")
    with FakeOpenAIServer(answer) as srv:
        first = evaluate(config(tmp_path, srv.base_url))
        assert all(r["cached"] is False for r in load_run(first.out_dir).records)
        made = _times(load_run(first.out_dir).records)
        answer.text = "yes"  # the adapter was retrained and re-served
        second = evaluate(config(tmp_path, srv.base_url))
    assert srv.stats.requests == 8 and second.requests_sent == 0
    run = load_run(second.out_dir)
    assert all(r["cached"] is True for r in run.records)
    assert all(r["output"] == "no" for r in run.records)  # the old adapter's answers
    assert _times(run.records) == made  # each with the time it was made, in the first run
    cache = run.manifest["cache"]
    assert (cache["from_cache"], cache["answers"]) == (8, 8)
    assert cache["made_from"] == min(r["created_at"] for r in run.records)
    assert cache["made_to"] == max(r["created_at"] for r in run.records)
    assert cache_line(cache) == (f"8 of 8 answers from the cache, made between "
                                 f"{cache['made_from']} and {cache['made_to']}")
    assert run.manifest["models"]["ft"]["cache"]["from_cache"] == 8
    assert first.manifest["cache"]["from_cache"] == 0


def test_no_cache_sends_every_request_and_the_run_holds_the_new_answers(tmp_path):
    answer = Answer("no")
    with FakeOpenAIServer(answer) as srv:
        first = evaluate(config(tmp_path, srv.base_url))
        assert first.metrics["models"]["ft"]["accuracy"] == 0.0
        old_times = _times(load_run(first.out_dir).records)
        answer.text = "yes"
        second = evaluate(config(tmp_path, srv.base_url, cache=False))
        run = load_run(second.out_dir)
        third = evaluate(config(tmp_path, srv.base_url))  # later runs get the new answers
    assert srv.stats.requests == 16
    assert (second.requests_sent, second.cache_hits) == (8, 0)
    assert [r["output"] for r in run.records] == ["yes"] * 8
    assert all(r["cached"] is False for r in run.records)
    assert min(_times(run.records)) > max(old_times)
    assert second.metrics["models"]["ft"]["accuracy"] == 1.0
    assert run.manifest["no_cache"] is True and run.manifest["cache"]["from_cache"] == 0
    assert cache_line(run.manifest["cache"]) == "0 of 8 answers from the cache"
    assert third.requests_sent == 0 and third.metrics["models"]["ft"]["accuracy"] == 1.0
    # the superseded answers stay in the store's history
    with Store(tmp_path / "store.sqlite") as store:
        key = next(iter(store.get_many(
            [k for (k,) in store._db.execute("SELECT key FROM completions")])))
        assert [c.text for c in store.history(key)] == ["no"]
        assert store.count() == 8


def test_store_history_keeps_each_superseded_completion(tmp_path):
    from assay.models import Completion

    with Store(tmp_path / "s.sqlite") as s:
        t1 = s.put("k", "m", "p", None, Completion(text="one"))
        t2 = s.put("k", "m", "p", None, Completion(text="two"), replace=True)
        s.put("k", "m", "p", None, Completion(text="ignored"))  # no replace: kept as is
        t3 = s.put("k", "m", "p", None, Completion(text="three"), replace=True)
        got = s.get_many(["k"])["k"]
        assert got.text == "three" and got.cached and got.created_at == t3
        hist = s.history("k")
        assert [c.text for c in hist] == ["one", "two"]
        assert [c.created_at for c in hist] == [t1, t2]
        assert s.count() == 1


# ---------------------------------------------------------------------------------------------
# Pre-registration from the completions, and noise runs that repeat something


def _eval(tmp_path, url, out, labels=("base", "ft"), **kw):
    models = [f"{lab}=openai:{lab}@{url}" for lab in labels]
    return evaluate(config(tmp_path, url, n=30, models=models, out=str(tmp_path / out), **kw))


def _a_moment_later():
    import time

    time.sleep(0.05)  # the lock and the completions carry milliseconds


def test_cached_candidate_after_the_lock_is_not_pre_registered_a_fresh_one_is(tmp_path):
    from assay.compare import compare_runs
    from assay.goals import lock_goals

    goals = tmp_path / "goals.yaml"
    goals.write_text('accuracy: ">= 0.5"\n')
    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        _eval(tmp_path, srv.base_url, "before")       # the candidate's answers, then the lock
        _a_moment_later()
        lock = lock_goals(goals)
        _a_moment_later()
        cached = _eval(tmp_path, srv.base_url, "cached", labels=("ft",))
        fresh = _eval(tmp_path, srv.base_url, "fresh", labels=("ft",), cache=False)
    assert cached.cache_hits == 30 and fresh.requests_sent == 30
    c = compare_runs(tmp_path / "before", cached.out_dir, base="base", goals=goals)
    assert c.candidate.started_at > lock.locked_at  # started after the lock, yet:
    assert not c.goals.pre_registered
    warning = next(w for w in c.goals.warnings if w.startswith("NOT PRE-REGISTERED"))
    assert "30 of 30 candidate completions were made before the goals were locked" in warning
    assert "Fix: rerun the candidate after the lock with `assay eval ... --no-cache`" in warning
    assert c.candidate.n_cached == 30
    c = compare_runs(tmp_path / "before", fresh.out_dir, base="base", goals=goals)
    assert c.goals.pre_registered and c.goals.verdicts[0].hit
    assert not any("PRE-REGISTERED" in w for w in c.goals.warnings)
    assert c.candidate.n_cached == 0
    # read back from the candidate's run when the times are not passed
    from assay.goals import check_goals

    assert check_goals(goals, c).pre_registered
    c_old = compare_runs(tmp_path / "before", cached.out_dir, base="base")
    assert not check_goals(goals, c_old).pre_registered


def test_a_noise_run_served_from_the_cache_is_refused_with_the_fix(tmp_path):
    from assay.compare import compare_runs

    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        _eval(tmp_path, srv.base_url, "run")
        _eval(tmp_path, srv.base_url, "cached", labels=("base",))
        _eval(tmp_path, srv.base_url, "fresh", labels=("base",), cache=False)
    with pytest.raises(AssayError) as e:
        compare_runs(tmp_path / "run", noise=tmp_path / "cached", n_resamples=200)
    msg = str(e.value)
    assert "\n" not in msg and "30 of 30 items answered only from the cache" in msg
    assert "Fix: rerun the base with `assay eval ... --no-cache`" in msg
    c = compare_runs(tmp_path / "run", noise=tmp_path / "fresh", n_resamples=200)
    assert c.metric("accuracy").noise is not None


# ---------------------------------------------------------------------------------------------
# Served-model identity


class ServedServer(FakeOpenAIServer):
    """A fake server whose /models entry says what it serves, as vLLM's does."""

    def __init__(self, root: str, *args, **kw):
        super().__init__(*args, models=["ft"], **kw)
        self.root = root

    async def _list_models(self, writer) -> None:
        from assay.testing import send_response as _send

        with self._lock:
            self.stats.model_lists += 1
        data = [{"id": "ft", "object": "model", "created": __import__("time").time(),
                 "owned_by": "vllm", "root": self.root, "parent": "base-model",
                 "permission": [{"id": f"modelperm-{id(self)}-{self.stats.model_lists}"}]}]
        await _send(writer, 200, json.dumps({"object": "list", "data": data}).encode())


def test_replicas_and_localhost_share_the_cache_of_one_served_model(tmp_path):
    with ServedServer("/adapters/ft-v1") as a, ServedServer("/adapters/ft-v1") as b:
        first = evaluate(config(tmp_path, a.base_url))
        local = a.base_url.replace("127.0.0.1", "localhost")
        again = evaluate(config(tmp_path, a.base_url, models=[f"ft=openai:ft@{local}"]))
        both = evaluate(config(tmp_path, a.base_url,
                               models=[f"ft=openai:ft@{a.base_url},{b.base_url}"]))
    assert first.requests_sent == 8
    assert (again.requests_sent, again.cache_hits) == (0, 8)
    assert (both.requests_sent, both.cache_hits) == (0, 8)
    served = first.manifest["models"]["ft"]["identity"]["served"]
    assert served == {"id": "ft", "owned_by": "vllm", "root": "/adapters/ft-v1",
                      "parent": "base-model"}
    assert "base_urls" not in first.manifest["models"]["ft"]["identity"]


def test_servers_reporting_other_weights_never_share_and_replicas_must_agree(tmp_path):
    with ServedServer("/adapters/ft-v1") as a, ServedServer("/adapters/ft-v2") as b:
        evaluate(config(tmp_path, a.base_url))
        other = evaluate(config(tmp_path, a.base_url, models=[f"ft=openai:ft@{b.base_url}"]))
        with pytest.raises(AssayError) as e:
            evaluate(config(tmp_path, a.base_url,
                            models=[f"ft=openai:ft@{a.base_url},{b.base_url}"]))
    assert other.requests_sent == 8 and b.stats.requests == 8
    msg = str(e.value)
    assert "serve different models" in msg and "/adapters/ft-v2" in msg and "\n" not in msg
    assert "Fix: serve the same weights on every URL of the spec" in msg


def test_model_revision_joins_the_identity(tmp_path):
    with FakeOpenAIServer(models=["ft"]) as srv:
        evaluate(config(tmp_path, srv.base_url))
        same = evaluate(config(tmp_path, srv.base_url))
        rev = evaluate(config(tmp_path, srv.base_url, model_revisions={"ft": "abc123"}))
        with pytest.raises(AssayError) as e:
            evaluate(config(tmp_path, srv.base_url, model_revisions={"base": "abc123"}))
    assert same.requests_sent == 0 and rev.requests_sent == 8
    assert rev.manifest["models"]["ft"]["identity"]["revision"] == "abc123"
    assert "Fix: write --model-revision LABEL=REV" in str(e.value)


# ---------------------------------------------------------------------------------------------
# Coverage


def _predictions(path: Path, ids) -> Path:
    path.write_text("".join(json.dumps({"id": i, "output": "yes"}) + "\n" for i in ids))
    return path


def test_score_refuses_items_without_a_prediction_and_names_the_fix(tmp_path):
    from assay.predictions import ScoreConfig, score_predictions

    data = write_items(tmp_path / "items.jsonl", 16)
    preds = _predictions(tmp_path / "p.jsonl", ["q0"])
    cfg = ScoreConfig(task="exact", data=str(data), predictions=[f"sft={preds}"],
                      out=str(tmp_path / "run"), task_module="exact_task")
    with pytest.raises(AssayError) as e:
        score_predictions(cfg)
    msg = str(e.value)
    assert "'sft' has no prediction for 15 of 16 items (e.g. id q1)" in msg and "\n" not in msg
    assert "Fix: predict every item of --data, or pass --allow-missing" in msg
    assert not (tmp_path / "run").exists()
    cfg.allow_missing = True
    res = score_predictions(cfg)
    assert res.manifest["coverage"]["sft"] == {"covered": 1, "items": 16,
                                               "missing": [f"q{i}" for i in range(1, 16)]}
    for where in (res.manifest["warnings"], res.metrics["warnings"]):
        assert any(w.startswith("PARTIAL COVERAGE") and "1 covered items only" in w
                   for w in where)
    run = load_run(res.out_dir)
    assert run.metrics["warnings"] == res.manifest["warnings"]


def test_score_cli_prints_coverage_and_the_warning(tmp_path):
    import subprocess

    from assay.testing import script_env

    data = write_items(tmp_path / "items.jsonl", 4)
    preds = _predictions(tmp_path / "p.jsonl", ["q0", "q1"])
    args = [sys.executable, "-m", "assay", "score", "exact", "--task-module", "exact_task",
            "--data", str(data), "--predictions", f"sft={preds}", "--out", str(tmp_path / "r")]
    env = script_env(FIXTURES)
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "--allow-missing" in out.stderr
    out = subprocess.run(args + ["--allow-missing"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "coverage: sft 2 of 4 items (2 without an answer, e.g. q2)" in out.stdout
    assert "WARNING: PARTIAL COVERAGE" in out.stdout


def test_runs_and_comparisons_state_their_coverage(tmp_path):
    from assay.compare import compare_runs
    from assay.report.markdown import markdown

    fail = lambda i, body: ({"status": 400} if body["model"] == "ft"
                            and body["messages"][-1]["content"] == "what is 3?" else None)
    with FakeOpenAIServer(lambda b: "yes", fault=fail) as srv:
        res = _eval(tmp_path, srv.base_url, "run", max_errors=5)
    assert res.manifest["coverage"]["base"]["covered"] == 30
    assert res.manifest["coverage"]["ft"] == {"covered": 29, "items": 30, "missing": ["q3"]}
    c = compare_runs(res.out_dir, base="base", n_resamples=200)
    assert c.coverage() == "coverage: 29 items paired; answered: base 30 of 30, ft 29 of 30"
    assert c.coverage() in markdown(c)


# ---------------------------------------------------------------------------------------------
# Run directories


def test_a_foreign_out_is_refused_before_any_request_naming_task_and_labels(tmp_path):
    with FakeOpenAIServer(lambda b: "yes") as srv:
        _eval(tmp_path, srv.base_url, "run")
        sent = srv.stats.requests
        other_data = config(tmp_path, srv.base_url, n=5, models=[f"x=openai:x@{srv.base_url}"],
                            out=str(tmp_path / "run"))
        with pytest.raises(AssayError) as e:
            evaluate(other_data)
        relabel = config(tmp_path, srv.base_url, n=30,
                         models=[f"ft=openai:other@{srv.base_url}"], out=str(tmp_path / "run"))
        with pytest.raises(AssayError) as e2:
            evaluate(relabel)
        assert srv.stats.requests == sent  # refused before any request
        forced = evaluate(config(tmp_path, srv.base_url, n=5, force=True,
                                 models=[f"x=openai:x@{srv.base_url}"],
                                 out=str(tmp_path / "run")))
    for msg in (str(e.value), str(e2.value)):
        assert "\n" not in msg and "holds a run of task 'exact' with models base=openai:base@" \
            in msg and "ft=openai:ft@" in msg
        assert "Fix: give --out a new directory, or pass --force to replace it" in msg
    assert "on other data" in str(e.value)
    assert "'ft' there is openai:ft@" in str(e2.value)
    assert load_run(forced.out_dir).models == ["x"]


def test_another_task_at_out_is_refused(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"task": "paper-review", "models": {
        "sft": {"spec": "predictions:p.jsonl"}}}))
    (run / "items.jsonl").write_text("")
    with pytest.raises(AssayError) as e:
        evaluate(config(tmp_path, "http://127.0.0.1:9/v1"))
    assert "holds a run of task 'paper-review' with models sft=predictions:p.jsonl; this run " \
        "is of task 'exact'. Fix: give --out a new directory, or pass --force" in str(e.value)


def test_a_new_label_is_merged_into_the_run_at_out(tmp_path):
    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        _eval(tmp_path, srv.base_url, "run", labels=("base",))
        res = _eval(tmp_path, srv.base_url, "run", labels=("ft",))
    run = load_run(res.out_dir)
    assert run.models == ["base", "ft"] and len(run.records) == 60
    assert res.metrics["models"]["base"]["accuracy"] == 0.0
    assert res.metrics["models"]["ft"]["accuracy"] == 1.0
    assert set(res.manifest["coverage"]) == {"base", "ft"}


def test_items_survive_unicode_line_separators(tmp_path):
    odd = "line\u2028sep\u0085next\u2029para\x0bvt\x0cff\x1c\x1d\x1e end"
    with FakeOpenAIServer(lambda b: odd) as srv:
        res = evaluate(config(tmp_path, srv.base_url, n=20))
    run = load_run(res.out_dir)
    assert len(run.records) == 20 and all(r["output"] == odd for r in run.records)


def test_an_interruption_at_any_write_point_leaves_the_old_run_or_the_new_one(tmp_path,
                                                                              monkeypatch):
    import assay.atomic as atomic

    def outputs(path):
        return sorted((r["model"], r["output"]) for r in load_run(path).records)

    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        _eval(tmp_path, srv.base_url, "run", labels=("base",))
        old = outputs(tmp_path / "run")
        seen, point = set(), 0
        while True:
            point += 1
            calls = []

            def dies(n=point):
                calls.append(n)
                if len(calls) == n:
                    raise KeyboardInterrupt("killed")  # as a kill would, at this write point

            monkeypatch.setattr(atomic, "_kill_point", dies)
            try:
                evaluate(config(tmp_path, srv.base_url, n=30, force=True,
                                models=[f"ft=openai:ft@{srv.base_url}"],
                                out=str(tmp_path / "run")))
            except KeyboardInterrupt:
                seen.add("old" if outputs(tmp_path / "run") == old else "mixed")
                continue
            finally:
                monkeypatch.undo()
            break
        new = outputs(tmp_path / "run")
    assert point == 6  # four files, the staging exchange, and the run that finished
    assert seen == {"old"} and new != old and {m for m, _ in new} == {"ft"}
    assert not list(tmp_path.glob(".run.*"))  # no staging directory left behind


def test_a_directory_mixed_by_hand_is_refused(tmp_path):
    import shutil

    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        _eval(tmp_path, srv.base_url, "run", labels=("base",))
        _eval(tmp_path, srv.base_url, "other", labels=("ft",))
    shutil.copy(tmp_path / "other" / "items.jsonl", tmp_path / "run" / "items.jsonl")
    with pytest.raises(AssayError) as e:
        load_run(tmp_path / "run")
    msg = str(e.value)
    assert "mixes files of two runs" in msg and "\n" not in msg
    assert "Fix: rerun the same command with this --out" in msg
    from assay.compare import compare_runs

    with pytest.raises(AssayError, match="mixes files of two runs"):
        compare_runs(tmp_path / "run", tmp_path / "run")


def test_two_writers_never_share_a_temporary_file(tmp_path):
    from assay.atomic import replacing

    with replacing(tmp_path / "items.jsonl") as a, replacing(tmp_path / "items.jsonl") as b:
        assert a != b
        a.write_text("a\n")
        b.write_text("b\n")
    assert (tmp_path / "items.jsonl").read_text() in ("a\n", "b\n")


def test_report_files_are_replaced_whole(tmp_path, monkeypatch):
    import os

    from assay.compare import compare_runs
    from assay.report import write_report

    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        res = _eval(tmp_path, srv.base_url, "run")
    c = compare_runs(res.out_dir, base="base", n_resamples=200)
    files = write_report(c, tmp_path / "rep", plots=False)
    before = files.markdown.read_text()

    def killed(src, dst):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_report(c, tmp_path / "rep", plots=False)
    monkeypatch.undo()
    assert files.markdown.read_text() == before  # the old file, whole
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == [
        "comparison.json", "report.html", "report.md"]


# ---------------------------------------------------------------------------------------------
# Model card identity


def test_model_card_names_base_model_adapter_hash_and_data_sha_not_urls_or_paths(tmp_path):
    import hashlib

    from assay.compare import compare_runs
    from assay.models.identity import dir_hash
    from assay.report import model_card

    adapter = tmp_path / "secret-local-dir" / "ft-lora"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        res = _eval(tmp_path, srv.base_url, "run")
    c = compare_runs(res.out_dir, base="base", n_resamples=200)
    card = model_card(c, base_model="Qwen/Qwen2.5-0.5B-Instruct", adapter=str(adapter))
    data_sha = hashlib.sha256((tmp_path / "items.jsonl").read_bytes()).hexdigest()
    assert f"adapter sha256 `{dir_hash(adapter)}`" in card
    assert "candidate `ft`: a LoRA adapter on `Qwen/Qwen2.5-0.5B-Instruct`" in card
    assert f"- Data: `items.jsonl` (sha256 `{data_sha}`)." in card
    assert "127.0.0.1" not in card and "http://" not in card
    assert str(tmp_path) not in card and "secret-local-dir" not in card
    assert 'PeftModel.from_pretrained(base, "ft-lora")' in card


def test_an_ollama_digest_joins_the_identity(tmp_path):
    with FakeOpenAIServer(models=["ft"], ollama_digests={"ft:latest": "sha256:aaa"}) as a:
        first = evaluate(config(tmp_path, a.base_url))
        a.ollama_digests = {"ft:latest": "sha256:bbb"}  # `ollama pull` brought new weights
        second = evaluate(config(tmp_path, a.base_url))
        third = evaluate(config(tmp_path, a.base_url))
    assert first.manifest["models"]["ft"]["identity"]["served"]["digest"] == "sha256:aaa"
    assert (first.requests_sent, second.requests_sent, third.requests_sent) == (8, 8, 0)


@pytest.mark.parametrize("dies_at", [1, 2, 3, 4])  # items, prompts, metrics, manifest
def test_a_kill_at_every_rename_of_eval_leaves_the_old_run_whole(tmp_path, monkeypatch,
                                                              dies_at):
    import os

    with FakeOpenAIServer(lambda b: "yes" if b["model"] == "ft" else "no") as srv:
        old = _eval(tmp_path, srv.base_url, "run", labels=("base",))
        before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
        real, calls = os.replace, []

        def dies(src, dst):
            calls.append(dst)
            if len(calls) == dies_at:
                raise KeyboardInterrupt("killed")
            return real(src, dst)

        monkeypatch.setattr(os, "replace", dies)
        with pytest.raises(KeyboardInterrupt):
            evaluate(config(tmp_path, srv.base_url, n=30, force=True,
                            models=[f"ft=openai:ft@{srv.base_url}"], out=str(tmp_path / "run")))
        monkeypatch.setattr(os, "replace", real)
    now = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    # the files are renamed inside a staging directory: the run itself is the old one, whole
    assert now == before and load_run(tmp_path / "run").models == ["base"]
    assert load_run(tmp_path / "run").manifest["run_id"] == old.manifest["run_id"]
    assert sorted(now) == ["items.jsonl", "manifest.json", "metrics.json", "prompts.jsonl"]
