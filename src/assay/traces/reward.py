"""A grounding reward for SDPO: does a completion address the concrete diagnostics of its row?

This is a heuristic, not a verifier. It does not run tests, build code or check that a fix is right;
it only rewards a completion for *mentioning* the specifics the environment reported: the files
named in the diagnostics (by base name), the failing commands (their first words, ``npm run
check``), error identifiers (``TypeError``, ``TS2339``, ``ENOENT``) and the words of each error's
first message line. A completion that parrots the diagnostics scores well; pair it with a real
verifier where one exists.

    reward = mean over the anchor kinds present (files, commands, identifiers, messages)
             of the fraction of that kind's anchors the completion mentions

A message anchor counts as mentioned when at least ``message_overlap`` of its (4+ letter) words
appear in the completion. Rows without anchors get 0.0. The signature is TRL's reward signature,
``(prompts, completions, **kwargs) -> list[float]``; the row's ``privileged_context`` arrives in
``kwargs`` because SDPOTrainer passes every dataset column other than the prompt and completion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Anchors", "GroundingConfig", "anchors", "grounding_reward", "make_grounding_reward"]

_EXT = (r"py|pyi|ts|tsx|js|jsx|mjs|cjs|json|md|yaml|yml|toml|rs|go|java|kt|c|h|cc|cpp|hpp|cs|rb|"
        r"php|sh|css|scss|html|txt|lock|cfg|ini|sql|swift|lua|vue|svelte")
_FILE = re.compile(rf"(?<![\w@-])(?:[\w.@-]+/)*([\w@-][\w.@-]*\.(?:{_EXT}))(?![\w])")
_COMMAND = re.compile(r"(?:\b(?:bash|ran)) `([^`\n]+)`")
_IDENT = re.compile(r"\b(?:[A-Z][A-Za-z]*(?:Error|Exception)|TS\d{4}|E[A-Z]{3,}|error\[E\d{4}\])\b")
_LABEL = re.compile(r"^\[[\w-]+\] .*$", re.M)
_ERRORISH = re.compile(r"error|fail|cannot|could not|not found|no such|not exist|denied|invalid|"
                       r"exited|missing|exception|traceback|refused|timed out|abort", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z_]{3,}")
_SKIP_PROGRAMS = {"sudo", "env", "time", "npx", "uvx"}
_SKIP_SEGMENTS = {"cd", "export", "source", "set", "pushd", "popd"}
_SUBCOMMAND_PROGRAMS = {"npm", "yarn", "pnpm", "bun", "git", "cargo", "go", "pip", "uv", "poetry",
                        "docker", "kubectl", "make", "gh", "dotnet", "mvn", "gradle"}


@dataclass(frozen=True)
class GroundingConfig:
    """``max_anchors`` per kind (the first ones found); ``message_overlap`` in (0, 1]."""

    max_anchors: int = 8
    message_overlap: float = 0.5

    def __post_init__(self) -> None:
        if self.max_anchors < 1:
            raise ValueError(f"max_anchors must be >= 1, got {self.max_anchors}")
        if not 0 < self.message_overlap <= 1:
            raise ValueError(f"message_overlap must be in (0, 1], got {self.message_overlap}")


@dataclass(frozen=True)
class Anchors:
    """The concrete things a completion should address, by kind (lower-cased)."""

    files: tuple[str, ...]
    commands: tuple[str, ...]
    identifiers: tuple[str, ...]
    messages: tuple[frozenset[str], ...]


def _unique(items, limit: int) -> tuple:
    seen: dict = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)[:limit]


def _command_anchor(command: str) -> str:
    """The program of the first real segment, plus its subcommand (``npm run check``)."""
    for segment in re.split(r"&&|\|\||;|\|", command):
        words = segment.split()
        while words and words[0] in _SKIP_PROGRAMS:
            words = words[1:]
        if not words or words[0] in _SKIP_SEGMENTS:
            continue
        anchor = [words[0]]
        if words[0] in _SUBCOMMAND_PROGRAMS:
            anchor += [w for w in words[1:3] if re.fullmatch(r"[a-z][a-z:_-]*", w)][:2]
        return " ".join(anchor).lower()
    return ""


def _message_words(body: str) -> frozenset[str]:
    for line in body.splitlines():
        if _ERRORISH.search(line):
            return frozenset(w.lower() for w in _WORD.findall(line[:300]))
    return frozenset()


def anchors(context: str, config: GroundingConfig | None = None) -> Anchors:
    """Extract the anchors of a ``privileged_context`` string (see the module docstring)."""
    config = config or GroundingConfig()
    k = config.max_anchors
    commands = [_command_anchor(c) for c in _COMMAND.findall(context)]
    bodies = re.split(_LABEL, context)
    return Anchors(
        files=_unique((m.lower() for m in _FILE.findall(context)), k),
        commands=_unique(commands, k),
        identifiers=_unique((m.lower() for m in _IDENT.findall(context)), k),
        messages=_unique((w for w in map(_message_words, bodies) if len(w) >= 2), k))


def _completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "\n".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def _score(found: Anchors, text: str, overlap: float) -> float:
    text = text.lower()
    words = set(w.lower() for w in _WORD.findall(text))
    fractions = [sum(a in text for a in group) / len(group)
                 for group in (found.files, found.commands, found.identifiers) if group]
    if found.messages:
        hits = sum(len(m & words) >= overlap * len(m) for m in found.messages)
        fractions.append(hits / len(found.messages))
    return sum(fractions) / len(fractions) if fractions else 0.0


def make_grounding_reward(config: GroundingConfig | None = None) -> Callable[..., list[float]]:
    """A TRL reward function ``(prompts, completions, privileged_context, **kw) -> list[float]``."""
    config = config or GroundingConfig()

    def grounding_reward(prompts: list[Any], completions: list[Any],
                         privileged_context: list[str | None] | None = None,
                         **kwargs: Any) -> list[float]:
        contexts = privileged_context or [None] * len(completions)
        if len(contexts) != len(completions):
            raise ValueError(f"privileged_context has {len(contexts)} items for "
                             f"{len(completions)} completions")
        return [_score(anchors(ctx, config), _completion_text(c), config.message_overlap)
                if isinstance(ctx, str) else 0.0 for ctx, c in zip(contexts, completions)]

    return grounding_reward


grounding_reward = make_grounding_reward()
