"""Training rows for TRL's SDPO trainer (``trl.experimental.sdpo.SDPOTrainer``).

SDPOTrainer reads two columns (its ``_signature_columns``): ``prompt`` and ``privileged_context``.
``prompt`` may be a string or a conversation; a conversation must end with a user turn (the
teacher's reprompt replaces that turn's text and keeps the earlier messages). ``privileged_context``
must be a string: the trainer uses it only when it is a non-empty ``str`` (formatted into
``SDPOConfig.feedback_template``). Every other column (``score``, ``categories``, ``source``) is
passed to reward functions as a keyword argument, which is how :func:`grounding_reward` sees
``privileged_context``.

A row::

    {"prompt": [{"role": "system", "content": "<context the agent had>"},
                {"role": "user", "content": "<the request>"}],
     "privileged_context": "[build_lint_compile] bash `npm run check` exited with code 2:\\n...",
     "score": 15.2, "categories": ["build_lint_compile", "user_feedback"],
     "source": {"file": "...", "entry_ids": ["a1b2c3d4", ...], "lines": [12, 40]}}

Every string in a row is redacted (:func:`assay.text.redact.redact`) unless redaction is turned off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..text.redact import redact, redact_obj
from .episodes import Diagnostic, Episode, clip
from .score import EpisodeScore

__all__ = ["RowConfig", "diagnostic_label", "make_row", "privileged_context", "session_paths",
           "session_redactor"]

_SYSTEM = "You are a coding agent working in a user's repository with read, bash, edit and write tools."


@dataclass(frozen=True)
class RowConfig:
    """Budgets (characters): each diagnostic, all of them together, the prompt, its context."""

    item_chars: int = 1200
    total_chars: int = 6000
    prompt_chars: int = 6000
    context_chars: int = 3000
    redact: bool = True

    def __post_init__(self) -> None:
        for name in ("item_chars", "total_chars", "prompt_chars", "context_chars"):
            if getattr(self, name) < 100:
                raise ValueError(f"{name} must be >= 100, got {getattr(self, name)}")


def _first_line(text: str | None) -> str:
    return text.splitlines()[0][:200] if text and text.strip() else ""


def diagnostic_label(d: Diagnostic) -> str:
    """A one-line heading saying what failed: ``[category] tool `command` exited with code N``."""
    if d.kind == "user_feedback":
        return f"[{d.category}] The user then corrected the agent:"
    if d.kind == "bash_execution":
        return (f"[{d.category}] The user ran `{_first_line(d.command)}`, which exited with code "
                f"{d.exit_code}:")
    what = (d.tool or "tool") + (f" `{_first_line(d.command)}`" if d.command else "")
    if d.exit_code:
        return f"[{d.category}] {what} exited with code {d.exit_code}:"
    return f"[{d.category}] {what} failed:"


def privileged_context(diagnostics: tuple[Diagnostic, ...], config: RowConfig) -> str:
    """The labelled diagnostics, each clipped to ``item_chars``, stopping at ``total_chars``."""
    blocks: list[str] = []
    used = 0
    for d in diagnostics:
        block = f"{diagnostic_label(d)}\n{clip(d.text, config.item_chars)}"
        if blocks and used + len(block) > config.total_chars:
            blocks.append(f"[... {len(diagnostics) - len(blocks)} more diagnostics omitted ...]")
            break
        blocks.append(block)
        used += len(block) + 2
    return "\n\n".join(blocks)


def _prompt(episode: Episode, config: RowConfig) -> list[dict[str, str]]:
    context = "\n\n".join(episode.context)
    system = _SYSTEM + (f"\n\n{clip(context, config.context_chars)}" if context else "")
    return [{"role": "system", "content": system},
            {"role": "user", "content": clip(episode.prompt, config.prompt_chars)}]


def make_row(episode: Episode, score: EpisodeScore, config: RowConfig | None = None) -> dict[
        str, Any]:
    """One SDPO row for a scored, categorised episode (redacted unless ``config.redact`` is off)."""
    config = config or RowConfig()
    row = {
        "prompt": _prompt(episode, config),
        "privileged_context": privileged_context(episode.diagnostics, config),
        "score": score.total,
        "categories": sorted({d.category for d in episode.diagnostics}),
        "source": {"file": episode.file, "entry_ids": list(episode.entry_ids),
                   "lines": [episode.first_line, episode.last_line]},
    }
    return redact_obj(row, session_paths(episode.cwd)) if config.redact else row


def session_paths(cwd: str | None) -> dict[str, str]:
    """Path prefixes a session's text is redacted with: its cwd as ``<cwd>`` (the real $HOME and
    /root are always replaced by ``<home>``)."""
    if not cwd or len(cwd.rstrip("/\\")) < 2:
        return {}
    # pi names a session's folder after its cwd with slashes as dashes: --srv-me-work--
    dashed = "--" + cwd.strip("/\\").replace("/", "-").replace("\\", "-") + "--"
    return {cwd: "<cwd>", dashed: "--<cwd>--"}


def session_redactor(cwd: str | None):
    """``redact`` with a session's paths: what mining applies to each text before clipping."""
    paths = session_paths(cwd)
    return lambda text: redact(text, paths)
