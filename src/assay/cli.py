"""The `assay` command line: thin wrappers that parse arguments, call one library function, print.

Each verb lives in ``assay/commands/<verb>.py`` with a ``register(app)`` function; heavy
dependencies are imported inside the commands, so ``assay --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .errors import AssayError

# verb -> the command module that registers it
VERBS = {"eval": "eval", "score": "eval", "compare": "compare", "goals": "goals",
         "report": "report", "demo": "demo", "traces": "traces", "train": "train",
         "data": "data", "distill": "distill", "show": "show", "merge": "merge",
         "judge": "judge"}


def build_app(modules=None) -> typer.Typer:
    """The typer app with the verbs of these command modules (all of them by default)."""
    cli = typer.Typer(
        name="assay",
        help="Distill, train and honestly evaluate small reviewer and judge models.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    # The callback keeps the app a group: a typer app with a single command collapses into that
    # command, and only the invoked verb's module is registered (start-up time), so without it
    # `assay demo` would read "demo" as an extra argument of the demo command itself.
    cli.callback()(_root)
    for name in modules or dict.fromkeys(VERBS.values()):
        importlib.import_module(f"assay.commands.{name}").register(cli)
    return cli


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"assay {__version__}")
        raise typer.Exit()


def _root(version: bool = typer.Option(False, "--version", is_eager=True,
                                       callback=_show_version,
                                       help="Print the version and exit.")) -> None:
    """Distill, train and honestly evaluate small reviewer and judge models."""


def readable(command):
    """Help in click's plain style: typer shows a value's type as `<str>` or `<list[str]>` and a
    required argument as `{task}`; here an option without its own metavar reads TEXT, INTEGER,
    FLOAT or its choices, and an argument reads TASK."""
    for sub in getattr(command, "commands", {}).values():
        readable(sub)
    for p in command.params:
        # by kind, not class: typer ships its own copy of click
        if p.param_type_name == "argument":
            p.metavar = p.metavar or p.name.upper()
            shown = p.metavar if p.required else f"[{p.metavar}]"
            p.display_type_rich = lambda ctx: None
            p._usage_display_name = lambda shown=shown: shown
        elif p.param_type_name == "option" and p.metavar is None and not p.is_flag:
            p.metavar = _type_word(p)
    return command


_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN"}


def _type_word(param) -> str | None:
    desc = getattr(param, "type_descriptor", None)  # typer >= 0.2x; older ones print click's
    if desc is None:
        return None
    if desc.is_choice:
        return "|".join(map(str, desc.choices or ()))
    name = param.bare_type()
    inner = name[5:-1] if name.startswith("list[") else name
    return _TYPE_WORDS.get(inner, inner.upper())


def _modules_for(argv: list[str]) -> list[str] | None:
    """Only the module of the verb being run (start-up time); every module for --help."""
    verb = next((a for a in argv[1:] if not a.startswith("-")), None)
    return [VERBS[verb]] if verb in VERBS else None


def __getattr__(name: str):
    if name == "app":  # `from assay.cli import app`: the full app, built once
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(name)


def main() -> None:
    """Entry point: user errors print one clear line and exit 2; no traceback."""
    try:
        command = readable(typer.main.get_command(build_app(_modules_for(sys.argv))))
        rc = command.main(prog_name="assay", standalone_mode=False)
    except AssayError as exc:
        from .text.inert import one_line

        typer.echo(f"error: {one_line(exc)}", err=True)  # one line, no escape sequences
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        rc = 130
    except typer.TyperException as exc:  # usage errors (typer's ClickException)
        if not hasattr(exc, "show"):
            raise
        exc.show()
        sys.exit(getattr(exc, "exit_code", 2))
    if rc == 130:  # click turns Ctrl-C into an exit code when not standalone
        typer.echo("interrupted: finished completions are kept in the store; rerun the same "
                   "command to resume", err=True)
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    main()
