"""Monthly cost estimates from a dated table of list prices shipped with mlstart.

Every estimate has two figures: *always on* (everything running 730 hours a month) and
*scheduled* (VMs stopped by their shutdown schedule, clusters and serving scaled to zero).
A size or region missing from the table is listed as unpriced, never guessed; usage-based
services (storage, logs, key vault operations) are listed without an amount.
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
    LOG_ANALYTICS,
    ML_COMPUTE,
    ML_MODEL_CONTAINER,
    ML_MODEL_VERSION,
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
    SCHEDULE,
    STORAGE,
    SUBNET,
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
    AUTOSCALE,
    BLOB_SERVICE,
    BLOB_CONTAINER,
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


@dataclass
class CostEstimate:
    """The monthly estimate for a whole plan."""

    lines: list[CostLine]
    currency: str
    recorded_on: str
    source: str
    assumptions: list[str] = field(default_factory=list)

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
            "assumptions": list(self.assumptions),
            "total_always_on": self.total_always_on,
            "total_scheduled": self.total_scheduled,
            "unpriced": [line.resource for line in self.unpriced],
            "lines": [asdict(line) for line in self.lines],
        }


@dataclass(frozen=True)
class PriceTable:
    """The dated list prices (see ``prices.json`` for the format)."""

    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> PriceTable:
        """Load the table shipped with mlstart, or another file in the same format."""
        if path is None:
            text = resources.files("mlstart_infra").joinpath("prices.json").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls(json.loads(text))

    @property
    def hours(self) -> float:
        """Hours in a month."""
        return float(self.data.get("hours_per_month", 730))

    def vm_hourly(self, size: str, region: str, *, low_priority: bool = False) -> float | None:
        """The hourly price of a VM size in a region (None if not recorded)."""
        table = self.data.get("vm_low_priority_hourly" if low_priority else "vm_hourly", {})
        price = table.get(size, {}).get(region)
        return float(price) if price is not None else None

    def disk_monthly(self, storage_type: str, size_gb: float, region: str) -> float | None:
        """The monthly price of a managed disk: the smallest recorded tier that fits."""
        table = self.data.get("managed_disk_monthly", {}).get(storage_type)
        if not table or region not in table:
            return None
        for tier, price in zip(table["sizes_gb"], table[region], strict=True):
            if size_gb <= tier:
                return float(price)
        return None

    def flat(self, section: str, key: str = "hourly") -> float | None:
        """A region-independent rate, e.g. ``flat("nat_gateway")`` (None if not recorded)."""
        value = self.data.get(section, {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    def provenance(self, section: str) -> tuple[str, str]:
        """The source and date of a section's prices: its own, else the table's."""
        own = self.data.get(section, {})
        own = own if isinstance(own, dict) else {}
        return (
            str(own.get("source") or self.data.get("source", "")),
            str(own.get("recorded_on") or self.data.get("recorded_on", "unknown")),
        )


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
    table = prices or PriceTable.load()
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
    return CostEstimate(
        lines=lines,
        currency=str(table.data.get("currency", "USD")),
        recorded_on=str(table.data.get("recorded_on", "unknown")),
        source=str(table.data.get("source", "")),
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
    ctx: _Context,
    section: str,
    basis: Basis,
    description: str,
    monthly: tuple[float, float],
    note: str = "",
) -> CostLine:
    """A priced line: always-on and scheduled amounts, with the section's source and date."""
    source, recorded_on = ctx.table.provenance(section)
    always, scheduled = monthly
    return _line(resource, basis, description, always_on=_money(always),
                 scheduled=_money(scheduled), note=note, source=source,
                 recorded_on=recorded_on)  # fmt: skip


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
    hourly = ctx.table.vm_hourly(size, ctx.region)
    if hourly is None:
        lines.append(_unpriced(vm, description, f"no recorded price for {size} in {ctx.region}"))
    else:
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
        lines.append(_priced(vm, ctx, "vm_hourly", "compute", description, (always, scheduled),
                             note))  # fmt: skip
    lines += _os_disk(vm, dict(vm.get("storageProfile.osDisk", {}) or {}), ctx, (1, 1))
    return lines


def _os_disk(
    resource: PlannedResource, disk: dict[str, Any], ctx: _Context, count: tuple[float, float]
) -> list[CostLine]:
    """OS disk lines: ``count`` is how many disks exist always on and when scheduled."""
    disk_type = str(dig(disk, "managedDisk.storageAccountType", "StandardSSD_LRS"))
    size_gb = float(disk.get("diskSizeGB") or 30)
    disk_line = f"OS disk {disk_type} {size_gb:g} GB in {ctx.region}"
    monthly = ctx.table.disk_monthly(disk_type, size_gb, ctx.region)
    if monthly is None:
        return [_unpriced(resource, disk_line, f"no recorded price for {disk_line}")]
    most, idle = count
    if most != 1 or idle != 1:
        disk_line = f"{disk_line}, {idle:g}-{most:g} disks"
    return [
        _priced(resource, ctx, "managed_disk_monthly", "fixed", disk_line,
                (monthly * most, monthly * idle), "disks bill while their machine is stopped")
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
    hourly = (
        None
        if priority == "Spot"  # spot prices follow demand: not in the table
        else ctx.table.vm_hourly(size, ctx.region, low_priority=priority == "Low")
    )
    if hourly is None:
        why = f"no recorded {kind}price for {size} in {ctx.region}"
        lines.append(_unpriced(scale_set, description, why))
    else:
        hours = ctx.table.hours
        how = "autoscale" if scaling else "fixed capacity, no autoscale setting"
        note = f"{hourly:g} per instance-hour; {how}: {idle:g} instances when idle"
        section = "vm_hourly" if priority == "Regular" else "vm_low_priority_hourly"
        lines.append(_priced(scale_set, ctx, section, "compute", description,
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
    hourly = ctx.table.vm_hourly(size, ctx.region, low_priority=low)
    if hourly is None:
        return [
            _unpriced(compute, description, f"no recorded {kind}price for {size} in {ctx.region}")
        ]
    hours = ctx.table.hours
    section = "vm_low_priority_hourly" if low else "vm_hourly"
    note = f"{hourly:g} per node-hour while jobs run; idle at {low_nodes:g} nodes"
    return [
        _priced(compute, ctx, section, "compute", description,
                (high_nodes * hourly * hours, low_nodes * hourly * hours), note)
    ]  # fmt: skip


def _instance_hours(props: dict[str, Any], usage: UsageAssumptions) -> tuple[float, str] | None:
    """Monthly hours of a compute instance that stops itself, and how (None: always on)."""
    for schedule in dig(props, "schedules.computeStartStop", []) or []:
        if not isinstance(schedule, Mapping) or schedule.get("action") != "Stop":
            continue
        if schedule.get("status") == "Disabled":
            continue
        stop = _stop_time(schedule)
        if stop is not None:
            hours = _daily_hours(stop, usage) * usage.workdays_per_month
            return hours, f"stopped daily at {stop[:2]}:{stop[2:]} by its schedule"
    idle = iso_minutes(props.get("idleTimeBeforeShutdown"))
    if idle is None:
        return None
    daily = usage.workday_hours + idle / 60
    return daily * usage.workdays_per_month, f"shuts down after {idle:g} idle minutes"


def _stop_time(schedule: Mapping[str, Any]) -> str | None:
    """``HHMM`` of a daily stop schedule (recurrence or a simple cron), else None."""
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
    hourly = ctx.table.vm_hourly(size, ctx.region)
    description = f"{kind} {size} in {ctx.region}"
    if hourly is None:
        return [_unpriced(compute, description, f"no recorded price for {size} in {ctx.region}")]
    always = hourly * ctx.table.hours
    stops = _instance_hours(props, ctx.usage) if kind == AML_INSTANCE else None
    if stops is None:
        return [_priced(compute, ctx, "vm_hourly", "compute", description, (always, always),
                        f"{hourly:g}/hour; runs until stopped")]  # fmt: skip
    hours, how = stops
    note = f"{hourly:g}/hour; {how}: {hours:g} hours a month; its disk is not included"
    return [_priced(compute, ctx, "vm_hourly", "compute", description,
                    (always, hourly * min(hours, ctx.table.hours)), note)]  # fmt: skip


def _online_deployment(deployment: PlannedResource, ctx: _Context) -> list[CostLine]:
    size = str(deployment.get("properties.instanceType", ""))
    count = _number(deployment.get("sku.capacity"), 1.0)
    description = f"{size} x {count:g} instances in {ctx.region}"
    hourly = ctx.table.vm_hourly(size, ctx.region)
    if hourly is None:
        return [_unpriced(deployment, description, f"no recorded price for {size} in {ctx.region}")]
    monthly = hourly * count * ctx.table.hours
    return [_priced(deployment, ctx, "vm_hourly", "compute", description, (monthly, monthly),
                    "managed online deployments cannot scale to zero")]  # fmt: skip


def _gib(memory: Any) -> float:
    text = str(memory or "0").strip()
    number = text.rstrip("GiMB").strip()
    value = float(number or 0)
    return value / 1024 if text.endswith("Mi") else value


def _container_app(app: PlannedResource, ctx: _Context) -> list[CostLine]:
    rates = ctx.table.data.get("container_apps", {})
    containers = app.get("template.containers", []) or []
    cpu = sum(float(dig(c, "resources.cpu", 0) or 0) for c in containers)
    memory = sum(_gib(dig(c, "resources.memory", 0)) for c in containers)
    replica = cpu * rates.get("vcpu_second", 0) + memory * rates.get("gib_second", 0)
    replica *= SECONDS_PER_MONTH
    low = float(app.get("template.scale.minReplicas") or 0)
    description = f"{cpu:g} vCPU / {memory:g} GiB per replica, min {low:g} replicas"
    if not rates:
        return [_unpriced(app, description, "no recorded Container Apps prices")]
    return [_priced(app, ctx, "container_apps", "compute", description,
                    (max(low, 1) * replica, low * replica),
                    "consumption plan; the monthly free grant is not subtracted")]  # fmt: skip


def _registry(registry: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(registry.get("sku.name", ""))
    monthly = ctx.table.data.get("container_registry_monthly", {}).get(sku)
    description = f"{sku} registry"
    if monthly is None:
        return [_unpriced(registry, description, f"no recorded price for the {sku} tier")]
    price = float(monthly)
    return [_priced(registry, ctx, "container_registry_monthly", "fixed", description,
                    (price, price), "plus storage above the included amount")]  # fmt: skip


def _public_ip(address: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(address.get("sku.name", "Standard"))
    hourly = ctx.table.data.get("public_ip_hourly", {}).get(sku)
    if hourly is None:
        return [_unpriced(address, f"{sku} public IP", f"no recorded price for a {sku} IP")]
    monthly = float(hourly) * ctx.table.hours
    return [_priced(address, ctx, "public_ip_hourly", "fixed", f"{sku} public IP",
                    (monthly, monthly))]  # fmt: skip


def _hourly_with_traffic(section: str, what: str) -> Pricer:
    """A pricer for a resource billed per hour plus per GB it processes (traffic not estimated)."""

    def pricer(resource: PlannedResource, ctx: _Context) -> list[CostLine]:
        hourly = ctx.table.flat(section)
        if hourly is None:
            return [_unpriced(resource, what, f"no recorded price for a {what}")]
        note = f"{hourly:g}/hour, billed while it exists"
        per_gb = ctx.table.flat(section, "per_gb_processed")
        if per_gb:
            note += f"; plus {per_gb:g} per GB processed (not estimated)"
        monthly = hourly * ctx.table.hours
        return [_priced(resource, ctx, section, "fixed", what, (monthly, monthly), note)]

    return pricer


def _bastion(host: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(host.get("sku.name") or "Basic")  # Azure's default SKU
    description = f"{sku} Bastion"
    hourly = (ctx.table.data.get("bastion", {}).get("hourly", {}) or {}).get(sku)
    if hourly is None:
        return [_unpriced(host, description, f"no recorded price for the {sku} Bastion SKU")]
    if float(hourly) == 0:
        note = "the Developer SKU has no charge (shared, one connection at a time)"
        return [_line(host, "free", description, always_on=0.0, scheduled=0.0, note=note)]
    monthly = float(hourly) * ctx.table.hours
    note = f"{float(hourly):g}/hour, billed while it exists; extra scale units not included"
    return [_priced(host, ctx, "bastion", "fixed", description, (monthly, monthly), note)]


_PRICERS: dict[str, Pricer] = {
    VM: _virtual_machine,
    VMSS: _scale_set,
    ML_COMPUTE: _ml_compute,
    DEPLOYMENT: _online_deployment,
    CONTAINER_APP: _container_app,
    REGISTRY: _registry,
    PUBLIC_IP: _public_ip,
    PRIVATE_ENDPOINT: _hourly_with_traffic("private_endpoint", "private endpoint"),
    NAT_GATEWAY: _hourly_with_traffic("nat_gateway", "NAT gateway"),
    BASTION: _bastion,
}
