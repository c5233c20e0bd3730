"""``mlstart status``: the command-line adapter over :func:`mlstart.core.status.stack_status`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.output import echo_warning


def status(
    path: Annotated[Path, typer.Argument(help="The project.", file_okay=False)] = Path("."),
    stack: Annotated[str, typer.Option("--stack", "-s", help="Pulumi stack.")] = "dev",
) -> None:
    """Show the stack's outputs, compute, next shutdown, cost and days left."""
    from mlstart.core.status import stack_status

    report = stack_status(path, stack=stack)
    typer.secho(f"Stack '{report.stack}': {len(report.resources)} resources", bold=True)
    typer.echo("Outputs:")
    for key, value in sorted(report.outputs.items()):
        typer.echo(f"  {key}: {json.dumps(value)}")
    typer.echo("Compute:")
    for label, resource in report.compute:
        typer.echo(f"  {label:<18} {resource.name}")
    if not report.compute:
        typer.echo("  none")
    if report.connect:
        typer.echo(f"Connect to the workstation: {report.connect}")
    if report.next_shutdown is not None:
        when = report.next_shutdown.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"Next scheduled shutdown: {when} ({report.time_zone})")
    if report.cost is not None:
        currency = report.cost["currency"]
        typer.echo(
            f"Estimated monthly cost: {report.cost['total_scheduled']:.2f} {currency} with "
            f"schedules and scale-to-zero, {report.cost['total_always_on']:.2f} {currency} "
            f"always on (list prices of {report.cost['prices_recorded_on']})"
        )
    if report.days_left is not None:
        typer.echo(f"Decommission by: {report.decommission_by} ({report.days_left} days left)")
    for warning in report.warnings:
        echo_warning(warning)
