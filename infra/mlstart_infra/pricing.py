"""Monthly cost estimates from dated list prices: each priced line says where its price came from.

Every estimate has two figures: *always on* (everything running 730 hours a month) and
*scheduled* (VMs stopped by their shutdown schedule, clusters and serving scaled to zero).
Prices come from a :class:`PriceTable`: the price cache that ``mlstart prices refresh``
fills from the Azure Retail Prices API, over the table shipped with mlstart (generated from
a recorded answer of that API: see :mod:`mlstart_infra.prices`). A size or region missing
from every table is listed as unpriced, never guessed; usage-based services (storage,
logs, key vault operations) are listed without an amount. :func:`price_needs` says which
prices an estimate looks up, so a refresh fetches exactly those.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mlstart_infra.components.catalog import (
    AML_CLUSTER,
    AML_INSTANCE,
    APP_INSIGHTS,
    AUTH_CONFIG,
    AUTOSCALE,
    BASTION,
    BLOB_CONTAINER,
    BLOB_SERVICE,
    BUDGET,
    CONTAINER_APP,
    CONTAINER_ENV,
    DEPLOYMENT,
    ENDPOINT,
    FEDERATED_CREDENTIAL,
    LOG_ANALYTICS,
    ML_COMPUTE,
    ML_MODEL_CONTAINER,
    ML_MODEL_VERSION,
    ML_REGISTRY,
    ML_WORKSPACE,
    NAT_GATEWAY,
    NIC,
    NSG,
    NSG_RULE,
    PRIVATE_ENDPOINT,
    PUBLIC_IP,
    REGISTRY,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    SCHEDULE,
    STORAGE,
    SUBNET,
    USER_IDENTITY,
    VAULT,
    VM,
    VM_EXTENSION,
    VMSS,
    VNET,
)
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph, dig

Basis = Literal["compute", "fixed", "usage-based", "free", "unpriced"]

#: Seconds in the 730-hour month Azure prices use.
SECONDS_PER_MONTH = 730 * 3600
_USAGE_BASED = {
    STORAGE: "pay per GB stored and per operation",
    VAULT: "pay per 10,000 operations",
    LOG_ANALYTICS: "pay per GB of logs ingested",
    APP_INSIGHTS: "pay per GB of telemetry ingested",
}
_FREE = {
    RESOURCE_GROUP,
    VNET,
    SUBNET,
    NSG,
    NSG_RULE,
    NIC,
    VM_EXTENSION,
    SCHEDULE,
    BUDGET,
    ML_WORKSPACE,
    ML_MODEL_CONTAINER,
    ML_MODEL_VERSION,
    ENDPOINT,
    CONTAINER_ENV,
    AUTH_CONFIG,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    AUTOSCALE,
    BLOB_SERVICE,
    BLOB_CONTAINER,
    # Managed identities and their federated credentials cost nothing.
    USER_IDENTITY,
    FEDERATED_CREDENTIAL,
}


@dataclass(frozen=True)
class UsageAssumptions:
    """How scheduled machines are assumed to be used.

    Attributes:
        workday_start: When someone starts a VM or compute instance (``HH:MM``); its
            schedule stops it.
        workdays_per_month: Days a month it is started.
        workday_hours: Hours a day someone works on a compute instance that has no stop
            schedule but shuts itself down when idle (the idle time is added).
    """

    workday_start: str = "08:00"
    workdays_per_month: int = 22
    workday_hours: float = 8.0


#: The region key of a price that applies in every region (the Retail Prices API's
#: ``armRegionName`` for such meters, e.g. NAT gateways).
GLOBAL = "Global"
#: The section of the hourly VM prices for each priority (a scale set's ``priority``).
VM_SECTIONS = {"Regular": "vm_hourly", "Low": "vm_low_priority_hourly", "Spot": "vm_spot_hourly"}
#: Sections whose entries are ``key -> region -> entry``.
SECTIONS = (
    *VM_SECTIONS.values(),
    "container_registry_monthly",
    "public_ip_hourly",
    "container_apps",
    "private_endpoint",
    "nat_gateway",
    "bastion_hourly",
)
#: The disk section's entries are ``storage type -> region -> size in GiB -> entry``.
DISK_SECTION = "managed_disk_monthly"


@dataclass(frozen=True)
class Quote:
    """One price and where it came from.

    Attributes:
        value: The price, in the table's currency and the unit its section names.
        source: Where the table that holds it came from.
        recorded_on: When the price was recorded (``YYYY-MM-DD``).
        query: The Retail Prices API filter that answered it ("" when not known).
    """

    value: float
    source: str
    recorded_on: str
    query: str = ""


@dataclass
class CostLine:
    """The monthly cost of one resource.

    Attributes:
        resource: The resource's Azure name.
        type: Its type token.
        component: The component it belongs to (None at top level).
        basis: How it is charged: compute time, a fixed fee, usage, free, or unpriced.
        description: What was priced, e.g. ``Standard_NC4as_T4_v3 in westeurope``.
        always_on: Monthly cost when running all the time (None when unpriced).
        scheduled: Monthly cost with the shutdown schedule and scale-to-zero.
        note: Why, or what is not included.
        source: Where the price came from (priced lines only).
        recorded_on: When that price was recorded (priced lines only).
        query: The Retail Prices API filter that answered the price ("" when not known).
    """

    resource: str
    type: str
    component: str | None
    basis: Basis
    description: str
    always_on: float | None = None
    scheduled: float | None = None
    note: str = ""
    source: str = ""
    recorded_on: str = ""
    query: str = ""


@dataclass
class CostEstimate:
    """The monthly estimate for a whole plan.

    Attributes:
        lines: One line per priced part of a resource.
        currency: The currency of every amount.
        recorded_on: The oldest date of the prices used (the table's when none is used).
        source: Where the prices came from (each source once, joined).
        assumptions: How usage was assumed.
        sources: Each distinct (source, date) of the priced lines, oldest first.
    """

    lines: list[CostLine]
    currency: str
    recorded_on: str
    source: str
    assumptions: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total_always_on(self) -> float:
        """Sum of the priced lines, always on."""
        return round(sum(line.always_on or 0.0 for line in self.lines), 2)

    @property
    def total_scheduled(self) -> float:
        """Sum of the priced lines, with schedules and scale-to-zero."""
        return round(sum(line.scheduled or 0.0 for line in self.lines), 2)

    @property
    def unpriced(self) -> list[CostLine]:
        """Lines with no recorded price."""
        return [line for line in self.lines if line.basis == "unpriced"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the estimate."""
        return {
            "currency": self.currency,
            "prices_recorded_on": self.recorded_on,
            "source": self.source,
            "sources": [{"source": s, "recorded_on": d} for s, d in self.sources],
            "assumptions": list(self.assumptions),
            "total_always_on": self.total_always_on,
            "total_scheduled": self.total_scheduled,
            "unpriced": [line.resource for line in self.unpriced],
            "lines": [asdict(line) for line in self.lines],
        }


class PriceTableError(ValueError):
    """A price table (shipped, cached or given) is not in the expected format."""


@dataclass(frozen=True)
class PriceTable:
    """Dated list prices, optionally over a fallback table for the entries this one lacks.

    The format (``prices.json``, the price cache, ``--prices`` files): top-level
    ``currency``, ``source``, ``recorded_on`` and ``hours_per_month``, and sections whose
    entries are ``section -> key -> region -> entry`` (the disk section:
    ``managed_disk_monthly -> storage type -> region -> size in GiB -> entry``). An entry
    is a number or an object with ``price`` and, optionally, its own ``recorded_on``,
    ``source`` and the ``query`` (Retail Prices API filter) that answered it; what an
    entry leaves out is the table's. The region ``Global`` holds a price that applies in
    every region. Each section names its unit: ``vm_hourly`` (per hour, Linux,
    pay-as-you-go), ``vm_low_priority_hourly``, ``vm_spot_hourly``,
    ``managed_disk_monthly`` (per disk and month), ``container_registry_monthly``
    (per registry and month), ``public_ip_hourly``, ``container_apps``
    (``vcpu_second``, ``gib_second``), ``private_endpoint`` and ``nat_gateway``
    (``hourly``, ``per_gb_processed``), ``bastion_hourly`` (per SKU).

    Attributes:
        data: The table as read from JSON.
        fallback: The table asked for what this one lacks (same currency), or None.
    """

    data: dict[str, Any]
    fallback: PriceTable | None = None

    @classmethod
    def load(cls, path: Path | None = None, *, fallback: PriceTable | None = None) -> PriceTable:
        """Load the table shipped with mlstart, or another file in the same format.

        Raises:
            OSError: If the file cannot be read.
            PriceTableError: If it is not JSON or not a price table.
        """
        if path is None:
            text = resources.files("mlstart_infra").joinpath("prices.json").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError as error:
            raise PriceTableError(f"not JSON ({error})") from error
        problem = table_problem(data)
        if problem:
            raise PriceTableError(problem)
        return cls(data, fallback)

    @property
    def currency(self) -> str:
        """The currency of every price in the table."""
        return str(self.data.get("currency", "USD"))

    @property
    def source(self) -> str:
        """Where the table's prices came from."""
        return str(self.data.get("source", ""))

    @property
    def recorded_on(self) -> str:
        """When the table's prices were recorded (an entry may have its own date)."""
        return str(self.data.get("recorded_on", "unknown"))

    @property
    def hours(self) -> float:
        """Hours in a month."""
        return float(self.data.get("hours_per_month", 730))

    def layers(self) -> list[PriceTable]:
        """This table, then its fallbacks, in the order prices are looked up."""
        return [self, *(self.fallback.layers() if self.fallback else [])]

    def quote(self, section: str, key: str, region: str = GLOBAL) -> Quote | None:
        """A price and its provenance: the region's, else the ``Global`` one, in each layer.

        Args:
            section: E.g. ``vm_hourly`` or ``nat_gateway``.
            key: E.g. a VM size, a SKU, or ``hourly``.
            region: An Azure region (``armRegionName``), or ``Global``.

        Returns:
            The first layer's price for it, or None when no layer records one.
        """
        for layer in self.layers():
            prices = layer.data.get(section, {}).get(key, {})
            for where in dict.fromkeys((region, GLOBAL)):
                found = layer._entry(prices.get(where))
                if found is not None:
                    return found
        return None

    def vm_quote(self, size: str, region: str, priority: str = "Regular") -> Quote | None:
        """The hourly price of a VM size, Linux, for a priority (``Regular``, ``Low``, ``Spot``)."""
        return self.quote(VM_SECTIONS[priority], size, region)

    def vm_hourly(
        self, size: str, region: str, *, low_priority: bool = False, spot: bool = False
    ) -> float | None:
        """The hourly price of a VM size in a region (None if not recorded)."""
        priority = "Spot" if spot else "Low" if low_priority else "Regular"
        found = self.vm_quote(size, region, priority)
        return found.value if found else None

    def disk_quote(self, storage_type: str, size_gb: float, region: str) -> Quote | None:
        """The monthly price of a managed disk: the smallest recorded size that fits it."""
        for layer in self.layers():
            sizes = layer.data.get(DISK_SECTION, {}).get(storage_type, {}).get(region, {})
            fitting = sorted((float(tier), tier) for tier in sizes if size_gb <= float(tier))
            for _, tier in fitting[:1]:
                found = layer._entry(sizes[tier])
                if found is not None:
                    return found
        return None

    def disk_monthly(self, storage_type: str, size_gb: float, region: str) -> float | None:
        """The monthly price of a managed disk: the smallest recorded tier that fits."""
        found = self.disk_quote(storage_type, size_gb, region)
        return found.value if found else None

    def flat(self, section: str, key: str = "hourly") -> float | None:
        """A region-independent rate, e.g. ``flat("nat_gateway")`` (None if not recorded)."""
        found = self.quote(section, key)
        return found.value if found else None

    def provenance(self, section: str) -> tuple[str, str]:
        """The source and date of the table that holds a section (entries may differ)."""
        for layer in self.layers():
            if layer.data.get(section):
                return layer.source, layer.recorded_on
        return self.source, self.recorded_on

    def _entry(self, raw: Any) -> Quote | None:
        if _is_number(raw):
            return Quote(float(raw), self.source, self.recorded_on)
        if isinstance(raw, dict) and _is_number(raw.get("price")):
            return Quote(
                float(raw["price"]),
                str(raw.get("source") or self.source),
                str(raw.get("recorded_on") or self.recorded_on),
                str(raw.get("query", "")),
            )
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def table_problem(data: Any) -> str:
    """What makes ``data`` not a price table, or "" when it is one."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for key in ("currency", "source", "recorded_on"):
        if not isinstance(data.get(key), str) or not data[key]:
            return f"no {key!r} text"
    if not _is_number(data.get("hours_per_month", 730)):
        return "'hours_per_month' is not a number"
    for section in (*SECTIONS, DISK_SECTION):
        depth = 3 if section == DISK_SECTION else 2
        problem = _section_problem(data.get(section, {}), depth, section)
        if problem:
            return problem
    return ""


def _section_problem(value: Any, depth: int, where: str) -> str:
    if depth == 0:
        ok = _is_number(value) or (isinstance(value, dict) and _is_number(value.get("price")))
        return "" if ok else f"{where} is not a price"
    if not isinstance(value, dict):
        return f"{where} is not an object"
    for key, inner in value.items():
        problem = _section_problem(inner, depth - 1, f"{where}.{key}")
        if problem:
            return problem
    return ""


@dataclass(frozen=True)
class PriceNeed:
    """A price the estimate looked up: what ``mlstart prices refresh`` fetches.

    Attributes:
        section: The table section, e.g. ``vm_hourly``.
        key: The key in it, e.g. a VM size or a SKU.
        region: The Azure region (``Global`` for region-independent prices).
    """

    section: str
    key: str
    region: str


@dataclass(frozen=True)
class _NeedsRecorder(PriceTable):
    """A table that records every lookup and answers none."""

    needs: set[PriceNeed] = field(default_factory=set)

    def quote(self, section: str, key: str, region: str = GLOBAL) -> Quote | None:
        self.needs.add(PriceNeed(section, key, region))
        return None

    def disk_quote(self, storage_type: str, size_gb: float, region: str) -> Quote | None:
        self.needs.add(PriceNeed(DISK_SECTION, storage_type, region))
        return None


def price_needs(graph: ResourceGraph) -> list[PriceNeed]:
    """Every price the estimate of ``graph`` looks up, in a stable order.

    The estimate itself is run against a table that records its lookups, so what is
    fetched is exactly what the plan prices.
    """
    recorder = _NeedsRecorder({})
    estimate(graph, prices=recorder)
    return sorted(recorder.needs, key=lambda need: (need.section, need.key, need.region))


def estimate(
    graph: ResourceGraph,
    *,
    prices: PriceTable | None = None,
    usage: UsageAssumptions | None = None,
) -> CostEstimate:
    """Estimate the monthly cost of every resource in the graph.

    Args:
        graph: The planned resources.
        prices: The price table; the one shipped with mlstart by default.
        usage: How scheduled VMs and compute instances are assumed to be used.

    Returns:
        One line per cloud resource (two for a VM or scale set: compute and OS disk), with
        totals.
    """
    table = prices if prices is not None else PriceTable.load()
    use = usage or UsageAssumptions()
    default_region = graph.config.get("azure-native:location", "")
    lines: list[CostLine] = []
    for resource in graph.cloud_resources:
        if resource.type.startswith("pulumi:"):
            continue
        component = graph.component_of(resource)
        context = _Context(table, use, graph, str(resource.get("location") or default_region))
        for line in _price(resource, context):
            line.component = component.name if component else None
            lines.append(line)
    used = sorted(
        {(line.source, line.recorded_on) for line in lines if line.recorded_on},
        key=lambda pair: (pair[1], pair[0]),
    )
    return CostEstimate(
        lines=lines,
        currency=table.currency,
        recorded_on=used[0][1] if used else table.recorded_on,
        source="; ".join(dict.fromkeys(source for source, _ in used)) or table.source,
        assumptions=[
            f"{table.hours:g} hours a month",
            f"a scheduled VM is started at {use.workday_start} on {use.workdays_per_month} "
            "days a month and stopped by its schedule",
            f"a compute instance that shuts down when idle runs {use.workday_hours:g} hours "
            "plus its idle time on each of those days",
            "scale-to-zero services cost nothing while idle; their usage is not estimated",
            "usage-based services (storage, logs, key vault) and data processed by private "
            "endpoints and NAT gateways are not estimated",
        ],
        sources=used,
    )


@dataclass(frozen=True)
class _Context:
    table: PriceTable
    usage: UsageAssumptions
    graph: ResourceGraph
    region: str


#: Prices one resource: its cost lines.
Pricer = Callable[[PlannedResource, _Context], list[CostLine]]


def _line(resource: PlannedResource, basis: Basis, description: str, **values: Any) -> CostLine:
    return CostLine(resource.azure_name, resource.type, None, basis, description, **values)


def _priced(
    resource: PlannedResource,
    quote: Quote,
    basis: Basis,
    description: str,
    monthly: tuple[float, float],
    note: str = "",
) -> CostLine:
    """A priced line: always-on and scheduled amounts, with the price's source and date."""
    always, scheduled = monthly
    return _line(resource, basis, description, always_on=_money(always),
                 scheduled=_money(scheduled), note=note, source=quote.source,
                 recorded_on=quote.recorded_on, query=quote.query)  # fmt: skip


def _unpriced(resource: PlannedResource, description: str, why: str) -> CostLine:
    return _line(resource, "unpriced", description, note=why)


def _money(value: float) -> float:
    return round(value, 2)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _price(resource: PlannedResource, ctx: _Context) -> list[CostLine]:
    pricer = _PRICERS.get(resource.type)
    if pricer is not None:
        return pricer(resource, ctx)
    if resource.type in _USAGE_BASED:
        return [_line(resource, "usage-based", resource.type.split(":")[-1],
                      always_on=0.0, scheduled=0.0, note=_USAGE_BASED[resource.type])]  # fmt: skip
    if resource.type in _FREE:
        return [_line(resource, "free", resource.type.split(":")[-1],
                      always_on=0.0, scheduled=0.0, note="no charge of its own")]  # fmt: skip
    return [_unpriced(resource, resource.type, "no price rule for this resource type")]


_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^P(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")


def iso_minutes(duration: Any) -> float | None:
    """Minutes in an ISO 8601 duration such as ``PT2M``, ``PT1H30M`` or ``P1D`` (else None)."""
    match = _DURATION.match(str(duration or ""))
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 24 * 60 + hours * 60 + minutes + seconds / 60


def _minutes_of_day(text: str) -> int:
    digits = text.replace(":", "")
    return int(digits[:2]) * 60 + int(digits[2:4])


def _daily_hours(stop: str, usage: UsageAssumptions) -> float:
    """Hours from the workday start to a daily stop time (``HHMM`` or ``HH:MM``)."""
    minutes = _minutes_of_day(stop) - _minutes_of_day(usage.workday_start)
    return (minutes % (24 * 60)) / 60


def _scheduled_hours(schedule: PlannedResource, usage: UsageAssumptions) -> float:
    stop = str(dig(schedule.inputs, "dailyRecurrence.time", "1900"))
    return _daily_hours(stop, usage) * usage.workdays_per_month


def _virtual_machine(vm: PlannedResource, ctx: _Context) -> list[CostLine]:
    size = str(vm.get("hardwareProfile.vmSize", ""))
    description = f"{size} in {ctx.region}"
    lines = []
    quote = ctx.table.vm_quote(size, ctx.region)
    if quote is None:
        lines.append(_unpriced(vm, description, f"no recorded price for {size} in {ctx.region}"))
    else:
        hourly = quote.value
        always = hourly * ctx.table.hours
        schedules = [
            s
            for s in ctx.graph.of_type(SCHEDULE)
            if str(s.get("targetResourceId", "")).lower() == (vm.id or "").lower()
            and s.get("status") != "Disabled"
        ]
        if schedules:
            hours = _scheduled_hours(schedules[0], ctx.usage)
            note = f"{hourly:g}/hour; scheduled: {hours:g} hours a month"
            scheduled = hourly * min(hours, ctx.table.hours)
        else:
            note, scheduled = f"{hourly:g}/hour; no shutdown schedule: runs until stopped", always
        lines.append(_priced(vm, quote, "compute", description, (always, scheduled), note))
    lines += _os_disk(vm, dict(vm.get("storageProfile.osDisk", {}) or {}), ctx, (1, 1))
    return lines


def _os_disk(
    resource: PlannedResource, disk: dict[str, Any], ctx: _Context, count: tuple[float, float]
) -> list[CostLine]:
    """OS disk lines: ``count`` is how many disks exist always on and when scheduled."""
    disk_type = str(dig(disk, "managedDisk.storageAccountType", "StandardSSD_LRS"))
    size_gb = float(disk.get("diskSizeGB") or 30)
    disk_line = f"OS disk {disk_type} {size_gb:g} GB in {ctx.region}"
    quote = ctx.table.disk_quote(disk_type, size_gb, ctx.region)
    if quote is None:
        return [_unpriced(resource, disk_line, f"no recorded price for {disk_line}")]
    monthly = quote.value
    most, idle = count
    if most != 1 or idle != 1:
        disk_line = f"{disk_line}, {idle:g}-{most:g} disks"
    return [
        _priced(resource, quote, "fixed", disk_line, (monthly * most, monthly * idle),
                "disks bill while their machine is stopped")
    ]  # fmt: skip


def _autoscale_range(scale_set: PlannedResource, ctx: _Context) -> tuple[float, float] | None:
    """The lowest minimum and highest maximum of the enabled autoscale settings on it."""
    profiles = [
        profile
        for setting in ctx.graph.of_type(AUTOSCALE)
        if setting.get("enabled") is True
        and str(setting.get("targetResourceUri", "")).lower() == (scale_set.id or "").lower()
        for profile in setting.get("profiles", []) or []
    ]
    if not profiles:
        return None
    low = min(_number(dig(p, "capacity.minimum")) for p in profiles)
    high = max(_number(dig(p, "capacity.maximum")) for p in profiles)
    return low, high


def _scale_set(scale_set: PlannedResource, ctx: _Context) -> list[CostLine]:
    size = str(scale_set.get("sku.name", ""))
    capacity = _number(scale_set.get("sku.capacity"))
    priority = str(scale_set.get("virtualMachineProfile.priority") or "Regular")
    scaling = _autoscale_range(scale_set, ctx)
    idle, most = scaling if scaling else (capacity, capacity)
    kind = "" if priority == "Regular" else f"{priority.lower()}-priority "
    description = f"{kind}{size} x {idle:g}-{most:g} instances in {ctx.region}"
    lines = []
    quote = ctx.table.vm_quote(size, ctx.region, priority) if priority in VM_SECTIONS else None
    if quote is None:
        why = f"no recorded {kind}price for {size} in {ctx.region}"
        lines.append(_unpriced(scale_set, description, why))
    else:
        hourly, hours = quote.value, ctx.table.hours
        how = "autoscale" if scaling else "fixed capacity, no autoscale setting"
        note = f"{hourly:g} per instance-hour; {how}: {idle:g} instances when idle"
        if priority == "Spot":
            # https://learn.microsoft.com/azure/virtual-machines/spot-vms: the spot price
            # varies with capacity, and Azure can evict a spot VM at any time.
            note += f"; spot price of {quote.recorded_on}: it changes, and VMs can be evicted"
        lines.append(_priced(scale_set, quote, "compute", description,
                             (most * hourly * hours, idle * hourly * hours), note))  # fmt: skip
    disk = dict(scale_set.get("virtualMachineProfile.storageProfile.osDisk", {}) or {})
    if most > 0:
        lines += _os_disk(scale_set, disk, ctx, (most, idle))
    return lines


def _aml_compute(compute: PlannedResource, ctx: _Context) -> list[CostLine]:
    props = compute.get("properties.properties", {}) or {}
    size = str(props.get("vmSize", ""))
    low = str(props.get("vmPriority", "Dedicated")) == "LowPriority"
    scale = props.get("scaleSettings", {}) or {}
    high_nodes = _number(scale.get("maxNodeCount"))
    low_nodes = _number(scale.get("minNodeCount"))
    kind = "low-priority " if low else ""
    description = f"{kind}{size} x 0-{high_nodes:g} nodes in {ctx.region}"
    quote = ctx.table.vm_quote(size, ctx.region, "Low" if low else "Regular")
    if quote is None:
        return [
            _unpriced(compute, description, f"no recorded {kind}price for {size} in {ctx.region}")
        ]
    hourly, hours = quote.value, ctx.table.hours
    note = f"{hourly:g} per node-hour while jobs run; idle at {low_nodes:g} nodes"
    return [
        _priced(compute, quote, "compute", description,
                (high_nodes * hourly * hours, low_nodes * hourly * hours), note)
    ]  # fmt: skip


def _instance_hours(props: dict[str, Any], usage: UsageAssumptions) -> tuple[float, str] | None:
    """Monthly hours of a compute instance that stops itself, and how (None: always on).

    With both a stop schedule and idle shutdown, whichever stops it first each day counts:
    the work ends ``workday_hours`` after the start, idle shutdown follows ``idle`` minutes
    later, unless the schedule came first.
    """
    ways: list[tuple[float, str]] = []
    for schedule in dig(props, "schedules.computeStartStop", []) or []:
        if not isinstance(schedule, Mapping) or schedule.get("action") != "Stop":
            continue
        if schedule.get("status") == "Disabled":
            continue
        stop = stop_time(schedule)
        if stop is not None:
            ways.append((_daily_hours(stop, usage),
                         f"stopped daily at {stop[:2]}:{stop[2:]} by its schedule"))  # fmt: skip
            break
    idle = iso_minutes(props.get("idleTimeBeforeShutdown"))
    if idle is not None:
        ways.append((usage.workday_hours + idle / 60, f"shuts down after {idle:g} idle minutes"))
    if not ways:
        return None
    daily, how = min(ways, key=lambda way: way[0])
    return daily * usage.workdays_per_month, how


def stop_time(schedule: Mapping[str, Any]) -> str | None:
    """``HHMM`` of a compute instance's stop schedule (recurrence or a simple cron), else None.

    Args:
        schedule: One ``computeStartStop`` entry, camelCase as the plan records it.
    """
    hours = dig(schedule, "recurrence.schedule.hours") or []
    minutes = dig(schedule, "recurrence.schedule.minutes") or [0]
    if hours:
        return f"{int(hours[0]):02d}{int(minutes[0]):02d}"
    fields = str(dig(schedule, "cron.expression", "")).split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit():
        return f"{int(fields[1]):02d}{int(fields[0]):02d}"
    return None


def _ml_compute(compute: PlannedResource, ctx: _Context) -> list[CostLine]:
    kind = compute.get("properties.computeType")
    if kind == AML_CLUSTER:
        return _aml_compute(compute, ctx)
    props = dict(compute.get("properties.properties", {}) or {})
    size = str(props.get("vmSize", ""))
    quote = ctx.table.vm_quote(size, ctx.region)
    description = f"{kind} {size} in {ctx.region}"
    if quote is None:
        return [_unpriced(compute, description, f"no recorded price for {size} in {ctx.region}")]
    hourly = quote.value
    always = hourly * ctx.table.hours
    stops = _instance_hours(props, ctx.usage) if kind == AML_INSTANCE else None
    if stops is None:
        return [_priced(compute, quote, "compute", description, (always, always),
                        f"{hourly:g}/hour; runs until stopped")]  # fmt: skip
    hours, how = stops
    note = f"{hourly:g}/hour; {how}: {hours:g} hours a month; its disk is not included"
    return [_priced(compute, quote, "compute", description,
                    (always, hourly * min(hours, ctx.table.hours)), note)]  # fmt: skip


def _online_deployment(deployment: PlannedResource, ctx: _Context) -> list[CostLine]:
    size = str(deployment.get("properties.instanceType", ""))
    count = _number(deployment.get("sku.capacity"), 1.0)
    description = f"{size} x {count:g} instances in {ctx.region}"
    quote = ctx.table.vm_quote(size, ctx.region)
    if quote is None:
        return [_unpriced(deployment, description, f"no recorded price for {size} in {ctx.region}")]
    monthly = quote.value * count * ctx.table.hours
    return [_priced(deployment, quote, "compute", description, (monthly, monthly),
                    "managed online deployments cannot scale to zero")]  # fmt: skip


def _gib(memory: Any) -> float:
    text = str(memory or "0").strip()
    number = text.rstrip("GiMB").strip()
    value = float(number or 0)
    return value / 1024 if text.endswith("Mi") else value


def _container_app(app: PlannedResource, ctx: _Context) -> list[CostLine]:
    vcpu = ctx.table.quote("container_apps", "vcpu_second", ctx.region)
    gib = ctx.table.quote("container_apps", "gib_second", ctx.region)
    containers = app.get("template.containers", []) or []
    cpu = sum(float(dig(c, "resources.cpu", 0) or 0) for c in containers)
    memory = sum(_gib(dig(c, "resources.memory", 0)) for c in containers)
    low = float(app.get("template.scale.minReplicas") or 0)
    description = f"{cpu:g} vCPU / {memory:g} GiB per replica, min {low:g} replicas"
    if vcpu is None or gib is None:
        return [_unpriced(app, description, f"no recorded Container Apps prices in {ctx.region}")]
    replica = (cpu * vcpu.value + memory * gib.value) * SECONDS_PER_MONTH
    return [_priced(app, _older(vcpu, gib), "compute", description,
                    (max(low, 1) * replica, low * replica),
                    "consumption plan; the monthly free grant is not subtracted")]  # fmt: skip


def _older(first: Quote, second: Quote) -> Quote:
    """Of two prices combined into one line, the one recorded first (its provenance)."""
    return first if first.recorded_on <= second.recorded_on else second


def _registry(registry: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(registry.get("sku.name", ""))
    quote = ctx.table.quote("container_registry_monthly", sku, ctx.region)
    description = f"{sku} registry"
    if quote is None:
        return [_unpriced(registry, description, f"no recorded price for the {sku} tier")]
    return [_priced(registry, quote, "fixed", description, (quote.value, quote.value),
                    "plus storage above the included amount")]  # fmt: skip


def _ml_registry(registry: PlannedResource, ctx: _Context) -> list[CostLine]:
    """An Azure ML registry: no charge of its own; its container registry and storage bill.

    Creating a registry provisions a storage account per region and one Azure Container
    Registry (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-registries),
    and Azure Machine Learning charges nothing beyond the resources it uses
    (https://azure.microsoft.com/en-us/pricing/details/machine-learning/): the line is that
    container registry's tier, plus storage by use.
    """
    skus = [
        dig(acr, "systemCreatedAcrAccount.acrAccountSku")
        for region in registry.get("regionDetails", []) or []
        for acr in (dig(region, "acrDetails") or [])
    ]
    # The component asks for Premium (what the registry how-to's examples use).
    sku = str(next((s for s in skus if s), "Premium"))
    quote = ctx.table.quote("container_registry_monthly", sku, ctx.region)
    description = f"ML registry ({sku} container registry)"
    if quote is None:
        return [_unpriced(registry, description, f"no recorded price for the {sku} tier")]
    return [_priced(registry, quote, "fixed", description, (quote.value, quote.value),
                    "no charge for the registry itself; its storage bills by use")]  # fmt: skip


def _public_ip(address: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(address.get("sku.name", "Standard"))
    quote = ctx.table.quote("public_ip_hourly", sku, ctx.region)
    if quote is None:
        return [_unpriced(address, f"{sku} public IP", f"no recorded price for a {sku} IP")]
    monthly = quote.value * ctx.table.hours
    return [_priced(address, quote, "fixed", f"{sku} public IP", (monthly, monthly))]


def _hourly_with_traffic(section: str, what: str) -> Pricer:
    """A pricer for a resource billed per hour plus per GB it processes (traffic not estimated)."""

    def pricer(resource: PlannedResource, ctx: _Context) -> list[CostLine]:
        quote = ctx.table.quote(section, "hourly", ctx.region)
        per_gb = ctx.table.quote(section, "per_gb_processed", ctx.region)
        if quote is None:
            return [_unpriced(resource, what, f"no recorded price for a {what}")]
        note = f"{quote.value:g}/hour, billed while it exists"
        if per_gb and per_gb.value:
            note += f"; plus {per_gb.value:g} per GB processed (not estimated)"
        monthly = quote.value * ctx.table.hours
        return [_priced(resource, quote, "fixed", what, (monthly, monthly), note)]

    return pricer


def _bastion(host: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(host.get("sku.name") or "Basic")  # Azure's default SKU
    description = f"{sku} Bastion"
    if sku == "Developer":
        # https://learn.microsoft.com/azure/bastion/configuration-settings#developer-sku:
        # "a free, lightweight SKU" on a shared pool, one VM connection at a time.
        note = "the Developer SKU has no charge (shared, one connection at a time)"
        return [_line(host, "free", description, always_on=0.0, scheduled=0.0, note=note)]
    quote = ctx.table.quote("bastion_hourly", sku, ctx.region)
    if quote is None:
        return [_unpriced(host, description, f"no recorded price for the {sku} Bastion SKU")]
    monthly = quote.value * ctx.table.hours
    note = f"{quote.value:g}/hour, billed while it exists; extra scale units not included"
    return [_priced(host, quote, "fixed", description, (monthly, monthly), note)]


_PRICERS: dict[str, Pricer] = {
    VM: _virtual_machine,
    VMSS: _scale_set,
    ML_COMPUTE: _ml_compute,
    DEPLOYMENT: _online_deployment,
    CONTAINER_APP: _container_app,
    REGISTRY: _registry,
    ML_REGISTRY: _ml_registry,
    PUBLIC_IP: _public_ip,
    PRIVATE_ENDPOINT: _hourly_with_traffic("private_endpoint", "private endpoint"),
    NAT_GATEWAY: _hourly_with_traffic("nat_gateway", "NAT gateway"),
    BASTION: _bastion,
}
