"""The ``mlstart`` command line: a thin typer layer over :mod:`mlstart.core`.

Errors are mapped to exit codes in one place, :func:`main`: every
:class:`~mlstart.errors.MlstartError` becomes one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from mlstart import __version__
from mlstart.commands.doctor import doctor
from mlstart.commands.down import down
from mlstart.commands.env import env_app
from mlstart.commands.help import PlainArgumentsCommand
from mlstart.commands.new import new
from mlstart.commands.output import echo_error
from mlstart.commands.plan import plan
from mlstart.commands.prices import prices_app
from mlstart.commands.status import status
from mlstart.commands.up import up
from mlstart.commands.update import update
from mlstart.errors import MlstartError
from mlstart.signals import install, received

DEBUG_ENV_VAR = "MLSTART_DEBUG"
INTERRUPTED = 130

app = typer.Typer(
    name="mlstart",
    help="Start, run and decommission reproducible ML projects.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command(no_args_is_help=True, cls=PlainArgumentsCommand)(new)
for _command in (plan, up, status, down, update, doctor):
    app.command(cls=PlainArgumentsCommand)(_command)
app.add_typer(prices_app)
app.add_typer(env_app)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mlstart {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Start, run and decommission reproducible ML projects."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status; the only place errors are mapped.

    SIGTERM and SIGHUP are handled like Ctrl-C (see :mod:`mlstart.signals`): the command's
    cleanup runs and the exit status is 143 or 129.
    """
    install()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = app(args=args, prog_name="mlstart", standalone_mode=False)
    except typer.TyperException as error:  # usage errors: typer prints usage and the reason
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            echo_error(error.format_message())
        status = error.exit_code
    except (typer.Abort, KeyboardInterrupt):
        status = INTERRUPTED
    except MlstartError as error:
        echo_error(str(error))
        status = error.exit_code
    except Exception as error:
        if os.environ.get(DEBUG_ENV_VAR):
            raise
        echo_error(
            f"unexpected {type(error).__name__}: {error} (set {DEBUG_ENV_VAR}=1 for details)"
        )
        status = 1
    if status == INTERRUPTED and (signum := received()) is not None:
        status = 128 + signum  # typer turns SIGTERM and SIGHUP, like Ctrl-C, into 130
        echo_error(f"stopped by {signal.Signals(signum).name}")
    elif status == INTERRUPTED:  # typer turns Ctrl-C into this exit status
        echo_error("interrupted")
    sys.exit(status if isinstance(status, int) else 0)
