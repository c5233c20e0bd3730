"""``mlstart new``: the command-line adapter over :func:`mlstart.core.new.new_project`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.output import echo_progress, echo_warning


def new(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="Project name, e.g. 'Credit Risk'; the directory is its slug."
        ),
    ],
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults",
            help="Use the default answer to every question not answered by -d or -a "
            "(needed without a terminal, unless answers are given).",
        ),
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
    ] = None,
    answers_file: Annotated[
        Path | None,
        typer.Option("--answers-file", "-a", help="YAML file of answers.", dir_okay=False),
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder to create the project in.")
    ] = Path("."),
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Create a git repository and first commit.")
    ] = True,
    lock: Annotated[
        bool,
        typer.Option(
            "--lock/--no-lock",
            help="Pin the environment with `uv lock` (a failed lock fails `new`).",
        ),
    ] = True,
) -> None:
    """Create a new reproducible ML project from the mlstart template."""
    from mlstart.core.new import new_project

    result = new_project(
        name,
        output_dir=output_dir,
        data=data or [],
        answers_file=answers_file,
        defaults=defaults,
        git=git,
        lock=lock,
        progress=echo_progress,
    )
    for warning in result.warnings:
        echo_warning(warning)
    shown = shown_path(result.path)
    typer.secho(f'Created "{result.answers["project_name"]}" in {shown}', fg="green", err=True)
    typer.echo(f"Next: cd {shlex.quote(shown)} && make setup && make train && make test", err=True)


def shown_path(path: Path) -> str:
    """``./demo`` for a folder under the current one, else the absolute path."""
    try:
        return f"./{path.relative_to(Path.cwd()).as_posix()}"
    except ValueError:
        return str(path)
