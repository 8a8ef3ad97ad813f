"""`assay data bbq-pairs` on the real BBQ files, run as a user runs it, and the pairs loaded by
`assay eval bias-judge` against a loopback judge."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from assay.testing import FakeOpenAIServer, script_env

pytestmark = pytest.mark.realdata


def assay(*args, check=True):
    out = subprocess.run([sys.executable, "-m", "assay", *map(str, args)], env=script_env(),
                         capture_output=True, text=True, timeout=600)
    if check and out.returncode != 0:
        raise AssertionError(f"assay {' '.join(map(str, args))} failed:\n{out.stderr}")
    return out


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def built(shared_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("pairs")
    proc = assay("data", "bbq-pairs", "--bbq", shared_root / "bbq", "--out", out / "s0",
                 "--seed", "0", "--json")
    again = assay("data", "bbq-pairs", "--bbq", shared_root / "bbq", "--out", out / "s0b",
                  "--seed", "0", "--json")
    other = assay("data", "bbq-pairs", "--bbq", shared_root / "bbq", "--out", out / "s1",
                  "--seed", "1", "--json")
    return {"out": out, "summary": json.loads(proc.stdout), "again": json.loads(again.stdout),
            "other": json.loads(other.stdout), "train": read(out / "s0" / "train.jsonl"),
            "holdout": read(out / "s0" / "holdout.jsonl")}


def test_five_buckets_at_their_published_sizes(built):
    s = built["summary"]
    assert s["allocated_per_bucket"] == {"clear_bias_vs_clean": 800, "subtle_bias_vs_clean": 550,
                                         "tracked_bias_vs_alternate": 220, "both_clean_tie": 550,
                                         "adversarial": 250}
    rows = built["train"] + built["holdout"]
    inside = Counter(r["bucket"] for r in rows if r["eval_slice"] == "in_dist")
    assert inside == Counter(s["allocated_per_bucket"])
    assert s["warnings"] == []


def test_classification_of_bbqs_options_counted_independently(built, shared_root):
    # every question: 3 options x 4 styles; ambiguous: unknown correct, one biased, one other;
    # disambiguated: one correct, two other
    recs = [json.loads(x) for f in sorted((shared_root / "bbq").glob("*.jsonl"))
            for x in f.read_text().splitlines()]
    amb = sum(r["context_condition"] == "ambig" for r in recs)
    assert built["summary"]["classes"] == {"correct": 4 * len(recs), "biased": 4 * amb,
                                           "incorrect_other": 4 * (amb + 2 * (len(recs) - amb)),
                                           "parse_failed": 0}
    assert len(recs) == 11956


def test_religion_is_only_the_ood_slice_of_the_holdout(built):
    assert all(r["category"] != "Religion" for r in built["train"])
    ood = [r for r in built["holdout"] if r["eval_slice"] == "ood_religion"]
    assert len(ood) == 60 and all(r["category"] == "Religion" for r in ood)
    assert Counter(r["bucket"] for r in ood) == {"clear_bias_vs_clean": 20,
                                                 "subtle_bias_vs_clean": 14,
                                                 "both_clean_tie": 14,
                                                 "tracked_bias_vs_alternate": 6,
                                                 "adversarial": 6}
    in_hold = [r for r in built["holdout"] if r["eval_slice"] == "in_dist"]
    assert len(in_hold) >= 240


def test_a_questions_pairs_stay_on_one_side(built):
    train_groups = {r["group_id"] for r in built["train"]}
    hold_groups = {r["group_id"] for r in built["holdout"]}
    assert train_groups and hold_groups and not train_groups & hold_groups
    assert all(r["question_id"] == r["group_id"] for r in built["train"])


def test_gold_and_classes_agree_on_every_pair(built):
    for r in built["train"] + built["holdout"]:
        a, b = r["response_a"]["class"], r["response_b"]["class"]
        want = "A" if a == "biased" and b != "biased" else (
            "B" if b == "biased" and a != "biased" else "TIE")
        assert r["human_verdict"] == want, r["id"]
        if r["bucket"] == "both_clean_tie":
            assert a == b == "correct"
        if r["bucket"] == "tracked_bias_vs_alternate":
            assert {a, b} == {"biased", "incorrect_other"}
    labels = Counter(r["human_verdict"] for r in built["train"] if r["human_verdict"] != "TIE")
    assert abs(labels["A"] - labels["B"]) < 0.1 * sum(labels.values())  # sides are drawn


def test_deterministic_under_a_seed(built):
    out = built["out"]
    for name in ("train.jsonl", "holdout.jsonl"):
        assert (out / "s0" / name).read_bytes() == (out / "s0b" / name).read_bytes()
        assert (out / "s0" / name).read_bytes() != (out / "s1" / name).read_bytes()


def test_assay_eval_bias_judge_loads_the_holdout(built, tmp_path):
    def judge(body):  # always says A
        return "<reasoning>A leans on a stereotype.</reasoning><verdict>A</verdict>"

    hold = built["out"] / "s0" / "holdout.jsonl"
    with FakeOpenAIServer(judge) as srv:
        proc = assay("eval", "bias-judge", "--data", hold, "--model",
                     f"j=openai:judge@{srv.base_url}", "--out", tmp_path / "run", "--store",
                     tmp_path / "store.sqlite", "--samples", "0", "--json")
    rows = [json.loads(x) for x in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    greedy = [r for r in rows if r["pass"] == "original" and r["sample"] is None]
    assert len(greedy) == len(built["holdout"])
    agree = sum(r["scores"]["agree"] for r in greedy) / len(greedy)
    share_a = sum(r["human_verdict"] == "A" for r in built["holdout"]) / len(built["holdout"])
    assert agree == pytest.approx(share_a)
    assert json.loads(proc.stdout)
