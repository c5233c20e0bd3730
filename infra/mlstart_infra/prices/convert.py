"""From the Retail Prices API's items to the entries of a price table.

Which item prices what (the names are the API's own; see
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices for
the fields):

* only ``type == "Consumption"`` (pay-as-you-go; ``Reservation`` and
  ``DevTestConsumption`` are other offers), primary meters
  (``isPrimaryMeterRegion`` not false), prices still in effect on the day recorded;
* VMs: ``serviceName == "Virtual Machines"`` by ``armSkuName``, Linux (a ``productName``
  with ``Windows`` in it includes the Windows licence), per ``1 Hour``; the ``skuName``
  suffix `` Spot`` or `` Low Priority`` marks those prices;
* managed disks: the disk products' ``<tier> <LRS|ZRS> Disk`` meters, per ``1/Month``;
* container registry: ``<SKU> Registry Unit``, per ``1/Day`` (turned into a month of
  ``hours_per_month``);
* Container Apps (consumption plan): ``Standard vCPU Active Usage`` per ``1 Second`` and
  ``Standard Memory Active Usage`` per ``1 GiB Second``;
* public IPs: ``<SKU> IPv4 Static Public IP``; NAT gateway: ``Standard Gateway`` and
  ``Standard Data Processed``; private endpoint (``Virtual Network Private Link``):
  ``Standard Private Endpoint`` and ``Standard Data Processed - Ingress``; Bastion:
  ``<SKU> Gateway`` (or ``<SKU> Deployment``); per ``1 Hour`` and per ``1 GB``.

A meter billed in tiers (``tierMinimumUnits``), such as a monthly free grant followed by
the paid rate, is recorded at its first paid tier: free grants are not subtracted. Two
different prices for one entry make it ambiguous: it is left out and said so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mlstart_infra.prices.queries import DISK_PRODUCTS, DISK_TIER_GIB, Query
from mlstart_infra.pricing import DISK_SECTION, GLOBAL, SECTIONS, VM_SECTIONS

#: Where an entry goes: ``(section, key, region)``, or for disks
#: ``(section, storage type, region, size in GiB)``.
Path = tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """The items the API answered to one query.

    Attributes:
        query: The query.
        items: Its items, every page's.
        recorded_on: The day it was answered ("": the day given to :func:`convert`).
    """

    query: Query
    items: list[dict[str, Any]]
    recorded_on: str = ""


@dataclass
class Conversion:
    """A price table's sections, and what could not be converted.

    Attributes:
        sections: ``section -> key -> region -> entry`` (disks one level deeper).
        problems: One line per item or entry left out, and why.
    """

    sections: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def entries(self) -> list[tuple[Path, dict[str, Any]]]:
        """Every entry with its path, in a stable order."""
        return sorted(_walk(self.sections, ()), key=lambda pair: [_sort_key(k) for k in pair[0]])


def _walk(node: Any, path: Path) -> Iterable[tuple[Path, dict[str, Any]]]:
    if isinstance(node, dict) and "price" in node:
        yield path, node
    elif isinstance(node, dict):
        for key, inner in node.items():
            yield from _walk(inner, (*path, key))


@dataclass(frozen=True)
class _Candidate:
    price: float
    tier: float
    unit: str
    meter: str
    retail_price: float
    query: str
    recorded_on: str


@dataclass(frozen=True)
class _Rule:
    """How one item prices one entry."""

    path: Path
    unit: str
    per_month_of: str = ""  # "day": the retail price is per day, the entry per month


def convert(
    answers: Iterable[Answer],
    *,
    recorded_on: str,
    hours_per_month: float = 730.0,
) -> Conversion:
    """Turn the API's answers into price-table entries, each dated and with its query.

    Args:
        answers: The items answered to each query (already checked by the client).
        recorded_on: The day they were fetched (``YYYY-MM-DD``), for answers without
            their own.
        hours_per_month: The month used to turn a daily price into a monthly one.

    Returns:
        The entries, and a line for everything left out.
    """
    result = Conversion()
    candidates: dict[Path, list[_Candidate]] = {}
    for answer in answers:
        day = answer.recorded_on or recorded_on
        for item in answer.items:
            if not _in_effect(item, day):
                continue
            rule = _rule(item)
            if rule is None:
                continue
            what = f"{item['meterName']} ({item['armRegionName']})"
            if item["unitOfMeasure"] != rule.unit:
                result.problems.append(
                    f"{what}: unit {item['unitOfMeasure']!r}, expected {rule.unit!r}: left out"
                )
                continue
            retail = float(item["retailPrice"])
            price = retail * hours_per_month / 24 if rule.per_month_of == "day" else retail
            candidates.setdefault(rule.path, []).append(
                _Candidate(price, _number(item.get("tierMinimumUnits")), rule.unit,
                           item["meterName"], retail, answer.query.filter, day)
            )  # fmt: skip
    for path, found in sorted(candidates.items()):
        chosen = _choose(found)
        if chosen is None:
            prices = ", ".join(f"{c.retail_price:g}" for c in found)
            result.problems.append(f"{'/'.join(path)}: different prices ({prices}): left out")
            continue
        entry: dict[str, Any] = {
            "price": round(chosen.price, 6),
            "unit": chosen.unit,
            "meter": chosen.meter,
            "recorded_on": chosen.recorded_on,
            "query": chosen.query,
        }
        if chosen.price != chosen.retail_price:
            entry["retail_price"] = chosen.retail_price
        _put(result.sections, path, entry)
    return result


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _in_effect(item: dict[str, Any], day: str) -> bool:
    """Pay-as-you-go, a primary meter, and not ended before ``day``."""
    if item.get("type") != "Consumption" or item.get("isPrimaryMeterRegion") is False:
        return False
    ended = item.get("effectiveEndDate")
    return not (isinstance(ended, str) and ended[:10] < day)


def _choose(found: list[_Candidate]) -> _Candidate | None:
    """The first paid tier's price (a free meter: its price 0); None when ambiguous."""
    paid = [c for c in found if c.price > 0] or found
    first = min(c.tier for c in paid)
    at_first = [c for c in paid if c.tier == first]
    if len({c.price for c in at_first}) > 1:
        return None
    return at_first[0]


def _put(sections: dict[str, Any], path: Path, entry: dict[str, Any]) -> None:
    node = sections
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = entry


_DISK_SKU = re.compile(r"^([PES])(\d+) (LRS|ZRS)$")
_REGISTRY = re.compile(r"^(Basic|Standard|Premium) Registry Unit$")
_PUBLIC_IP = re.compile(r"^(\w+) IPv4 Static Public IP$")
_BASTION = re.compile(r"^(Basic|Standard|Premium) (?:Gateway|Deployment)$")
_PRIORITY_SUFFIX = {" Spot": "Spot", " Low Priority": "Low"}
#: (serviceName, productName, meterName) -> (section, key, unit) for one-meter prices; a
#: product of "" matches any.
_METERS = {
    ("Azure Container Apps", "Azure Container Apps", "Standard vCPU Active Usage"):
        ("container_apps", "vcpu_second", "1 Second"),
    ("Azure Container Apps", "Azure Container Apps", "Standard Memory Active Usage"):
        ("container_apps", "gib_second", "1 GiB Second"),
    ("Virtual Network", "Virtual Network Private Link", "Standard Private Endpoint"):
        ("private_endpoint", "hourly", "1 Hour"),
    ("Virtual Network", "Virtual Network Private Link", "Standard Data Processed - Ingress"):
        ("private_endpoint", "per_gb_processed", "1 GB"),
    ("NAT Gateway", "", "Standard Gateway"): ("nat_gateway", "hourly", "1 Hour"),
    ("NAT Gateway", "", "Standard Data Processed"): ("nat_gateway", "per_gb_processed", "1 GB"),
}  # fmt: skip


def _rule(item: dict[str, Any]) -> _Rule | None:
    """Which entry an item prices, in which unit (None: not a price the plan uses)."""
    service, product = item["serviceName"], item["productName"]
    meter, region = item["meterName"], item["armRegionName"]
    if service == "Virtual Machines":
        return _vm_rule(item)
    if service == "Storage":
        return _disk_rule(item)
    known = _METERS.get((service, product, meter)) or _METERS.get((service, "", meter))
    if known:
        return _Rule((known[0], known[1], region), known[2])
    if service == "Container Registry" and (match := _REGISTRY.match(meter)):
        return _Rule(("container_registry_monthly", match[1], region), "1/Day", "day")
    if service == "Virtual Network" and product == "IP Addresses":
        match = _PUBLIC_IP.match(meter)
        return _Rule(("public_ip_hourly", match[1], region), "1 Hour") if match else None
    if service == "Azure Bastion" and (match := _BASTION.match(meter)):
        return _Rule(("bastion_hourly", match[1], region), "1 Hour")
    return None


def _vm_rule(item: dict[str, Any]) -> _Rule | None:
    size = item.get("armSkuName")
    if not isinstance(size, str) or not size or "Windows" in item["productName"].split():
        return None
    priority = next(
        (kind for suffix, kind in _PRIORITY_SUFFIX.items() if item["skuName"].endswith(suffix)),
        "Regular",
    )
    return _Rule((VM_SECTIONS[priority], size, item["armRegionName"]), "1 Hour")


def _disk_rule(item: dict[str, Any]) -> _Rule | None:
    match = _DISK_SKU.match(item["skuName"])
    if not match:
        return None
    letter, number, redundancy = match[1], int(match[2]), match[3]
    meters = {f"{letter}{number} {redundancy} Disk", f"{letter}{number} Disks"}
    if item["meterName"] not in meters or number not in DISK_TIER_GIB:
        return None
    for storage_type, product in DISK_PRODUCTS.items():
        if product == (item["productName"], letter, redundancy):
            size = str(DISK_TIER_GIB[number])
            return _Rule((DISK_SECTION, storage_type, item["armRegionName"], size), "1/Month")
    return None


def table(
    conversion: Conversion,
    *,
    source: str,
    recorded_on: str,
    currency: str,
    api: str,
    hours_per_month: float = 730.0,
    notes: Iterable[str] = (),
) -> dict[str, Any]:
    """A whole price table (the format :class:`~mlstart_infra.pricing.PriceTable` reads)."""
    data: dict[str, Any] = {
        "source": source,
        "recorded_on": recorded_on,
        "currency": currency,
        "api": api,
        "hours_per_month": int(hours_per_month) if hours_per_month % 1 == 0 else hours_per_month,
    }
    if notes:
        data["notes"] = list(notes)
    for section in (*SECTIONS, DISK_SECTION):
        data[section] = _sorted(conversion.sections.get(section, {}))
    return data


def _sorted(node: Any) -> Any:
    if isinstance(node, dict) and "price" not in node:
        items = sorted(node.items(), key=lambda pair: _sort_key(pair[0]))
        return {key: _sorted(value) for key, value in items}
    return node


def _sort_key(key: str) -> tuple[int, float, str]:
    """Disk sizes in numeric order, ``Global`` first, names alphabetically."""
    if key.isdigit():
        return (0, float(key), key)
    return (1 if key == GLOBAL else 2, 0.0, key)
