"""haiku-review through its protocol: render, parse, check, score_batch, metrics, details.

MiniLM is loaded once for the module (a few seconds) with its cache in a temporary folder."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from assay.tasks import Output, Unparsed, get_task
from assay.tasks.haiku_review import CentroidClassifier, cut_diff, parse_haiku

HAIKU = "leaked api_key\ninto the logs on each call\nrotate it today"
ITEMS = [
    {"id": "a", "diff": "+ log.info(api_key)", "category": "functional",
     "comment": "this logs the secret api key; remove it from the log line"},
    {"id": "b", "diff": "+ def f(x): return x", "category": "documentation",
     "comment": "please add a docstring explaining what f returns"},
    {"id": "c", "diff": "+ for i in range(len(xs)): print(xs[i])", "category": "refactoring",
     "comment": "iterate over xs directly instead of indexing with range(len(xs))"},
    {"id": "d", "diff": "+ retries = 3", "category": "discussion",
     "comment": "why three retries? did we agree on this number with the team?"},
]
TRAIN = [
    ("functional", "this crashes when the list is empty"),
    ("functional", "the secret key is printed to the logs, a security bug"),
    ("documentation", "add a docstring to this function"),
    ("documentation", "the comment here is out of date, please update the docs"),
    ("refactoring", "rename this variable and simplify the loop"),
    ("refactoring", "extract this duplicated code into a helper"),
    ("discussion", "why did you choose this approach? let's discuss"),
    ("discussion", "nice work, thanks for the change!"),
]


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("haiku")
    train = folder / "train.jsonl"
    train.write_text("".join(json.dumps({"id": f"t{i}", "diff": "", "comment": c,
                                         "category": cat}) + "\n"
                             for i, (cat, c) in enumerate(TRAIN)))
    return get_task("haiku-review", train=str(train), store=str(folder / "store"),
                    batch_size=8)


# ---- parse ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    HAIKU,
    f"```\n{HAIKU}\n```",
    f"Here is a haiku about the diff:\n\n```text\n{HAIKU}\n```\n\nThis flags the leaked key.",
    "**Leaky Logs**\n" + HAIKU,
    "# Leaky Logs\n\n" + HAIKU,
    "1. leaked api_key\n2. into the logs on each call\n3. rotate it today",
    "- leaked api_key\n- into the logs on each call\n- rotate it today",
    '"leaked api_key\ninto the logs on each call\nrotate it today"',
    "> leaked api_key\n> into the logs on each call\n> rotate it today",
    HAIKU + "\n\nThe key is written to the logs; rotate it and remove the call.",
    "leaked api_key / into the logs on each call / rotate it today",
    "leaked api_key\n\ninto the logs on each call\n\nrotate it today",
    "<think>the key leaks</think>\n" + HAIKU,
    "*leaked api_key*\n*into the logs on each call*\n*rotate it today*",
    "Haiku:\n" + HAIKU,
])
def test_parse_finds_the_three_lines(text):
    assert parse_haiku(text) == ["leaked api_key", "into the logs on each call",
                                 "rotate it today"]


def test_a_haiku_line_may_end_in_a_colon():
    lines = ["one thing to fix here:", "the loop runs past the last row", "stop at len(rows)"]
    assert parse_haiku("\n".join(lines)) == lines


@pytest.mark.parametrize("text,reason", [
    ("leaked api_key\nrotate it today", "found 2 lines, a haiku needs 3"),
    ("a\nb\nc\nd", "found 4 lines, a haiku needs 3"),
    ("   ", "empty output"),
    ("just one line", "found 1 line, a haiku needs 3"),
])
def test_parse_failures_say_why(text, reason):
    assert parse_haiku(text) == Unparsed(reason)


# ---- render and check ----------------------------------------------------------------------

def test_render(task):
    msgs = task.render(ITEMS[0])
    assert msgs[0]["role"] == "system" and "5, 7 and 5" in msgs[0]["content"]
    assert "at most one identifier, in backticks" in msgs[0]["content"]
    assert "log.info(api_key)" in msgs[1]["content"]
    assert ITEMS[0]["comment"] not in json.dumps(msgs)          # the comment is never shown
    assert task.render({"id": "e", "diff": "", "comment": "x"})[1]["content"] == \
        "The diff is empty."


def test_huge_diff_is_cut_at_a_line(task):
    diff = "".join(f"+ line {i}\n" for i in range(10_000))
    text, cut = cut_diff(diff, 100)
    assert cut and len(text) <= 400 and text.endswith(tuple("0123456789"))
    assert cut_diff("+ x", 100) == ("+ x", False)
    content = task.render({"id": "h", "diff": diff, "comment": "x"})[1]["content"]
    assert "(The diff was cut to about 1500 tokens.)" in content and len(content) < 6100


def test_check_feedback(task):
    assert task.check(ITEMS[0], HAIKU).ok
    bad = task.check(ITEMS[0], "leaked api_key now\ninto the logs\nrotate it today")
    assert not bad.ok
    assert bad.feedback == ("line 1 has 6 syllables; it needs 5; line 2 has 4 syllables; "
                            "it needs 7")
    assert bad.evidence["syllables"] == [6, 4, 5]
    ticks = task.check(ITEMS[0], "leaked `api_key`\ninto the `logs` on each call\n"
                                 "rotate it today")
    assert ticks.feedback == "use at most one identifier in backticks (found 2: api_key, logs)"
    assert task.check(ITEMS[0], "two\nlines") == task.check(ITEMS[0], "two\nlines")
    assert task.check(ITEMS[0], "two\nlines").feedback == "found 2 lines, a haiku needs 3"


# ---- scoring and metrics -------------------------------------------------------------------

OUTPUTS = [
    HAIKU,
    "a function with no\ndocstring leaves the reader lost\nsay what f returns",
    "indexing by range\nwhen you could iterate xs\nsimpler loops are best",
    "two lines only here\nno third line",
]


def _records(task, outputs, items=ITEMS):
    parsed = [task.parse(o) for o in outputs]
    scores = task.score_batch(items, parsed, [Output(o) for o in outputs])
    return [{"id": i["id"], "model": "m", "pass": "original", "sample": None, "output": o,
             "parsed": None if isinstance(p, Unparsed) else p,
             "parse_error": p.reason if isinstance(p, Unparsed) else None, "scores": s,
             "error": None} for i, o, p, s in zip(items, outputs, parsed, scores)]


def test_score_batch_relevance_floor_and_category(task):
    from assay.stats import shuffle_floor

    recs = _records(task, OUTPUTS)
    s = [r["scores"] for r in recs]
    assert [x["form_ok"] for x in s] == [True, True, False, False]
    assert s[0]["syllables"] == [5, 7, 5] and s[3]["syllables"] is None
    assert s[3]["relevance"] == 0.0 and s[3]["relevance_floor"] == 0.0   # no haiku, no relevance
    # Independent check: embed the texts directly and take the matrix.
    emb = task.embedder()
    h = emb.embed(["\n".join(parse_haiku(o)) for o in OUTPUTS[:3]])
    c = emb.embed([i["comment"] for i in ITEMS])
    sim = np.vstack([h @ c.T, np.zeros((1, 4))])
    np.testing.assert_allclose([x["relevance"] for x in s], np.diag(sim), atol=1e-5)
    metrics = {m.name: m for m in task.metrics(recs)}
    assert math.isclose(metrics["relevance"].baseline.value(recs), shuffle_floor(sim), abs_tol=1e-6)
    assert math.isclose(metrics["relevance"].compute(recs), float(np.trace(sim)) / 4,
                        abs_tol=1e-6)
    for i in range(3):   # each haiku is closest to its own comment
        assert s[i]["relevance"] > s[i]["relevance_floor"] + 0.15
    assert metrics["form_rate"].compute(recs) == 0.5
    assert metrics["relevance"].kind == "mean" and metrics["relevance"].role == "primary"
    assert s[3]["category_predicted"] is None and s[3]["category_correct"] is False
    assert {x["comment_category_predicted"] for x in s} <= set(task.schema[3].choices)


def test_category_metrics_use_stats(task):
    from assay.stats import macro_f1, majority_baseline

    recs = _records(task, OUTPUTS)
    metrics = {m.name: m for m in task.metrics(recs)}
    gold = [i["category"] for i in ITEMS]
    pred = [r["scores"]["category_predicted"] for r in recs]
    labels = ("refactoring", "discussion", "functional", "documentation")
    assert metrics["category_macro_f1"].compute(recs) == macro_f1(gold, pred, labels=labels)
    assert metrics["category_macro_f1"].baseline.value(recs) == \
        majority_baseline(gold, labels=labels).macro_f1
    details = task.details(recs)
    assert details["n"] == 4 and details["n_parsed"] == 3
    assert details["category"]["confusion"]["discussion"]["none"] == 1
    assert 0.0 <= details["category"]["ceiling_human_comments"] <= 1.0


def test_floor_is_per_pass_and_sample(task):
    items = ITEMS[:2] * 2
    outs = [Output(OUTPUTS[0]), Output(OUTPUTS[1]), Output(OUTPUTS[0], sample=0),
            Output(OUTPUTS[1], sample=0)]
    scores = task.score_batch(items, [parse_haiku(o.text) for o in outs], outs)
    assert scores[0]["relevance_floor"] == pytest.approx(scores[2]["relevance_floor"], abs=1e-6)
    single = task.score(ITEMS[0], parse_haiku(HAIKU), Output(HAIKU))
    assert single["relevance_floor"] is None and single["relevance"] > 0.3


def test_centroid_classifier_by_hand():
    vecs = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
    clf = CentroidClassifier.fit(vecs, ["x", "x", "y", "y"], ("x", "y"))
    assert clf.predict(np.array([[0.9, 0.1], [0.1, 0.9], [0.7, 0.7001]])) == ["x", "y", "y"]
    with pytest.raises(ValueError, match=r"y has no examples of \['z'\]"):
        CentroidClassifier.fit(vecs, ["x", "x", "y", "y"], ("x", "y", "z"))


def test_no_train_split_means_no_category_metric(tmp_path):
    t = get_task("haiku-review", store=str(tmp_path))
    t._embedder = None
    recs = [{"id": "a", "pass": "original", "sample": None, "parse_error": None,
             "scores": {"form_ok": True, "relevance": 0.5, "relevance_floor": 0.1,
                        "syllables": [5, 7, 5], "category": "functional"}}]
    assert [m.name for m in t.metrics(recs)] == ["form_rate", "relevance", "relevance_gap",
                                                "relevance_parsed"]
    assert "no category classifier" in t.details(recs)["warnings"][0]


@pytest.mark.realdata
def test_real_crc_ceiling_and_floor(task, shared_data):
    """On the held-out 100 of crc-py: the human comments as output give relevance 1 per parsed
    item; a shuffled pairing falls to the shuffle floor."""
    from assay.data import load_crc, stratified_split

    items = stratified_split(load_crc(shared_data / "crc-py").items, holdout=100, seed=0).test
    words = [i["comment"].split() for i in items]
    thirds = [max(1, len(w) // 3) for w in words]
    as_haiku = ["\n".join([" ".join(w[:k]), " ".join(w[k:2 * k]), " ".join(w[2 * k:])])
                for w, k in zip(words, thirds)]
    real = _records(task, as_haiku, items)
    rng = random.Random(0)
    perm = list(range(100))
    rng.shuffle(perm)
    shuffled = _records(task, [as_haiku[j] for j in perm], items)
    m_real = {m.name: m for m in task.metrics(real)}
    m_shuf = {m.name: m for m in task.metrics(shuffled)}
    rel, floor = m_real["relevance"].compute(real), m_real["relevance"].baseline.value(real)
    rel_s, floor_s = m_shuf["relevance"].compute(shuffled), m_shuf["relevance"].baseline.value(shuffled)
    print(f"\ncrc held-out 100: human comments relevance {rel:.3f} floor {floor:.3f}; "
          f"shuffled relevance {rel_s:.3f} floor {floor_s:.3f}")
    assert rel > 0.9 and 0.0 < floor < 0.25 and rel - floor > 0.7
    assert abs(rel_s - floor_s) < 0.05
