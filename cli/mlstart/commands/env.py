"""``mlstart env``: the command-line adapter over :mod:`mlstart.core.environments`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.help import PlainArgumentsCommand

env_app = typer.Typer(
    name="env",
    help="The project's environments: one Pulumi stack each (dev, staging, prod...).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

_PATH = typer.Option("--path", "-p", help="The project.", file_okay=False)


@env_app.command(cls=PlainArgumentsCommand)
def add(
    name: Annotated[str, typer.Argument(help="The new environment (its stack name), e.g. prod.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Its defaults: production, staging or development (default: by its name; "
            "prod/production and staging/test/uat/preprod, else development).",
        ),
    ] = None,
    path: Annotated[Path, _PATH] = Path("."),
) -> None:
    """Write infra/Pulumi.NAME.yaml with that environment's defaults and record it."""
    from mlstart.core.environments import KINDS, add_environment
    from mlstart.errors import UsageError

    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    added = add_environment(path, name, kind=kind)
    typer.secho(f"Wrote {added.config} ({added.kind} defaults).", fg="green")
    typer.echo(f"Environments: {', '.join(added.environments)} (recorded in .copier-answers.yml)")
    if added.owns_registry:
        typer.echo(
            f"Stack '{name}' creates the Azure ML registry the environments share "
            "(protected: `mlstart down` keeps it)."
        )
    if added.ci_promotes is False:
        typer.secho(
            f"CI does not promote to '{name}' yet: promotion is generated for projects made "
            "with several environments (docs/environments.md says how to add it).",
            fg="yellow",
        )
    typer.echo(f"Next: mlstart plan --stack {name}   (offline: what it creates, checks, costs)")
    typer.echo(f"      mlstart up --stack {name}     (provision it, with the Pulumi CLI)")


@env_app.command("list", cls=PlainArgumentsCommand)
def list_(path: Annotated[Path, _PATH] = Path(".")) -> None:
    """List the environments: name, defaults, stack config, which owns the registry."""
    from mlstart.core.environments import list_environments

    for env in list_environments(path):
        notes: list[str] = [env.kind]
        if env.first:
            notes.append("default stack: development and training")
        if env.owns_registry:
            notes.append("owns the shared model registry")
        missing = "" if env.config.is_file() else f" (missing: {env.config.name})"
        typer.echo(f"{env.name:<12} {', '.join(notes)}{missing}")
