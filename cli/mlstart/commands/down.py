"""``mlstart down``: the command-line adapter over :mod:`mlstart.core.down`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.options import StackOption
from mlstart.commands.output import echo_progress, echo_warning, no_input_means


def down(
    path: Annotated[Path, typer.Argument(help="The project.", file_okay=False)] = Path("."),
    stack: StackOption = None,
    include_data: Annotated[
        bool,
        typer.Option(
            "--include-data",
            help="Also destroy protected resources (data stores, workspace, budget).",
        ),
    ] = False,
    remove_stack: Annotated[
        bool, typer.Option("--remove-stack", help="Remove the stack once it is empty.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for the project name.")
    ] = False,
) -> None:
    """Decommission the project's cloud resources, keeping an archive record."""
    from mlstart.core.down import DecommissionPlan, decommission
    from mlstart.core.environments import resolve_stack
    from mlstart.core.stack import StackResource

    stack = resolve_stack(path, stack)

    def confirm(plan: DecommissionPlan) -> bool:
        typer.echo(f"Stack '{plan.stack}' of {plan.project_name}:")
        for resource in plan.to_destroy:
            typer.secho(f"  destroy  {resource.type}  {resource.name}", fg="red")
        for resource in plan.kept:
            typer.echo(f"  keep     {resource.type}  {resource.name}  ({plan.reason(resource)})")
        if not plan.to_destroy:
            typer.echo("  nothing to destroy")
        if yes:
            return True
        with no_input_means(
            "no terminal to confirm on: pass --yes to decommission without typing the "
            "project name; nothing was destroyed"
        ):
            typed = typer.prompt(f"Type the project name ({plan.project_name}) to confirm")
        return bool(typed.strip() == plan.project_name)

    def confirm_data(protected: list[StackResource]) -> bool:
        names = ", ".join(resource.name for resource in protected)
        typer.secho(f"--include-data also destroys the data in: {names}", fg="red", err=True)
        with no_input_means(
            "no terminal to confirm on: destroying the data must be confirmed at a terminal "
            "(--yes does not cover it); without --include-data the data is kept; nothing "
            "was destroyed"
        ):
            return typer.confirm("Destroy the data too? This cannot be undone", default=False)

    echo_progress(f"Reading stack '{stack}'")
    result = decommission(
        path,
        stack=stack,
        include_data=include_data,
        remove_stack=remove_stack,
        confirm=confirm,
        confirm_data=confirm_data,
        on_output=lambda line: typer.echo(line.rstrip("\n")),
    )
    for warning in result.warnings:
        echo_warning(warning)
    commit = f" (commit {result.archive_commit[:12]})" if result.archive_commit else ""
    typer.echo(f"Archive record: {result.archive}{commit}")
    typer.echo(f"Destroyed {result.destroyed} resource(s).")
    if result.left:
        typer.echo("Still in the stack:")
        for resource in result.left:
            note = " (protected)" if resource.protect else ""
            typer.echo(f"  {resource.type}  {resource.name}{note}")
    else:
        typer.echo("Nothing is left in the stack.")
    if result.soft_deleted:
        typer.echo("Soft-deleted in Azure (names stay taken until then):")
        for note in result.soft_deleted:
            typer.echo(f"  {note}")
    if result.new_name_suffix:
        typer.echo(
            f"New name suffix for stack '{stack}': {result.new_name_suffix} "
            "(the next `mlstart up` uses new names)"
        )
    if result.stack_removed:
        typer.echo(f"Stack '{stack}' removed (its Pulumi.{stack}.yaml is kept).")
