"""Secret and home-path redaction for anything assay writes (trace rows, summaries, reports).

``redact(text)`` replaces API keys, tokens, password assignments, bearer headers, private-key blocks
and home-directory paths by readable placeholders (``<OPENAI_KEY>``, ``/home/<user>``), so the text
still reads like the original. ``redact_with_counts(text)`` also says what was found, and
``redact_obj(obj)`` walks JSON-like structures. The rules are regular expressions, tuned to miss
few secrets at the price of the occasional false positive (a ``sort_key = lambda`` becomes
``sort_key = <SECRET>``): a leaked key costs more than a less readable line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["RedactionResult", "redact", "redact_obj", "redact_with_counts"]


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and how many of each kind were replaced (kind -> count)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# (kind, pattern, replacement, triggers) in order: blocks and vendor-specific tokens first, so the generic
# assignment rule sees placeholders instead of half-matched keys.
_TOKEN_RULES: tuple[tuple[str, re.Pattern[str], str, tuple[str, ...]], ...] = (
    ("private_key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
        r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|[\s\S]*\Z)"), "<PRIVATE_KEY>",
     ("private key",)),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"), "<ANTHROPIC_KEY>", ("sk-ant-",)),
    ("openai_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
     "<OPENAI_KEY>", ("sk-",)),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
     "<GITHUB_TOKEN>", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[0-9A-Z]{16}\b"),
     "<AWS_ACCESS_KEY>", ("akia", "asia", "abia", "acca", "aida", "aroa")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{20,}"), "<HF_TOKEN>", ("hf_",)),
    ("slack_token", re.compile(r"\bxox[baprse]-[A-Za-z0-9\-]{10,}"), "<SLACK_TOKEN>", ("xox",)),
    ("url_password", re.compile(r"(?<=://)[^/\s:@]+:(?!<)[^/\s@]+(?=@)"), "<user>:<PASSWORD>", ("://",)),
    ("jwt", re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
     "<JWT>", ("eyj",)),
)

# "Authorization: Bearer abc", "authorization=Basic abc", "-H 'Authorization: token abc'".
_AUTH_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token|bot)\s+)?"
    r"(?!<)[^\s\"',;]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!<)[A-Za-z0-9._~+/=\-]{8,}")

# A candidate `name <sep> value` pair in shell (NAME=v), code (name = "v"), JSON ("name": "v") and
# YAML (name: v) form. Whether `name` is secret is decided by _is_secret_name, not by the regex,
# so "monkey: 1" and "max_tokens=5" stay intact.
_ASSIGNMENT = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]+)(?P<q1>[\"']?)(?P<sep>[ \t]*(?::|=|:=)[ \t]*)"
    r"(?:(?P<q2>[\"'])(?P<qval>[^\"'\n]*)(?P=q2)|(?P<val>[^\s\"'`,;{}\[\]()<>]+))")
_SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "pwd",
                           "passphrase", "credential", "credentials", "auth"})
_NOT_SECRET_VALUES = frozenset({"null", "none", "true", "false", "undefined", "nil", "string",
                                "str", "optional", "required", "env", "redacted", "xxx", "***"})
_MEMBER_EXPR = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")

# Rules run only when one of their trigger substrings occurs in the lower-cased text: a C-speed
# `in` test that skips most regular-expression scans (they dominated mining time).
_ASSIGNMENT_TRIGGERS = ("key", "token", "secret", "passw", "pwd", "passphrase", "credential",
                        "auth")
_HOME_TRIGGERS = ("/users/", "/home/", "\\users\\", "--users-", "--home-", "~")
_HOME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w.])/(Users|home)/(?!<user>)[^/\s\"'`:;,)\]}<>]+"), r"/\1/<user>"),
    (re.compile(r"\b([A-Za-z]:\\+Users\\+)(?!<user>)[^\\\s\"'`:;,)\]}<>]+"), r"\1<user>"),
    # pi names session folders after the cwd with slashes as dashes: --Users-NAME-work--
    (re.compile(r"(--(?:Users|home)-)(?!<user>)[A-Za-z0-9._]+"), r"\1<user>"),
    (re.compile(r"(?<![\w/.~])~(?!<user>)([A-Za-z][A-Za-z0-9._\-]*)(?=/)"), r"~<user>"),
)


def _any_in(needles: tuple[str, ...], haystack: str) -> bool:
    return any(n in haystack for n in needles)


def _split_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_.\-]+", spaced) if w]


def _is_secret_name(name: str) -> bool:
    words = _split_words(name)
    if not words:
        return False
    if words[-1] in _SECRET_WORDS:
        return True
    return any(w in {"secret", "password", "passwd", "token", "apikey"} for w in words)


def _secret_value(value: str, followed_by: str) -> bool:
    if len(value) < 4 or value.startswith(("<", "$", "%", "{")) or followed_by == "(":
        return False
    if value.lower() in _NOT_SECRET_VALUES or value.endswith(":"):
        return False
    return not (_MEMBER_EXPR.match(value) and not value.startswith("eyJ"))


def _assignment_sub(counter: Counter) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        value = m.group("qval") if m.group("q2") else m.group("val")
        after = m.string[m.end():m.end() + 1]
        if value is None or not _is_secret_name(m.group("name")) or not _secret_value(value, after):
            return m.group(0)
        counter["assignment"] += 1
        q2 = m.group("q2") or ""
        return f"{m.group('name')}{m.group('q1')}{m.group('sep')}{q2}<SECRET>{q2}"
    return sub


def _auth_sub(counter: Counter) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        counter["auth_header"] += 1
        scheme = (m.group(2) + " ") if m.group(2) else ""
        return f"{m.group(1)}{scheme}<TOKEN>"
    return sub


def _bearer_sub(counter: Counter) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        counter["auth_header"] += 1
        return f"{m.group(1)} <TOKEN>"
    return sub


def redact_with_counts(text: str) -> RedactionResult:
    """Redact secrets and home paths in ``text``; return the text and counts per kind."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    counter: Counter = Counter()
    lower = text.lower()
    for kind, pattern, placeholder, triggers in _TOKEN_RULES:
        if _any_in(triggers, lower):
            text, n = pattern.subn(placeholder, text)
            counter[kind] += n
    if "authorization" in lower:
        text = _AUTH_HEADER.sub(_auth_sub(counter), text)
    if "bearer" in lower:
        text = _BEARER.sub(_bearer_sub(counter), text)
    if _any_in(_ASSIGNMENT_TRIGGERS, lower):
        text = _ASSIGNMENT.sub(_assignment_sub(counter), text)
    if _any_in(_HOME_TRIGGERS, lower):
        for pattern, replacement in _HOME_RULES:
            text, n = pattern.subn(replacement, text)
            counter["home_path"] += n
    return RedactionResult(text=text, counts={k: v for k, v in counter.items() if v})


def redact(text: str) -> str:
    """``text`` with API keys, tokens, passwords, private keys and home paths replaced."""
    return redact_with_counts(text).text


def redact_obj(obj: Any) -> Any:
    """Redact every string inside a JSON-like structure (dict keys are left as they are)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj
