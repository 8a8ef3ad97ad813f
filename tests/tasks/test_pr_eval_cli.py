"""The three PR tasks end to end on the real PRs: `assay eval` in a subprocess, the model a
scripted loopback server that answers from the prompt it is sent (valid YAML pointing at the
numbered lines it saw, and one malformed answer), then the run directory read back."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from assay.testing import FakeOpenAIServer, assay_script, script_env

LIMIT = 6


def _first_file_and_lines(prompt: str) -> tuple[str, list[int]]:
    path = re.search(r"^## File: (.+)$", prompt, re.MULTILINE).group(1)
    block = prompt.split(f"## File: {path}", 1)[1].split("\n## File: ", 1)[0]
    numbers = [int(n) for n in re.findall(r"^ *(\d+) [ +]", block, re.MULTILINE)]
    return path, numbers or [1]


def answer(body: dict) -> str:
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    path, lines = _first_file_and_lines(user)
    if user.count("## File:") % 2:  # PRs of an odd number of files get a malformed answer
        return "```yaml\nanswer: [this is not closed\n```"
    if "class PRReview" in system:
        return (f"```yaml\nreview:\n  estimated_effort_to_review_1_5: 2\n"
                f"  key_issues_to_review:\n    - relevant_file: {path}\n"
                f"      issue_header: Check this\n      issue_content: It changed.\n"
                f"      start_line: {lines[0]}\n      end_line: {lines[-1]}\n"
                f"  security_concerns: No\n```")
    if "class CodeSuggestions" in system:
        return (f"```yaml\ncode_suggestions:\n  - relevant_file: {path}\n    language: python\n"
                f"    existing_code: 'not in the diff at all'\n    improved_code: 'better'\n"
                f"    one_sentence_summary: Improve it.\n    label: best practice\n```")
    return (f"```yaml\ntype: [Enhancement]\ntitle: Update {path}\ndescription: |\n"
            f"  - changes {path}\npr_files:\n  - filename: {path}\n    changes_title: edits\n```")


def _eval(task, data, url, out, store, *options):
    argv = [assay_script(), "eval", task, "--data", str(data), "--model",
            f"m=openai:scripted@{url}", "--out", str(out), "--store", str(store),
            "--limit", str(LIMIT), "--json", *options]
    return subprocess.run(argv, env=script_env(), capture_output=True, text=True, timeout=300)


@pytest.mark.realdata
@pytest.mark.parametrize("task", ["pr-review", "pr-improve", "pr-describe"])
def test_pr_task_evaluates_end_to_end_on_real_prs_through_the_cli(task, shared_data, tmp_path):
    with FakeOpenAIServer(answer) as srv:
        opts = ["--task-option", f"store={tmp_path}"] if task == "pr-describe" else []
        done = _eval(task, shared_data / "prs", srv.base_url, tmp_path / "run",
                     tmp_path / "store.sqlite", "--task-option", "split=test", *opts)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert len(rows) == LIMIT and all(r["error"] is None for r in rows)
    one_file = [r for r in rows if r["parse_error"]]
    assert 0 < len(one_file) < LIMIT  # both outcomes are exercised
    for r in rows:
        assert r["scores"]["diff_tokens"] > 0 and "diff_cut" in r["scores"]
        if r["parse_error"]:
            assert r["scores"]["schema_valid"] is False and "malformed YAML" in r["parse_error"]
        else:
            assert r["scores"]["schema_valid"] is True
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())["models"]["m"]
    n_valid = LIMIT - len(one_file)
    assert m["schema_valid"] == pytest.approx(n_valid / LIMIT)
    assert m["parse_failure_rate"] == pytest.approx(len(one_file) / LIMIT)
    if task == "pr-review":  # every valid answer points inside the lines it was shown
        assert n_valid == 0 or m["issues_in_diff"] == 1.0
    elif task == "pr-improve":  # existing_code made up: never found, always changed
        assert n_valid == 0 or (m["existing_code_found"] == 0.0 and m["improved_differs"] == 1.0)
    else:
        assert m["files_named_exist"] == 1.0 and -1.0 <= m["title_similarity"] <= 1.0
