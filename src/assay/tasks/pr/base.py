"""What the three PR tasks share: loading and splitting the PRs, the numbered diff in the
prompt (cut to a budget, the cut recorded), the YAML answer read through a pydantic schema, and
the scores every PR item carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...dataset import Dataset
from ...errors import require
from .._protocol import ORIGINAL, Messages, Output, Task, Unparsed
from .data import SCHEMA, SPLITS, load_prs, split_prs
from .diff import ShownDiff, render_diff

DEFAULT_DIFF_TOKENS = 3000

ANSWER_RULES = (
    "Answer with YAML only, inside one ```yaml fenced block, following the classes below "
    "exactly (every key present, the types as given). Quote a value that contains a colon "
    "or starts with a special character, and use a '|' block for multi-line code.")


class PRTask(Task):
    """Base of pr-describe, pr-review and pr-improve. Subclasses set ``answer_model`` (the
    pydantic class), ``top_keys`` (the YAML's top-level keys), ``instructions`` and
    ``score_answer``."""

    schema = SCHEMA
    max_tokens = 1024
    top_keys: tuple[str, ...] = ()
    instructions = ""
    show_title = True  # pr-describe hides the PR's own title: it is the reference

    def __init__(self, split: str = "all", test_share: float = 0.2, seed: int = 0,
                 diff_tokens: int = DEFAULT_DIFF_TOKENS):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if not 0.0 < test_share < 1.0:
            raise ValueError(f"test_share must be between 0 and 1, got {test_share!r}")
        if not isinstance(diff_tokens, int) or diff_tokens < 50:
            raise ValueError(f"diff_tokens must be an int >= 50, got {diff_tokens!r}")
        require("pydantic", "pr")
        self.split, self.test_share, self.seed = split, test_share, seed
        self.diff_tokens = diff_tokens
        self._shown: dict[str, ShownDiff] = {}

    @property
    def answer_model(self) -> type:
        raise NotImplementedError

    def load(self, path: str | Path, *, skip_invalid: bool = False) -> Dataset:
        ds = load_prs(path, skip_invalid=skip_invalid)
        items = split_prs(ds.items, self.split, test_share=self.test_share, seed=self.seed)
        return Dataset(items, ds.path, ds.sha256, ds.skipped)

    def shown(self, item: dict) -> ShownDiff:
        """The item's rendered diff (computed once per item)."""
        key = str(item["id"])
        if key not in self._shown:
            self._shown[key] = render_diff(item["files"], self.diff_tokens)
        return self._shown[key]

    def system_prompt(self) -> str:
        from .schemas import schema_text

        return f"{self.instructions}\n\n{ANSWER_RULES}\n\n{schema_text(self.answer_model)}"

    def render(self, item: dict, pass_: str = ORIGINAL) -> Messages:
        shown = self.shown(item)
        parts = []
        if self.show_title:
            parts.append(f"PR title: {item['title'].strip()}")
        if shown.cut:  # said before the diff: a note at the end is what a small model echoes
            parts.append(f"[The diff below was cut to about {self.diff_tokens} of its "
                         f"{shown.tokens} tokens.]")
        parts.append("The diff, per file. Lines of the new code are numbered; removed lines "
                     "('-') have no number.\n\n" + shown.text)
        parts.append("Answer now: one ```yaml block, as the system message describes.")
        return [{"role": "system", "content": self.system_prompt()},
                {"role": "user", "content": "\n\n".join(parts)}]

    def parse(self, text: str) -> dict | Unparsed:
        from .answer import parse_answer

        got = parse_answer(text, self.answer_model, self.top_keys)
        return got if isinstance(got, Unparsed) else got.model_dump()

    def common_scores(self, item: dict, parsed: Any) -> dict[str, Any]:
        shown = self.shown(item)
        return {"repo": item["repo"], "pr_number": item["pr_number"],
                "schema_valid": not isinstance(parsed, Unparsed) and parsed is not None,
                "diff_tokens": shown.tokens, "diff_shown_tokens": shown.shown_tokens,
                "diff_cut": shown.cut, "files_omitted": len(shown.omitted)}

    def score(self, item: dict, parsed: Any, output: Output) -> dict[str, Any]:
        scores = self.common_scores(item, parsed)
        if scores["schema_valid"]:
            scores.update(self.score_answer(item, parsed))
        return scores

    def score_answer(self, item: dict, answer: dict) -> dict[str, Any]:
        raise NotImplementedError

    def details(self, records) -> dict[str, Any]:
        from ...records import greedy

        rows = greedy(records)
        reasons: dict[str, int] = {}
        for r in rows:
            if r.get("parse_error"):
                reasons[r["parse_error"]] = reasons.get(r["parse_error"], 0) + 1
        return {"n": len(rows), "diff_cut": sum(bool(r["scores"].get("diff_cut")) for r in rows),
                "diff_tokens_budget": self.diff_tokens, "split": self.split,
                "seed": self.seed, "test_share": self.test_share,
                "parse_failures": dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:20])}


def share(flags: list[bool]) -> float | None:
    """The share of true flags, None when there are none (the metric skips the item)."""
    return sum(flags) / len(flags) if flags else None
