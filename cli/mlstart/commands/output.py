"""How commands talk to the terminal: progress and warnings on stderr, results on stdout."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from mlstart.errors import UsageError


def echo_progress(message: str) -> None:
    """Show that a long step has started, to a person at a terminal.

    Without a terminal (scripts, CI, pipes) progress stays quiet, so a failure is exactly
    one ``error:`` line on stderr and a success only what the command reports.
    """
    if sys.stderr.isatty():
        typer.secho(f"• {message}…", fg="cyan", err=True)


def echo_warning(message: str) -> None:
    """Show a problem that did not stop the command."""
    typer.secho(f"warning: {message}", fg="yellow", err=True)


def echo_error(message: str) -> None:
    """Show the one line that explains why the command failed."""
    typer.secho(f"error: {message}", fg="red", err=True)


@contextmanager
def no_input_means(message: str) -> Iterator[None]:
    """Turn a prompt that hit the end of input (no terminal, empty pipe) into a usage error.

    typer answers both Ctrl-C and end of input with ``Abort``; only the second becomes
    :class:`UsageError` with ``message`` (which should say which option answers instead).
    """
    try:
        yield
    except typer.Abort as error:
        if isinstance(error.__context__, EOFError):
            raise UsageError(message) from error
        raise
