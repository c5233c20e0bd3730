"""``mlstart up``: the command-line adapter over :func:`mlstart.core.up.provision`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.options import stack_option
from mlstart.commands.output import echo_progress, echo_warning


def up(
    path: Annotated[Path, typer.Argument(help="The project.", file_okay=False)] = Path("."),
    stack: Annotated[str | None, stack_option("Pulumi stack (created if missing)")] = None,
) -> None:
    """Check the stack (CLI, config, policies), then provision it with pulumi up."""
    from mlstart.core.environments import resolve_stack
    from mlstart.core.up import provision

    stack = resolve_stack(path, stack)

    result = provision(
        path,
        stack=stack,
        on_output=lambda line: typer.echo(line.rstrip("\n")),
        progress=echo_progress,
    )
    for check in result.checks:
        typer.echo(f"  preflight: {check}")
    for warning in result.warnings:
        echo_warning(warning)
    changes = ", ".join(f"{count} {kind}" for kind, count in sorted(result.changes.items()))
    typer.secho(f"Stack '{result.stack}' is up ({changes or 'no changes'}).", fg="green")
    if result.outputs:
        typer.echo("Outputs:")
        for key, value in sorted(result.outputs.items()):
            typer.echo(f"  {key}: {json.dumps(value)}")
    typer.echo("Next: `mlstart status` shows what runs, the next shutdown and the cost.")
