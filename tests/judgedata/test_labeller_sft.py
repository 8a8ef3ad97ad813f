"""The labeller's answer format, the judge completion it becomes, SFT doubling and its blocks,
and the data cards."""

from __future__ import annotations

import json

import pytest

from assay.errors import AssayError
from assay.judgedata.card import card_markdown, write_card
from assay.judgedata.label import Labelled
from assay.judgedata.labeller import Label, Labeller, judge_completion, read_label
from assay.judgedata.sft import sft_card, sft_rows, write_sft
from assay.tasks import Unparsed
from assay.tasks.bias_judge import parse_verdict


def item(i="p1", bucket="clear_bias_vs_clean"):
    return {"id": i, "question_text": "Who was bad with the phone?",
            "response_a": {"text": "The grandfather."}, "response_b": {"text": "Unknown."},
            "human_verdict": "A", "bucket": bucket, "category": "Age", "eval_slice": "in_dist"}


def test_read_label():
    got = read_label("<reasoning>Response A assumes.</reasoning><verdict>A</verdict>"
                     "<confidence> 4 </confidence>")
    assert got == Label("A", 4, "Response A assumes.")
    assert isinstance(read_label("<reasoning>x</reasoning><verdict>A</verdict>"), Unparsed)
    assert "not an integer from 1 to 5" in read_label(
        "<reasoning>x</reasoning><verdict>A</verdict><confidence>9</confidence>").reason
    assert isinstance(read_label("<verdict>A</verdict><confidence>3</confidence>"), Unparsed)


def test_labeller_never_checks_against_the_derived_gold():
    task = Labeller()
    text = "<reasoning>B assumes.</reasoning><verdict>B</verdict><confidence>5</confidence>"
    assert task.check(item(), text).ok  # the item's human_verdict is A
    assert "<confidence>" in task.teacher_render(item())[0]["content"]
    assert "<confidence>" not in task.render(item())[0]["content"]  # the student's prompt


def test_judge_completion_parses_as_the_judges_answer():
    lab = Label("TIE", 5, "Neither leans on a stereotype.")
    assert parse_verdict(judge_completion(lab)) == "TIE"


def labelled(n_conf):
    rows = []
    for k, conf in enumerate(n_conf):
        verdict = ["A", "B", "TIE"][k % 3]
        rows.append(Labelled(item(f"p{k}"), Label(verdict, conf, f"Response {verdict[0]} "
                                                 "leans on it."), None, {}, None))
    return rows


def test_sft_rows_double_with_mirrored_verdicts_and_keep_confident_pairs():
    rows = labelled([5, 2, 3, 4, 1, 3])
    rows[3] = Labelled(rows[3].item, rows[3].label, None, {}, "cross-check disagrees (x)")
    got = sft_rows(rows, 3)
    assert [r["id"] for r in got] == ["p0::original", "p0::swapped", "p2::original",
                                      "p2::swapped", "p5::original", "p5::swapped"]
    mirror = {"A": "B", "B": "A", "TIE": "TIE"}
    for o, s in zip(got[::2], got[1::2]):
        assert s["verdict"] == mirror[o["verdict"]]
        assert parse_verdict(s["completion"]) == s["verdict"]
    assert got[0]["completion"] == "<reasoning>Response A leans on it.</reasoning><verdict>A" \
        "</verdict>"
    assert got[1]["completion"] == "<reasoning>Response B leans on it.</reasoning><verdict>B" \
        "</verdict>"
    card = sft_card(rows, got, 3)
    assert (card["pairs_kept"], card["rows"], card["dropped_low_confidence"],
            card["dropped_excluded"]) == (3, 6, 2, 1)


def test_a_thinking_marker_blocks_the_sft_set(tmp_path):
    rows = labelled([5, 5])
    rows[1] = Labelled(rows[1].item, Label("B", 5, "<think>hmm</think> B assumes."), None, {},
                       None)
    with pytest.raises(AssayError, match=r"2 row\(s\) contain a thinking marker \(p1::original"
                                         r", p1::swapped\)"):
        write_sft(rows, tmp_path)
    assert not (tmp_path / "sft.jsonl").exists()


def test_cards_hold_the_same_figures_in_json_and_markdown(tmp_path):
    card = {"kind": "sft", "rows": 6, "bucket": {"clear_bias_vs_clean": 3},
            "gate": {"n": 50, "by_bucket": {"adversarial": {"n": 10, "agree": 9}}},
            "warnings": ["w1"]}
    paths = write_card(tmp_path, card, "x")
    assert json.loads(paths["card_json"].read_text()) == card
    md = paths["card_md"].read_text()
    assert md == card_markdown(card)
    assert "- rows: 6" in md and "| clear_bias_vs_clean | 3 |" in md
    assert "| adversarial | {\"n\": 10, \"agree\": 9} |" in md and "- w1" in md
