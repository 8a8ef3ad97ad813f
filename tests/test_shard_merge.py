"""--shard K/N and `assay merge`: the shards of a split partition the items, their merged run
equals a single run's items and metrics, and merges of runs that are not shards of one run
(another model, an overlap, another task or data) are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assay.errors import AssayError, InputError
from assay.merge import merge_runs
from assay.rundir import load_run
from assay.run import EvalConfig, evaluate
from assay.shard import Shard, parse_shard, shard_of
from assay.testing import FakeOpenAIServer, assay_script, script_env

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

VOLATILE = ("created_at", "cached", "latency_s")


def _items(path: Path, n: int) -> str:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": f"what is {i}?",
                                "answer": "yes" if i % 3 else "no"}) + "\n")
    return str(path)


def _cfg(tmp_path, url, out, **kw):
    models = kw.pop("models", [f"a=openai:a-model@{url}", f"b=openai:b-model@{url}"])
    return EvalConfig(task="exact", task_module="exact_task", data=str(tmp_path / "i.jsonl"),
                      models=models, out=str(tmp_path / out), **kw)


def _answer(body):
    return "yes" if body["model"] == "a-model" or "1" in body["messages"][-1]["content"] \
        else "no"


def _comparable(records):
    rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in records]
    return sorted(rows, key=lambda r: (r["model"], r["id"], r["pass"], str(r["sample"])))


def test_shard_of_is_a_stable_hash_partition():
    ids = [f"q{i}" for i in range(1000)]
    counts = [sum(shard_of(i, 4) == k for i in ids) for k in range(4)]
    assert sum(counts) == 1000 and min(counts) > 200  # each about a quarter
    # sha256("q0") starts 0x9c4f...: its first 8 bytes mod 2, computed independently
    import hashlib

    assert shard_of("q0", 2) == int(hashlib.sha256(b"q0").hexdigest()[:16], 16) % 2
    assert parse_shard("1/3") == Shard(1, 3) and parse_shard(None) is None


@pytest.mark.parametrize("bad", ["3/3", "1", "a/b", "-1/2", "0/0"])
def test_bad_shard_is_one_input_error(bad):
    with pytest.raises(InputError, match=r"field '--shard'.*Fix: write --shard K/N"):
        parse_shard(bad)


def test_two_shards_merged_equal_a_single_run(tmp_path):
    _items(tmp_path / "i.jsonl", 23)
    with FakeOpenAIServer(_answer) as srv:
        single = evaluate(_cfg(tmp_path, srv.base_url, "single", store=str(tmp_path / "s.db")))
        s0 = evaluate(_cfg(tmp_path, srv.base_url, "s0", shard="0/2",
                           store=str(tmp_path / "s0.db")))
        s1 = evaluate(_cfg(tmp_path, srv.base_url, "s1", shard="1/2",
                           store=str(tmp_path / "s1.db")))
    n0, n1 = s0.manifest["data"]["n_items"], s1.manifest["data"]["n_items"]
    assert n0 + n1 == 23 and n0 > 0 and n1 > 0
    assert s0.requests_sent + s1.requests_sent == single.requests_sent == 46
    res = merge_runs([s0.out_dir, s1.out_dir], tmp_path / "merged")
    merged, one = load_run(res.out_dir), load_run(single.out_dir)
    assert _comparable(merged.records) == _comparable(one.records)
    assert merged.prompts == one.prompts and len(merged.prompts) == 23  # what was asked, too
    timeless = lambda m: {lab: {k: v for k, v in ms.items() if k != "mean_latency_s"}
                          for lab, ms in m["models"].items()}  # noqa: E731
    assert timeless(merged.metrics) == timeless(one.metrics)
    assert merged.metrics["models"]["a"]["accuracy"] == pytest.approx(15 / 23)
    assert merged.manifest["data"]["n_items"] == 23
    assert merged.manifest["coverage"]["a"]["covered"] == 23
    assert [m["shard"] for m in merged.manifest["merged_from"]] == [
        {"index": 0, "count": 2}, {"index": 1, "count": 2}]
    assert merged.manifest["models"]["a"]["identity"] == one.manifest["models"]["a"]["identity"]


def test_merge_refuses_overlap_and_another_model(tmp_path):
    _items(tmp_path / "i.jsonl", 12)
    with FakeOpenAIServer(_answer) as srv:
        s0 = evaluate(_cfg(tmp_path, srv.base_url, "s0", shard="0/2",
                           store=str(tmp_path / "s0.db")))
        s1 = evaluate(_cfg(tmp_path, srv.base_url, "s1", shard="1/2",
                           store=str(tmp_path / "s1.db")))
        other = evaluate(_cfg(tmp_path, srv.base_url, "o1", shard="1/2",
                              store=str(tmp_path / "o.db"),
                              models=[f"a=openai:a-model@{srv.base_url}",
                                      f"b=openai:c-model@{srv.base_url}"]))
        whole = evaluate(_cfg(tmp_path, srv.base_url, "whole", store=str(tmp_path / "w.db")))
        three = evaluate(_cfg(tmp_path, srv.base_url, "t0", shard="0/3",
                              store=str(tmp_path / "t.db")))
    with pytest.raises(AssayError, match=r"model 'b' has another identity"):
        merge_runs([s0.out_dir, other.out_dir], tmp_path / "m1")
    with pytest.raises(AssayError, match=r"not distinct shards of one split"):
        merge_runs([s0.out_dir, s0.out_dir], tmp_path / "m2")
    with pytest.raises(AssayError, match=r"not distinct shards"):
        merge_runs([s0.out_dir, whole.out_dir], tmp_path / "m3")
    with pytest.raises(AssayError, match=r"not distinct shards"):
        merge_runs([s0.out_dir, three.out_dir], tmp_path / "m4")
    # two unsharded runs of the same items: every record overlaps
    with pytest.raises(AssayError, match=r"item 'q\d+' .* is in both"):
        merge_runs([whole.out_dir, single_copy(whole.out_dir, tmp_path / "copy")],
                   tmp_path / "m5")
    assert not (tmp_path / "m1").exists()
    merge_runs([s0.out_dir, s1.out_dir], tmp_path / "ok")
    with pytest.raises(AssayError, match=r"already holds a run"):
        merge_runs([s0.out_dir, s1.out_dir], tmp_path / "ok")


def single_copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_merge_refuses_another_task_or_data(tmp_path):
    _items(tmp_path / "i.jsonl", 8)
    with FakeOpenAIServer(_answer) as srv:
        s0 = evaluate(_cfg(tmp_path, srv.base_url, "s0", shard="0/2",
                           store=str(tmp_path / "s0.db")))
        _items(tmp_path / "i.jsonl", 9)  # the data file changed between the shards
        s1 = evaluate(_cfg(tmp_path, srv.base_url, "s1", shard="1/2",
                           store=str(tmp_path / "s1.db")))
    with pytest.raises(AssayError, match=r"data files \(sha256\) differ"):
        merge_runs([s0.out_dir, s1.out_dir], tmp_path / "m")


def test_cli_shard_and_merge(tmp_path):
    _items(tmp_path / "i.jsonl", 6)
    env = script_env(FIXTURES)
    with FakeOpenAIServer(_answer) as srv:
        for k in (0, 1):
            cmd = [assay_script(), "eval", "exact", "--task-module", "exact_task", "--data",
                   str(tmp_path / "i.jsonl"), "--model", f"a=openai:a-model@{srv.base_url}",
                   "--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}"), "--json"]
            p = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        assert (tmp_path / ".assay" / "store-shard-1-of-2.sqlite").is_file()
    p = subprocess.run([assay_script(), "merge", str(tmp_path / "s0"), str(tmp_path / "s1"),
                        "--out", str(tmp_path / "all"), "--json"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["n_items"] == 6
    bad = subprocess.run([assay_script(), "eval", "exact", "--data", "x", "--model",
                          "a=openai:m@http://localhost:1/v1", "--shard", "2/2"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--shard" in bad.stderr and "Fix:" in bad.stderr
