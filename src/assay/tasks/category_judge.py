"""An LLM judge that labels a code-review text with one of the crc-py categories.

The option beside haiku-review's default nearest-centroid classifier: any model spec
(``openai:MODEL@URL``, ``hf:PATH``, ``vllm:PATH``) reads each text and answers with one category
name. Its completions go through the same SQLite store as eval runs, keyed by the judge's
identity, decoding and prompt, so a text is never judged twice and an interrupted run resumes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

JUDGE_PROMPT = (
    "You label code-review comments. Categories:\n"
    "- refactoring: code structure, naming, style, simplification, duplication, performance of "
    "the code as written\n"
    "- functional: bugs, wrong behaviour, missing checks, error handling, tests, security\n"
    "- documentation: docstrings, comments, type hints, README and other docs\n"
    "- discussion: questions, praise, design discussion, anything else\n\n"
    "Answer with the category name only: refactoring, functional, documentation or discussion."
)


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The first category name in a judge's answer (case-insensitive), or None."""
    found = re.findall(r"[a-z]+", (text or "").lower())
    return next((w for w in found if w in labels), None)


class JudgeClassifier:
    """Label texts with a model given by its spec; answers are cached in the store."""

    def __init__(self, spec: str, store_path: str | Path, labels: Sequence[str], *,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8):
        from ..models import parse_spec

        self.spec = parse_spec(spec, label="judge")
        self.store_path = Path(store_path)
        self.labels = tuple(labels)
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.sent = 0

    def messages(self, text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": JUDGE_PROMPT},
                {"role": "user", "content": f"Comment:\n{text}"}]

    def predict_texts(self, texts: Sequence[str]) -> list[str | None]:
        """One label (or None when the answer names no category) per text."""
        from ..models import Decoding, make_backend
        from ..store import complete_cached

        backend = make_backend(self.spec, concurrency=self.concurrency,
                               api_key_env=self.api_key_env)
        completions, sent = complete_cached(backend, self.store_path,
                                            [self.messages(t) for t in texts],
                                            Decoding(max_tokens=8))
        self.sent += sent
        return [None if c.error else parse_label(c.text, self.labels) for c in completions]
