"""The LLM-judge category classifier, against the loopback OpenAI-compatible server."""

from __future__ import annotations

import numpy as np
import pytest

from assay.tasks import Output, get_task
from assay.tasks.category_judge import JudgeClassifier, parse_label
from assay.tasks.haiku_review import CATEGORIES, parse_haiku
from assay.testing import FakeOpenAIServer


def keyword_judge(body: dict) -> str:
    text = body["messages"][-1]["content"].lower()
    if "crash" in text or "bug" in text:
        return "Functional."
    if "docstring" in text:
        return "documentation"
    if "rename" in text:
        return "**refactoring**"
    return "I am not sure"


def test_parse_label():
    assert parse_label("Category: Documentation.", CATEGORIES) == "documentation"
    assert parse_label("no idea", CATEGORIES) is None
    assert parse_label("", CATEGORIES) is None


def test_judge_labels_and_caches(tmp_path):
    texts = ["this will crash on empty input", "add a docstring", "rename x", "hmm"]
    with FakeOpenAIServer(keyword_judge) as srv:
        judge = JudgeClassifier(f"openai:judge-model@{srv.base_url}", tmp_path / "s.sqlite",
                                CATEGORIES)
        assert judge.predict_texts(texts) == ["functional", "documentation", "refactoring", None]
        assert srv.stats.requests == 4
        again = JudgeClassifier(f"openai:judge-model@{srv.base_url}", tmp_path / "s.sqlite",
                                CATEGORIES)
        assert again.predict_texts(texts[:2]) == ["functional", "documentation"]
        assert srv.stats.requests == 4 and again.sent == 0      # answered from the store
    assert "refactoring" in srv.stats.bodies[0]["messages"][0]["content"]


class FixedEmbedder:
    def embed(self, texts):
        return np.array([[1.0, 0.0] if "crash" in t else [0.0, 1.0] for t in texts])


def test_haiku_review_with_a_judge(tmp_path):
    items = [{"id": "a", "diff": "", "comment": "this is a bug", "category": "functional"},
             {"id": "b", "diff": "", "comment": "add a docstring", "category": "documentation"}]
    outputs = ["empty list input\nthe loop will crash on it here\nguard the first index",
               "one line only"]
    with FakeOpenAIServer(keyword_judge) as srv:
        task = get_task("haiku-review", judge=f"openai:judge@{srv.base_url}",
                        store=str(tmp_path))
        task._embedder = FixedEmbedder()
        scores = task.score_batch(items, [parse_haiku(o) for o in outputs],
                                  [Output(o) for o in outputs])
    assert [s["category_predicted"] for s in scores] == ["functional", None]
    assert [s["comment_category_predicted"] for s in scores] == ["functional", "documentation"]
    recs = [{"id": i["id"], "pass": "original", "sample": None, "parse_error": None,
             "scores": s} for i, s in zip(items, scores)]
    assert "category_macro_f1" in [m.name for m in task.metrics(recs)]
    assert task.details(recs)["category"]["classifier"].startswith("LLM judge")
    # both comments right; macro-F1 is over the four declared classes, two of them absent here
    assert task.details(recs)["category"]["ceiling_human_comments"] == 0.5


def test_train_and_judge_contradict():
    with pytest.raises(Exception, match="give either train='t.jsonl'.*judge="):
        get_task("haiku-review", train="t.jsonl", judge="openai:m@http://127.0.0.1:1/v1")
