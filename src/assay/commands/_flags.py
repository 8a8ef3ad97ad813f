"""Command-line flags generated from a settings dataclass (see assay.config.opt): each field
becomes one option (a bool a --x/--no-x pair, a list a repeatable option, a dict a repeatable
KEY=VALUE or a JSON object), with its help and default written once, in the dataclass.

Every generated option defaults to None, meaning "not given", so that a --config YAML and --set
pairs underneath are not overridden by defaults.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any, Callable, Optional

import typer

from ..config import allowed_types, default_of, fields_of, hints
from ..errors import AssayError


def _base(hint: Any) -> type:
    types = [t for t in allowed_types(hint) if t is not type(None)]
    return types[0] if types else str


def _shown_default(f: dataclasses.Field) -> str:
    d = default_of(f)
    if d is None or d == "" or d == [] or d == {}:
        return ""
    if isinstance(d, bool):
        return " [default: on]" if d else ""
    return f" [default: {d:g}]" if isinstance(d, float) else f" [default: {d}]"


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def parameters(cls: type, positional: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """The typer parameters of the dataclass's fields (positional ones as arguments)."""
    params = []
    for f in fields_of(cls):
        if not f.metadata.get("cli", True):
            continue
        base = _base(hints(cls)[f.name])
        help_ = f.metadata["help"] + _shown_default(f)
        metavar = f.metadata.get("metavar")
        if f.name in positional:
            default = typer.Argument(None, help=help_, metavar=metavar or f.name.upper(),
                                     show_default=False)
            annotation: Any = Optional[str]
        elif base is bool:
            name = flag_name(f)
            default = typer.Option(None, f"{name}/--no-{name[2:]}", help=help_,
                                   show_default=False)
            annotation = Optional[bool]
        else:
            repeat = base in (list, dict)
            annotation = Optional[list[str]] if repeat else Optional[base]
            default = typer.Option(None, flag_name(f), help=help_, metavar=metavar,
                                   show_default=False)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=annotation))
    return params


def values(cls: type, given: dict[str, Any]) -> dict[str, Any]:
    """The flags' values as the dataclass's types (KEY=VALUE lists into dicts); None = not
    given."""
    out = {}
    for f in fields_of(cls):
        v = given.get(f.name)
        if v is not None and _base(hints(cls)[f.name]) is dict:
            v = parse_pairs(v, flag_name(f))
        out[f.name] = v
    return out


def parse_pairs(items: list[str], flag: str) -> dict[str, Any]:
    """KEY=VALUE items (the value read as JSON when it parses) or JSON objects, merged."""
    out: dict[str, Any] = {}
    for item in items:
        if item.lstrip().startswith("{"):
            try:
                obj = json.loads(item)
            except json.JSONDecodeError as exc:
                raise AssayError(f"{flag} is not valid JSON ({exc.msg}): {item}. Fix: quote "
                                 "it whole, e.g. " + flag + " '{\"key\": 1}'") from exc
            out.update(obj)
            continue
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise AssayError(f"bad {flag} '{item}'. Fix: write KEY=VALUE, e.g. {flag} key=value")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def command_from(cls: type, run: Callable[..., None], *, positional: tuple[str, ...] = (),
                 extra: list[inspect.Parameter] = ()) -> Callable[..., None]:
    """A typer command whose options are the dataclass's fields plus ``extra``; it calls
    ``run(flags, **extra_values)`` with flags = the fields' values (None = not given)."""
    params = parameters(cls, positional)
    names = {p.name for p in params}

    def command(**kwargs):
        flags = values(cls, {k: v for k, v in kwargs.items() if k in names})
        run(flags, **{k: v for k, v in kwargs.items() if k not in names})

    all_params = [*params, *extra]
    command.__signature__ = inspect.Signature(all_params)
    command.__annotations__ = {p.name: p.annotation for p in all_params}
    return command


def extra_option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


