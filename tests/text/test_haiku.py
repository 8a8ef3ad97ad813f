"""The 5-7-5 form of a haiku, with evidence and feedback."""

from __future__ import annotations

import pytest

from assay.text import haiku_form

# 1+4 / 2+1+1+1+1+1 / 2+1+2
GOOD = ["leaked api_key", "into the logs on each call", "rotate it today"]


def test_valid_haiku():
    form = haiku_form(GOOD)
    assert form.counts == [5, 7, 5]
    assert form.ok and form.feedback() == ""
    assert form.low_confidence == []


def test_feedback_names_each_wrong_line():
    form = haiku_form(["the api_key leaks now", "into the logs", "rotate it today"])
    assert not form.ok
    assert form.counts == [7, 4, 5]
    assert form.feedback() == ("line 1 has 7 syllables; it needs 5; "
                               "line 2 has 4 syllables; it needs 7")


def test_any_listed_pronunciation_is_accepted():
    # 404 is "four hundred four" (4) or "four oh four" (3): 3 + 4 = 7 by the second reading.
    form = haiku_form(["a missing route here", "404 for the users", "add the handler back"])
    assert form.counts[1] == 8 and form.lines[1].ok
    assert form.lines[1].count.possible == (7, 8)


def test_other_readings_in_feedback_and_low_confidence():
    form = haiku_form(["the SQL query fails", "a frobnicator wakes up", "rotate it today"])
    assert form.counts == [6, 7, 5]
    assert form.feedback() == "line 1 has 6 syllables (or 7 by another reading); it needs 5"
    assert form.low_confidence == ["frobnicator"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="lines must be a sequence of 3 strings"):
        haiku_form("one line")
    with pytest.raises(ValueError, match="lines must be a sequence of 3 strings"):
        haiku_form(["a", "b"])
