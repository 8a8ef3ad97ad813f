"""How a run's progress looks on stderr: a rich bar on a terminal, a plain line at a steady
interval elsewhere (CI, nohup, a log file), and the first error's cause the moment it happens.

The runner reports through `assay.run.RunObserver`; this module only renders.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from ..run import RunObserver

# A TTY bar redraws itself; off a terminal one line every this many seconds (CI keeps them all).
DEFAULT_INTERVAL_S = 10.0


@dataclass
class _Model:
    total: int
    cached: int
    done: int = 0
    errors: int = 0
    retries: int = 0
    last_retry: str = ""
    limited: int = 0  # requests the rate limiter held
    last_limit: str = ""
    running: bool = False
    started: float = field(default_factory=time.perf_counter)


def progress_for(enabled: bool, interval_s: float = DEFAULT_INTERVAL_S) -> RunObserver:
    """The renderer for this stderr: a bar on a terminal, lines elsewhere, nothing if disabled."""
    if not enabled:
        return RunObserver()
    if sys.stderr.isatty():
        return BarProgress()
    return LineProgress(interval_s)


class _Counting(RunObserver):
    """Counts per model and prints what must be seen at once: the plan and the first error."""

    def __init__(self):
        self.models: dict[str, _Model] = {}
        self._first_error_shown = False

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def planned(self, label, to_send, cached):
        self.models[label] = _Model(to_send, cached)
        self.say(f"{label}: {to_send} request(s) to send, {cached} cached")

    def generating(self, label):
        self.models[label].started = time.perf_counter()  # rate and ETA from here

    def completed(self, label, request, completion):
        m = self.models[label]
        m.done += 1
        if completion.error:
            m.errors += 1
            if not self._first_error_shown:
                self._first_error_shown = True
                self.say(f"{label}: request for item {request.item_id} failed: "
                         f"{completion.error}")

    def retrying(self, label, message):
        m = self.models[label]
        m.retries += 1
        m.last_retry = message

    def limited(self, label, message):
        m = self.models[label]
        m.limited += 1
        m.last_limit = message

    def status(self, label, message):
        self.say(f"{label}: {message}")


def status_line(label: str, m: _Model, now: float | None = None) -> str:
    """`base: 120/300 (40%), 12.3 req/s, 0 errors, ETA 15 s` (plus the latest retry)."""
    elapsed = max((now or time.perf_counter()) - m.started, 1e-9)
    rate = m.done / elapsed
    pct = 100 * m.done / m.total if m.total else 100.0
    eta = f"ETA {_duration((m.total - m.done) / rate)}" if rate > 0 else "ETA unknown"
    line = (f"{label}: {m.done}/{m.total} ({pct:.0f}%), {rate:.1f} req/s, {m.errors} error(s), "
            f"{eta}")
    if m.retries:
        line += f"; {m.retries} retr{'y' if m.retries == 1 else 'ies'}, last: {m.last_retry}"
    if m.limited:
        line += f"; {m.limited} held by the {m.last_limit}"
    return line


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


class LineProgress(_Counting):
    """One line per model every ``interval_s`` seconds while requests are outstanding, so a
    stalled server shows as a line that stops moving, not as silence."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S):
        super().__init__()
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def planned(self, label, to_send, cached):
        super().planned(label, to_send, cached)
        if self._thread is None and to_send:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def retrying(self, label, message):
        first = not any(m.retries for m in self.models.values())
        super().retrying(label, message)
        if first:  # the first wait is news; later ones ride on the interval line
            self.say(f"{label}: {message}")

    def limited(self, label, message):
        first = not self.models[label].limited
        super().limited(label, message)
        if first:  # the first hold is news; later ones ride on the interval line
            self.say(f"{label}: {message} (the limiter, not the server, is what waits)")

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._lines()

    def generating(self, label):
        super().generating(label)
        self.models[label].running = True

    def _lines(self) -> None:
        for label, m in list(self.models.items()):
            if m.total and m.done < m.total and m.running:
                self.say(status_line(label, m))

    def finished(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1)
        for label, m in self.models.items():
            if m.total and m.running:  # not for a run stopped before it sent anything
                self.say(status_line(label, m))


class BarProgress(_Counting):
    """A rich bar per model: done/total, errors, the latest retry or wait, ETA."""

    def __init__(self):
        super().__init__()
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeRemainingColumn)

        from ._common import err_console

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("{task.fields[errors]} err"),
                             TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
                             console=err_console(), transient=False)
        self._tasks: dict[str, int] = {}
        self._live = False

    def say(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False)

    def planned(self, label, to_send, cached):
        super().planned(label, to_send, cached)
        if not to_send:
            return
        if not self._live:
            self._bar.start()
            self._live = True
        self._tasks[label] = self._bar.add_task(f"{label}: generating", total=to_send,
                                                errors=0, note="")

    def completed(self, label, request, completion):
        super().completed(label, request, completion)
        m = self.models[label]
        # a success clears the last wait shown; a failure keeps it (it may be the cause)
        note = {} if completion.error else {"note": ""}
        self._bar.update(self._tasks[label], advance=1, errors=m.errors, **note)

    def retrying(self, label, message):
        super().retrying(label, message)
        self._bar.update(self._tasks[label], note=message[:70])

    def limited(self, label, message):
        super().limited(label, message)
        self._bar.update(self._tasks[label], note=message[:70])

    def finished(self):
        if self._live:
            self._bar.stop()
