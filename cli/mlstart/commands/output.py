"""How commands talk to the terminal: progress and warnings on stderr, results on stdout."""

from __future__ import annotations

import typer


def echo_progress(message: str) -> None:
    """Show that a long step has started."""
    typer.secho(f"• {message}…", fg="cyan", err=True)


def echo_warning(message: str) -> None:
    """Show a problem that did not stop the command."""
    typer.secho(f"warning: {message}", fg="yellow", err=True)


def echo_error(message: str) -> None:
    """Show the one line that explains why the command failed."""
    typer.secho(f"error: {message}", fg="red", err=True)
