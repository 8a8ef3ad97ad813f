"""Parsers on hostile model output: every parser finishes 1 MB adversarial inputs in under a second
of CPU time, and the linear rewrites give the same answers as the regular expressions they replace
(checked on random short inputs built from the tokens that matter)."""

from __future__ import annotations

import random
import re
import time

import pytest

from assay.tasks.bias_judge import parse_verdict
from assay.tasks.haiku_review import fences, parse_haiku
from assay.tasks.paper_review import decision_lines, sections_present
from assay.text import count_syllables, guess_syllables
from assay.text.hostile import hostile_texts, parsers
from assay.text.syllables import MAX_OPTIONS, _combine

MB = 1 << 20
PARSERS = parsers()
# The inputs the probe of issue 12 found slow, per parser, always run at 1 MB.
KNOWN = {
    "bias_judge.parse_verdict": ["opener+spaces:<verdict>", "repeat:<verdict>",
                                 "verdict_tags_unclosed", "repeat:<reasoning>"],
    "haiku_review.parse_haiku": ["backticks", "repeat:```", "repeat:`", "fence_lines"],
    "haiku.haiku_form": ["camel_aB", "camel_Ab", "prefix_re", "two_reading_words"],
    "syllables.count_syllables": ["camel_aB", "prefix_re", "repeat:FAIL", "upper_AB"],
    "redact.redact": ["dash_run_key", "jwt_dash", "jwt_dash_dot", "repeat:Authorization:"],
    "categories.classify": ["repeat:assert", "digits_failed", "word_exception",
                            "newlines+opener:at"],
    "paper_review.parse_review": ["newlines", "decision_prefix_runs",
                                  "opener+spaces:I recommend this paper for"],
    "paper_review.sections_present": ["newlines", "repeat:## Summary"],
}


def _cpu(fn, text: str) -> float:
    start = time.process_time()
    fn(text)
    return time.process_time() - start


@pytest.fixture(scope="module")
def small():
    return hostile_texts(8 * 1024), hostile_texts(32 * 1024)


@pytest.fixture(scope="module")
def full():
    return hostile_texts(MB)


@pytest.mark.parametrize("name", list(PARSERS))
def test_every_parser_is_fast_on_1mb_hostile_input(name, small, full):
    """Each input is timed at 8 and 32 KB; those that grow faster than linearly (or are the
    slowest) and the known bad cases are run at 1 MB, each under a second of CPU time."""
    fn = PARSERS[name]
    at8 = {k: _cpu(fn, v) for k, v in small[0].items()}
    at32 = {k: _cpu(fn, v) for k, v in small[1].items()}
    growing = [k for k in at32 if at32[k] > 1e-3 and at32[k] > 8 * max(at8[k], 1e-4)]
    slowest = sorted(at32, key=at32.get, reverse=True)[:3]
    chosen = dict.fromkeys(KNOWN.get(name, []) + growing + slowest)
    times = {k: _cpu(fn, full[k]) for k in chosen}
    slow = {k: round(t, 3) for k, t in times.items() if t >= 1.0}
    assert not slow, f"{name} took >= 1 s CPU on 1 MB of: {slow}"


def test_hostile_texts_are_about_the_size_asked():
    texts = hostile_texts(4096)
    assert len(texts) > 100
    assert all(3000 <= len(t) <= 4200 for t in texts.values())
    with pytest.raises(ValueError, match="size"):
        hostile_texts(10)


def test_no_recursion_error_on_stacked_prefixes():
    assert count_syllables("re" * 1000).total >= 1
    assert guess_syllables("re" * 5000) >= 1
    assert guess_syllables("reunderwrite") == guess_syllables("underwrite") + 1


def test_a_line_past_the_budget_is_cut_and_flagged():
    line = "word " * 5000
    counted = count_syllables(line)
    assert counted.total == 2000  # the first 10,000 characters: 2,000 one-syllable words
    assert counted.low_confidence[-1].startswith("<15,001 more characters")


# ---- the linear rewrites agree with the regular expressions they replace ------------------

_OLD_REASONING = re.compile(r"<reasoning>.*?</reasoning>", re.IGNORECASE | re.DOTALL)
_OLD_VERDICT = re.compile(r"<verdict>\s*(.*?)\s*</verdict>", re.IGNORECASE | re.DOTALL)


def _old_verdict(text: str):
    outside = _OLD_REASONING.sub(" ", text)
    values = [re.sub(r"^[\s*_`'\"\[(]+|[\s*_`'\".\])]+$", "", v).upper()
              for v in _OLD_VERDICT.findall(outside)]
    if not values:
        return "inside" if _OLD_VERDICT.search(text) else "none"
    if any(v not in ("A", "B", "TIE") for v in values):
        return "bad"
    return values[0] if len(set(values)) == 1 else "disagree"


def _new_verdict(text: str):
    out = parse_verdict(text)
    if isinstance(out, str):
        return out
    reason = out.reason
    return ("inside" if "inside" in reason else "none" if reason.startswith("no ") else
            "bad" if "is not A, B or TIE" in reason else "disagree")


def _random_text(rng: random.Random, pieces: list[str], n: int) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, n)))


def test_verdict_parser_agrees_with_the_regex_it_replaces():
    rng = random.Random(0)
    pieces = ["<verdict>", "</verdict>", "<reasoning>", "</reasoning>", "<VERDICT>", "A", "B",
              "tie", " ", "\n", "*", "`", "(", ")", ".", "x", "</Reasoning>"]
    for _ in range(4000):
        text = _random_text(rng, pieces, 14)
        assert _new_verdict(text) == _old_verdict(text), text


def test_verdict_parse_error_quotes_at_most_a_little():
    out = parse_verdict("<verdict>" + "x" * 100_000 + "</verdict>")
    assert len(out.reason) < 200 and "100,000 characters" in out.reason


_OLD_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def test_fence_scan_agrees_with_the_regex_it_replaces():
    rng = random.Random(1)
    pieces = ["```", "`", "\n", "a", " ", "py", "``"]
    for _ in range(4000):
        text = _random_text(rng, pieces, 16)
        old = [(m.start(), m.end(), m.group(1)) for m in _OLD_FENCE.finditer(text)]
        assert fences(text) == old, text


def test_haiku_in_a_fence_after_a_backtick_run_still_parses():
    text = "`x` " * 50_000 + "\n\n```\nfix the null check\nbefore it reaches the loop now\nor tests will fail\n```"
    assert parse_haiku(text) == ["fix the null check", "before it reaches the loop now",
                                 "or tests will fail"]


_OLD_MARKUP = re.compile(r"[*_`#>]")
_OLD_LABEL = re.compile(r"^\s*(?:[-+]\s+|\d+[.)]\s*)?(?:(?:final\s+)?(?:recommendation|"
                        r"decision|verdict)\s*[:\-]\s*)?", re.IGNORECASE)
_OLD_DECISION = re.compile(r"^I\s+recommend\s+this\s+paper\s+for\s+(ACCEPTANCE|REJECTION)\s*[.!]?$",
                           re.IGNORECASE)
_SECTIONS = ("Summary", "Strengths", "Weaknesses", "Technical Soundness", "Clarity and Writing",
             "Significance", "Final Recommendation")


def _old_decisions(text):
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        m = _OLD_DECISION.match(_OLD_LABEL.sub("", _OLD_MARKUP.sub("", line)).strip())
        if m:
            found.append((number, "accept" if m.group(1).upper() == "ACCEPTANCE" else "reject"))
    return found


def _old_sections(text):
    heads = set()
    for line in text.splitlines():
        clean = re.sub(r"^\s*(?:\d+[.)]\s*)", "", _OLD_MARKUP.sub("", line)).strip().lower()
        for name in _SECTIONS:
            rest = clean[len(name):].strip() if clean.startswith(name.lower()) else None
            if rest is not None and (not rest or rest[0] in ":-"):
                heads.add(name)
    return [s for s in _SECTIONS if s in heads]


def test_review_line_parsers_agree_with_the_per_line_regexes():
    rng = random.Random(2)
    pieces = ["I recommend this paper for ", "ACCEPTANCE", "rejection", ".", "!", " ", "  ",
              "\n", "\r\n", "**", "- ", "1. ", "Decision: ", "Final Recommendation", ":",
              "## Summary", "Strengths", " - ", "x", "\t", "#"]
    for _ in range(4000):
        text = _random_text(rng, pieces, 12)
        assert decision_lines(text) == _old_decisions(text), text
        assert sections_present(text) == _old_sections(text), text


def _old_combine(options):
    base, deltas = 0, None
    for opts in options:
        base += opts[0]
        if len(opts) > 1:
            deltas = {d + o - opts[0] for d in (deltas or (0,)) for o in opts}
    if deltas is None or len(deltas) == 1:
        return (base,)
    return (base, *sorted(base + d for d in deltas if d != 0))[:MAX_OPTIONS]


def test_pruned_combination_is_exact():
    rng = random.Random(3)
    for _ in range(500):
        options = [tuple(rng.sample(range(0, 9), rng.randint(1, 3)))
                   for _ in range(rng.randint(0, 60))]
        assert _combine(options) == _old_combine(options), options
