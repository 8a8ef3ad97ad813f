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
VERBS = {"eval": "eval", "score": "eval", "compare": "compare", "goals": "compare",
         "report": "compare", "demo": "demo", "traces": "traces", "train": "train",
         "data": "data", "distill": "distill"}


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
    for name in modules or dict.fromkeys(VERBS.values()):
        importlib.import_module(f"assay.commands.{name}").register(cli)
    return cli


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
        rc = build_app(_modules_for(sys.argv))(standalone_mode=False)
    except AssayError as exc:
        typer.echo(f"error: {exc}", err=True)
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
