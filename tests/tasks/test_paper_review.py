"""paper-review: the scientific reviewer's table, the decision-line parse, leak guards, the PeerRead
loader, calibration from logprobs, and an end-to-end eval of a PeerRead fixture through a loopback
server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.tasks import Output, Unparsed, get_task
from assay.tasks.paper_review import (SECTIONS, PaperReview, accept_probability, parse_review,
                                      sections_present)
from assay.tasks.peerread import cut_to_tokens, read_peerread, strip_decision_statements

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "peerread"


def review(decision: str, sections=SECTIONS, tail: str = "") -> str:
    body = "\n\n".join(f"## {s}\nSome text about {s.lower()}." for s in sections)
    word = "ACCEPTANCE" if decision == "accept" else "REJECTION"
    return f"{body}\nI recommend this paper for {word}.{tail}"


def record(task, item, text, **extra):
    """A record as the runner writes it (parse, then score)."""
    parsed = task.parse(text)
    out = Output(text, logprobs=extra.pop("logprobs", None))
    return {"id": item["id"], "model": "m", "pass": "original", "sample": None,
            "output": text, "truncated": extra.pop("truncated", False),
            "parsed": None if isinstance(parsed, Unparsed) else parsed,
            "parse_error": parsed.reason if isinstance(parsed, Unparsed) else None,
            "scores": task.score(item, parsed, out), "latency_s": extra.pop("latency_s", 1.0),
            "error": None}


def table_records(task, tp, fn, fp, tn, venue=None):
    cells = ([("accept", "accept")] * tp + [("accept", "reject")] * fn
             + [("reject", "accept")] * fp + [("reject", "reject")] * tn)
    recs = []
    for i, (gold, pred) in enumerate(cells):
        item = {"id": f"p{i}", "title": "T", "abstract": "A", "decision": gold}
        if venue:
            item["venue"] = venue(i)
        recs.append(record(task, item, review(pred)))
    return recs


def values(task, recs):
    from assay.metrics import metrics_of

    return {m.name: m.value(recs) for m in metrics_of(task, recs)}


def test_registered_and_sized_for_a_full_review():
    task = get_task("paper-review")
    assert isinstance(task, PaperReview) and task.max_tokens >= 1024
    assert get_task("paper-review", body_tokens=100).body_tokens == 100


def test_scientific_reviewer_table():
    """TP 74, FN 6, FP 12, TN 3 on 95 papers -> the published row."""
    task = PaperReview()
    recs = table_records(task, 74, 6, 12, 3)
    v = values(task, recs)
    assert round(v["f1"], 3) == 0.892
    assert round(v["accuracy"], 3) == 0.811
    assert round(v["precision"], 3) == 0.860
    assert round(v["recall"], 3) == 0.925
    assert round(v["predicted_accept_rate"], 3) == 0.905
    assert round(v["true_accept_rate"], 3) == 0.842
    assert v["structure_compliance"] == 1.0 and v["parse_failure_rate"] == 0.0
    # independent check with scikit-learn
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    gold = [r["scores"]["gold"] for r in recs]
    pred = [r["scores"]["predicted"] for r in recs]
    assert v["f1"] == pytest.approx(f1_score(gold, pred, pos_label="accept"))
    assert v["precision"] == pytest.approx(precision_score(gold, pred, pos_label="accept"))
    assert v["recall"] == pytest.approx(recall_score(gold, pred, pos_label="accept"))
    assert v["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    d = task.details(recs)
    assert d["confusion"]["tp"] == 74 and d["confusion"]["fn"] == 6
    assert d["confusion"]["fp"] == 12 and d["confusion"]["tn"] == 3


def test_baselines_show_the_skewed_set_warning():
    """On a set that is 84% accept, always-accept beats the model's F1 and the majority label is
    close to its accuracy: the baselines sit beside the metrics."""
    task = PaperReview()
    recs = table_records(task, 74, 6, 12, 3)
    base = {m.name: (m.baseline.name, m.baseline.value(recs)) for m in task.metrics(recs)
            if m.baseline}
    assert base["f1"][0] == "always accept"
    assert base["f1"][1] == pytest.approx(160 / 175)  # 2*80 / (2*80 + 15)
    assert base["recall"][1] == 1.0 and base["precision"][1] == pytest.approx(80 / 95)
    assert base["accuracy"] == ("majority label", pytest.approx(80 / 95))
    assert base["predicted_accept_rate"][1] == pytest.approx(80 / 95)
    accuracy = next(m for m in task.metrics(recs) if m.name == "accuracy")
    assert accuracy.kind == "rate" and accuracy.role == "secondary"
    roles = {m.name: m.role for m in task.metrics(recs)}
    assert [n for n, r in roles.items() if r == "primary"] == ["kappa", "structure_compliance"]
    # always-accept flatters accuracy (0.842) and F1 (0.914) on this set but has kappa 0
    from sklearn.metrics import cohen_kappa_score

    gold = [r["scores"]["gold"] for r in recs]
    pred = [r["scores"]["predicted"] for r in recs]
    assert values(task, recs)["kappa"] == pytest.approx(cohen_kappa_score(gold, pred))
    assert values(task, recs)["accept_rate_gap"] == pytest.approx(86 / 95 - 80 / 95)


def test_per_venue_slices_with_n_and_warnings():
    task = PaperReview()
    recs = table_records(task, 74, 6, 12, 3, venue=lambda i: "iclr" if i % 5 else "acl")
    v = values(task, recs)
    d = task.details(recs)
    assert d["venues"] == {"acl": {"n": 19}, "iclr": {"n": 76}}
    assert any("venue 'acl'" in w and "n=19" in w for w in d["warnings"])
    acl = [r for r in recs if r["scores"]["venue"] == "acl"]
    assert v["accuracy/acl"] == pytest.approx(sum(r["scores"]["correct"] for r in acl) / 19)
    assert v["f1/iclr"] == pytest.approx(values(task, [r for r in recs if r not in acl])["f1"])


def test_parse_failures_count_against_the_model():
    task = PaperReview()
    items = [{"id": i, "title": "T", "abstract": "A", "decision": g}
             for i, g in enumerate(["accept", "reject", "accept"])]
    recs = [record(task, items[0], review("accept")),
            record(task, items[1], "## Summary\nNo decision at all."),
            record(task, items[2], review("accept") + "\nI recommend this paper for REJECTION.")]
    v = values(task, recs)
    assert v["parse_failure_rate"] == pytest.approx(2 / 3)
    assert v["accuracy"] == pytest.approx(1 / 3)
    # the unparsed accept is a missed accept; the unparsed reject a false accept
    d = task.details(recs)["confusion"]
    assert (d["tp"], d["fn"], d["fp"], d["tn"]) == (1, 1, 1, 0)
    assert v["predicted_accept_rate"] == pytest.approx(1 / 3)
    assert task.details(recs)["parse_failures"] == {"no recommendation line: expected 'I "
                                                    "recommend this paper for ACCEPTANCE.' or 'I "
                                                    "recommend this paper for REJECTION.'": 1,
                                                    "contradicting recommendation lines": 1}


@pytest.mark.parametrize("text, decision", [
    (review("accept"), "accept"),
    (review("reject"), "reject"),
    ("## Final Recommendation\n**I recommend this paper for ACCEPTANCE.**", "accept"),
    ("Final Recommendation: i recommend this paper for rejection", "reject"),
    ("**Final Recommendation:** I recommend this paper for *REJECTION*.\n\n", "reject"),
    ("- I Recommend This Paper For Acceptance!", "accept"),
])
def test_decision_line_is_read_leniently(text, decision):
    assert parse_review(text)["decision"] == decision


@pytest.mark.parametrize("text, reason", [
    ("A fine paper overall.", "no recommendation line"),
    ("I do not recommend this paper for ACCEPTANCE.", "no recommendation line"),
    ("I recommend this paper for acceptance if the authors fix the proofs.",
     "no recommendation line"),
    ("I recommend this paper for ACCEPTANCE.\nI recommend this paper for REJECTION.",
     "contradicting recommendation lines (accept on line 1, reject on line 2)"),
])
def test_missing_or_contradicting_lines_are_parse_failures(text, reason):
    parsed = parse_review(text)
    assert isinstance(parsed, Unparsed) and parsed.reason.startswith(reason)


def test_two_agreeing_lines_parse_but_break_structure():
    task = PaperReview()
    text = review("accept") + "\n\nI recommend this paper for ACCEPTANCE."
    parsed = parse_review(text)
    assert parsed["decision"] == "accept" and parsed["decision_lines"] == 2
    item = {"id": 1, "title": "T", "abstract": "A", "decision": "accept"}
    scores = task.score(item, parsed, Output(text))
    assert scores["correct"] is True and scores["structure_ok"] is False
    assert not task.check(item, text).ok


def test_sections_and_structure_compliance():
    full = review("reject")
    assert sections_present(full) == list(SECTIONS)
    text = "**Summary:** short.\n1. Strengths\n### Weaknesses -\nTechnical Soundness: ok\n" \
           "Clarity and writing\nSignificance:\nSummary of results is not a heading"
    assert sections_present(text) == list(SECTIONS[:6])
    missing = review("reject", sections=SECTIONS[:3] + SECTIONS[4:])
    scores = PaperReview().score({"id": 1, "title": "T", "abstract": "A", "decision": "reject"},
                                 parse_review(missing), Output(missing))
    assert scores["structure_ok"] is False and scores["missing_sections"] == ["Technical Soundness"]
    assert scores["correct"] is True
    assert parse_review(full + "\nThanks.")["decision_is_last_line"] is False
    assert parse_review(full + "\n\n")["decision_is_last_line"] is True


def test_check_feedback_for_distillation():
    task = PaperReview()
    item = {"id": 1, "title": "T", "abstract": "A", "decision": "reject"}
    assert task.check(item, review("reject")).ok
    wrong = task.check(item, review("accept"))
    assert not wrong.ok and "the decision is accept" in wrong.feedback
    assert "missing sections: Summary" in task.check(item, review("reject", SECTIONS[1:])).feedback


def test_render_hides_id_reviews_and_decision_statements():
    task = PaperReview(body_tokens=40)
    item = {"id": "iclr_2017/test/SECRET-ID-42", "title": "Gated Speech",
            "abstract": "We gate frames. Published as a conference paper at ICLR 2017",
            "body": "Published as a conference paper at ICLR 2017\nIntro text. " + "word " * 400,
            "decision": "accept", "reviews": [{"comments": "Decision: Accept (Poster)"}],
            "comments": "accepted"}
    messages = task.render(item)
    text = json.dumps(messages)
    assert "SECRET-ID-42" not in text and "Poster" not in text
    assert "Published as a conference paper" not in text
    assert "I recommend this paper for ACCEPTANCE." in messages[0]["content"]
    assert "cut here to about 40 of its" in messages[1]["content"]
    scores = task.score(item, parse_review(review("accept")), Output(review("accept")))
    assert scores["input_truncated"] is True and scores["body_tokens"] > 400
    assert task.render(item) == messages  # deterministic: same prompt hash for every model


def test_cut_and_strip_helpers():
    cut = cut_to_tokens("alpha beta gamma delta " * 10, 5)
    assert cut.truncated and cut.text == "alpha beta gamma" and cut.kept_tokens <= 5
    assert cut.tokens == 58  # 230 characters / 4, rounded up
    whole = cut_to_tokens("short text", 100)
    assert not whole.truncated and whole.text == "short text"
    with pytest.raises(ValueError, match="budget"):
        cut_to_tokens("x", -1)
    assert strip_decision_statements("Under review as a conference paper at ICLR 2017\nBody") \
        == "\nBody"
    assert "ICML" not in strip_decision_statements("It was accepted at ICML 2016 as a paper.")
    kept = "This result is widely accepted in the community."
    assert strip_decision_statements(kept) == kept


def test_peerread_loader_reads_the_fixture():
    task = PaperReview()
    ds = task.load(FIXTURE)
    by_id = {i["id"]: i for i in ds.items}
    assert len(ds.items) == 6 and len(ds.sha256) == 64
    paper = by_id["iclr_2017/test/301"]
    assert paper["decision"] == "accept" and paper["venue"] == "iclr_2017"
    assert paper["split"] == "test" and "sparse gating" in paper["abstract"].lower()
    assert "2 Method" in paper["body"] and "Published as a conference" not in paper["body"]
    assert "reviews" not in paper and "Poster" not in json.dumps(paper)
    assert "body" not in by_id["iclr_2017/test/303"]
    assert by_id["arxiv.cs.lg_2007-2017/test/0704.0002"]["decision"] == "reject"
    assert "ICML" not in by_id["arxiv.cs.lg_2007-2017/test/0704.0001"]["body"]
    # a venue folder and a split folder load too
    assert len(task.load(FIXTURE / "iclr_2017").items) == 4
    assert len(task.load(FIXTURE / "iclr_2017" / "test").items) == 4


def test_peerread_missing_decision_names_file_and_field(tmp_path):
    reviews = tmp_path / "acl_2017" / "dev" / "reviews"
    reviews.mkdir(parents=True)
    (reviews / "1.json").write_text(json.dumps({"id": "1", "title": "T", "abstract": "A"}))
    (reviews / "2.json").write_text(json.dumps({"id": "2", "title": "T", "abstract": "A",
                                                "accepted": False}))
    (reviews / "3.json").write_text("{not json")
    with pytest.raises(InputError) as exc:
        PaperReview().load(tmp_path)
    assert exc.value.field == "accepted" and exc.value.file.endswith("1.json")
    ds = PaperReview().load(tmp_path, skip_invalid=True)
    assert [i["id"] for i in ds.items] == ["acl_2017/dev/2"] and len(ds.skipped) == 2
    assert "malformed JSON" in ds.skipped[1]
    assert [n for n, _ in read_peerread(tmp_path)] == [1, 2, 3]


def _logprobs(word_tokens, top):
    """Chat logprobs for 'I recommend this paper for <word_tokens>.'"""
    pre = [{"token": t, "logprob": -0.01, "top_logprobs": []}
           for t in ["I", " recommend", " this", " paper", " for"]]
    first = {"token": word_tokens[0], "logprob": dict(top).get(word_tokens[0], top[0][1]),
             "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}
    rest = [{"token": t, "logprob": -0.001, "top_logprobs": []} for t in word_tokens[1:]]
    return pre + [first] + rest + [{"token": ".", "logprob": -0.01, "top_logprobs": []}]


def test_accept_probability_from_logprobs():
    lp = _logprobs([" ACC", "EPT", "ANCE"], [(" ACC", math.log(0.6)), (" REJ", math.log(0.3)),
                                             (" acc", math.log(0.05))])
    assert accept_probability(lp) == pytest.approx(0.65 / 0.95)
    only_rej = _logprobs([" REJECTION"], [(" REJECTION", math.log(0.8))])
    assert accept_probability(only_rej) == pytest.approx(0.2)
    assert accept_probability(None) is None and accept_probability([]) is None
    assert accept_probability([{"token": "hello", "logprob": 0.0}]) is None


def test_calibration_when_logprobs_are_present():
    stats = pytest.importorskip("assay.stats")
    if not hasattr(stats, "calibration"):
        pytest.skip("assay.stats.calibration has not landed yet")
    task = PaperReview()
    recs = []
    for i, (gold, p) in enumerate([("accept", 0.9), ("accept", 0.8), ("reject", 0.3),
                                   ("reject", 0.6)]):
        item = {"id": i, "title": "T", "abstract": "A", "decision": gold}
        pred = "accept" if p >= 0.5 else "reject"
        word = " ACCEPTANCE" if pred == "accept" else " REJECTION"
        lp = _logprobs([word], [(" ACCEPTANCE", math.log(p)), (" REJECTION", math.log(1 - p))])
        recs.append(record(task, item, review(pred), logprobs=lp))
    assert [r["scores"]["p_accept"] for r in recs] == pytest.approx([0.9, 0.8, 0.3, 0.6])
    v = values(task, recs)
    # independent ECE with 10 equal-width bins: |0.9-1| + |0.8-1| + |0.3-0| + |0.6-0|, each n=1
    assert v["ece"] == pytest.approx((0.1 + 0.2 + 0.3 + 0.6) / 4)
    assert task.details(recs)["calibration"]["n"] == 4
    plain = table_records(task, 2, 0, 1, 1)
    assert "ece" not in values(task, plain)
    assert task.details(plain)["calibration"]["available"] is False


def _fake_reviewer(body):
    """A 'model' that accepts papers whose prompt mentions an experiment with numbers."""
    prompt = body["messages"][-1]["content"]
    decision = "accept" if any(ch.isdigit() for ch in prompt.split("Abstract:")[-1]) else "reject"
    return review(decision)


def test_peerread_fixture_evaluates_end_to_end(tmp_path):
    from assay.rundir import load_run
    from assay.run import EvalConfig, evaluate
    from assay.testing import FakeOpenAIServer

    with FakeOpenAIServer(_fake_reviewer) as srv:
        cfg = EvalConfig(task="paper-review", data=str(FIXTURE), out=str(tmp_path / "run"),
                         models=[f"rev=openai:reviewer@{srv.base_url}"],
                         store=str(tmp_path / "store.sqlite"))
        res = evaluate(cfg)
        sent = json.dumps(srv.stats.bodies)
    assert srv.stats.requests == 6
    assert "iclr_2017/test" not in sent and "0704.0001" not in sent
    assert "Published as a conference paper" not in sent and "Poster" not in sent
    run = load_run(res.out_dir)
    m = run.metrics["models"]["rev"]
    recs = run.records_of("rev")
    gold = {r["id"]: r["scores"]["gold"] for r in recs}
    pred = {r["id"]: r["scores"]["predicted"] for r in recs}
    assert gold["iclr_2017/test/301"] == "accept" and pred["iclr_2017/test/301"] == "accept"
    correct = sum(gold[i] == pred[i] for i in gold)
    assert m["accuracy"] == pytest.approx(correct / 6)
    assert m["structure_compliance"] == 1.0 and m["parse_failure_rate"] == 0.0
    assert m["true_accept_rate"] == pytest.approx(3 / 6)
    assert set(run.metrics["details"]["rev"]["venues"]) == {"iclr_2017", "arxiv.cs.lg_2007-2017"}
    assert "f1/iclr_2017" in m and m["mean_latency_s"] > 0
    assert run.metrics["baselines"]["rev"]["f1"]["name"] == "always accept"


def test_bundled_examples_load_and_their_reviews_pass_the_check():
    task = PaperReview()
    folder = Path(__file__).resolve().parents[2] / "examples" / "paper-review"
    train, test = task.load(folder / "train.jsonl"), task.load(folder / "test.jsonl")
    assert len(train.items) == 24 and len(test.items) == 16
    assert not {i["id"] for i in train.items} & {i["id"] for i in test.items}
    for item in train.items:
        result = task.check(item, item["review"])
        assert result.ok, (item["id"], result.feedback)
        user = task.render(item)[1]["content"]
        assert "Strengths" not in user and item["review"][-38:] not in user
    assert {i["decision"] for i in test.items} == {"accept", "reject"}


def test_logprobs_from_the_backend_give_calibration_end_to_end(tmp_path):
    from assay.run import EvalConfig, evaluate
    from assay.testing import FakeOpenAIServer

    def reviewer(body):
        text = _fake_reviewer(body)
        accept = text.endswith("ACCEPTANCE.")
        word = " ACCEPTANCE" if accept else " REJECTION"
        p = 0.8 if accept else 0.3
        return {"text": text, "logprobs": _logprobs([word], [(" ACCEPTANCE", math.log(p)),
                                                             (" REJECTION", math.log(1 - p))])}

    with FakeOpenAIServer(reviewer) as srv:
        res = evaluate(EvalConfig(task="paper-review", data=str(FIXTURE),
                                  out=str(tmp_path / "run"), logprobs=True, top_logprobs=5,
                                  models=[f"rev=openai:reviewer@{srv.base_url}"],
                                  store=str(tmp_path / "store.sqlite")))
    assert all(b.get("logprobs") is True for b in srv.stats.bodies)
    m = res.metrics["models"]["rev"]
    cal = res.metrics["details"]["rev"]["calibration"]
    assert cal["n"] == 6 and 0.0 <= m["ece"] <= 1.0
    assert {round(b["mean_confidence"], 2) for b in cal["bins"]} <= {0.8, 0.3}
