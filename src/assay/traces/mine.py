"""Mining: session files in, scored and redacted SDPO rows plus a summary out.

``mine(paths)`` reads every ``*.jsonl`` under the given files and folders, splits each active branch
into episodes, classifies their diagnostics, scores them, keeps the eligible ones scoring at least
``min_score``, drops repeated prompts (keeping the best-scoring copy) and the rest beyond ``top``.
``write_rows`` writes them as JSONL atomically (a temporary file renamed into place), so a crash
never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import InputError
from ..text.redact import redact_obj
from .rows import session_redactor
from .categories import Classifier, default_classifier
from .episodes import Episode, EpisodeConfig, build_episodes
from .reader import Malformed, ReaderConfig, SessionInfo, open_session
from .rows import RowConfig, make_row
from .score import ScoreConfig, score_episode

__all__ = ["MineConfig", "MineResult", "MineSummary", "find_session_files", "mine", "write_rows"]

_MAX_LISTED_MALFORMED = 50


@dataclass(frozen=True)
class MineConfig:
    """What to keep (``min_score``, ``top``) and how each stage is tuned."""

    min_score: float = 5.0
    top: int | None = None
    classifier: Classifier = field(default_factory=default_classifier)
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    episodes: EpisodeConfig = field(default_factory=EpisodeConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    rows: RowConfig = field(default_factory=RowConfig)

    def __post_init__(self) -> None:
        if self.top is not None and self.top < 1:
            raise ValueError(f"top must be >= 1 or None, got {self.top}")


@dataclass(frozen=True)
class MineSummary:
    """Counts over all files. ``categories``: over kept rows; ``categories_all``: all episodes'
    diagnostics (one count per episode and category). With ``top`` set, rows are pruned to the
    best ``top`` as mining goes (bounded memory), so ``duplicates_dropped`` then counts only the
    repeats met among the leading rows."""

    sessions: int
    lines: int
    malformed_lines: int
    unknown_entries: int
    entries: int
    episodes: int
    eligible: int
    above_min_score: int
    duplicates_dropped: int
    kept: int
    categories: dict[str, int]
    categories_all: dict[str, int]
    score_min: float | None
    score_max: float | None
    malformed: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MineResult:
    rows: list[dict[str, Any]]
    summary: MineSummary


def find_session_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files given, plus every ``*.jsonl`` under the folders given (sorted, no repeats)."""
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for f in sorted(path.rglob("*.jsonl")):
                found.setdefault(f, None)
        elif path.is_file():
            found.setdefault(path, None)
        else:
            raise InputError("no such file or folder", file=str(raw),
                             fix="pass pi session files (*.jsonl) or folders holding them")
    return list(found)


@dataclass
class _Tally:
    infos: list[SessionInfo] = field(default_factory=list)
    episodes: int = 0
    eligible: int = 0
    categories_all: Counter = field(default_factory=Counter)
    candidates: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    above_min_score: int = 0
    duplicates_dropped: int = 0


def _mine_file(path: Path, config: MineConfig, tally: _Tally) -> None:
    score_config = replace(config.score, weights={**config.score.weights,
                                                  **config.classifier.extra_weights})
    stream = open_session(path, config.reader)
    try:
        with stream:
            cwd = stream.info.header.get("cwd")
            cwd = cwd if isinstance(cwd, str) else None
            scrub = session_redactor(cwd) if config.rows.redact else None
            for episode in build_episodes(stream, str(path), cwd, config.episodes, scrub):
                _take(episode, score_config, config, tally)
    except OSError as exc:
        stream.info.malformed.append(Malformed(str(path), 0, f"cannot read: {exc.strerror}"))
    tally.infos.append(stream.info)


def _take(episode: Episode, score_config: ScoreConfig, config: MineConfig,
          tally: _Tally) -> None:
    episode = replace(episode, diagnostics=config.classifier.label(episode.diagnostics))
    tally.episodes += 1
    tally.categories_all.update({d.category for d in episode.diagnostics})
    score = score_episode(episode, score_config)
    if not score.eligible:
        return
    tally.eligible += 1
    if score.total >= config.min_score:
        tally.above_min_score += 1
        tally.candidates.append((score.total, make_row(episode, score, config.rows)))
        if config.top is not None and len(tally.candidates) >= 2 * config.top + 64:
            _prune(tally, config.top)  # with --top, memory holds O(top) rows, not O(kept)


def _prune(tally: _Tally, top: int) -> None:
    kept, dropped = _select(tally.candidates, None)
    tally.duplicates_dropped += dropped
    tally.candidates = [(row["score"], row) for row in kept[:top]]


def _prompt_key(row: dict[str, Any]) -> str:
    text = row["prompt"][-1]["content"]
    return re.sub(r"\s+", " ", text).strip().lower()


def _select(candidates: list[tuple[float, dict[str, Any]]], top: int | None) -> tuple[
        list[dict[str, Any]], int]:
    """Best first, one row per prompt, at most ``top``; also how many duplicates were dropped."""
    ordered = sorted(enumerate(candidates), key=lambda ic: (-ic[1][0], ic[0]))
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for _, (_, row) in ordered:
        key = _prompt_key(row)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    dropped = len(candidates) - len(kept)
    return (kept[:top] if top is not None else kept), dropped


def _summary(tally: _Tally, rows: list[dict[str, Any]], redact: bool) -> MineSummary:
    malformed = [m for info in tally.infos for m in info.malformed]
    listed = [asdict(m) for m in malformed[:_MAX_LISTED_MALFORMED]]
    scores = [r["score"] for r in rows]
    return MineSummary(
        sessions=len(tally.infos), lines=sum(i.lines for i in tally.infos),
        malformed_lines=len(malformed),
        unknown_entries=sum(sum(i.unknown_types.values()) for i in tally.infos),
        entries=sum(i.entries_total for i in tally.infos), episodes=tally.episodes,
        eligible=tally.eligible, above_min_score=tally.above_min_score,
        duplicates_dropped=tally.duplicates_dropped, kept=len(rows),
        categories=dict(sorted(Counter(c for r in rows for c in r["categories"]).items())),
        categories_all=dict(sorted(tally.categories_all.items())),
        score_min=min(scores) if scores else None, score_max=max(scores) if scores else None,
        malformed=redact_obj(listed) if redact else listed)


def mine(paths: Iterable[str | Path], config: MineConfig | None = None,
         on_file: Callable[[Path], None] | None = None) -> MineResult:
    """Mine SDPO rows from pi session files and folders (see the module docstring)."""
    config = config or MineConfig()
    files = find_session_files(paths)
    tally = _Tally()
    for path in files:
        _mine_file(path, config, tally)
        if on_file is not None:
            on_file(path)
    rows, dropped = _select(tally.candidates, config.top)
    tally.duplicates_dropped += dropped
    return MineResult(rows, _summary(tally, rows, config.rows.redact))


def write_rows(rows: Iterable[dict[str, Any]], out: str | Path) -> int:
    """Write rows as JSONL, atomically; returns how many were written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n
