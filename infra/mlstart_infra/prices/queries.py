"""Which Retail Prices API filters answer the prices a plan looks up.

One filter per VM size and region (it answers the regular, low-priority and spot prices
at once), per disk product and region, and per service and region for the registry,
public IPs, Container Apps and Bastion; NAT gateways and private endpoints are priced
under the region ``Global``. Every filter asks for ``priceType eq 'Consumption'``
(pay-as-you-go: no reservations, no dev/test prices).

The service, product and meter names are those the API uses (they are case-sensitive
from API version 2023-01-01-preview on:
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlstart_infra.prices.client import odata_text
from mlstart_infra.pricing import DISK_SECTION, GLOBAL, VM_SECTIONS, PriceNeed

#: Managed disk storage types: the API's product, its tier letter and its redundancy.
#: Tier sizes: https://learn.microsoft.com/azure/virtual-machines/disks-types
DISK_PRODUCTS = {
    "Premium_LRS": ("Premium SSD Managed Disks", "P", "LRS"),
    "Premium_ZRS": ("Premium SSD Managed Disks", "P", "ZRS"),
    "StandardSSD_LRS": ("Standard SSD Managed Disks", "E", "LRS"),
    "StandardSSD_ZRS": ("Standard SSD Managed Disks", "E", "ZRS"),
    "Standard_LRS": ("Standard HDD Managed Disks", "S", "LRS"),
}
#: GiB of each disk tier number (P10, E10 and S10 are all 128 GiB), from the size tables
#: of https://learn.microsoft.com/azure/virtual-machines/disks-types
DISK_TIER_GIB = {
    1: 4, 2: 8, 3: 16, 4: 32, 6: 64, 10: 128, 15: 256, 20: 512, 30: 1024, 40: 2048,
    50: 4096, 60: 8192, 70: 16384, 80: 32767,
}  # fmt: skip


@dataclass(frozen=True)
class Query:
    """One ``$filter`` for the Retail Prices API.

    Attributes:
        filter: The OData filter.
        what: What it fetches, for people (e.g. ``Standard_D4s_v5 in westeurope``).
    """

    filter: str
    what: str


def _consumption(*conditions: tuple[str, str]) -> str:
    terms = [f"{name} eq {odata_text(value)}" for name, value in conditions]
    return " and ".join([*terms, "priceType eq 'Consumption'"])


def query_for(need: PriceNeed) -> Query | None:
    """The filter that answers one looked-up price (None: not a price the API holds)."""
    section, key, region = need.section, need.key, need.region
    if section in VM_SECTIONS.values():
        return Query(
            _consumption(("serviceName", "Virtual Machines"), ("armRegionName", region),
                         ("armSkuName", key)),
            f"{key} in {region}",
        )  # fmt: skip
    if section == DISK_SECTION:
        if key not in DISK_PRODUCTS:
            return None
        product = DISK_PRODUCTS[key][0]
        return Query(
            _consumption(("serviceName", "Storage"), ("armRegionName", region),
                         ("productName", product)),
            f"{product} in {region}",
        )  # fmt: skip
    if section in ("nat_gateway", "private_endpoint"):
        return _GLOBAL_QUERIES[section]
    regional = _REGIONAL.get(section)
    if regional is None or region == GLOBAL:
        return None
    service, product = regional
    conditions = [("serviceName", service), ("armRegionName", region)]
    if product:
        conditions.append(("productName", product))
    return Query(_consumption(*conditions), f"{product or service} in {region}")


#: Section -> (service, product or "") of the services priced per region.
_REGIONAL = {
    "container_registry_monthly": ("Container Registry", ""),
    "public_ip_hourly": ("Virtual Network", "IP Addresses"),
    "container_apps": ("Azure Container Apps", ""),
    "bastion_hourly": ("Azure Bastion", ""),
}
_GLOBAL_QUERIES = {
    "nat_gateway": Query(
        _consumption(("serviceName", "NAT Gateway"), ("armRegionName", GLOBAL)), "NAT Gateway"
    ),
    "private_endpoint": Query(
        _consumption(
            ("serviceName", "Virtual Network"),
            ("armRegionName", GLOBAL),
            ("productName", "Virtual Network Private Link"),
        ),
        "Virtual Network Private Link",
    ),
}


def queries_for(needs: Iterable[PriceNeed]) -> list[Query]:
    """The distinct filters that answer these prices, in the order first needed."""
    found = (query_for(need) for need in needs if need.region or need.section in _GLOBAL_QUERIES)
    return list(dict.fromkeys(query for query in found if query is not None))
