"""Secret and home-path redaction for anything assay writes (trace rows, summaries, reports, errors).

``redact(text)`` replaces API keys, tokens, passwords, cookies, credentials in URLs and commands,
private-key blocks, long high-entropy strings and home-directory paths by readable placeholders
(``<OPENAI_KEY>``, ``<user>:<PASSWORD>``, ``/home/<user>``), so the text still reads like the
original. ``redact_with_counts(text)`` also says what was found, and ``redact_obj(obj)`` walks
JSON-like structures. ``paths`` maps literal path prefixes to placeholders: the real ``$HOME``
and ``/root`` always become ``<home>``; trace mining adds the session's cwd as ``<cwd>``.

The rules are regular expressions, tuned to miss few secrets at the price of the occasional false
positive (a ``sort_key = lambda`` becomes ``sort_key = <SECRET>``): a leaked key costs more than a
less readable line. The vendor formats follow gitleaks' public rule set (config/gitleaks.toml,
github.com/gitleaks/gitleaks, MIT; the rule id is named beside each rule) and detect-secrets'
keyword and high-entropy plugins (github.com/Yelp/detect-secrets, Apache-2.0); the patterns are
written here, not copied. Every pattern is linear in the text: a fixed prefix and a greedy body
with nothing required after it, or a run anchored at the start of its character class (a
look-behind), or a bounded repeat.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

__all__ = ["RedactionResult", "home_paths", "redact", "redact_obj", "redact_with_counts"]


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and how many of each kind were replaced (kind -> count)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str | None]
    triggers: tuple[str, ...] = ()  # lower-case substrings; the rule runs only when one occurs


def _r(kind, pattern, replacement, *triggers, flags=0) -> _Rule:
    return _Rule(kind, re.compile(pattern, flags), replacement, tuple(triggers))


# A token starts here: not inside a longer one, or right after a JSON/C escape ("\\n" in a dumped
# string is a line break, so "\\nsk-..." starts a key).
_B = r"(?:(?<![A-Za-z0-9_\-])|(?<=\\[nrt]))"


def _mixed(value: str, *, symbols: bool = False) -> bool:
    """Upper and lower case letters and a digit (a random string, not a word or a hex hash)."""
    return (any(c.isupper() for c in value) and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)) or (symbols and _entropy(value) > 4.0)


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _when(check: Callable[[str], bool], placeholder: str, group: int | str = 0):
    def sub(m: re.Match[str]) -> str | None:
        value = m.group(group)
        if not check(value):
            return None
        return m.group(0).replace(value, placeholder, 1)
    return sub


def _url_userinfo(m: re.Match[str]) -> str | None:
    info = m.group("info")
    if info.startswith("<") or (":" not in info and len(info) < 20):
        return None  # a plain user name (or already redacted): keep it
    user = info.split(":", 1)[0] if ":" in info else ""
    shown = "<user>" if user else ""
    return f"{m.group('scheme')}{shown}:<PASSWORD>@" if ":" in info else \
        f"{m.group('scheme')}<TOKEN>@"


# In order: blocks and vendor-specific tokens first, so the generic rules see placeholders.
_TOKEN_RULES: tuple[_Rule, ...] = (
    # gitleaks private-key (PEM and OpenSSH blocks; an unterminated block runs to the end)
    _r("private_key", r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
       r"(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*\Z)",
       "<PRIVATE_KEY>", "private key"),
    # gitleaks slack-webhook-url, discord-webhook (whole URL: the path is the secret)
    _r("slack_webhook", r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/"
       r"[A-Za-z0-9+/_\-]{10,}", "<SLACK_WEBHOOK>", "hooks.slack.com"),
    _r("discord_webhook", r"https?://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w\-]+",
       "<DISCORD_WEBHOOK>", "discord"),
    # gitleaks anthropic-api-key, openai-api-key
    _r("anthropic_key", _B + r"sk-ant-[A-Za-z0-9_\-]{16,}", "<ANTHROPIC_KEY>", "sk-ant-"),
    _r("openai_key", _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", "<OPENAI_KEY>",
       "sk-"),
    # gitleaks stripe-access-token (secret and restricted keys; publishable keys too)
    _r("stripe_key", _B + r"(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,}", "<STRIPE_KEY>",
       "_live_", "_test_", "_prod_"),
    # gitleaks github-pat, github-fine-grained-pat, github-oauth, github-app-token, -refresh-token
    _r("github_token", _B + r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
       "<GITHUB_TOKEN>", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    # gitleaks gitlab-pat and the other gitlab-* token prefixes
    _r("gitlab_token", _B + r"gl(?:pat|ptt|dt|rt|soat|cbt|imt|agent|oas|ft|ffct)-[\w\-]{20,}",
       "<GITLAB_TOKEN>", "gl"),
    # gitleaks aws-access-token
    _r("aws_access_key", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}\b",
       "<AWS_ACCESS_KEY>", "akia", "asia", "abia", "acca", "aida", "aroa", "a3t"),
    # gitleaks gcp-api-key; Google OAuth access tokens (ya29.)
    _r("google_api_key", _B + r"AIza[\w\-]{35}", "<GOOGLE_API_KEY>", "aiza"),
    _r("google_oauth_token", _B + r"ya29\.[\w\-]{20,}", "<GOOGLE_TOKEN>", "ya29."),
    # gitleaks npm-access-token, pypi-upload-token
    _r("npm_token", _B + r"npm_[A-Za-z0-9]{36,}", "<NPM_TOKEN>", "npm_"),
    _r("pypi_token", _B + r"pypi-AgEIcHlwaS5vcmc[\w\-]{20,}", "<PYPI_TOKEN>", "pypi-"),
    # gitleaks huggingface-access-token, huggingface-organization-api-token
    _r("huggingface_token", _B + r"(?:hf_[A-Za-z0-9]{20,}|api_org_[A-Za-z0-9]{20,})",
       "<HF_TOKEN>", "hf_", "api_org_"),
    # gitleaks slack-bot-token, slack-user-token, slack-app-token, slack-legacy-*
    _r("slack_token", _B + r"(?:xox[baprse]-[A-Za-z0-9\-]{10,}|xapp-[A-Za-z0-9\-]{10,})",
       "<SLACK_TOKEN>", "xox", "xapp-"),
    # gitleaks twilio-api-key, sendgrid-api-token, mailgun-private-api-token
    _r("twilio_key", r"\bSK[0-9a-fA-F]{32}\b", "<TWILIO_KEY>", "sk"),
    _r("sendgrid_key", _B + r"SG\.[\w\-]{16,32}\.[\w\-]{16,64}", "<SENDGRID_KEY>", "sg."),
    _r("mailgun_key", _B + r"key-[0-9a-f]{32}\b", "<MAILGUN_KEY>", "key-"),
    # gitleaks azure-ad-client-secret
    _r("azure_client_secret", r"(?<![A-Za-z0-9_~.])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}",
       "<AZURE_SECRET>", "q~"),
    # gitleaks digitalocean-*, shopify-*, databricks-api-token, doppler-api-token,
    # linear-api-key, postman-api-token, grafana-*, square-access-token, age-secret-key,
    # telegram-bot-api-token
    _r("vendor_token", _B + r"(?:do[por]_v1_[a-f0-9]{64}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"
       r"|dapi[a-f0-9]{32}(?:-\d)?|dp\.pt\.[A-Za-z0-9]{43}|lin_api_[A-Za-z0-9]{40}"
       r"|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
       r"|glc_[A-Za-z0-9+/]{32,400}={0,2}|sq0(?:atp|csp)-[\w\-]{22,43})",
       "<TOKEN>", "do", "shp", "dapi", "dp.pt.", "lin_api_", "pmak-", "glsa_", "glc_", "sq0"),
    _r("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
       "<AGE_KEY>", "age-secret-key-1"),
    _r("telegram_token", r"\b\d{8,10}:AA[\w\-]{33,}", "<TELEGRAM_TOKEN>", ":aa"),
    # gitleaks jwt (header.payload.signature)
    _r("jwt", _B + r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", "<JWT>",
       "eyj"),
    # URL userinfo with any characters (a password holding "/" or "@" included): everything up
    # to the last "@" of the URL's token. Bounded, so "://" repeated stays linear.
    _r("url_password", r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]{0,20}://)"
       r"(?P<info>[^\s\"'<>`]{1,300})@", _url_userinfo, "://"),
    # gitleaks curl-auth-user: curl -u user:pass / --user=user:pass (also wget/httpie forms)
    _r("command_password", r"(?P<flag>(?<!\S)(?:-u|--user|--password|--http-password)"
       r"(?:[ \t]+|=))(?P<q>['\"]?)(?P<value>[^\s'\"]{3,300})(?P=q)",
       lambda m: (None if m.group("value").startswith(("<", "$")) or
                  (m.group("flag").strip(" =\t") in ("-u", "--user") and ":" not in m.group("value"))
                  else f"{m.group('flag')}{m.group('q')}"
                  + ("<user>:<PASSWORD>" if ":" in m.group("value") else "<PASSWORD>")
                  + m.group("q")),
       "-u", "--user", "--password"),
    # Cookie and Set-Cookie headers (the whole value), curl -b / --cookie
    _r("cookie", r"(?i)(?P<name>\b(?:set-)?cookie[\"']?\s{0,5}[:=]\s{0,5})[^\n\"']{1,2000}",
       lambda m: f"{m.group('name')}<COOKIE>", "cookie"),
    _r("cookie", r"(?P<flag>(?<!\S)(?:-b|--cookie)(?:[ \t]+|=))(?P<q>['\"])[^'\"\n]{1,2000}(?P=q)",
       lambda m: f"{m.group('flag')}{m.group('q')}<COOKIE>{m.group('q')}", "-b", "--cookie"),
)

# "Authorization: Bearer abc", "authorization=Basic abc", "-H 'Authorization: token abc'".
_AUTH_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token|bot)\s+)?"
    r"(?!<)[^\s\"',;]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!<)[A-Za-z0-9._~+/=\-]{8,}")

# A candidate `name <sep> value` pair in shell (NAME=v), code (name = "v"), JSON ("name": "v") and
# YAML (name: v) form. Whether `name` is secret is decided by _is_secret_name, not by the regex,
# so "monkey: 1" and "max_tokens=5" stay intact. The name starts only at the start of a run of
# name characters (a look-behind), so "a-a-a-...key" is read once, not from every "a".
_ASSIGNMENT = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]+)(?P<q1>[\"']?)"
    r"(?P<sep>[ \t]*(?::|=|:=)[ \t]*)"
    r"(?:(?P<q2>[\"'])(?P<qval>[^\"'\n]*)(?P=q2)|(?P<val>[^\s\"'`,;{}\[\]()<>]+))")
_SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "pwd", "pw",
                           "pass", "passphrase", "credential", "credentials", "auth", "pgpassword",
                           "accesskey", "secretkey", "privatekey", "clientsecret"})
_SECRET_ANYWHERE = frozenset({"secret", "password", "passwd", "token", "apikey", "pass", "pwd",
                              "passphrase", "credential", "credentials", "pgpassword"})
_NOT_SECRET_VALUES = frozenset({"null", "none", "true", "false", "undefined", "nil", "string",
                                "str", "optional", "required", "env", "redacted", "xxx", "***"})
_MEMBER_EXPR = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
_ASSIGNMENT_TRIGGERS = ("key", "token", "secret", "pass", "pwd", "pw", "credential", "auth")

# Passwords in prose and shell comments: "the password is hunter2", "# pw: Tr0ub4dor&3".
_PROSE_PASSWORD = re.compile(
    r"(?i)\b(?P<word>password|passwd|passphrase|pwd|pw)\b"
    r"(?P<gap>(?:[ \t]+(?:is|was|of|for|to|=|:|->|\S{1,40}[ \t]+is)){0,2}[ \t:=]+)"
    r"(?P<val>[^\s'\"`,;)]{4,200})")
# A long random-looking string near a key word (detect-secrets KeywordDetector + entropy).
_NEAR_KEYWORD = re.compile(
    r"(?i)\b(?P<word>keys?|tokens?|secrets?|credentials?|api[ _\-]?keys?)\b(?P<gap>[^\n]{0,30}?)"
    r"(?<![A-Za-z0-9_\-+/=])(?P<val>[A-Za-z0-9_\-+/=]{16,100})(?![A-Za-z0-9_\-+/=])")
_BARE = r"(?:(?<![A-Za-z0-9/+=])|(?<=\\[nrt]))"
# Bare strings: a 40-character AWS secret key, a 32-hex key, a long base64 run.
_BARE_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], bool], str], ...] = (
    ("aws_secret_key", re.compile(_BARE + r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
     lambda v: _mixed(v) and v.count("/") <= 3, "<AWS_SECRET>"),
    ("hex_key", re.compile(r"(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))[a-fA-F0-9]{32}(?![A-Za-z0-9])"),
     lambda v: any(c.isdigit() for c in v) and any(c.isalpha() for c in v), "<HEX_KEY>"),
    # a path has a "/" every few characters, base64 about one in 64
    ("base64_blob", re.compile(_BARE + r"[A-Za-z0-9/+]{60,}={0,2}(?![A-Za-z0-9/+=])"),
     lambda v: _mixed(v) and v.count("/") <= len(v) // 24, "<BASE64_BLOB>"),
)

_HOME_TRIGGERS = ("/users/", "/home/", "\\users\\", "--users-", "--home-", "~")
_HOME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w.])/(Users|home)/(?!<user>)[^/\s\"'`:;,)\]}<>]+"), r"/\1/<user>"),
    (re.compile(r"\b([A-Za-z]:\\+Users\\+)(?!<user>)[^\\\s\"'`:;,)\]}<>]+"), r"\1<user>"),
    # pi names session folders after the cwd with slashes as dashes: --Users-NAME-work--
    (re.compile(r"(--(?:Users|home)-)(?!<user>)[A-Za-z0-9._]+"), r"\1<user>"),
    (re.compile(r"(?<![\w/.~])~(?!<user>)([A-Za-z][A-Za-z0-9._\-]*)(?=/)"), r"~<user>"),
)


@lru_cache(maxsize=8)
def _home_of(home: str | None) -> tuple[tuple[str, str], ...]:
    out = [("/root", "<home>")]
    if home and home not in ("/", "/root") and len(home) > 1:
        out.insert(0, (home.rstrip("/"), "<home>"))
    return tuple(out)


def home_paths() -> dict[str, str]:
    """The path prefixes every redaction replaces: the real ``$HOME`` and ``/root``."""
    return dict(_home_of(os.environ.get("HOME")))


def _path_rules(paths: Mapping[str, str] | None) -> tuple[tuple[re.Pattern[str], str], ...]:
    merged = {**home_paths(), **dict(paths or {})}
    return _compiled_paths(tuple(sorted(merged.items())))


@lru_cache(maxsize=256)
def _compiled_paths(items: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    rules = []
    for prefix, placeholder in sorted(items, key=lambda kv: len(kv[0]), reverse=True):
        prefix = prefix.rstrip("/\\")
        if len(prefix) > 1:  # the prefix as a whole path component: /root and /root/x, not /rooted
            rules.append((re.compile(re.escape(prefix) + r"(?![\w.\-])"), placeholder))
    return tuple(rules)


def _is_secret_name(name: str) -> bool:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = [w.lower() for w in re.split(r"[\s_.\-]+", spaced) if w]
    if not words:
        return False
    return words[-1] in _SECRET_WORDS or any(w in _SECRET_ANYWHERE for w in words) \
        or words[-1].endswith(("password", "passwd", "secret", "apikey", "token"))


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


def _secretish(value: str) -> bool:
    """A password-like word: a digit or a symbol in it, or mixed case (not 'reset' or 'field')."""
    if value.startswith("<") or value.lower() in _NOT_SECRET_VALUES:
        return False
    return (any(c.isdigit() for c in value) or any(not c.isalnum() for c in value)
            or (any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)))


def _counted(kind: str, counter: Counter, fn: Callable[[re.Match[str]], str | None]):
    def sub(m: re.Match[str]) -> str:
        out = fn(m)
        if out is None:
            return m.group(0)
        counter[kind] += 1
        return out
    return sub


def _run_rule(rule: _Rule, text: str, counter: Counter) -> str:
    if isinstance(rule.replacement, str):
        text, n = rule.pattern.subn(rule.replacement, text)
        counter[rule.kind] += n
        return text
    return rule.pattern.sub(_counted(rule.kind, counter, rule.replacement), text)


def _keyword_sub(m: re.Match[str]) -> str | None:
    value = m.group("val")
    if value.startswith("<") or not (_mixed(value) or (len(value) >= 20 and _entropy(value) > 3.5
                                                        and any(c.isdigit() for c in value))):
        return None
    return f"{m.group('word')}{m.group('gap')}<SECRET>"


def _prose_sub(m: re.Match[str]) -> str | None:
    if not _secretish(m.group("val")):
        return None
    return f"{m.group('word')}{m.group('gap')}<PASSWORD>"


def _bare_sub(check: Callable[[str], bool], placeholder: str):
    return lambda m: placeholder if check(m.group(0)) else None


def redact_with_counts(text: str, paths: Mapping[str, str] | None = None) -> RedactionResult:
    """Redact secrets and home paths in ``text``; return the text and counts per kind.

    ``paths`` maps more literal path prefixes (a session's cwd) to placeholders; the real
    ``$HOME`` and ``/root`` are always replaced by ``<home>``."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    counter: Counter = Counter()
    lower = text.lower()
    for rule in _TOKEN_RULES:
        if not rule.triggers or any(t in lower for t in rule.triggers):
            text = _run_rule(rule, text, counter)
    if "authorization" in lower:
        text = _AUTH_HEADER.sub(_counted("auth_header", counter, lambda m: (
            f"{m.group(1)}{(m.group(2) + ' ') if m.group(2) else ''}<TOKEN>")), text)
    if "bearer" in lower:
        text = _BEARER.sub(_counted("auth_header", counter,
                                    lambda m: f"{m.group(1)} <TOKEN>"), text)
    if any(t in lower for t in _ASSIGNMENT_TRIGGERS):
        text = _ASSIGNMENT.sub(_assignment_sub(counter), text)
        text = _PROSE_PASSWORD.sub(_counted("prose_password", counter, _prose_sub), text)
        text = _NEAR_KEYWORD.sub(_counted("near_keyword", counter, _keyword_sub), text)
    for kind, pattern, check, placeholder in _BARE_RULES:
        text = pattern.sub(_counted(kind, counter, _bare_sub(check, placeholder)), text)
    for pattern, placeholder in _path_rules(paths):
        text, n = pattern.subn(placeholder.replace("\\", "\\\\"), text)
        counter["home_path"] += n
    if any(t in lower for t in _HOME_TRIGGERS):
        for pattern, replacement in _HOME_RULES:
            text, n = pattern.subn(replacement, text)
            counter["home_path"] += n
    return RedactionResult(text=text, counts={k: v for k, v in counter.items() if v})


def redact(text: str, paths: Mapping[str, str] | None = None) -> str:
    """``text`` with API keys, tokens, passwords, private keys and home paths replaced."""
    return redact_with_counts(text, paths).text


def redact_obj(obj: Any, paths: Mapping[str, str] | None = None) -> Any:
    """Redact every string inside a JSON-like structure (dict keys are left as they are)."""
    if isinstance(obj, str):
        return redact(obj, paths)
    if isinstance(obj, dict):
        return {k: redact_obj(v, paths) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v, paths) for v in obj]
    return obj
