"""Reading BBQ, its biased answer, and the classification of candidate answers."""

from __future__ import annotations

import json

import pytest

from assay.errors import InputError
from assay.judgedata import classify, option_candidates, parse_choice, read_bbq
from assay.judgedata.bbq import parse_question
from assay.judgedata.responses import BIASED, CORRECT, OTHER, PARSE_FAILED, hedged, words

from .conftest import bbq_record, write_jsonl


def q_of(**kw):
    return parse_question(bbq_record(0, **kw), "f.jsonl", 1)


def test_biased_answer_follows_bbq_polarity():
    assert q_of(polarity="neg").biased == 0  # the old person, for "bad with the phone"
    assert q_of(polarity="nonneg").biased == 1  # the young one, for "good with the phone"
    assert q_of().target == 0 and q_of().unknown == 2


def test_classes_in_ambiguous_and_disambiguated_contexts():
    amb = q_of(polarity="neg", condition="ambig")
    assert [classify(amb, c) for c in (0, 1, 2, None)] == [BIASED, OTHER, CORRECT, PARSE_FAILED]
    dis = q_of(polarity="neg", condition="disambig")  # gold: the grandson
    assert [classify(dis, c) for c in (0, 1, 2)] == [OTHER, CORRECT, OTHER]


def test_option_candidates_are_twelve_and_parse_back_to_their_option():
    q = q_of()
    cands = option_candidates(q)
    assert len(cands) == 12 and len({c.id for c in cands}) == 12
    assert all(parse_choice(q, c.text) == c.choice for c in cands)
    by = {c.source: c for c in cands if c.choice == 0}
    assert hedged(by["options:hedged"].text) and not hedged(by["options:terse"].text)
    assert not hedged(by["options:verbose"].text)
    assert words(by["options:verbose"].text) >= 3 * words(by["options:reasoned"].text)


@pytest.mark.parametrize("text,choice", [
    ("<answer>b</answer>", 1), ("C. Can't be determined", 2), ("The answer is A.", 0),
    ("I think it was the grandson.", 1), ("<answer>A</answer> or <answer>B</answer>", None),
    ("no idea", None)])
def test_parse_choice(text, choice):
    assert parse_choice(q_of(), text) == choice


def test_read_bbq_reads_every_file_sorted(tmp_path):
    write_jsonl(tmp_path / "B.jsonl", [bbq_record(0, category="B")])
    write_jsonl(tmp_path / "A.jsonl", [bbq_record(0, category="A"), bbq_record(1, category="A")])
    qs = read_bbq(tmp_path)
    assert [q.key for q in qs] == ["a::1::0::neg", "a::1::1::neg", "b::1::0::neg"]


@pytest.mark.parametrize("change,field,value", [
    (lambda r: r.pop("question"), "question", None),
    (lambda r: r.update(label=7), "label", 7),
    (lambda r: r.update(context_condition="vague"), "context_condition", "vague"),
    (lambda r: r["answer_info"].update(ans1=["x", "unknown"]), "answer_info", None),
    (lambda r: r["additional_metadata"].update(stereotyped_groups=["nobody"]), "answer_info",
     None)])
def test_bad_records_name_file_line_field_and_fix(tmp_path, change, field, value):
    rows = [bbq_record(0), bbq_record(1)]
    change(rows[1])
    path = write_jsonl(tmp_path / "Age.jsonl", rows)
    with pytest.raises(InputError) as err:
        read_bbq(tmp_path)
    e = err.value
    assert (e.file, e.line, e.field) == (str(path), 2, field)
    assert "Fix:" in str(e) and "\n" not in str(e)
    if value is not None:
        assert e.value == value


def test_malformed_line_and_missing_folder(tmp_path):
    path = tmp_path / "Age.jsonl"
    path.write_text(json.dumps(bbq_record(0)) + "\n{not json\n")
    with pytest.raises(InputError, match=r"Age.jsonl, line 2: .*malformed JSON"):
        read_bbq(tmp_path)
    with pytest.raises(InputError, match="no BBQ .jsonl files"):
        read_bbq(tmp_path / "absent")
