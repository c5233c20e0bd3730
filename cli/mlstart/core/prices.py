"""``mlstart prices``: fetch the list prices a project's plan needs, and keep them on disk.

:func:`refresh_prices` plans the project offline to learn which prices its estimate looks
up (VM sizes per region and priority, disks, registry, Container Apps, network), asks the
Azure Retail Prices API for them, and merges the answer into the price cache, which later
plans use before the table shipped with mlstart. Nothing is written unless every query
was answered. :func:`cache_status` says what the cache holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstart.errors import PlanError, PricesError, UsageError

if TYPE_CHECKING:
    from mlstart_infra.prices.client import RetailPricesClient
    from mlstart_infra.prices.queries import Query
    from mlstart_infra.pricing import PriceNeed, PriceTable

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class FetchedPrice:
    """One price a refresh wrote into the cache.

    Attributes:
        section: The table section, e.g. ``vm_hourly``.
        key: E.g. the VM size or SKU (for a disk: its storage type and size in GiB).
        region: The Azure region, or ``Global``.
        price: The price, in the section's unit.
        unit: The unit (``1 Hour``, ``month`` for a price converted to a month, ...).
        meter: The API's meter name.
        retail_price: The API's price when it was converted (per day to per month).
        retail_unit: The API's unit of that price.
    """

    section: str
    key: str
    region: str
    price: float
    unit: str
    meter: str
    retail_price: float | None = None
    retail_unit: str = ""


@dataclass
class RefreshReport:
    """What a refresh fetched and where it put it.

    Attributes:
        project: The Pulumi project whose plan was priced.
        stack: Its stack.
        api: The API's address.
        currency: The currency asked for.
        fetched_on: The day of the refresh (``YYYY-MM-DD``, UTC).
        cache: The price cache written.
        queries: The API filters asked.
        fetched: The prices written.
        missing: The prices the plan looks up that the API did not answer.
        problems: Items left out of the conversion, and why.
        replaced: Why the old cache was replaced instead of merged into ("" when merged).
        cached_prices: How many prices the cache holds now.
    """

    project: str
    stack: str
    api: str
    currency: str
    fetched_on: str
    cache: Path
    queries: list[Query] = field(default_factory=list)
    fetched: list[FetchedPrice] = field(default_factory=list)
    missing: list[PriceNeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    replaced: str = ""
    cached_prices: int = 0


def refresh_prices(
    path: Path | str = ".",
    *,
    stack: str = "dev",
    currency: str | None = None,
    url: str | None = None,
    timeout: float = 30.0,
    plan_timeout: float | None = None,
    client: RetailPricesClient | None = None,
    progress: Callable[[str], None] | None = None,
    today: str | None = None,
) -> RefreshReport:
    """Fetch the prices a project's plan needs and merge them into the price cache.

    Args:
        path: The project (or its ``infra/`` folder).
        stack: The stack whose config to plan.
        currency: ISO code of the currency to ask for (default: the cache's, else USD). A
            cache in another currency is replaced, never mixed.
        url: The API's address (default: ``MLSTART_PRICES_URL``, else Microsoft's).
        timeout: Seconds each API request may take.
        plan_timeout: Seconds the project's program may run under the mocks.
        client: The API client to use (tests pass one that does not sleep).
        progress: Called with a line before each query.
        today: The date to record (default: today, UTC).

    Returns:
        What was fetched, what the API did not answer, and where the cache is.

    Raises:
        UsageError: If the currency is not an ISO code, or the stack config is incomplete.
        ToolMissingError: If Pulumi (the ``azure`` extra) is not installed.
        PlanError: If the project cannot be planned.
        PricesError: If the API cannot be asked or its answer used, or the cache written;
            the cache is then left as it was.
    """
    from mlstart_infra import pricing
    from mlstart_infra.prices import RetailPricesError, cache
    from mlstart_infra.prices.client import RetailPricesClient, default_url
    from mlstart_infra.prices.convert import Answer, convert
    from mlstart_infra.prices.queries import queries_for

    from mlstart.core.plan import plan_graph

    old, replaced = _old_cache()
    wanted = (currency or str((old or {}).get("currency") or "USD")).upper()
    if not _CURRENCY.match(wanted):
        raise UsageError(f"currency {currency!r} is not an ISO 4217 code such as USD or EUR")
    if old is not None and old.get("currency") != wanted:
        replaced = f"the cache held {old.get('currency')} prices, replaced by {wanted} ones"
    graph = plan_graph(path, stack=stack, timeout=plan_timeout)
    needs = pricing.price_needs(graph)
    queries = queries_for(needs)
    asker = client or RetailPricesClient(base_url=url or default_url(), currency=wanted,
                                         timeout=timeout)  # fmt: skip
    day = today or datetime.now(UTC).date().isoformat()
    answers = []
    try:
        for number, query in enumerate(queries, start=1):
            if progress:
                progress(f"asking the Retail Prices API ({number}/{len(queries)}): {query.what}")
            answers.append(Answer(query, asker.items(query.filter)))
    except RetailPricesError as error:
        raise PricesError(f"{error}; the price cache was not changed") from error
    conversion = convert(answers, recorded_on=day, hours_per_month=730.0)
    data = cache.merged(old, conversion, recorded_on=day, currency=wanted, api=asker.base_url)
    try:
        where = cache.write_cache(data)
    except OSError as error:
        raise PricesError(f"cannot write the price cache {cache.cache_path()}: {error}") from error
    fetched_table = pricing.PriceTable(
        {"currency": wanted, "source": "fetched", "recorded_on": day, **conversion.sections}
    )
    return RefreshReport(
        project=graph.project,
        stack=graph.stack,
        api=asker.base_url,
        currency=wanted,
        fetched_on=day,
        cache=where,
        queries=queries,
        fetched=[_fetched(path_, entry) for path_, entry in conversion.entries()],
        missing=[need for need in needs if not _answered(fetched_table, need)],
        problems=conversion.problems,
        replaced=replaced,
        cached_prices=_count(data),
    )


def _old_cache() -> tuple[dict[str, Any] | None, str]:
    """The current cache, or None (with why, when it is unreadable and will be replaced)."""
    from mlstart_infra.prices import cache
    from mlstart_infra.pricing import PriceTableError

    try:
        return cache.read_cache(), ""
    except (PriceTableError, OSError) as error:
        return None, f"the old cache could not be read ({error})"


def _answered(table: PriceTable, need: PriceNeed) -> bool:
    from mlstart_infra.pricing import DISK_SECTION

    if need.section == DISK_SECTION:
        return bool(table.data.get(DISK_SECTION, {}).get(need.key, {}).get(need.region))
    return table.quote(need.section, need.key, need.region) is not None


def _fetched(path: tuple[str, ...], entry: dict[str, Any]) -> FetchedPrice:
    section, key, region = path[0], path[1], path[2]
    if len(path) == 4:  # a disk: storage type and size
        key = f"{key} {path[3]} GiB"
    converted = "retail_price" in entry
    return FetchedPrice(
        section=section,
        key=key,
        region=region,
        price=float(entry["price"]),
        unit="month" if converted else str(entry["unit"]),
        meter=str(entry.get("meter", "")),
        retail_price=float(entry["retail_price"]) if converted else None,
        retail_unit=str(entry["unit"]) if converted else "",
    )


def _count(node: Any) -> int:
    if isinstance(node, dict) and "price" in node:
        return 1
    if isinstance(node, dict):
        return sum(_count(value) for value in node.values())
    return 0


@dataclass
class CacheStatus:
    """What the price cache holds, and the shipped table behind it.

    Attributes:
        path: Where the cache is (or would be).
        exists: Whether there is one.
        source: Where its prices came from.
        currency: Their currency.
        oldest: The date of its oldest price.
        newest: The date of its newest price.
        prices: How many prices it holds.
        shipped_source: Where the shipped table's prices came from.
        shipped_recorded_on: When they were recorded.
    """

    path: Path
    exists: bool
    source: str = ""
    currency: str = ""
    oldest: str = ""
    newest: str = ""
    prices: int = 0
    shipped_source: str = ""
    shipped_recorded_on: str = ""


def cache_status() -> CacheStatus:
    """Describe the price cache and the shipped table.

    Raises:
        PlanError: If the cache exists but is not a price table.
    """
    from mlstart_infra.prices import cache
    from mlstart_infra.pricing import PriceTable, PriceTableError

    shipped = PriceTable.load()
    status = CacheStatus(cache.cache_path(), False, shipped_source=shipped.source,
                         shipped_recorded_on=shipped.recorded_on)  # fmt: skip
    try:
        data = cache.read_cache()
    except (PriceTableError, OSError) as error:
        raise PlanError(f"{error}: run `mlstart prices refresh` to replace it") from error
    if data is None:
        return status
    dates = sorted(_dates(data, str(data["recorded_on"])))
    status.exists, status.source, status.currency = True, str(data["source"]), str(
        data["currency"])  # fmt: skip
    status.oldest, status.newest = (dates[0], dates[-1]) if dates else ("", "")
    status.prices = _count(data)
    return status


def _dates(node: Any, default: str) -> list[str]:
    if isinstance(node, dict) and "price" in node:
        return [str(node.get("recorded_on") or default)]
    if isinstance(node, dict):
        return [day for value in node.values() for day in _dates(value, default)]
    return []
