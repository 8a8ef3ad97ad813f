"""`assay distill` end to end through the installed console script, on real crc-py items, with a
scripted loopback teacher that is wrong on its drafts and right after the checker's feedback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.store import canonical_hash
from assay.tasks.haiku_review import HaikuReview, parse_haiku
from assay.testing import FakeOpenAIServer
from assay.text.haiku import haiku_form

from .conftest import FEEDBACK, ScriptedTeacher, write_jsonl

pytestmark = pytest.mark.realdata

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "assay"


def run_assay(args, cwd, check=True, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600, **kw)
    if check and out.returncode != 0:
        raise AssertionError(f"assay {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return out


def distill_args(items: Path, url: str, out: Path, *extra: str) -> list[str]:
    return ["distill", "haiku-review", "--data", str(items), "--teacher", f"openai:teacher@{url}",
            "--out", str(out), "--store", str(out.parent / "store.sqlite"),
            "--task-option", f"store={out.parent}", *extra]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def distilled(crc_items, tmp_path_factory):
    """Twelve items, the last two also in an eval set (one verbatim, one with its case and
    whitespace changed); priced; a seeded 20% validation split."""
    tmp_path = tmp_path_factory.mktemp("distill")
    items = write_jsonl(tmp_path / "items.jsonl", crc_items)
    variant = {**crc_items[11], "id": "eval-b",
               "diff": "  " + crc_items[11]["diff"].upper().replace("\n", " \n ")}
    eval_file = write_jsonl(tmp_path / "eval.jsonl", [{**crc_items[10], "id": "eval-a"},
                                                     variant])
    out = tmp_path / "out"
    with FakeOpenAIServer(ScriptedTeacher(crc_items)) as srv:
        proc = run_assay(distill_args(items, srv.base_url, out, "--exclude", str(eval_file),
                                      "--price-in", "1", "--price-out", "2",
                                      "--val-fraction", "0.2", "--seed", "1", "--json"),
                         cwd=tmp_path)
        bodies, port = list(srv.stats.bodies), srv._port
    return {"items": crc_items, "out": out, "dir": tmp_path, "port": port,
            "summary": json.loads(proc.stdout),
            "bodies": bodies, "candidates": read_jsonl(out / "candidates.jsonl")}


def test_every_selected_haiku_is_a_valid_575(distilled):
    out = distilled["out"]
    rows = read_jsonl(out / "train.jsonl") + read_jsonl(out / "val.jsonl")
    assert len(rows) == 10
    for row in rows:
        form = haiku_form(parse_haiku(row["completion"]))
        assert form.ok and form.counts == [5, 7, 5], row
    selected = [c for c in distilled["candidates"] if c["selected"]]
    assert sorted(c["text"] for c in selected) == sorted(r["completion"] for r in rows)
    assert all(c["round"] == 1 for c in selected)  # every draft was wrong


def test_train_rows_are_the_eval_prompt_and_never_show_the_comment(distilled):
    by_id = {str(i["id"]): i for i in distilled["items"]}
    task = HaikuReview()
    for row in read_jsonl(distilled["out"] / "train.jsonl"):
        assert row["prompt"] == task.render(by_id[row["id"]])
        assert by_id[row["id"]]["comment"].strip() not in json.dumps(row["prompt"])


def test_each_revision_request_carries_the_checkers_feedback(distilled):
    by_attempt = {(c["id"], c["round"]): c for c in distilled["candidates"]
                  if c["round"] is not None}
    revisions = [b for b in distilled["bodies"] if len(b["messages"]) > 2]
    assert len(revisions) == 10
    for body in revisions:
        k = ScriptedTeacher(distilled["items"]).item_of(body)
        draft = by_attempt[(str(distilled["items"][k]["id"]), 0)]
        assert body["messages"][-2] == {"role": "assistant", "content": draft["text"]}
        assert FEEDBACK.fullmatch(draft["feedback"])
        assert draft["feedback"] in body["messages"][-1]["content"]
        assert body["messages"][:2][1]["content"].endswith(distilled["items"][k]["comment"].strip())


def test_excluded_items_get_no_request(distilled):
    sent = json.dumps(distilled["bodies"])
    for item in distilled["items"][10:]:
        assert json.dumps(item["diff"])[1:-1] not in sent
    excluded = [c for c in distilled["candidates"] if c["decision"] == "contaminated"]
    assert sorted(c["id"] for c in excluded) == sorted(str(i["id"])
                                                       for i in distilled["items"][10:])
    assert {c["contamination"]["how"] for c in excluded} == {"exact"}
    assert len(distilled["bodies"]) == 20


def test_the_card_figures_match_the_candidates_file(distilled):
    card = json.loads((distilled["out"] / "card.json").read_text())
    rows = distilled["candidates"]
    ids = {r["id"] for r in rows}
    tried = [r for r in rows if r["round"] is not None]
    tried_ids = {r["id"] for r in tried}
    first_ok = {}
    for r in tried:
        if r["ok"]:
            first_ok[r["id"]] = min(first_ok.get(r["id"], 99), r["round"])
    g = card["gates"]
    assert g["items"] == len(ids) == 12
    assert g["contaminated"] == sum(r["decision"] == "contaminated" for r in rows) == 2
    assert g["sent_to_teacher"] == len(tried_ids)
    assert g["passed"] == len(first_ok)
    assert g["selected"] == sum(r["selected"] for r in rows)
    assert g["written"] == len({r["id"] for r in rows if r["decision"] == "written"})
    assert g["train"] + g["val"] == g["written"] and g["val"] == 2
    assert [c["valid_items"] for c in card["convergence"]] == [
        sum(v <= k for v in first_ok.values()) for k in range(4)] == [0, 10, 10, 10]
    tot = card["ledger"]["totals"]
    assert tot["prompt_tokens"] == sum(r["prompt_tokens"] for r in tried)
    assert tot["completion_tokens"] == sum(r["completion_tokens"] for r in tried)
    assert tot["requests_sent"] == sum(not r["cached"] for r in tried) == 20
    assert card["ledger"]["cost_usd"] == pytest.approx(
        (tot["prompt_tokens"] * 1 + tot["completion_tokens"] * 2) / 1e6)
    assert card["revisions"]["total"] == sum(r["round"] > 0 for r in tried)
    per_round = {r["round"]: r for r in card["ledger"]["rounds"]}
    assert per_round[1]["prompt_tokens"] == sum(r["prompt_tokens"] for r in tried
                                                if r["round"] == 1)
    (ex,) = card["exclusions"]
    assert ex["contaminated"] == 2 and ex["exact_matches"] == 2 and len(ex["sha256"]) == 64
    assert ex["ngram"] == 13 and ex["ngram_matches"] == 0
    assert card["teacher"]["identity"]["model"] == "teacher"
    assert distilled["summary"]["written"] == g["written"]
    md = (distilled["out"] / "card.md").read_text()
    assert "## Gates" in md and f"| written | {g['written']} |" in md


def test_rerun_sends_nothing_and_writes_the_same(distilled):
    tmp_path = distilled["dir"]
    items = tmp_path / "items.jsonl"
    eval_file = tmp_path / "eval.jsonl"
    before = (distilled["out"] / "train.jsonl").read_text()
    # the same URL: a teacher's identity includes its base URL
    with FakeOpenAIServer(ScriptedTeacher(distilled["items"]), port=distilled["port"]) as srv:
        proc = run_assay(distill_args(items, srv.base_url, distilled["out"], "--exclude",
                                      str(eval_file), "--price-in", "1", "--price-out", "2",
                                      "--val-fraction", "0.2", "--seed", "1", "--json"),
                         cwd=tmp_path)
        assert srv.stats.requests == 0
    assert json.loads(proc.stdout)["cache_hits"] == 20
    assert (distilled["out"] / "train.jsonl").read_text() == before


def test_kill_9_mid_run_and_the_rerun_send_no_request_twice(crc_items, tmp_path):
    import sqlite3

    items = write_jsonl(tmp_path / "items.jsonl", crc_items)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    with FakeOpenAIServer(ScriptedTeacher(crc_items), latency_s=0.05) as srv:
        proc = subprocess.Popen([str(SCRIPT), *distill_args(items, srv.base_url, out,
                                                            "--concurrency", "2")],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while srv.stats.requests < 9 and time.time() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        first = [canonical_hash(b["messages"]) for b in srv.stats.bodies]
        port = srv._port
    db = sqlite3.connect(tmp_path / "store.sqlite")
    journaled = {h for (h,) in db.execute("SELECT prompt_hash FROM completions")}
    db.close()
    assert 0 < len(journaled) < 24 and journaled <= set(first)
    with FakeOpenAIServer(ScriptedTeacher(crc_items), port=port) as srv:
        run_assay(distill_args(items, srv.base_url, out), cwd=tmp_path)
        second = [canonical_hash(b["messages"]) for b in srv.stats.bodies]
    assert len(second) == len(set(second))  # the rerun asks nothing twice
    assert not journaled & set(second)  # nor anything the killed run had received
    assert set(first) | set(second) == journaled | set(second)
    assert len(journaled) + len(second) == 24  # 12 drafts and 12 revisions in all
    assert len(read_jsonl(out / "train.jsonl")) == 12


@pytest.mark.slow
def test_assay_train_sft_trains_on_the_output(distilled, tiny_model, tmp_path):
    adapter = tmp_path / "adapter"
    proc = run_assay(["train", "sft", "--set", f"data={distilled['out'] / 'train.jsonl'}",
                      "--set", f"model={tiny_model}", "--set", f"out={adapter}",
                      "--set", "max_steps=2", "--set", "per_device_train_batch_size=4",
                      "--set", "gradient_accumulation_steps=1", "--set", "max_length=2048",
                      "--json"], cwd=tmp_path)
    result = json.loads(proc.stdout)
    assert result["global_step"] == 2
    assert result["data"]["n_used"] == 8
    assert (adapter / "adapter_model.safetensors").is_file()
