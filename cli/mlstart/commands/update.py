"""``mlstart update``: the command-line adapter over :func:`mlstart.core.update.update_project`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.output import echo_progress, echo_warning


def update(
    path: Annotated[Path, typer.Argument(help="The project to update.", file_okay=False)] = Path(
        "."
    ),
    version: Annotated[
        str | None,
        typer.Option("--version", help="Template version (git tag) to update to."),
    ] = None,
) -> None:
    """Update a project to a newer template version, keeping its own edits."""
    from mlstart.core.update import update_project

    echo_progress(f"Updating {path} from its template")
    result = update_project(path, version=version)
    if result.old_version == result.new_version and not result.changed:
        typer.echo(f"Already on template version {result.new_version}; nothing changed.")
        return
    typer.echo(f"Updated from template {result.old_version} to {result.new_version}.")
    for changed in result.changed:
        mark = "conflict" if changed in result.conflicts else "changed"
        typer.echo(f"  {mark:8} {changed}")
    if result.conflicts:
        echo_warning(
            f"{len(result.conflicts)} file(s) have conflicts: resolve the "
            "'<<<<<<< before updating' markers, then commit"
        )
        raise typer.Exit(1)
    typer.echo("Review with `git diff`, then commit.")
