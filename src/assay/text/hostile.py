"""Adversarial inputs for assay's parsers: what the robustness tests and ``bench/bench_parsers.py``
feed to every parser and text routine, so that none of them is super-linear on model output.

``hostile_texts(size)`` returns named strings of about ``size`` characters, each built to trip one
kind of slow regular expression or recursion: an opener repeated without its closer (a lazy
``.*?`` rescans to the end from every opener), long whitespace runs after an opener (adjacent
``\\s*`` quantifiers backtrack against each other), runs of backticks, camelCase and prefix runs
(identifier splitting and affix recursion), nested brackets, and the near-misses of secret rules
(``a-a-a-...key``, ``eyJ-eyJ-...``). ``PARSERS`` names the callables they are fed to.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["OPENERS", "hostile_texts", "parsers"]

# Opening tokens of the formats assay parses: a parser that looks for a closer after each one
# must not rescan the rest of the text from every occurrence.
OPENERS = ("<verdict>", "<reasoning>", "<think>", "```", "`", "<verdict> ", "I recommend ",
           "I recommend this paper for ", "## Summary", "Final Recommendation: ",
           "-----BEGIN PRIVATE KEY-----", "Authorization: ", "Bearer ", "password=", "key=",
           "sk-", "eyJ", "://", "a:b@", "/home/", "~a", "Traceback ", "Expected ", "assert ",
           "at ", "FAIL ", "\u2022 ", "1. ", "line 1: ", "> ", "**", "\"")

_PATTERNS: dict[str, str] = {
    "spaces": " ",
    "newlines": "\n",
    "blank_lines": " \n \n",
    "tabs_newlines": "\t\n",
    "backticks": "`",
    "backtick_a": "`a",
    "fence_lines": "```\n",
    "camel_aB": "aB",
    "camel_Ab": "Ab",
    "upper_AB": "AB",
    "prefix_re": "re",
    "prefix_un": "un",
    "square": "[",
    "round": "(",
    "angle": "<",
    "curly": "{",
    "nested_pairs": "([{<",
    "dash_key": "a-",
    "jwt_dash": "eyJ-",
    "dot_a": "a.",
    "colon_at": ":a@",
    "slash_a": "/a",
    "quote": "'\"",
    "stars": "*",
    "digits": "9",
    "emoji": "\U0001f600",
    "cjk": "\u4e00",
}


def hostile_texts(size: int = 1 << 20) -> dict[str, str]:
    """Named adversarial strings of about ``size`` characters each (``size`` >= 64)."""
    if not isinstance(size, int) or size < 64:
        raise ValueError(f"size must be an int >= 64, got {size!r}")
    out: dict[str, str] = {}
    for name, unit in _PATTERNS.items():
        out[name] = unit * (size // len(unit))
    for i, opener in enumerate(OPENERS):
        out[f"repeat:{opener.strip() or i}"] = opener * (size // len(opener))
        # the opener, then a whitespace run, then text that almost closes it
        out[f"opener+spaces:{opener.strip() or i}"] = opener + " " * (size - 2 * len(opener)) + "x"
        # a whitespace run (across lines) before the opener: line-start rules must not rescan it
        out[f"newlines+opener:{opener.strip() or i}"] = " \n" * ((size - len(opener)) // 2) + opener
    out["dash_run_key"] = "a-" * (size // 2 - 2) + "key="
    out["jwt_dash_dot"] = "eyJ-" * (size // 4 - 1) + "."
    out["digits_failed"] = "9" * (size - 8) + " failed"
    out["word_exception"] = "a" * (size - 10) + "Exception"
    out["two_reading_words"] = "FAIL " * (size // 5)
    out["verdict_tags_unclosed"] = "<verdict>A" * (size // 10)
    out["verdict_open_close_mix"] = "<verdict><reasoning>" * (size // 20)
    out["decision_prefix_runs"] = ("I recommend this paper for " * 8 + "\n") * (size // 217)
    out["auth_runs"] = "authorization: " * (size // 15)
    out["key_assignments"] = "api_key=" * (size // 8)
    out["mixed_openers"] = "".join(OPENERS) * (size // len("".join(OPENERS)))
    return out


def parsers() -> dict[str, Callable[[str], object]]:
    """Every parser and text routine that reads model output or session text, by name."""
    from ..judge.prompt import parse_verdict as parse_judge_verdict
    from ..tasks.bias_judge import parse_verdict
    from ..tasks.category_judge import parse_label
    from ..tasks.haiku_review import parse_haiku
    from ..tasks.paper_review import parse_review, sections_present
    from ..tasks.peerread import strip_decision_statements
    from ..tasks.pr.answer import parse_answer
    from ..tasks.pr.schemas import CodeSuggestions, PRDescription, PRReview
    from ..traces.categories import default_classifier
    from ..traces.episodes import Diagnostic, is_correction
    from .haiku import haiku_form
    from .identifiers import line_tokens, split_identifier
    from .redact import redact
    from .syllables import count_syllables

    classifier = default_classifier()
    return {
        "bias_judge.parse_verdict": parse_verdict,
        "haiku_review.parse_haiku": parse_haiku,
        "haiku.haiku_form": lambda t: haiku_form([t, t[: len(t) // 2], "a"]),
        "paper_review.parse_review": parse_review,
        "paper_review.sections_present": sections_present,
        "peerread.strip_decision_statements": strip_decision_statements,
        "category_judge.parse_label": lambda t: parse_label(t, ("a", "b")),
        "syllables.count_syllables": count_syllables,
        "identifiers.split_identifier": split_identifier,
        "identifiers.line_tokens": line_tokens,
        "redact.redact": redact,
        "categories.classify": lambda t: classifier.classify(
            Diagnostic("tool_error", t, "e1", 1, command=t[:2000])),
        "episodes.is_correction": is_correction,
        "judge.parse_verdict": parse_judge_verdict,
        "pr.parse_answer(review)": lambda t: parse_answer(t, PRReview, ("review",)),
        "pr.parse_answer(improve)": lambda t: parse_answer(t, CodeSuggestions,
                                                           ("code_suggestions",)),
        "pr.parse_answer(describe)": lambda t: parse_answer(t, PRDescription,
                                                            ("type", "title")),
    }
