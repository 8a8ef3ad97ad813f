"""Task pr-improve: a PR in, code suggestions out (existing code, improved code, a summary and a
label each), scored on structure: the schema holds, each suggestion names a file of the diff,
its existing_code is found in that file's shown new code, and its improved_code differs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...metrics import Metric, greedy_score, mean, rate
from .._protocol import Output, Unparsed
from .base import DEFAULT_DIFF_TOKENS, PRTask, share

INSTRUCTIONS = (
    "You suggest improvements to the new code of a pull request. Give up to five concrete "
    "suggestions that fix a bug, a risky pattern or a clear readability problem in the lines "
    "the PR adds. Copy existing_code exactly from the new code of the diff (without the line "
    "numbers or the '+'), and give the improved code that replaces it.")


def _norm(code: str) -> str:
    """Code compared without indentation, trailing spaces or blank lines."""
    return "\n".join(s for s in (ln.strip() for ln in code.splitlines()) if s)


class PRImprove(PRTask):
    name = "pr-improve"
    description = "a pull request in; YAML code suggestions out"
    top_keys = ("code_suggestions",)
    instructions = INSTRUCTIONS

    def __init__(self, split: str = "all", test_share: float = 0.2, seed: int = 0,
                 diff_tokens: int = DEFAULT_DIFF_TOKENS, reflect: str | None = None,
                 reflect_api_key_env: str = "OPENAI_API_KEY", store: str = ".assay"):
        super().__init__(split, test_share, seed, diff_tokens)
        self.reflector = None
        if reflect:
            from pathlib import Path

            from .reflect import Reflector

            self.reflector = Reflector(reflect, Path(store) / "store.sqlite",
                                       api_key_env=reflect_api_key_env)

    @property
    def answer_model(self) -> type:
        from .schemas import CodeSuggestions

        return CodeSuggestions

    def score_answer(self, item: dict, answer: dict) -> dict[str, Any]:
        shown = self.shown(item)
        files, found, changed = [], [], []
        for s in answer["code_suggestions"]:
            f = shown.file(s["relevant_file"])
            existing = _norm(s["existing_code"])
            files.append(f is not None)
            found.append(f is not None and bool(existing) and existing in _norm(f.new_text))
            changed.append(existing != _norm(s["improved_code"]))
        return {"n_suggestions": len(files), "suggestion_files_exist": share(files),
                "existing_code_found": share(found), "improved_differs": share(changed)}

    def score_batch(self, items: Sequence[dict], parsed: Sequence[Any],
                    outputs: Sequence[Output]) -> list[dict[str, Any]]:
        scores = [self.score(i, p, o) for i, p, o in zip(items, parsed, outputs)]
        if self.reflector is None:
            return scores
        import yaml

        todo = [k for k, p in enumerate(parsed)
                if not isinstance(p, Unparsed) and p and p["code_suggestions"]]
        prompts = [self.reflector.messages(self.shown(items[k]).text, yaml.safe_dump(
            {"code_suggestions": parsed[k]["code_suggestions"]}, sort_keys=False))
            for k in todo]
        for k, got in zip(todo, self.reflector.score(prompts)):
            scores[k].update(_reflection_scores(got, len(parsed[k]["code_suggestions"])))
        return scores

    def metrics(self, records: Sequence) -> list[Metric]:
        return list(METRICS) + ([REFLECTION] if self.reflector is not None else [])

    def declared_metrics(self) -> list[Metric]:
        return [*METRICS, REFLECTION]


def _reflection_scores(got: Any, n: int) -> dict[str, Any]:
    """The reflection's mean 0-10 score, whether it parsed and scored every suggestion."""
    if isinstance(got, Unparsed):
        return {"reflection_parsed": False, "reflection_error": got.reason,
                "reflection_score": None, "reflection_complete": False}
    values = [s["suggestion_score"] for s in got["code_suggestions"]]
    return {"reflection_parsed": True, "reflection_scores": values,
            "reflection_score": sum(values) / len(values) if values else None,
            "reflection_complete": len(values) == n}


SCHEMA_VALID = rate("schema_valid", greedy_score("schema_valid"), role="primary",
                    description="share of answers that parse and validate against the schema")
FOUND = mean("existing_code_found", greedy_score("existing_code_found"), role="primary",
             description="per answer with suggestions: share whose existing_code is in the "
             "named file's shown new code")
DIFFERS = mean("improved_differs", greedy_score("improved_differs"),
               description="share of suggestions whose improved_code differs from existing_code")
FILES = mean("suggestion_files_exist", greedy_score("suggestion_files_exist"),
             description="share of suggestions naming a file of the diff")
N_SUGGESTIONS = mean("n_suggestions", greedy_score("n_suggestions"), direction="none",
                     role="descriptive", description="suggestions per valid answer")
METRICS = (SCHEMA_VALID, FOUND, DIFFERS, FILES, N_SUGGESTIONS)
REFLECTION = mean("reflection_score", greedy_score("reflection_score"),
                  description="the self-reflection pass's mean 0-10 score of the suggestions "
                  "(--task-option reflect=SPEC)")
