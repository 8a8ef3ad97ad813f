"""Error categories for diagnostics: nine built-in ones, plus patterns a user adds from a file.

A diagnostic gets exactly one category: user corrections are ``user_feedback``; otherwise the first
rule whose regular expression matches its text (or its command) wins, user rules before built-in
ones, in the order of ``_BUILTIN`` (specific before generic: a missing module shown as
a stack trace is ``missing_file_or_command``). A tool error nothing matches is
``other_marked_error``; a non-zero exit that nothing matches is ``command_error``.

A patterns file (YAML or JSON) maps a category to its patterns, optionally with a score weight::

    test_or_assertion: ["vitest .* FAIL"]          # extra patterns for a built-in category
    network:                                        # a new category with its own weight
      weight: 2.5
      patterns: ["ETIMEDOUT", "ECONNRESET", "getaddrinfo"]
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from .episodes import Diagnostic

__all__ = ["CATEGORIES", "Classifier", "Rule", "default_classifier", "load_patterns"]

CATEGORIES = (
    "build_lint_compile", "command_error", "missing_file_or_command", "other_marked_error",
    "permission_auth", "runtime_exception", "test_or_assertion", "tool_schema_validation",
    "user_feedback",
)

# (category, pattern, triggers): a rule's pattern is searched only when one of its lower-case
# trigger substrings occurs in the text (a fast `in` test; case-insensitive alternations are
# slow to scan). Every alternative of a pattern must contain one of its triggers.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "tool_schema_validation": ("validation failed", "not found", "invalid", "required property",
                               "received", "schema validation"),
    "permission_auth": ("permission", "eacces", "eperm", "not permitted", "401", "403",
                        "unauthori", "forbidden", "authentication", "eneedauth",
                        "not logged in", "invalid", "access denied"),
    "test_or_assertion": ("assert", "fail", "not ok", "✖", "expect"),
    "build_lint_compile": ("error ts", "error[e", "compil", "syntaxerror", "lint", "biome",
                           "ruff", "mypy", "tsc", "tsgo", "make: ***", "found ",
                           "cannot find name", "not assignable", "indentationerror",
                           "build failed"),
    "missing_file_or_command": ("no such file", "enoent", "not found", "cannot find module",
                                "modulenotfounderror", "no module named", "is not recognized",
                                "does not exist", "cannot access"),
    "runtime_exception": ("traceback", "at ", "error", "exception", "panic:",
                          "segmentation fault", "uncaught", "node:internal", "core dumped"),
}

# Every run in a pattern is bounded ({0,300}) and stops at the next place the same pattern may
# start ((?!assert)), or cannot overlap the next start's run, so a search is linear in the text (``\\s*`` at a line start
# ran across newline runs, and ``.*`` before a required token rescanned the line from every start).
_BUILTIN: tuple[tuple[str, str], ...] = (
    ("tool_schema_validation",
     r"Validation failed for tool|Tool \S+ not found|invalid (tool )?arguments|"
     r"must have required property|Expected .{1,40}, received|schema validation"),
    ("permission_auth",
     r"permission denied|\bEACCES\b|\bEPERM\b|operation not permitted|\b(401|403)\b.{0,40}"
     r"(unauthori[sz]ed|forbidden)|unauthori[sz]ed|forbidden|authentication (failed|required)|"
     r"\bENEEDAUTH\b|\bE401\b|\bE403\b|not logged in|invalid (api )?key|access denied"),
    ("test_or_assertion",
     r"AssertionError|assert(ion)? failed|\bassert\b(?:(?!assert)[^\n]){0,200}?(==|!=)|Tests? failed|"
     r"(?<!\d)\d+ (failed|failing)\b|^[ \t]*not ok \d|^# fail[ \t]+[1-9]|FAILED (?:(?!FAILED)[^\n]){0,300}?::|"
     r"\bFAIL\b[ \t]+\S|✖ (?:(?!✖)[^\n]){0,300}?test|expect\((?:(?!expect)[^\n]){0,300}?\)\.to|"
     r"Expected:(?:(?!Expected:)[^\n]){0,300}\n[ \t]{0,40}Received:"),
    ("build_lint_compile",
     r"error TS\d{3,5}|\berror\[E\d{4}\]|\bcompil(e|ation) (error|failed)|SyntaxError|"
     r"\blint(ing|er)? (error|failed)|\bbiome (check|lint)|\beslint\b|\bruff\b|\bmypy\b|\btsc\b|"
     r"\btsgo\b|make: \*\*\*|Found \d+ errors?|cannot find name|is not assignable to|"
     r"IndentationError|build failed|error: could not compile"),
    ("missing_file_or_command",
     r"No such file or directory|\bENOENT\b|command not found|not found: |"
     r"Cannot find module|ModuleNotFoundError|No module named|is not recognized as|"
     r"does not exist|cannot access|no such file"),
    ("runtime_exception",
     r"Traceback \(most recent call last\)|^[ \t]+at [^\n()]{1,300}\([^\n()]{1,300}:\d+:\d+\)|"
     r"\b(Type|Reference|Range|Key|Value|Attribute|Index|Name|Runtime|ZeroDivision)Error\b|"
     r"\b\w+Exception\b|panic:|"
     r"Segmentation fault|Uncaught|node:internal|core dumped"),
)


CLASSIFY_CHARS = 20_000  # the work per diagnostic is bounded; EpisodeConfig clips to 4,000


@dataclass(frozen=True)
class Rule:
    """One category rule: a compiled pattern, searched in the diagnostic's text and command."""

    category: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...] = ()

    def matches(self, text: str, lower: str) -> bool:
        if self.triggers and not any(t in lower for t in self.triggers):
            return False
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class Classifier:
    """Ordered rules, plus the score weights of any categories the user added."""

    rules: tuple[Rule, ...]
    extra_weights: dict[str, float] = dataclasses.field(default_factory=dict)

    def classify(self, diag: Diagnostic) -> str:
        """The category of one diagnostic, read from the first ``CLASSIFY_CHARS`` characters of
        its command and text (diagnostics are clipped far shorter when they are read)."""
        if diag.kind == "user_feedback":
            return "user_feedback"
        haystack = diag.text if not diag.command else f"{diag.command}\n{diag.text}"
        haystack = haystack[:CLASSIFY_CHARS]
        lower = haystack.lower()
        for rule in self.rules:
            if rule.matches(haystack, lower):
                return rule.category
        if diag.exit_code:
            return "command_error"
        return "other_marked_error"

    def label(self, diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        return tuple(dataclasses.replace(d, category=self.classify(d)) for d in diagnostics)

    def with_rules(self, rules: Iterable[Rule], weights: dict[str, float]) -> "Classifier":
        """A classifier whose ``rules`` come before these (user patterns win)."""
        return Classifier(tuple(rules) + self.rules, {**self.extra_weights, **weights})


def default_classifier() -> Classifier:
    return Classifier(tuple(Rule(c, re.compile(p, re.I | re.M), _TRIGGERS[c])
                            for c, p in _BUILTIN))


def _compile(path: str, category: str, patterns: Any) -> list[Rule]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise InputError("patterns must be a list of regular expressions", file=path,
                         field=category, value=patterns, fix="write e.g. [\"ETIMEDOUT\"]")
    rules = []
    for p in patterns:
        try:
            rules.append(Rule(category, re.compile(p, re.I | re.M)))
        except re.error as exc:
            raise InputError(f"invalid regular expression ({exc})", file=path, field=category,
                             value=p, fix="escape special characters with a backslash") from exc
    return rules


def _parse_entry(path: str, category: str, spec: Any) -> tuple[list[Rule], float | None]:
    if not isinstance(spec, dict):
        return _compile(path, category, spec), None
    weight = spec.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                               or weight < 0):
        raise InputError("weight must be a number >= 0", file=path, field=f"{category}.weight",
                         value=weight, fix="write e.g. weight: 2.5")
    return _compile(path, category, spec.get("patterns", [])), weight


def load_patterns(path: str | Path, base: Classifier | None = None) -> Classifier:
    """``base`` (default: the built-in rules) extended by the patterns in a YAML or JSON file."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read patterns file ({exc.strerror})", file=path) from exc
    data = _load_mapping(path, text)
    rules: list[Rule] = []
    weights: dict[str, float] = {}
    for category, spec in data.items():
        new_rules, weight = _parse_entry(path, str(category), spec)
        rules += new_rules
        if weight is not None:
            weights[str(category)] = float(weight)
    return (base or default_classifier()).with_rules(rules, weights)


def _load_mapping(path: str, text: str) -> dict[str, Any]:
    try:
        if path.endswith(".json"):
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (json.JSONDecodeError, ValueError, Exception) as exc:  # yaml.YAMLError is an Exception
        raise InputError(f"not valid YAML/JSON ({str(exc).splitlines()[0]})", file=path,
                         fix="write a mapping: category -> list of patterns") from exc
    if not isinstance(data, dict):
        raise InputError("the patterns file must hold a mapping", file=path,
                         value=type(data).__name__,
                         fix="write a mapping: category -> list of patterns")
    return data
