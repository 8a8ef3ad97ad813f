"""Settings declared once: a dataclass field per setting with its default and one line of help
(``opt``), from which ``--help``, the YAML loader (``--config FILE``), ``--set KEY=VALUE`` and
the command-line flags are all generated (training recipes, `assay eval`).

Values are layered: the defaults, then the YAML file, then ``--set``, then explicit flags; each
checked against the field's type where it enters, with an error naming the file (or "command
line"), the setting, the value and the fix.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import field
from pathlib import Path
from typing import Any

from .errors import AssayError, InputError


def opt(default: Any, help: str, *, choices: tuple | None = None, flag: str | None = None,
        metavar: str | None = None, cli: bool = True) -> Any:
    """A setting: its default and its one line of documentation (plus allowed values).

    flag / metavar: its command-line name and value placeholder where the field's own would
    read badly (``models`` is ``--model LABEL=SPEC``); cli=False keeps it out of the flags
    (YAML and --set only).
    """
    meta = {"help": help, "choices": choices, "flag": flag, "metavar": metavar, "cli": cli}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def fields_of(cls: type) -> list[dataclasses.Field]:
    return list(dataclasses.fields(cls))


def default_of(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def fields_help(cls: type) -> str:
    """One line per field: name, default, documentation (the text shown by --help)."""
    lines = []
    for f in fields_of(cls):
        choices = f.metadata.get("choices")
        extra = f" One of {', '.join(choices)}." if choices else ""
        lines.append(f"  {f.name} (default {default_of(f)!r}): {f.metadata['help']}{extra}")
    return "\n".join(lines)


def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def allowed_types(hint: Any) -> tuple[type, ...]:
    args = typing.get_args(hint)
    types = args if args else (hint,)
    return tuple(typing.get_origin(t) or t for t in types)


def coerce(cls: type, name: str, value: Any, *, where: str) -> Any:
    """Check one value against the field's type; ints are accepted for floats."""
    allowed = allowed_types(hints(cls)[name])
    if value is None and type(None) in allowed:
        return None
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if float in allowed and isinstance(value, str):  # YAML 1.1 reads 1e-4 as a string
        try:
            return float(value)
        except ValueError:
            pass
    ok = isinstance(value, tuple(t for t in allowed if t is not type(None)))
    if not ok or (isinstance(value, bool) and bool not in allowed):
        names = " or ".join(t.__name__ for t in allowed)
        raise InputError(f"expected {names}, found {type(value).__name__}", file=where,
                         field=name, value=value, fix=f"give '{name}' a {names}")
    choices = next(f for f in fields_of(cls) if f.name == name).metadata.get("choices")
    if choices and value not in choices:
        raise InputError(f"must be one of {list(choices)}", file=where, field=name,
                         value=value, fix=f"use one of {list(choices)}")
    return value


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError("config file not found", file=str(p), fix="check the path given to "
                         "--config")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", file=str(p)) from exc
    if not isinstance(data, dict):
        raise InputError("expected a mapping of setting: value", file=str(p), value=data)
    return data


def parse_sets(pairs: list[str] | None, example: str = "lora_r=32") -> dict[str, Any]:
    """``key=value`` overrides; each value is read as YAML (numbers, true, lists)."""
    import yaml

    out: dict[str, Any] = {}
    for p in pairs or []:
        key, eq, raw = p.partition("=")
        if not eq or not key.strip():
            raise AssayError(f"bad --set '{p}'. Fix: write KEY=VALUE, e.g. --set {example}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def unknown_setting(cls: type, key: str, where: str, command: str) -> InputError:
    valid = ", ".join(f.name for f in fields_of(cls))
    return InputError(f"unknown setting for `{command}`", file=where, field=key,
                      fix=f"use one of: {valid}")


def layered(cls: type, layers: list[tuple[dict[str, Any], str]], command: str
            ) -> dict[str, Any]:
    """The values of ``cls``'s fields from (mapping, where) layers, later ones winning; each
    key checked to exist and each value against its type."""
    names = {f.name for f in fields_of(cls)}
    values: dict[str, Any] = {}
    for data, where in layers:
        for key, value in data.items():
            if key not in names:
                raise unknown_setting(cls, key, where, command)
            values[key] = coerce(cls, key, value, where=where)
    return values
