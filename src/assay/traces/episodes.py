"""Episodes: a user prompt and what followed it, up to the next user prompt.

An episode keeps what SDPO's teacher needs and nothing more (so memory stays bounded): the prompt,
the context the agent had (working directory, the latest compaction or branch summary), and the
diagnostics that followed: tool results with ``isError``, bash output ending in "Command exited with
code N", user-run ``bashExecution`` entries with a non-zero ``exitCode``, and the next user message
when it corrects the agent ("no, that's not it", "you broke ...", "try again"). A bare
"continue"/"go on" does not start a new episode: it resumes the current one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .reader import Entry

__all__ = ["Diagnostic", "Episode", "EpisodeConfig", "build_episodes", "clip", "is_correction",
           "message_text"]

_EXIT_TAIL = re.compile(r"Command exited with code (\d+)\s*\Z")
_CONTINUATION = re.compile(
    r"^\s*(continue|go on|keep going|proceed|go ahead|carry on|resume)[\s.!]*$", re.I)
_CORRECTION = re.compile(
    r"^\s*(no|nope|wrong|wait|stop|actually|undo|revert)\b"
    r"|that'?s not|that is not|not what i|(doesn'?t|does not|didn'?t|did not|won'?t) work"
    r"|still (doesn'?t|does not|broken|fails|failing|looks|the same|wrong|not)"
    r"|try again|you (broke|fucked|messed|forgot|missed|didn'?t|did not|should|idiot)"
    r"|(?<!if )you need to|why (did|do|would|are) you|i undid|\bwrong\b|\bbroken\b"
    r"|are you (\w+ )?stupid|\bwtf\b|w\.t\.f|\bomfg\b(?! that)|fucking hell|(?<!we )should be"
    r"|(must|should) never|instead of"
    r"|not right|doesn'?t look right|isn'?t right|that'?s horrible",
    re.I)


@dataclass(frozen=True)
class EpisodeConfig:
    """``capture_chars``: each diagnostic's text is clipped to this while reading (memory bound);
    ``context_chars``: the same for a compaction or branch summary."""

    capture_chars: int = 4000
    context_chars: int = 4000

    def __post_init__(self) -> None:
        for name in ("capture_chars", "context_chars"):
            if getattr(self, name) < 100:
                raise ValueError(f"{name} must be >= 100, got {getattr(self, name)}")


@dataclass(frozen=True)
class Diagnostic:
    """One failure signal. ``kind``: tool_error | exit_code | bash_execution | user_feedback."""

    kind: str
    text: str
    entry_id: str
    line: int
    tool: str | None = None
    command: str | None = None
    exit_code: int | None = None
    category: str = ""


@dataclass(frozen=True)
class Episode:
    """A prompt, its context, and the diagnostics that followed it."""

    file: str
    prompt: str
    prompt_entry_id: str
    first_line: int
    last_line: int
    context: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    tool_calls: int
    went_on_after_failure: bool
    cwd: str | None = None  # the session's working directory (redaction replaces it by <cwd>)

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return (self.prompt_entry_id, *(d.entry_id for d in self.diagnostics))


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail (errors sit at both)."""
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    tail = max(limit - head - 40, 0)
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[len(text) - tail:]}"


def message_text(content: Any) -> str:
    """The text of a message's ``content`` (a string, or a list of text/image/other parts)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif isinstance(part, dict) and part.get("type") == "image":
            parts.append("[image]")
    return "\n".join(parts)


CORRECTION_CHARS = 2000  # a correction says so up front; longer messages are read this far


def is_correction(text: str) -> bool:
    """Whether a user message corrects the agent (a heuristic on the wording of its first
    ``CORRECTION_CHARS`` characters, which bounds the work on a pasted log)."""
    return bool(_CORRECTION.search(text, 0, CORRECTION_CHARS))


def _call_label(name: str, args: Any, scrub: Callable[[str], str] = str) -> str:
    if not isinstance(args, dict):
        return name
    if name == "bash" and isinstance(args.get("command"), str):
        return scrub(args["command"])
    if isinstance(args.get("path"), str):
        return scrub(args["path"])
    # each value is redacted before it is escaped into JSON, and the whole before it is cut
    scrubbed = {k: scrub(v) if isinstance(v, str) else v for k, v in args.items()}
    return scrub(json.dumps(scrubbed, ensure_ascii=False))[:200]


@dataclass
class _Draft:
    prompt: str
    entry: Entry
    context: tuple[str, ...]
    last_line: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tool_calls: int = 0
    went_on: bool = False

    def finish(self, file: str, cwd: str | None = None) -> Episode:
        return Episode(file, self.prompt, self.entry.id, self.entry.line, self.last_line,
                       self.context, tuple(self.diagnostics), self.tool_calls, self.went_on, cwd)


class _Builder:
    def __init__(self, file: str, cwd: str | None, config: EpisodeConfig,
                 scrub: Callable[[str], str] | None = None):
        # scrub (redaction) runs on each text before it is clipped: a clip must never keep half
        # a secret, or the body of a private key whose BEGIN line it cut away
        self.file, self.config, self.cwd = file, config, cwd
        self.scrub = scrub or (lambda text: text)
        self.cwd_context = (f"Working directory: {self.scrub(cwd)}",) if cwd else ()
        self.summary: tuple[str, ...] = ()
        self.calls: dict[str, tuple[str, str]] = {}
        self.draft: _Draft | None = None

    def feed(self, entry: Entry) -> Episode | None:
        if self.draft is not None and entry.role != "user":
            self.draft.last_line = entry.line
        if entry.type in ("compaction", "branch_summary"):
            self._summary(entry)
        elif entry.role == "user":
            return self._user(entry)
        elif self.draft is not None and entry.role == "assistant":
            self._assistant(entry)
        elif self.draft is not None and entry.role == "toolResult":
            self._tool_result(entry)
        elif self.draft is not None and entry.role == "bashExecution":
            self._bash(entry)
        return None

    def close(self) -> Episode | None:
        return self.draft.finish(self.file, self.cwd) if self.draft is not None else None

    def _summary(self, entry: Entry) -> None:
        summary = entry.data.get("summary")
        if isinstance(summary, str) and summary.strip():
            label = "Summary of earlier work" if entry.type == "compaction" else \
                "Summary of an abandoned branch"
            self.summary = (f"{label}:\n"
                            f"{clip(self.scrub(summary.strip()), self.config.context_chars)}",)

    def _user(self, entry: Entry) -> Episode | None:
        text = self.scrub(message_text(entry.message.get("content")).strip())
        if self.draft is not None and _CONTINUATION.match(text):
            self.draft.last_line = entry.line
            return None
        done = None
        if self.draft is not None:
            if is_correction(text):  # the correction belongs to the episode it corrects
                self._add(entry, "user_feedback", text)
                self.draft.last_line = entry.line
            done = self.draft.finish(self.file, self.cwd)
        self.calls.clear()
        self.draft = _Draft(clip(text, self.config.capture_chars), entry,
                            self.cwd_context + self.summary, entry.line)
        return done

    def _assistant(self, entry: Entry) -> None:
        content = entry.message.get("content")
        parts = content if isinstance(content, list) else []
        calls = [p for p in parts if isinstance(p, dict) and p.get("type") == "toolCall"]
        for call in calls:
            name = str(call.get("name", "?"))
            self.calls[str(call.get("id"))] = (name, _call_label(name, call.get("arguments"),
                                                                 self.scrub))
        self.draft.tool_calls += len(calls)
        if self.draft.diagnostics and parts:
            self.draft.went_on = True

    def _tool_result(self, entry: Entry) -> None:
        msg = entry.message
        text = message_text(msg.get("content"))
        tool, command = self.calls.get(str(msg.get("toolCallId")), (msg.get("toolName"), None))
        tool = tool or msg.get("toolName")
        exit_match = _EXIT_TAIL.search(text[-200:])
        exit_code = int(exit_match.group(1)) if exit_match else None
        if msg.get("isError") is True:
            self._add(entry, "tool_error", text, tool, command, exit_code)
        elif exit_code:
            self._add(entry, "exit_code", text, tool, command, exit_code)

    def _bash(self, entry: Entry) -> None:
        msg = entry.message
        code = msg.get("exitCode")
        if isinstance(code, int) and code != 0 and not msg.get("cancelled"):
            self._add(entry, "bash_execution", str(msg.get("output", "")), "bash",
                      str(msg.get("command", "")), code)

    def _add(self, entry: Entry, kind: str, text: str, tool: str | None = None,
             command: str | None = None, exit_code: int | None = None) -> None:
        self.draft.diagnostics.append(Diagnostic(
            kind, clip(self.scrub(text.strip()), self.config.capture_chars), entry.id, entry.line,
            tool, clip(self.scrub(command), 500) if command else None, exit_code))


def build_episodes(entries: Iterable[Entry], file: str, cwd: str | None = None,
                   config: EpisodeConfig | None = None,
                   scrub: Callable[[str], str] | None = None) -> Iterator[Episode]:
    """Episodes of one session's active branch, in order (streams: one draft held at a time).

    ``scrub`` (e.g. redaction) is applied to every text before it is clipped."""
    builder = _Builder(file, cwd, config or EpisodeConfig(), scrub)
    for entry in entries:
        done = builder.feed(entry)
        if done is not None:
            yield done
    last = builder.close()
    if last is not None:
        yield last
