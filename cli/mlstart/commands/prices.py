"""``mlstart prices``: the command-line adapter over :mod:`mlstart.core.prices`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstart.commands.help import PlainArgumentsCommand
from mlstart.commands.options import stack_option
from mlstart.commands.output import echo_progress, echo_warning

if TYPE_CHECKING:
    from mlstart.core.prices import RefreshReport

prices_app = typer.Typer(
    name="prices",
    help="Live list prices from the Azure Retail Prices API, cached for mlstart plan.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@prices_app.command(cls=PlainArgumentsCommand)
def refresh(
    path: Annotated[
        Path,
        typer.Argument(help="The generated project, or its infra/ folder.", file_okay=False),
    ] = Path("."),
    stack: Annotated[str | None, stack_option("Stack whose Pulumi.<stack>.yaml to plan")] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="ISO code of the currency (default: the cache's, else USD); USD is what "
            "Azure bills, other currencies are for reference.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds each API request may take.", min=1)
    ] = 30,
) -> None:
    """Fetch the list prices the project's plan needs and cache them for mlstart plan.

    Plans the project offline to learn which prices its estimate uses (VM sizes per region,
    low-priority and spot, disks, registry, Container Apps, network), asks the Azure Retail
    Prices API (public, no login; MLSTART_PRICES_URL overrides its address) and merges the
    answer into the price cache. The cache is left unchanged when any query fails.
    """
    from mlstart.core.environments import resolve_stack
    from mlstart.core.prices import refresh_prices

    stack = resolve_stack(path, stack)

    report = refresh_prices(path, stack=stack, currency=currency, timeout=timeout,
                            progress=echo_progress)  # fmt: skip
    for problem in report.problems:
        echo_warning(f"left out: {problem}")
    if report.replaced:
        echo_warning(report.replaced)
    typer.echo(render_refresh(report))


def render_refresh(report: RefreshReport) -> str:
    """What a refresh fetched, one price a line, then what the API did not answer."""
    lines = [
        f"Fetched {len(report.fetched)} prices for {report.project} (stack {report.stack}) "
        f"from {report.api} on {report.fetched_on}, in {report.currency} "
        f"({len(report.queries)} queries):"
    ]
    for price in report.fetched:
        was = f" ({price.retail_price:g} per {price.retail_unit})" if price.retail_unit else ""
        lines.append(
            f"  {price.section:<26} {price.key:<28} {price.region:<14} "
            f"{price.price:>12g} per {price.unit}{was}"
        )
    if report.missing:
        lines.append("Not answered by the API (the shipped table's price, else unpriced):")
        lines += [f"  {n.section:<26} {n.key:<28} {n.region}" for n in report.missing]
    lines.append(f"Price cache: {report.cache} ({report.cached_prices} prices)")
    return "\n".join(lines)


@prices_app.command(cls=PlainArgumentsCommand)
def show() -> None:
    """Show where mlstart plan's prices come from: the price cache and the shipped table."""
    from mlstart.core.prices import cache_status

    status = cache_status()
    if status.exists:
        dates = status.oldest if status.oldest == status.newest else (
            f"{status.oldest} to {status.newest}")  # fmt: skip
        typer.echo(f"Price cache: {status.path}")
        typer.echo(f"  {status.prices} prices in {status.currency}, fetched {dates}")
        typer.echo(f"  source: {status.source}")
    else:
        typer.echo(f"No price cache ({status.path}): run `mlstart prices refresh` in a project")
    typer.echo(
        f"Shipped table (used for what a cache in its currency lacks), recorded "
        f"{status.shipped_recorded_on}"
    )
    typer.echo(f"  source: {status.shipped_source}")
