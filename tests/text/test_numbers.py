"""Numbers read aloud."""

from __future__ import annotations

import pytest

from assay.text import cardinal, number_readings, number_syllables


@pytest.mark.parametrize("n,words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (42, "forty-two"), (404, "four hundred four"),
    (1000, "one thousand"), (2024, "two thousand twenty-four"),
    (1_000_001, "one million one"),
])
def test_cardinal(n, words):
    assert cardinal(n) == words


def test_readings_and_syllables():
    assert number_readings("404") == ("four hundred four", "four oh four")
    assert number_syllables("404") == (4, 3)
    assert number_readings("2024") == ("two thousand twenty-four", "two oh two four",
                                       "twenty twenty-four")
    assert number_syllables("2024") == (6, 4, 5)
    assert number_readings("1900")[-1] == "nineteen hundred"
    assert number_readings("007")[0] == "oh oh seven"      # a leading zero is read as digits
    assert number_syllables("7") == (2,)
    assert number_syllables("1" * 20) == (20,)              # very long: digit by digit


def test_bad_arguments():
    with pytest.raises(ValueError, match="digits must be"):
        number_readings("4a")
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        cardinal(-1)
