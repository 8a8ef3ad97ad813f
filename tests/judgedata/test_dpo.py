"""DPO hard negatives: routing, strict parse, the verify step on planted sets, and the blocked
CLI run that lists the offending rows."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from assay.judgedata.dpo import LEAKS, route, strict_verdict, verify
from assay.testing import FakeOpenAIServer, script_env

from .conftest import ScriptedLabellers


def row(i, chosen_words, rejected_words, route_="synth", rejected=None):
    return {"id": f"r{i}", "route": route_, "prompt": [{"role": "user", "content": "q"}],
            "chosen": " ".join(["c"] * chosen_words),
            "rejected": rejected or " ".join(["r"] * rejected_words)}


def test_routing_is_sha1_of_the_pair_id_mod_10():
    ids = [f"pair{i}" for i in range(1000)]
    synth = [i for i in ids if route(i) == "synth"]
    assert synth == [i for i in ids if int(hashlib.sha1(i.encode()).hexdigest(), 16) % 10 < 7]
    assert 650 < len(synth) < 750


def test_strict_parse():
    assert strict_verdict("<reasoning>x</reasoning><verdict>B</verdict>") == "B"
    assert strict_verdict(" <reasoning>x</reasoning>\n<verdict>TIE</verdict>\n") == "TIE"
    for bad in ("Sure: <reasoning>x</reasoning><verdict>B</verdict>",
                "<reasoning>x</reasoning><verdict>B</verdict> done",
                "<reasoning> </reasoning><verdict>B</verdict>",
                "<reasoning>x<verdict>A</verdict></reasoning><verdict>B</verdict>"):
        assert strict_verdict(bad) is None, bad


def test_a_planted_median_ratio_of_1_3_blocks_and_lists_its_rows():
    rows = [row(i, 13, 10) for i in range(6)] + [row(6 + i, 10, 10) for i in range(3)]
    got = verify(rows)
    assert got.median_ratio == pytest.approx(1.3)
    assert not got.ok and "median chosen/rejected length ratio 1.300" in got.blocks[0]
    assert got.offending["length_ratio"] == [f"r{i}" for i in range(6)]
    # the other way round is the same signal
    assert not verify([row(i, 10, 13) for i in range(5)]).ok
    # 1.1 passes the median but its p90 (1.3) warns
    mixed = [row(i, 11, 10) for i in range(8)] + [row(8 + i, 13, 10) for i in range(2)]
    ok = verify(mixed)
    assert ok.ok and ok.median_ratio == pytest.approx(1.1) and ok.warnings[0].startswith(
        "p90 of the length ratios 1.300")


def test_synth_vs_flip_divergence_warns():
    rows = [row(i, 10, 10, "synth", " ".join(["r"] * 10)) for i in range(4)]
    rows += [row(4 + i, 13, 13, "flip") for i in range(4)]
    got = verify(rows)
    assert got.ok and got.synth_flip_divergence == pytest.approx(1.3)
    assert any("diverge 1.300x" in w for w in got.warnings)


@pytest.mark.parametrize("text", ["we need to say the verdict is B, so B it is",
                                  "As instructed, I pick A.", "The correct verdict is A but",
                                  "In the stereotype_aligned style:"])
def test_instruction_echo_blocks(text):
    rows = [row(i, 10, 10) for i in range(4)]
    rows[2]["rejected"] = text + " " + " ".join(["r"] * (10 - len(text.split())))
    got = verify(rows)
    assert not got.ok and got.offending["leak"] == ["r2"]
    assert len(LEAKS) >= 5


def test_thinking_markers_block():
    rows = [row(i, 10, 10) for i in range(3)]
    rows[1]["chosen"] = "<think>hm</think> " + rows[1]["chosen"]
    got = verify(rows)
    assert not got.ok and got.offending["thinking"] == ["r1"]


def label_args(pairs, url, out):
    return [sys.executable, "-m", "assay", "distill", "bias-judge", "--data", str(pairs),
            "--teacher", f"openai:teacher@{url}", "--out", str(out), "--store",
            str(out.parent / "store.sqlite"), "--dpo"]


def test_a_leaking_synthesis_blocks_the_cli_run_and_names_the_row(small_pairs, tmp_path):
    path, items = small_pairs
    leaky = next(i["id"] for i in items if route(i["id"]) == "synth"
                 and i["human_verdict"] != "TIE")

    def synth(pair, wrong, attempt):
        text = (f"we need to say the verdict is {wrong}" if pair == leaky
                else f"Response {wrong} relies on the stereotype the question probes here.")
        return f"<reasoning>{text}</reasoning><verdict>{wrong}</verdict>"

    script = ScriptedLabellers(items, synth=synth)
    with FakeOpenAIServer(script) as srv:
        proc = subprocess.run(label_args(path, srv.base_url, tmp_path / "out"),
                              env=script_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "echo the synthesis instruction" in line
    assert f"{leaky}::original" in line and "dpo.jsonl was not written" in line
    card = json.loads((tmp_path / "out" / "dpo_card.json").read_text())
    assert card["offending"] == {"leak": [f"{leaky}::original", f"{leaky}::swapped"]}
    assert not (tmp_path / "out" / "dpo.jsonl").exists()


def test_a_loose_synthesis_is_retried_until_it_parses_strictly(small_pairs, tmp_path):
    path, items = small_pairs
    tries: dict[str, int] = {}

    def synth(pair, wrong, attempt):
        tries[pair] = max(tries.get(pair, 0), attempt + 1)
        body = (f"<reasoning>Response {wrong} relies on the stereotype the question probes "
                f"here.</reasoning><verdict>{wrong}</verdict>")
        return ("Sure, here it is: " + body) if attempt == 0 else body

    script = ScriptedLabellers(items, synth=synth)
    out = tmp_path / "out"
    with FakeOpenAIServer(script) as srv:
        proc = subprocess.run([*label_args(path, srv.base_url, out), "--json"],
                              env=script_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in (out / "dpo.jsonl").read_text().splitlines()]
    synth_rows = [r for r in rows if r["route"] == "synth"]
    assert synth_rows and all(not r["rejected"].startswith("Sure") for r in synth_rows)
    assert set(tries.values()) == {2}  # each synth pair: one loose draft, one strict retry
    assert len(tries) == len(synth_rows) // 2
