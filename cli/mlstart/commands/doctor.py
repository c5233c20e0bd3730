"""``mlstart doctor``: the command-line adapter over :mod:`mlstart.core.doctor`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlstart.commands.options import StackOption


def doctor(
    path: Annotated[
        Path, typer.Argument(help="A project: also check its Azure roles.", file_okay=False)
    ] = Path("."),
    stack: StackOption = None,
) -> None:
    """Check git, uv, Python, Pulumi, the Azure login and the roles pulumi up needs."""
    from mlstart.core.doctor import essentials_ok, run_checks
    from mlstart.core.environments import resolve_stack

    stack = resolve_stack(path, stack)

    checks = run_checks(path, stack=stack)
    width = max(len(check.name) for check in checks)
    for check in checks:
        if check.ok:
            mark, colour = "ok", "green"
        elif check.ok is None:
            mark, colour = "check", "yellow"
        elif check.essential:
            mark, colour = "MISSING", "red"
        else:
            mark, colour = "optional", "yellow"
        typer.secho(f"{mark:>8}  {check.name:<{width}}  {check.detail}", fg=colour)
        if check.hint:
            typer.echo(f"{'':>8}  {'':<{width}}  fix: {check.hint}")
    if not essentials_ok(checks):
        raise typer.Exit(1)
