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
        typer.Option(
            "--version",
            help="Template version (git tag, e.g. v0.4.0) to update to; by default the "
            "installed mlstart's.",
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="Where the project's template is now (a fork, a team's copy: path or git "
            "URL), instead of the _src_path it records; recorded afterwards.",
        ),
    ] = None,
) -> None:
    """Update a project to a newer template version, keeping its own edits."""
    from mlstart.core.update import update_project

    result = update_project(path, version=version, template=template, progress=echo_progress)
    if result.current:
        typer.echo(f"Already at template {result.new_version}; nothing to update.")
        return
    for warning in result.warnings:
        echo_warning(warning)
    typer.echo(f"Updated from template {result.old_version} to {result.new_version}.")
    for changed in result.changed:
        mark = (
            "conflict"
            if changed in result.conflicts
            else "removed"
            if changed in result.removed
            else "changed"
        )
        typer.echo(f"  {mark:8} {changed}")
    if result.conflicts:
        echo_warning(
            f"{len(result.conflicts)} file(s) have conflicts: resolve the "
            "'<<<<<<< before updating' markers, then commit"
        )
        raise typer.Exit(1)
    typer.echo("Review with `git diff`, then commit.")
