"""pr-improve's optional self-reflection pass: a second request (any model spec) that reads the
PR and the suggestions and scores each 0-10, as PR-Agent's reflection does. Its completions go
through the same SQLite store as eval runs (keyed by the reflecting model's identity, decoding
and prompt), so a rerun sends nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .._protocol import Unparsed
from .answer import parse_answer

INSTRUCTIONS = (
    "You check code suggestions made on a pull request. For each suggestion, in the order "
    "given, score how correct and useful it is from 0 (wrong, or it changes nothing that "
    "matters) to 10 (a clear, correct fix of a real problem in the new code), and say why in "
    "one sentence.")


class Reflector:
    """Scores suggestions with a model given by its spec; answers are cached in the store."""

    def __init__(self, spec: str, store_path: str | Path, *, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_tokens: int = 1024):
        from ...models import parse_spec

        self.spec = parse_spec(spec, label="reflect")
        self.store_path = Path(store_path)
        self.api_key_env, self.concurrency, self.max_tokens = api_key_env, concurrency, max_tokens

    def messages(self, diff_text: str, suggestions_yaml: str) -> list[dict[str, str]]:
        from .base import ANSWER_RULES
        from .schemas import Reflection, schema_text

        return [{"role": "system", "content": f"{INSTRUCTIONS}\n\n{ANSWER_RULES}\n\n"
                 f"{schema_text(Reflection)}"},
                {"role": "user", "content": f"The diff:\n\n{diff_text}\n\nThe suggestions:\n\n"
                 f"```yaml\n{suggestions_yaml}```"}]

    def score(self, prompts: Sequence[list[dict[str, str]]]) -> list[dict | Unparsed]:
        """The parsed Reflection (as a dict) or Unparsed, per prompt."""
        from ...models import Decoding, make_backend
        from ...store import complete_cached
        from .schemas import Reflection

        backend = make_backend(self.spec, concurrency=self.concurrency,
                               api_key_env=self.api_key_env)
        completions, _ = complete_cached(backend, self.store_path, prompts,
                                         Decoding(max_tokens=self.max_tokens))
        out = []
        for c in completions:
            got = (Unparsed(f"reflection request failed: {c.error}") if c.error else
                   parse_answer(c.text, Reflection, ("code_suggestions",)))
            out.append(got if isinstance(got, Unparsed) else got.model_dump())
        return out
