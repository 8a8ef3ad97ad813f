"""Exact and near-duplicate targets, with planted duplicates."""

from __future__ import annotations

import pytest

from assay.distill import exact_duplicates, minhash, near_duplicates, normalise, text_hash
from assay.distill.dedupe import shingles

BASE = ("the retry loop swallows the timeout error and the caller never learns that the "
        "request failed so the queue keeps growing until the worker runs out of memory")


def test_normalise_folds_case_whitespace_and_punctuation():
    assert normalise("  Fix the `Lock`!\n\tNOW ") == "fix the lock now"
    assert text_hash("Fix  the LOCK.") == text_hash("fix the lock")
    assert text_hash("fix the lock") != text_hash("fix the locks")


def test_exact_duplicates_catch_case_and_whitespace_variants_and_keep_the_first():
    texts = ["a b c", "A  B\nC", "a b d", "  a b c.  ", "x"]
    dups = exact_duplicates(["i0", "i1", "i2", "i3", "i4"], texts)
    assert sorted(dups) == ["i1", "i3"]
    assert {d.of for d in dups.values()} == {"i0"}
    assert all(d.how == "exact" and d.similarity == 1.0 for d in dups.values())


def _jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_minhash_estimates_the_jaccard_of_word_3grams():
    other = BASE.replace("memory", "disk space")
    exact = _jaccard(BASE, other)
    assert 0.8 < exact < 1.0
    assert minhash(BASE).jaccard(minhash(other)) == pytest.approx(exact, abs=0.12)


def test_near_duplicates_drop_a_one_word_edit_but_not_a_different_text():
    one_word = BASE.replace("growing", "rising")  # Jaccard 23/29 = 0.79 of word 3-grams
    ends = BASE + " again"  # 26/27
    different = ("the docstring says the function returns a list but it returns a generator "
                 "which breaks every caller that indexes into the result")
    ids = ["keep", "near1", "near2", "other"]
    texts = [BASE, one_word, ends, different]
    got = near_duplicates(ids, texts, threshold=0.7)
    assert sorted(got) == ["near1", "near2"]
    assert all(d.of == "keep" and d.how == "near" for d in got.values())
    assert got["near2"].similarity == pytest.approx(_jaccard(BASE, ends), abs=0.12)
    assert near_duplicates(ids, texts, threshold=0.95).keys() <= {"near2"}


def test_near_duplicates_threshold_one_is_off_and_bad_thresholds_are_refused():
    assert near_duplicates(["a", "b"], [BASE, BASE], threshold=1.0) == {}
    with pytest.raises(ValueError, match="threshold"):
        near_duplicates(["a"], [BASE], threshold=0.0)


def test_short_texts_are_shingled_whole():
    assert shingles("Fix it") == {"fix it"}
    got = near_duplicates(["a", "b", "c"], ["Fix it", "fix  IT", "drop it"], threshold=0.8)
    assert list(got) == ["b"]
