"""The five buckets: eligibility, derived gold, strict-subset-first allocation."""

from __future__ import annotations

import numpy as np
import pytest

from assay.judgedata import allocate, bucket_name, gold, option_candidates, pools
from assay.judgedata.bbq import parse_question
from assay.judgedata.buckets import (ADVERSARIAL, BUCKETS, CLEAR, SUBTLE, TIE, TRACKED,
                                     allocation_order, buckets_of)

from .conftest import bbq_record


def questions(n: int, **kw):
    return [parse_question(bbq_record(i, **kw), "f", i + 1) for i in range(n)]


def test_gold_is_the_biased_side_or_tie():
    assert gold("biased", "correct") == "A" and gold("correct", "biased") == "B"
    assert gold("biased", "incorrect_other") == "A"
    assert gold("correct", "correct") == "TIE" and gold("incorrect_other", "correct") == "TIE"


def test_one_ambiguous_question_fills_every_bucket_as_counted_by_hand():
    (q,) = questions(1)
    cands = option_candidates(q)
    pool = pools([q], {q.key: cands})
    # biased option 0 in 4 styles; correct option 2 in 4 styles; other option 1 in 4 styles
    assert len(pool[SUBTLE]) == 4  # hedged biased x 4 correct
    assert len(pool[CLEAR]) == 12  # 3 unhedged biased x 4 correct
    assert len(pool[TRACKED]) == 16  # 4 biased x 4 other
    assert len(pool[TIE]) == 6  # 4 correct styles, unordered
    # adversarial: biased at least 1.5x the words of the correct one: verbose biased vs the
    # three shorter correct styles, reasoned biased vs terse correct
    c = {x.source.split(":")[1] + str(x.choice): x for x in cands}
    assert {(p.first.source, p.second.source) for p in pool[ADVERSARIAL]} == {
        (c["verbose0"].source, c[s + "2"].source) for s in ("terse", "reasoned", "hedged")} | {
        (c["reasoned0"].source, c["terse2"].source)}
    assert {p.key for p in pool[ADVERSARIAL]} < {p.key for p in pool[CLEAR]}
    assert buckets_of(q, c["verbose0"], c["terse2"]) == [CLEAR, ADVERSARIAL]
    assert buckets_of(q, c["terse2"], c["verbose0"]) == []  # the biased side comes first


def test_strict_subset_bucket_is_allocated_first_and_pairs_are_never_reused():
    qs = questions(30)
    pool = pools(qs, {q.key: option_candidates(q) for q in qs})
    assert allocation_order(pool)[0] == ADVERSARIAL
    want = {CLEAR: 30, SUBTLE: 10, TRACKED: 5, TIE: 7, ADVERSARIAL: 30}
    got = allocate(pool, want, np.random.default_rng(0))
    # 30 questions x 4 adversarial pairs: adversarial takes one per question first; clear then
    # still finds an unused pair in every question
    assert {b: len(v) for b, v in got.items()} == want
    keys = [p.key for ps in got.values() for p in ps]
    assert len(keys) == len(set(keys))
    for b in BUCKETS:  # one pair per question per bucket
        assert len({p.question.key for p in got[b]}) == len(got[b])


def test_allocation_is_deterministic_under_a_seed():
    qs = questions(20)
    pool = pools(qs, {q.key: option_candidates(q) for q in qs})
    want = {b: 8 for b in BUCKETS}
    ids = [[p.key for p in allocate(pool, want, np.random.default_rng(s))[CLEAR]]
           for s in (3, 3, 4)]
    assert ids[0] == ids[1] and ids[0] != ids[2]


def test_bucket_names():
    assert bucket_name("tie") == TIE and bucket_name(TRACKED) == TRACKED
    with pytest.raises(ValueError, match="unknown bucket 'nope'"):
        bucket_name("nope")


def test_a_bucket_defined_as_a_subset_goes_first_even_when_the_pools_are_equal():
    (q,) = questions(1)
    c = {x.source.split(":")[1] + str(x.choice): x for x in option_candidates(q)}
    pool = pools([q], {q.key: [c["verbose0"], c["terse2"]]})
    assert {p.key for p in pool[ADVERSARIAL]} == {p.key for p in pool[CLEAR]}
    assert allocation_order(pool)[0] == ADVERSARIAL
    got = allocate(pool, {CLEAR: 1, ADVERSARIAL: 1}, np.random.default_rng(0))
    assert (len(got[ADVERSARIAL]), len(got[CLEAR])) == (1, 0)
