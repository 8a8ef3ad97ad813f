"""The `assay` command line: thin wrappers that parse arguments, call one library function, print.

Each verb lives in ``assay/commands/<verb>.py`` with a ``register(app)`` function; heavy
dependencies are imported inside the commands, so ``assay --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .errors import AssayError

app = typer.Typer(
    name="assay",
    help="Distill, train and honestly evaluate small reviewer and judge models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_COMMAND_MODULES = ("eval", "compare", "traces", "train", "demo", "data")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"assay.commands.{_name}").register(app)


def main() -> None:
    """Entry point: user errors print one clear line and exit 2; no traceback."""
    try:
        rc = app(standalone_mode=False)
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
