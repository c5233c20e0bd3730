"""``mlstart status``: the command-line adapter over :func:`mlstart.core.status.stack_status`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstart.commands.options import StackOption
from mlstart.commands.output import echo_warning

if TYPE_CHECKING:
    from mlstart.core.status import ComputeStatus


def status(
    path: Annotated[Path, typer.Argument(help="The project.", file_okay=False)] = Path("."),
    stack: StackOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on standard output.")
    ] = False,
) -> None:
    """Show the stack's outputs, what its compute runs and costs this month, and days left."""
    from mlstart.core.environments import resolve_stack
    from mlstart.core.status import stack_status

    stack = resolve_stack(path, stack)

    report = stack_status(path, stack=stack)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        return
    typer.secho(f"Stack '{report.stack}': {len(report.resources)} resources", bold=True)
    typer.echo("Outputs:")
    for key, value in sorted(report.outputs.items()):
        typer.echo(f"  {key}: {json.dumps(value)}")
    typer.echo(
        f"Compute (this month at the list prices of {report.prices_recorded_on}, "
        f"in {report.currency}, if each stays as it is now):"
    )
    for compute in report.compute:
        typer.echo(f"  {compute.label:<18} {compute.resource.azure_name}  {_state(compute)}")
        if compute.month is not None:
            typer.echo(f"  {'':<18} {_month(compute)}")
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
    for compute in report.compute:
        if compute.problem:
            echo_warning(f"{compute.label} {compute.resource.azure_name}: {compute.problem}")
    for warning in report.warnings:
        echo_warning(warning)


def _state(compute: ComputeStatus) -> str:
    if compute.rate is None:
        return "no charge of its own (its deployments run and bill)"
    if compute.state is None:
        return "state unknown"
    if compute.since is None:
        return compute.state
    return f"{compute.state} since {_time(compute.since)}"


def _month(compute: ComputeStatus) -> str:
    month = compute.month
    assert month is not None
    how = "if it stays " + (compute.state or "as it is")
    if month.complete:
        return f"this month {month.total:.2f}: {month.so_far:.2f} so far + {month.rest:.2f} {how}"
    return (
        f"this month at least {month.total:.2f}: {month.so_far:.2f} since "
        f"{_time(month.counted_from)} (earlier this month not known) + {month.rest:.2f} {how}"
    )


def _time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
