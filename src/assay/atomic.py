"""Writing a file so that a reader (or a kill -9) sees the old file or the new one, never a
torn one: write a uniquely named temporary file beside it, then rename it over the target.

The temporary name is unique (``tempfile.mkstemp``), so two processes writing the same path
never write into one temporary file; the last rename wins, whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path``; renamed over ``path`` when the block succeeds,
    removed when it fails."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                               suffix=".tmp" + target.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        _kill_point()
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# -- a directory replaced as a whole ------------------------------------------------------------

_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one system call (Linux renameat2 RENAME_EXCHANGE); False where the
    platform or the file system has no such call."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: no exchange here, fall back
        return False
    raise OSError(err, os.strerror(err), str(a))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(target: Path, kind: str) -> list[tuple[Path, int]]:
    """Staging (``new``) or set-aside (``old``) directories of ``target`` left by processes that
    no longer run (a kill -9 between the steps below)."""
    found = []
    for p in target.parent.glob(f".{target.name}.{kind}-*"):
        try:
            pid = int(p.name[len(target.name) + len(kind) + 3:].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            found.append((p, pid))
    return found


def _recover(target: Path) -> None:
    """Finish what a killed writer left: restore a set-aside old directory when the target is
    missing (the two-rename fallback was cut between its renames), remove dead staging."""
    import shutil

    for old, _ in _leftovers(target, "old"):
        if not target.exists():
            os.replace(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for new, _ in _leftovers(target, "new"):
        shutil.rmtree(new, ignore_errors=True)


def _keep(src: Path, dst: Path) -> None:
    """Carry an entry the writer did not replace into the staging directory: hard links (no
    copy of the bytes), a plain copy where the file system has none."""
    import shutil

    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=link)
    else:
        link(src, dst)


@contextmanager
def directory(path: str | Path) -> Iterator[Path]:
    """A staging directory that replaces ``path`` as a whole when the block succeeds.

    The block writes the files of one set (a run's manifest, items and metrics; a report's
    Markdown, JSON and plots) into the staging directory; every entry of ``path`` it did not
    write is kept (hard-linked). The switch is one exchange of the two directories, so a reader,
    or a kill -9 at any point, sees the whole old set or the whole new one, never a mix. Where
    the exchange is not available it is two renames, and a kill between them is repaired by the
    next writer (the old directory is put back). A failing block leaves ``path`` untouched.
    """
    import shutil
    import uuid

    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    stage = target.parent / f".{target.name}.new-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        yield stage
        if target.exists():
            written = {p.name for p in stage.iterdir()}
            for entry in target.iterdir():
                if entry.name not in written:
                    _keep(entry, stage / entry.name)
        _kill_point()
        _switch(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _switch(stage: Path, target: Path) -> None:
    """Make ``stage`` the target; afterwards ``stage`` holds the old directory (or nothing)."""
    import uuid

    if not target.exists():
        os.rename(stage, target)
        return
    if _exchange(stage, target):
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    _kill_point()
    os.rename(stage, target)
    os.rename(old, stage)


# -- fault injection for the crash tests --------------------------------------------------------

_KILL_ENV = "ASSAY_TEST_KILL_AT_WRITE"
_writes = 0


def _kill_point() -> None:
    """Tests only: ``ASSAY_TEST_KILL_AT_WRITE=N`` kills this process (SIGKILL, as a crash or an
    OOM kill would) at its N-th write point, to show that every point leaves whole files."""
    global _writes
    at = os.environ.get(_KILL_ENV)
    if not at:
        return
    _writes += 1
    if _writes == int(at):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
