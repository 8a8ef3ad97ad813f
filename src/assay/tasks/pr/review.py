"""Task pr-review: a PR in, a structured review out (effort, key issues with line ranges,
security concerns), scored on structure: the schema holds, each issue names a file of the diff
and a line range inside the numbered lines the prompt showed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...metrics import Metric, greedy_score, mean, rate
from .base import PRTask, share

INSTRUCTIONS = (
    "You are a senior reviewer of pull requests. Read the PR and point out the key issues a "
    "reviewer should look at: bugs, risky changes, missing tests or checks. Give each issue's "
    "file and its first and last line, using the line numbers shown in the diff. Give at most "
    "three issues, and an empty list when there are none.")


class PRReviewTask(PRTask):
    name = "pr-review"
    description = "a pull request in; a YAML review (effort, key issues, security) out"
    top_keys = ("review",)
    instructions = INSTRUCTIONS

    @property
    def answer_model(self) -> type:
        from .schemas import PRReview

        return PRReview

    def score_answer(self, item: dict, answer: dict) -> dict[str, Any]:
        shown = self.shown(item)
        body = answer["review"]
        files, inside = [], []
        for issue in body["key_issues_to_review"]:
            f = shown.file(issue["relevant_file"])
            files.append(f is not None)
            start, end = issue["start_line"], issue["end_line"]
            inside.append(f is not None and start <= end and start in f.lines and end in f.lines)
        concerns = body["security_concerns"].strip().lower()
        return {"n_issues": len(files), "issue_files_exist": share(files),
                "issues_in_diff": share(inside), "effort": body["estimated_effort_to_review_1_5"],
                "security_flagged": not concerns.startswith("no")}

    def metrics(self, records: Sequence) -> list[Metric]:
        return list(METRICS)


SCHEMA_VALID = rate("schema_valid", greedy_score("schema_valid"), role="primary",
                    description="share of answers that parse and validate against the schema")
ISSUES_IN_DIFF = mean("issues_in_diff", greedy_score("issues_in_diff"), role="primary",
                      description="per review with issues: share of issues whose file and line "
                      "range lie inside the numbered lines shown")
ISSUE_FILES = mean("issue_files_exist", greedy_score("issue_files_exist"),
                   description="share of issues naming a file of the diff")
N_ISSUES = mean("n_issues", greedy_score("n_issues"), direction="none", role="descriptive",
                description="issues per valid review")
EFFORT = mean("effort", greedy_score("effort"), direction="none", role="descriptive",
              description="mean estimated effort (1-5)")
METRICS = (SCHEMA_VALID, ISSUES_IN_DIFF, ISSUE_FILES, N_ISSUES, EFFORT)
