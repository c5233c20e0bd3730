"""What the current month costs one compute resource, from what it runs now and what it ran.

``mlstart status`` reads each compute resource's live state (machines running, nodes,
replicas, and since when) and asks: at the price table's list prices, what does this month
cost if the resource stays as it is? The answer has two parts:

- **so far**: from the start of the month, or from when the resource was created if later,
  until now, as far as its history is known. What is known is a :class:`Timeline`: the
  number of running units from each change on. Before its first change nothing is known,
  and that time is not counted (the figure is then a lower bound, and says so).
- **the rest of the month**: the units running now, until the month ends.

Fixed monthly charges (a VM's OS disk bills while the VM is stopped) accrue for every hour
the resource exists, prorated by the month's real length. Pure standard library and the
price table: the clock is a parameter, so the arithmetic is tested on fixed dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlstart_infra.components.catalog import AML_CLUSTER, CONTAINER_APP, DEPLOYMENT, ML_COMPUTE, VM
from mlstart_infra.offline.graph import dig
from mlstart_infra.pricing import PriceTable
from mlstart_infra.pricing import _gib as _gib  # memory strings such as "2Gi", as priced

_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class UnitRate:
    """What one running unit of a resource costs, and what it costs just by existing.

    Attributes:
        unit: What runs: ``machine``, ``node``, ``instance`` or ``replica``.
        hourly: List price per running unit and hour; None when the table has none.
        fixed_monthly: Charged per month whatever runs (a VM's OS disk), else 0.
        description: What was priced, e.g. ``Standard_NC4as_T4_v3 in westeurope``.
        note: Why it is unpriced, or what is left out.
    """

    unit: str
    hourly: float | None
    fixed_monthly: float = 0.0
    description: str = ""
    note: str = ""


@dataclass(frozen=True)
class Timeline:
    """How many units ran from each known change on, oldest first.

    Before the first change the history is unknown. ``Timeline(((since, n),))`` says only:
    ``n`` units have run since ``since``.
    """

    changes: tuple[tuple[dt.datetime, float], ...]

    @property
    def known_from(self) -> dt.datetime:
        """From when the history is known."""
        return self.changes[0][0]

    @property
    def running(self) -> float:
        """The units running now (after the last change)."""
        return self.changes[-1][1]


@dataclass(frozen=True)
class MonthCost:
    """This month's cost of one resource if it stays in its present state.

    Attributes:
        month_start: The first instant of the month (UTC).
        month_end: The first instant of the next month (UTC).
        counted_from: From when ``so_far`` counts running units.
        complete: Whether ``so_far`` covers all of the month the resource existed; when
            False the time before ``counted_from`` is unknown and not counted.
        so_far: The cost from the month's start (or the resource's creation) until now.
        rest: The cost from now to the month's end at the present state.
    """

    month_start: dt.datetime
    month_end: dt.datetime
    counted_from: dt.datetime
    complete: bool
    so_far: float
    rest: float

    @property
    def total(self) -> float:
        """So far plus the rest of the month."""
        return round(self.so_far + self.rest, 2)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "month_start": self.month_start.isoformat(),
            "month_end": self.month_end.isoformat(),
            "counted_from": self.counted_from.isoformat(),
            "complete": self.complete,
            "so_far": self.so_far,
            "rest_of_month": self.rest,
            "total": self.total,
        }


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC month ``now`` falls in: its first instant and the next month's first instant.

    Raises:
        ValueError: If ``now`` has no time zone.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    utc = now.astimezone(dt.UTC)
    start = utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def month_cost(
    rate: UnitRate,
    timeline: Timeline,
    now: dt.datetime,
    *,
    created: dt.datetime | None = None,
) -> MonthCost | None:
    """This month's cost at ``rate`` if the resource keeps running what it runs now.

    Args:
        rate: The resource's prices.
        timeline: The units it ran from each known change on; changes after ``now`` are
            ignored.
        now: The current time (aware).
        created: When the resource was created, if known; nothing is counted before it.

    Returns:
        The cost so far and for the rest of the month, or None when the rate is unpriced.
    """
    if rate.hourly is None:
        return None
    start, end = month_bounds(now)
    exists_from = max(start, created) if created is not None else start
    exists_from = min(exists_from, now)
    counted_from = max(exists_from, timeline.known_from)
    changes = [(when, units) for when, units in timeline.changes if when <= now]
    running_now = changes[-1][1] if changes else timeline.changes[0][1]
    so_far = 0.0
    for index, (when, units) in enumerate(changes):
        until = changes[index + 1][0] if index + 1 < len(changes) else now
        begin = max(when, counted_from)
        if until > begin:
            so_far += units * rate.hourly * ((until - begin) / _HOUR)
    month = end - start
    so_far += rate.fixed_monthly * ((now - exists_from) / month)
    rest = running_now * rate.hourly * ((end - now) / _HOUR)
    rest += rate.fixed_monthly * ((end - now) / month)
    return MonthCost(
        month_start=start,
        month_end=end,
        counted_from=counted_from,
        complete=timeline.known_from <= exists_from,
        so_far=round(so_far, 2),
        rest=round(rest, 2),
    )


def unit_rate(
    type_token: str, inputs: Mapping[str, Any], region: str, table: PriceTable
) -> UnitRate | None:
    """The price of one running unit of a compute resource, from its Pulumi inputs.

    The inputs are those the plan records and the stack's state keeps (camelCase), so the
    rate follows what was deployed. Sizes or regions missing from the table are unpriced,
    never guessed.

    Args:
        type_token: The resource's type token.
        inputs: Its inputs.
        region: Its region (``location``).
        table: The price table (``PriceTable.load()`` is the one the plan uses).

    Returns:
        The rate, or None for a type that runs nothing by itself (an endpoint, a network).
    """
    if type_token == VM:
        size = str(dig(inputs, "hardwareProfile.vmSize", ""))
        disk = dig(inputs, "storageProfile.osDisk", {}) or {}
        disk_type = str(dig(disk, "managedDisk.storageAccountType", "StandardSSD_LRS"))
        disk_monthly = table.disk_monthly(disk_type, float(disk.get("diskSizeGB") or 30), region)
        note = "" if disk_monthly is not None else f"no recorded price for its {disk_type} disk"
        return _rate("machine", table.vm_hourly(size, region), size, region,
                     disk_monthly or 0.0, note)  # fmt: skip
    if type_token == ML_COMPUTE:
        props = dig(inputs, "properties.properties", {}) or {}
        size = str(props.get("vmSize", ""))
        if dig(inputs, "properties.computeType") == AML_CLUSTER:
            low = props.get("vmPriority") == "LowPriority"
            hourly = table.vm_hourly(size, region, low_priority=low)
            return _rate("node", hourly, size, region, 0.0, "")
        return _rate("machine", table.vm_hourly(size, region), size, region, 0.0,
                     "its OS disk is not included")  # fmt: skip
    if type_token == DEPLOYMENT:
        size = str(dig(inputs, "properties.instanceType", ""))
        return _rate("instance", table.vm_hourly(size, region), size, region, 0.0, "")
    if type_token == CONTAINER_APP:
        return _replica_rate(inputs, region, table)
    return None


def _rate(
    unit: str, hourly: float | None, size: str, region: str, fixed: float, note: str
) -> UnitRate:
    description = f"{size} in {region}"
    if hourly is None:
        note = f"no recorded price for {size} in {region}"
    return UnitRate(unit, hourly, fixed, description, note)


def _replica_rate(inputs: Mapping[str, Any], region: str, table: PriceTable) -> UnitRate:
    vcpu = table.quote("container_apps", "vcpu_second", region)
    gib = table.quote("container_apps", "gib_second", region)
    containers: Sequence[Any] = dig(inputs, "template.containers", []) or []
    cpu = sum(float(dig(c, "resources.cpu", 0) or 0) for c in containers)
    memory = sum(_gib(dig(c, "resources.memory", 0)) for c in containers)
    description = f"{cpu:g} vCPU / {memory:g} GiB per replica"
    if vcpu is None or gib is None:
        return UnitRate("replica", None, 0.0, description,
                        f"no recorded Container Apps prices in {region}")  # fmt: skip
    hourly = (cpu * vcpu.value + memory * gib.value) * 3600
    return UnitRate("replica", hourly, 0.0, description,
                    "consumption plan; the monthly free grant is not subtracted")  # fmt: skip
