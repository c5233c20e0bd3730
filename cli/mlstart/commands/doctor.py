"""``mlstart doctor``: the command-line adapter over :mod:`mlstart.core.doctor`."""

from __future__ import annotations

import typer


def doctor() -> None:
    """Check git, uv, Python, the Pulumi CLI and the Azure login, with a fix for each."""
    from mlstart.core.doctor import essentials_ok, run_checks

    checks = run_checks()
    width = max(len(check.name) for check in checks)
    for check in checks:
        if check.ok:
            mark, colour = "ok", "green"
        elif check.essential:
            mark, colour = "MISSING", "red"
        else:
            mark, colour = "optional", "yellow"
        typer.secho(f"{mark:>8}  {check.name:<{width}}  {check.detail}", fg=colour)
        if check.hint:
            typer.echo(f"{'':>8}  {'':<{width}}  fix: {check.hint}")
    if not essentials_ok(checks):
        raise typer.Exit(1)
