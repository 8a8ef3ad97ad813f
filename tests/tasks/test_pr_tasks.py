"""The PR tasks: numbered new-hunk lines, the diff budget and its record, the seeded split by
repository and PR, YAML answers validated by pydantic (a failure names the key), structural
scores, and hostile answers parsed in bounded time."""

from __future__ import annotations

import json
import time

import pytest

from assay.errors import InputError
from assay.tasks import Unparsed, get_task
from assay.tasks._protocol import Output
from assay.tasks.pr import load_prs, numbered_lines, parse_answer, render_diff, split_prs
from assay.tasks.pr.schemas import PRReview
from assay.text.hostile import hostile_texts

DIFF = """diff --git a/m.py b/m.py
index 1..2 100644
--- a/m.py
+++ b/m.py
@@ -10,4 +10,5 @@ def f():
     a = 1
-    b = 2
+    b = 3
+    c = 4
     return a
\\ No newline at end of file
@@ -40,2 +41,2 @@ def g():
-    x = 0
+    x = 1
     y = 2
"""


def _pr(i, repo="o/r", files=None):
    return {"id": f"{repo}-{i}", "repo": repo, "pr_number": i, "title": f"change {i}",
            "files": files or [{"path": "m.py", "diff": DIFF}]}


def test_new_hunk_lines_are_numbered_and_removed_lines_are_not():
    rows = numbered_lines(DIFF)
    numbered = [(n, code) for n, _, code in rows if n is not None]
    assert numbered == [(10, "    a = 1"), (11, "    b = 3"), (12, "    c = 4"),
                        (13, "    return a"), (41, "    x = 1"), (42, "    y = 2")]
    removed = [text for n, text, _ in rows if n is None and "-" in text and "@@" not in text]
    assert [r.strip() for r in removed] == ["-    b = 2", "-    x = 0"]


def test_budget_cuts_at_a_line_and_records_the_cut():
    files = [{"path": "m.py", "diff": DIFF}, {"path": "n.py", "diff": DIFF}]
    whole = render_diff(files, 10_000)
    assert not whole.cut and whole.omitted == () and whole.tokens == whole.shown_tokens
    assert whole.file("b/m.py").lines == frozenset({10, 11, 12, 13, 41, 42})
    cut = render_diff(files, 50)  # ~200 characters: m.py partly, n.py not at all
    assert cut.cut and cut.omitted == ("n.py",) and cut.shown_tokens < cut.tokens
    assert cut.files[0].cut and cut.files[0].lines < whole.files[0].lines
    assert "Files not shown (over the diff budget): n.py" in cut.text


def test_split_is_seeded_stratified_by_repository_and_disjoint():
    items = [_pr(i, "o/a") for i in range(50)] + [_pr(i, "o/b") for i in range(30)]
    test = split_prs(items, "test", test_share=0.2, seed=3)
    train = split_prs(items, "train", test_share=0.2, seed=3)
    assert {i["id"] for i in test}.isdisjoint(i["id"] for i in train)
    assert len(test) + len(train) == 80
    assert sum(i["repo"] == "o/a" for i in test) == 10 and sum(i["repo"] == "o/b" for i in test) == 6
    assert split_prs(items, "test", test_share=0.2, seed=3) == test
    assert split_prs(items, "test", test_share=0.2, seed=4) != test
    # adding PRs of another repository does not move this one's
    more = items + [_pr(i, "o/c") for i in range(10)]
    assert [i for i in split_prs(more, "test", seed=3) if i["repo"] != "o/c"] == test


def test_a_bad_files_entry_names_file_line_field_and_fix(tmp_path):
    p = tmp_path / "prs.jsonl"
    p.write_text(json.dumps(_pr(1)) + "\n" + json.dumps(_pr(2, files=[{"path": "x.py"}])) + "\n")
    with pytest.raises(InputError) as exc:
        load_prs(p)
    msg = str(exc.value)
    assert "line 2" in msg and "files[0]" in msg and "'diff'" in msg and "Fix:" in msg


REVIEW = """Here is my review.
```yaml
review:
  estimated_effort_to_review_1_5: 2
  key_issues_to_review:
    - relevant_file: m.py
      issue_header: Changed constant
      issue_content: b changed from 2 to 3
      start_line: 11
      end_line: 12
    - relevant_file: m.py
      issue_header: Out of range
      issue_content: points outside the hunk
      start_line: 20
      end_line: 21
    - relevant_file: other.py
      issue_header: Not in the diff
      issue_content: no such file
      start_line: 1
      end_line: 1
  security_concerns: No
```"""


def test_review_answer_is_validated_and_scored_against_the_shown_lines():
    task = get_task("pr-review")
    item = _pr(1)
    parsed = task.parse(REVIEW)
    assert parsed["review"]["security_concerns"] == "No"  # YAML's bare No is not a boolean
    s = task.score(item, parsed, Output(REVIEW))
    assert s["schema_valid"] and s["n_issues"] == 3
    assert s["issue_files_exist"] == pytest.approx(2 / 3)
    assert s["issues_in_diff"] == pytest.approx(1 / 3) and s["diff_cut"] is False


@pytest.mark.parametrize("text, reason", [
    ("review:\n  estimated_effort_to_review_1_5: 2\n  security_concerns: No\n",
     "missing key 'review.key_issues_to_review'"),
    ("review:\n  estimated_effort_to_review_1_5: 9\n  key_issues_to_review: []\n"
     "  security_concerns: No\n", "key 'review.estimated_effort_to_review_1_5'"),
    ("review: [unclosed\n", "malformed YAML"),
    ("review:\n  a: &x [1]\n  b: *x\n", "aliases"),
    ("I think this PR is fine.", "no YAML answer"),
    ("", "empty output"),
    ("```yaml\n- just\n- a list\n```", "not a mapping"),
])
def test_a_malformed_answer_is_a_parse_failure_with_its_reason(text, reason):
    got = parse_answer(text, PRReview, ("review",))
    assert isinstance(got, Unparsed) and reason in got.reason


def test_improve_checks_existing_code_against_the_diff_and_that_it_changes():
    task = get_task("pr-improve")
    text = """code_suggestions:
  - relevant_file: m.py
    language: python
    existing_code: |
      b = 3
      c = 4
    improved_code: |
      b, c = 3, 4
    one_sentence_summary: Unpack in one line.
    label: readability
  - relevant_file: m.py
    language: python
    existing_code: "z = 9"
    improved_code: "z = 9"
    one_sentence_summary: Not in the diff and no change.
    label: other
"""
    s = task.score(_pr(1), task.parse(text), Output(text))
    assert s["n_suggestions"] == 2 and s["suggestion_files_exist"] == 1.0
    assert s["existing_code_found"] == 0.5 and s["improved_differs"] == 0.5


def test_describe_hides_the_reference_title_and_scores_files():
    task = get_task("pr-describe", similarity=False)
    item = _pr(7) | {"title": "A very particular human title"}
    prompt = "\n".join(m["content"] for m in task.render(item))
    assert "A very particular human title" not in prompt and "   11 +    b = 3" in prompt
    text = ("type: [Enhancement]\ntitle: Change b\ndescription: |\n  - b is 3\n  - c added\n"
            "pr_files:\n  - filename: m.py\n    changes_title: b and c\n"
            "  - filename: gone.py\n    changes_title: nothing\n")
    s = task.score(item, task.parse(text), Output(text))
    assert s["schema_valid"] and s["n_bullets"] == 2 and s["files_named_exist"] == 0.5


@pytest.mark.parametrize("name", ["pr-describe", "pr-review", "pr-improve"])
def test_1mb_adversarial_answers_parse_in_under_a_second(name):
    task = get_task(name, **({"similarity": False} if name == "pr-describe" else {}))
    key = task.top_keys[0]
    texts = dict(hostile_texts(1 << 20))
    texts |= {"nested": f"{key}: " + "[" * (1 << 20), "fenced_nested": "```yaml\n" + "{a: " * (1 << 18),
              "many_keys": f"{key}:\n" + "  k: v\n" * (1 << 17), "aliases": f"{key}: &a [" + "*a, " * (1 << 18)}
    for label, text in texts.items():
        start = time.process_time()
        got = task.parse(text)
        assert time.process_time() - start < 1.0, label
        assert isinstance(got, Unparsed), label


@pytest.mark.realdata
def test_every_real_pr_loads_renders_and_records_its_budget(shared_data):
    task = get_task("pr-review", diff_tokens=1000)
    ds = task.load(shared_data / "prs")
    assert len(ds.items) == 575 and {i["repo"] for i in ds.items} == {"pallets/click",
                                                                      "pallets/flask"}
    cut = 0
    for item in ds.items:
        shown = task.shown(item)
        assert shown.files  # a deleted file shows no numbered line; the others do
        for f in shown.files:
            assert all(f"\n{n:>5} " in shown.text for n in f.lines)
        assert len(shown.text.split("\n\n[Files not shown")[0]) <= 1000 * 4 + 100  # + the cut marks
        cut += shown.cut
        if shown.cut:
            assert "cut to about 1000" in task.render(item)[1]["content"]
    assert 0 < cut < 575
    test = get_task("pr-review", split="test").load(shared_data / "prs").items
    assert len(test) == 65 + 51  # ceil(0.2 * 322) + ceil(0.2 * 253)


def test_improve_reflection_is_a_second_request_through_the_store(tmp_path):
    from assay.testing import FakeOpenAIServer

    sent = []

    def reflect(body):
        sent.append(body)
        return ("```yaml\ncode_suggestions:\n  - suggestion_summary: Unpack\n"
                "    relevant_file: m.py\n    suggestion_score: 7\n    why: fine\n```")

    text = ("code_suggestions:\n  - relevant_file: m.py\n    language: python\n"
            "    existing_code: b = 3\n    improved_code: b = 4\n"
            "    one_sentence_summary: Unpack\n    label: bug\n")
    with FakeOpenAIServer(reflect) as srv:
        task = get_task("pr-improve", reflect=f"openai:critic@{srv.base_url}",
                        store=str(tmp_path))
        items, outs = [_pr(1), _pr(2)], [Output(text), Output("nothing")]
        parsed = [task.parse(o.text) for o in outs]
        s = task.score_batch(items, parsed, outs)
        again = task.score_batch(items, parsed, outs)
    assert len(sent) == 1 and "b = 4" in sent[0]["messages"][-1]["content"]  # then cached
    assert s[0]["reflection_score"] == 7 and s[0]["reflection_complete"] is True
    assert "reflection_score" not in s[1] and again == s
    assert "reflection_score" in [m.name for m in task.metrics([])]
