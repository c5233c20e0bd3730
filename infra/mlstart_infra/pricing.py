"""Monthly cost estimates from a dated table of list prices shipped with mlstart.

Every estimate has two figures: *always on* (everything running 730 hours a month) and
*scheduled* (VMs stopped by their shutdown schedule, clusters and serving scaled to zero).
A size or region missing from the table is listed as unpriced, never guessed; usage-based
services (storage, logs, key vault operations) are listed without an amount.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mlstart_infra.offline.graph import PlannedResource, ResourceGraph, dig

Basis = Literal["compute", "fixed", "usage-based", "free", "unpriced"]

#: Seconds in the 730-hour month Azure prices use.
SECONDS_PER_MONTH = 730 * 3600
_USAGE_BASED = {
    "azure-native:storage:StorageAccount": "pay per GB stored and per operation",
    "azure-native:keyvault:Vault": "pay per 10,000 operations",
    "azure-native:operationalinsights:Workspace": "pay per GB of logs ingested",
    "azure-native:applicationinsights:Component": "pay per GB of telemetry ingested",
}
_FREE = {
    "azure-native:resources:ResourceGroup",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:Subnet",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:NetworkInterface",
    "azure-native:compute:VirtualMachineExtension",
    "azure-native:devtestlab:GlobalSchedule",
    "azure-native:consumption:Budget",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:machinelearningservices:OnlineEndpoint",
    "azure-native:app:ManagedEnvironment",
    "azure-native:app:ContainerAppsAuthConfig",
    "azure-native:authorization:RoleAssignment",
}


@dataclass(frozen=True)
class UsageAssumptions:
    """How a scheduled VM is assumed to be used.

    Attributes:
        workday_start: When someone starts the VM (``HH:MM``); the schedule stops it.
        workdays_per_month: Days a month the VM is started.
    """

    workday_start: str = "08:00"
    workdays_per_month: int = 22


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
    """

    resource: str
    type: str
    component: str | None
    basis: Basis
    description: str
    always_on: float | None = None
    scheduled: float | None = None
    note: str = ""


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
        usage: How scheduled VMs are assumed to be used.

    Returns:
        One line per cloud resource (two for a VM: compute and OS disk), with totals.
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
            "scale-to-zero services cost nothing while idle; their usage is not estimated",
            "usage-based services (storage, logs, key vault) are not estimated",
        ],
    )


@dataclass(frozen=True)
class _Context:
    table: PriceTable
    usage: UsageAssumptions
    graph: ResourceGraph
    region: str


def _line(resource: PlannedResource, basis: Basis, description: str, **values: Any) -> CostLine:
    return CostLine(resource.azure_name, resource.type, None, basis, description, **values)


def _unpriced(resource: PlannedResource, description: str, why: str) -> CostLine:
    return _line(resource, "unpriced", description, note=why)


def _money(value: float) -> float:
    return round(value, 2)


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


def _scheduled_hours(schedule: PlannedResource, usage: UsageAssumptions) -> float:
    stop = str(dig(schedule.inputs, "dailyRecurrence.time", "1900")).replace(":", "")
    start = usage.workday_start.replace(":", "")
    stop_minutes = int(stop[:2]) * 60 + int(stop[2:4])
    start_minutes = int(start[:2]) * 60 + int(start[2:4])
    daily = ((stop_minutes - start_minutes) % (24 * 60)) / 60
    return daily * usage.workdays_per_month


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
            for s in ctx.graph.of_type("azure-native:devtestlab:GlobalSchedule")
            if str(s.get("targetResourceId", "")).lower() == (vm.id or "").lower()
            and s.get("status") != "Disabled"
        ]
        if schedules:
            hours = _scheduled_hours(schedules[0], ctx.usage)
            note = f"{hourly:g}/hour; scheduled: {hours:g} hours a month"
            scheduled = hourly * min(hours, ctx.table.hours)
        else:
            note, scheduled = f"{hourly:g}/hour; no shutdown schedule: runs until stopped", always
        lines.append(
            _line(vm, "compute", description, always_on=_money(always),
                  scheduled=_money(scheduled), note=note)
        )  # fmt: skip
    disk = vm.get("storageProfile.osDisk", {}) or {}
    disk_type = str(dig(disk, "managedDisk.storageAccountType", "StandardSSD_LRS"))
    size_gb = float(disk.get("diskSizeGB") or 30)
    disk_line = f"OS disk {disk_type} {size_gb:g} GB in {ctx.region}"
    monthly = ctx.table.disk_monthly(disk_type, size_gb, ctx.region)
    if monthly is None:
        lines.append(_unpriced(vm, disk_line, f"no recorded price for {disk_line}"))
    else:
        lines.append(
            _line(vm, "fixed", disk_line, always_on=monthly, scheduled=monthly,
                  note="disks bill while the VM is stopped")
        )  # fmt: skip
    return lines


def _aml_compute(compute: PlannedResource, ctx: _Context) -> list[CostLine]:
    props = compute.get("properties.properties", {}) or {}
    size = str(props.get("vmSize", ""))
    low = str(props.get("vmPriority", "Dedicated")) == "LowPriority"
    scale = props.get("scaleSettings", {}) or {}
    high_nodes = float(scale.get("maxNodeCount") or 0)
    low_nodes = float(scale.get("minNodeCount") or 0)
    kind = "low-priority " if low else ""
    description = f"{kind}{size} x 0-{high_nodes:g} nodes in {ctx.region}"
    hourly = ctx.table.vm_hourly(size, ctx.region, low_priority=low)
    if hourly is None:
        return [
            _unpriced(compute, description, f"no recorded {kind}price for {size} in {ctx.region}")
        ]
    hours = ctx.table.hours
    return [
        _line(compute, "compute", description,
              always_on=_money(high_nodes * hourly * hours),
              scheduled=_money(low_nodes * hourly * hours),
              note=f"{hourly:g} per node-hour while jobs run; idle at {low_nodes:g} nodes")
    ]  # fmt: skip


def _ml_compute(compute: PlannedResource, ctx: _Context) -> list[CostLine]:
    if compute.get("properties.computeType") == "AmlCompute":
        return _aml_compute(compute, ctx)
    size = str(compute.get("properties.properties.vmSize", ""))
    hourly = ctx.table.vm_hourly(size, ctx.region)
    description = f"{compute.get('properties.computeType')} {size} in {ctx.region}"
    if hourly is None:
        return [_unpriced(compute, description, f"no recorded price for {size} in {ctx.region}")]
    always = _money(hourly * ctx.table.hours)
    return [_line(compute, "compute", description, always_on=always, scheduled=always,
                  note="runs until stopped")]  # fmt: skip


def _online_deployment(deployment: PlannedResource, ctx: _Context) -> list[CostLine]:
    size = str(deployment.get("properties.instanceType", ""))
    count = float(deployment.get("sku.capacity") or 1)
    description = f"{size} x {count:g} instances in {ctx.region}"
    hourly = ctx.table.vm_hourly(size, ctx.region)
    if hourly is None:
        return [_unpriced(deployment, description, f"no recorded price for {size} in {ctx.region}")]
    monthly = _money(hourly * count * ctx.table.hours)
    return [_line(deployment, "compute", description, always_on=monthly, scheduled=monthly,
                  note="managed online deployments cannot scale to zero")]  # fmt: skip


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
    return [_line(app, "compute", description, always_on=_money(max(low, 1) * replica),
                  scheduled=_money(low * replica),
                  note="consumption plan; the monthly free grant is not subtracted")]  # fmt: skip


def _registry(registry: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(registry.get("sku.name", ""))
    monthly = ctx.table.data.get("container_registry_monthly", {}).get(sku)
    description = f"{sku} registry"
    if monthly is None:
        return [_unpriced(registry, description, f"no recorded price for the {sku} tier")]
    note = "plus storage above the included amount"
    price = float(monthly)
    return [_line(registry, "fixed", description, always_on=price, scheduled=price, note=note)]


def _public_ip(address: PlannedResource, ctx: _Context) -> list[CostLine]:
    sku = str(address.get("sku.name", "Standard"))
    hourly = ctx.table.data.get("public_ip_hourly", {}).get(sku)
    if hourly is None:
        return [_unpriced(address, f"{sku} public IP", f"no recorded price for a {sku} IP")]
    monthly = _money(float(hourly) * ctx.table.hours)
    return [_line(address, "fixed", f"{sku} public IP", always_on=monthly, scheduled=monthly)]


_PRICERS = {
    "azure-native:compute:VirtualMachine": _virtual_machine,
    "azure-native:machinelearningservices:Compute": _ml_compute,
    "azure-native:machinelearningservices:OnlineDeployment": _online_deployment,
    "azure-native:app:ContainerApp": _container_app,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:network:PublicIPAddress": _public_ip,
}
