"""User-facing errors: each names where the problem is (file, line, field, value) and the fix."""

from __future__ import annotations


class AssayError(Exception):
    """An error caused by the user's input or environment; the CLI prints it without a traceback."""


class InputError(AssayError, ValueError):
    """Bad input data: names the file, line, field and value, and says how to fix it."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None, value: object = None, fix: str | None = None):
        self.file, self.line, self.field, self.value, self.fix = file, line, field, value, fix
        where = ""
        if file is not None:
            where = f"{file}" + (f", line {line}" if line is not None else "")
        if field is not None:
            where += (": " if where else "") + f"field '{field}'"
        parts = [f"{where}: {message}" if where else message]
        if value is not None:
            shown = repr(value)
            parts.append(f"(got {shown[:120]}{'...' if len(shown) > 120 else ''})")
        text = " ".join(parts)
        if fix:
            text += f". Fix: {fix}"
        super().__init__(text)


class MissingDependency(AssayError, ImportError):
    """An optional dependency is absent; the message names the pip install that fixes it."""

    def __init__(self, what: str, extra: str):
        super().__init__(f"{what} is not installed. Fix: pip install 'assay[{extra}]'")


def require(module: str, extra: str):
    """Import an optional heavy module lazily, or raise MissingDependency naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency(module, extra) from exc
