"""How much an episode is worth as an SDPO training row: a documented, additive score.

    score = prompt substance + sum over distinct categories of (weight + repeat bonus)
            + went-on bonus

- prompt substance: ``prompt_per_word`` (0.1) per word of the user prompt, at most ``prompt_cap``
  (3.0): a 30-word request earns the full 3 points, "fix it" earns 0.2.
- category weights (``DEFAULT_WEIGHTS``): failures that carry a concrete, checkable signal weigh
  most: test_or_assertion 4.0, build_lint_compile 3.5, runtime_exception 3.5,
  missing_file_or_command 3.0, user_feedback 3.0, permission_auth 2.5, tool_schema_validation 2.5,
  command_error 2.0, other_marked_error 1.0. A category counts once; each further diagnostic of
  the same category adds ``repeat_bonus`` (0.5), at most ``repeat_cap`` (1.5) per category.
- went-on bonus (``went_on_bonus``, 2.0): the agent kept working after its first failure, so the
  trace shows what it did with the diagnostic (what the teacher's context should improve).

An episode is *eligible* only with a substantive prompt (at least ``min_prompt_words`` words and
not a bare slash command) and at least one diagnostic; ineligible episodes score 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

from .episodes import Episode

__all__ = ["DEFAULT_WEIGHTS", "EpisodeScore", "ScoreConfig", "is_substantive", "score_episode"]

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "test_or_assertion": 4.0, "build_lint_compile": 3.5, "runtime_exception": 3.5,
    "missing_file_or_command": 3.0, "user_feedback": 3.0, "permission_auth": 2.5,
    "tool_schema_validation": 2.5, "command_error": 2.0, "other_marked_error": 1.0,
}
_UNKNOWN_CATEGORY_WEIGHT = 2.0


@dataclass(frozen=True)
class ScoreConfig:
    """Weights of the episode score (see the module docstring for the formula)."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    repeat_bonus: float = 0.5
    repeat_cap: float = 1.5
    prompt_per_word: float = 0.1
    prompt_cap: float = 3.0
    went_on_bonus: float = 2.0
    min_prompt_words: int = 5

    def __post_init__(self) -> None:
        for name in ("repeat_bonus", "repeat_cap", "prompt_per_word", "prompt_cap",
                     "went_on_bonus", "min_prompt_words"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def weight(self, category: str) -> float:
        return float(self.weights.get(category, _UNKNOWN_CATEGORY_WEIGHT))


@dataclass(frozen=True)
class EpisodeScore:
    """The total and its parts (``prompt``, ``went_on``, and one entry per category)."""

    total: float
    eligible: bool
    parts: dict[str, float]
    reason: str = ""


def is_substantive(prompt: str, min_words: int) -> bool:
    """A real request: enough words, and not a bare slash command such as ``/model``."""
    words = prompt.split()
    if len(words) == 1 and words[0].startswith("/"):
        return False
    return len(words) >= min_words


def score_episode(episode: Episode, config: ScoreConfig | None = None) -> EpisodeScore:
    """Score an episode whose diagnostics carry categories (see the module docstring)."""
    config = config or ScoreConfig()
    if not is_substantive(episode.prompt, config.min_prompt_words):
        return EpisodeScore(0.0, False, {}, f"prompt under {config.min_prompt_words} words")
    if not episode.diagnostics:
        return EpisodeScore(0.0, False, {}, "no diagnostics")
    parts = {"prompt": round(min(len(episode.prompt.split()) * config.prompt_per_word,
                                 config.prompt_cap), 4)}
    for category, n in sorted(Counter(d.category for d in episode.diagnostics).items()):
        bonus = min((n - 1) * config.repeat_bonus, config.repeat_cap)
        parts[category] = config.weight(category) + bonus
    parts["went_on"] = config.went_on_bonus if episode.went_on_after_failure else 0.0
    return EpisodeScore(round(sum(parts.values()), 4), True, parts)
