"""Gated labelling through `assay distill bias-judge`, with scripted loopback labellers: the gate
aborts below its thresholds and proceeds above them, cross-check disagreements stay out of
training, SFT rows are swap-doubled with mirrored verdicts, DPO rows pass (or fail) verify."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter

from assay.judgedata.buckets import HARD
from assay.judgedata.gate import GateRule, dry_run_ids
from assay.testing import FakeOpenAIServer, script_env

from .conftest import ScriptedLabellers, confidence_of

MIRROR = {"A": "B", "B": "A", "TIE": "TIE"}


def distill(pairs, url, out, *extra):
    args = [sys.executable, "-m", "assay", "distill", "bias-judge", "--data", str(pairs),
            "--teacher", f"openai:teacher@{url}", "--out", str(out), "--store",
            str(out.parent / "store.sqlite"), *extra]
    return subprocess.run(args, env=script_env(), capture_output=True, text=True, timeout=600)


def read(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def dry_hard(items):
    ids = set(dry_run_ids(items, GateRule(), 0))
    return [i["id"] for i in items if i["id"] in ids and i["bucket"] in HARD], ids


def test_gate_aborts_below_22_of_30_hard_with_the_agreement_table(small_pairs, tmp_path):
    path, items = small_pairs
    hard, dry = dry_hard(items)
    assert len(dry) == 50 and len(hard) == 30
    script = ScriptedLabellers(items, teacher_wrong=hard[:9])
    with FakeOpenAIServer(script) as srv:
        proc = distill(path, srv.base_url, tmp_path / "out", "--reference",
                       f"openai:reference@{srv.base_url}")
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert ("labelling gate failed: 41/50 overall (need 46), 21/30 on hard buckets (need 24, "
            "abort below 22)") in lines[0]
    gate = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert gate["decision"] == "abort" and gate["agree"] == 41 and gate["hard_agree"] == 21
    wrong_by_bucket = Counter(i["bucket"] for i in items if i["id"] in set(hard[:9]))
    dry_by_bucket = Counter(i["bucket"] for i in items if i["id"] in dry)
    for b, cell in gate["by_bucket"].items():
        assert cell == {"n": dry_by_bucket[b], "agree": dry_by_bucket[b] - wrong_by_bucket[b]}
    assert (tmp_path / "out" / "gate.md").exists()
    assert not (tmp_path / "out" / "labels.jsonl").exists()
    # only the dry run was asked: 50 pairs of each labeller
    assert Counter(script.models) == {"teacher": 50, "reference": 50}


def test_gate_proceeds_and_cross_check_disagreements_stay_out_of_training(small_pairs,
                                                                         tmp_path):
    path, items = small_pairs
    hard, dry = dry_hard(items)
    others = [i["id"] for i in items if i["id"] not in dry]
    all_hard = [i["id"] for i in items if i["bucket"] in HARD]
    cross_wrong = all_hard[-4:]
    script = ScriptedLabellers(items, teacher_wrong=hard[:2] + others[:3],
                               cross_wrong=cross_wrong)
    out = tmp_path / "out"
    # a small --concurrency and some latency: requests queue on the teacher's semaphore in the
    # dry run, the full run and the DPO syntheses (one event loop for all of them)
    with FakeOpenAIServer(script, latency_s=0.005) as srv:
        proc = distill(path, srv.base_url, out, "--reference",
                       f"openai:reference@{srv.base_url}", "--cross-check",
                       f"openai:cross@{srv.base_url}", "--sft", "--dpo", "--json",
                       "--concurrency", "3")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["gate"]["decision"] == "proceed"
    assert (summary["gate"]["agree"], summary["gate"]["hard_agree"]) == (48, 28)
    cc = summary["cross_check"][f"openai:cross@{srv.base_url}"]
    assert (cc["n"], cc["disagree"]) == (len(all_hard), 4)
    want = Counter(i["bucket"] for i in items if i["id"] in set(cross_wrong))
    assert {b: v["disagree"] for b, v in cc["by_bucket"].items() if v["disagree"]} == want
    labels = read(out / "labels.jsonl")
    assert len(labels) == 70
    assert {r["id"] for r in labels if r["excluded"]} == set(cross_wrong)
    assert all(r["teacher_label"]["confidence"] == confidence_of(r["id"]) for r in labels)
    # SFT: confidence >= 3, not excluded, each pair twice with the verdict mirrored
    kept = [r for r in labels if not r["excluded"] and confidence_of(r["id"]) >= 3]
    sft = read(out / "sft.jsonl")
    assert len(sft) == 2 * len(kept)
    by = {(r["pair_id"], r["pass"]): r for r in sft}
    for r in kept:
        o, s = by[(r["id"], "original")], by[(r["id"], "swapped")]
        assert o["verdict"] == r["teacher_label"]["verdict"]
        assert s["verdict"] == MIRROR[o["verdict"]]
        assert s["completion"].endswith(f"<verdict>{s['verdict']}</verdict>")
        a, b = r["response_a"]["text"].strip(), r["response_b"]["text"].strip()
        user = s["prompt"][1]["content"]
        assert user.index(b) < user.index(a)  # the texts traded places
    assert Counter(r["verdict"] for r in sft)["A"] == Counter(r["verdict"] for r in sft)["B"]
    # DPO: confidence >= 4, not TIE, routed by sha1(pair_id) % 10 < 7
    dpo_kept = [r for r in kept if confidence_of(r["id"]) >= 4
                and r["teacher_label"]["verdict"] != "TIE"]
    dpo = read(out / "dpo.jsonl")
    assert len(dpo) == 2 * len(dpo_kept)
    for r in dpo:
        synth = int(hashlib.sha1(r["pair_id"].encode()).hexdigest(), 16) % 10 < 7
        assert r["route"] == ("synth" if synth else "flip")
        c, j = r["chosen"][-12:], r["rejected"][-12:]
        assert c != j and "TIE" not in c + j
    modes = [r["mode"] for r in dpo if r["pass"] == "original" and r["route"] == "synth"]
    assert modes == [["verbose_hedging", "surface_engagement", "stereotype_aligned",
                      "length_burying"][k % 4] for k in range(len(modes))]
    card = json.loads((out / "dpo_card.json").read_text())
    assert card["verify"]["blocked"] is False and card["verify"]["median_ratio"] == 1.0


def test_labelling_refuses_a_distill_flag_it_would_ignore(small_pairs, tmp_path):
    path, _ = small_pairs
    proc = distill(path, "http://127.0.0.1:9/v1", tmp_path / "out", "--sft", "--exclude",
                   str(path))
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and "--exclude and --reference" in line and "Fix:" in line
    proc = distill(path, "http://127.0.0.1:9/v1", tmp_path / "out", "--sft", "--gate-n", "0")
    assert proc.returncode == 2 and "field 'gate_n'" in proc.stderr


def test_labelling_flags_belong_to_bias_judge(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "assay", "distill", "haiku-review", "--data",
                           "x.jsonl", "--teacher", "openai:t@http://127.0.0.1:9/v1", "--out",
                           str(tmp_path), "--dpo"], env=script_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "--dpo and --task" in proc.stderr
