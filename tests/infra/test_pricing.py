"""Monthly estimates: from the dated table, always-on vs scheduled, unknown sizes unpriced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.pricing import PriceNeed, PriceTable, UsageAssumptions, estimate, price_needs

TABLE = PriceTable.load()
#: The template's default workstation and cluster sizes, and a common general-purpose one.
DEFAULT_SIZES = ("Standard_NC4as_T4_v3", "Standard_D4s_v5", "Standard_D4s_v3")
REGIONS = ("westeurope", "eastus", "uksouth")


def test_table_is_dated_and_covers_the_default_sizes() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", TABLE.data["recorded_on"])
    assert "list prices" in TABLE.data["source"]
    for size in DEFAULT_SIZES:
        for region in REGIONS:
            price = TABLE.vm_hourly(size, region)
            assert price is not None and 0 < price < 50, (size, region)


def _resource(
    type_: str, name: str, *, rid: str | None = None, **inputs: object
) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:{name}", type=f"azure-native:{type_}", name=name, azure_name=name,
        custom=True, inputs=inputs, id=rid or f"/id/{name}",
    )  # fmt: skip


def _vm(size: str, region: str = "westeurope", disk: str = "Premium_LRS") -> PlannedResource:
    return _resource(
        "compute:VirtualMachine", "vm", location=region, hardwareProfile={"vmSize": size},
        storageProfile={"osDisk": {"diskSizeGB": 128, "managedDisk": {"storageAccountType": disk}}},
    )  # fmt: skip


def _schedule(time: str = "1900") -> PlannedResource:
    return _resource(
        "devtestlab:GlobalSchedule", "shutdown-computevm-vm", targetResourceId="/id/vm",
        taskType="ComputeVmShutdownTask", dailyRecurrence={"time": time},
    )  # fmt: skip


def _graph(*resources: PlannedResource) -> ResourceGraph:
    return ResourceGraph("p", "dev", list(resources), config={"azure-native:location": "eastus"})


def test_scheduled_vm_costs_its_working_hours_only() -> None:
    cost = estimate(_graph(_vm("Standard_NC4as_T4_v3"), _schedule("1900")))
    compute, disk = cost.lines[0], cost.lines[1]
    hourly = TABLE.vm_hourly("Standard_NC4as_T4_v3", "westeurope")
    assert hourly is not None
    assert compute.always_on == pytest.approx(hourly * 730, abs=0.01)
    assert compute.scheduled == pytest.approx(hourly * 11 * 22, abs=0.01)  # 08:00-19:00
    assert disk.always_on == disk.scheduled == TABLE.disk_monthly("Premium_LRS", 128, "westeurope")
    assert cost.total_always_on == pytest.approx(compute.always_on + disk.always_on, abs=0.01)
    assert cost.total_scheduled < cost.total_always_on / 2


def test_vm_without_schedule_costs_the_same_both_ways() -> None:
    (compute, _disk) = estimate(_graph(_vm("Standard_D4s_v3"))).lines
    assert compute.scheduled == compute.always_on
    assert "no shutdown schedule" in compute.note


def test_schedule_past_midnight_and_other_assumptions() -> None:
    usage = UsageAssumptions(workday_start="09:00", workdays_per_month=20)
    graph = _graph(_vm("Standard_D4s_v3"), _schedule("0100"))
    compute = estimate(graph, usage=usage).lines[0]
    hourly = TABLE.vm_hourly("Standard_D4s_v3", "westeurope")
    assert hourly is not None
    assert compute.scheduled == pytest.approx(hourly * 16 * 20, abs=0.01)  # 09:00 -> 01:00


@pytest.mark.parametrize(("size", "region"), [("Standard_ND96_Imaginary_v9", "westeurope"),
                                              ("Standard_NC4as_T4_v3", "antarctica")])  # fmt: skip
def test_unknown_sizes_and_regions_are_unpriced_not_guessed(size: str, region: str) -> None:
    cost = estimate(_graph(_vm(size, region)))
    compute = cost.lines[0]
    assert compute.basis == "unpriced"
    assert compute.always_on is None and compute.scheduled is None
    assert size in compute.note or region in compute.note
    assert cost.unpriced[0] is compute
    assert cost.total_always_on == sum(line.always_on or 0 for line in cost.lines[1:])


def _cluster(low_priority: bool = False, minimum: int = 0) -> PlannedResource:
    props = {
        "vmSize": "Standard_NC4as_T4_v3",
        "vmPriority": "LowPriority" if low_priority else "Dedicated",
        "scaleSettings": {"minNodeCount": minimum, "maxNodeCount": 3.0},
    }
    return _resource("machinelearningservices:Compute", "train",
                     properties={"computeType": "AmlCompute", "properties": props})  # fmt: skip


def test_cluster_costs_nothing_idle_and_max_nodes_always_on() -> None:
    (line,) = estimate(_graph(_cluster())).lines
    hourly = TABLE.vm_hourly("Standard_NC4as_T4_v3", "eastus")
    assert hourly is not None
    assert line.always_on == pytest.approx(3 * hourly * 730, abs=0.01)
    assert line.scheduled == 0
    (pinned,) = estimate(_graph(_cluster(minimum=1))).lines
    assert pinned.scheduled == pytest.approx(hourly * 730, abs=0.01)


def test_low_priority_without_a_recorded_price_is_unpriced() -> None:
    (line,) = estimate(_graph(_cluster(low_priority=True))).lines
    assert line.basis == "unpriced"
    assert "low-priority" in line.note


def test_low_priority_prices_come_from_their_own_table(tmp_path: Path) -> None:
    data = json.loads(json.dumps(TABLE.data))
    data["vm_low_priority_hourly"] = {"Standard_NC4as_T4_v3": {"eastus": 0.1}}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    (line,) = estimate(_graph(_cluster(low_priority=True)), prices=PriceTable.load(path)).lines
    assert (line.basis, line.always_on, line.scheduled) == ("compute", 219.0, 0)


def test_container_app_scales_to_zero_and_usage_based_services_have_no_amount() -> None:
    app = _resource("app:ContainerApp", "app",
                    template={"containers": [{"resources": {"cpu": 0.5, "memory": "1Gi"}}],
                              "scale": {"minReplicas": 0}})  # fmt: skip
    storage = _resource("storage:StorageAccount", "st")
    mystery = _resource("cdn:Profile", "cdn")
    lines = {line.resource: line for line in estimate(_graph(app, storage, mystery)).lines}
    vcpu, gib = (
        TABLE.quote("container_apps", key, "eastus") for key in ("vcpu_second", "gib_second")
    )
    assert vcpu is not None and gib is not None
    per_replica = (0.5 * vcpu.value + 1 * gib.value) * 730 * 3600
    assert lines["app"].always_on == pytest.approx(per_replica, abs=0.01)
    assert lines["app"].scheduled == 0
    assert lines["st"].basis == "usage-based"
    assert lines["cdn"].basis == "unpriced"


def test_a_custom_price_table_changes_the_estimate(tmp_path: Path) -> None:
    data = json.loads(json.dumps(TABLE.data))
    data["vm_hourly"]["Standard_D4s_v3"]["westeurope"] = 1.0
    data["recorded_on"] = "2030-01-01"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    cost = estimate(_graph(_vm("Standard_D4s_v3")), prices=PriceTable.load(path))
    compute, disk = cost.lines
    assert compute.always_on == 730.0
    assert compute.recorded_on == "2030-01-01"  # a plain number: the table's date
    assert cost.to_dict()["prices_recorded_on"] == disk.recorded_on == "2026-11-23"  # oldest
    assert cost.sources == [(TABLE.source, "2026-11-23"), (TABLE.source, "2030-01-01")]


def test_retired_sizes_are_gone_and_every_price_is_dated_with_its_query() -> None:
    assert TABLE.vm_hourly("Standard_NC6s_v3", "eastus") is None  # NCv3 retired 2025-09-30
    assert any("NC6s_v3" in note for note in TABLE.data["notes"])
    # DS3_v2 had Dv2's D3_v2 rate: fixed where known, unpriced (not guessed) elsewhere.
    assert TABLE.vm_hourly("Standard_DS3_v2", "eastus") == 0.293
    assert TABLE.vm_hourly("Standard_DS3_v2", "westeurope") is None
    entries = 0
    for section in (
        "vm_hourly",
        "container_registry_monthly",
        "public_ip_hourly",
        "container_apps",
        "private_endpoint",
        "nat_gateway",
        "bastion_hourly",
    ):
        for key, regions in TABLE.data[section].items():
            for region in regions:
                quote = TABLE.quote(section, key, region)
                assert quote is not None and quote.source == TABLE.source
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", quote.recorded_on), (section, key)
                assert "priceType eq 'Consumption'" in quote.query
                entries += 1
    assert entries > 30


def test_priced_lines_carry_their_source_date_and_query() -> None:
    pe = _resource("network:PrivateEndpoint", "pe")
    cost = estimate(_graph(_vm("Standard_D4s_v3"), pe))
    compute, disk, endpoint = cost.lines
    for line, quote in ((compute, TABLE.vm_quote("Standard_D4s_v3", "westeurope")),
                        (disk, TABLE.disk_quote("Premium_LRS", 128, "westeurope")),
                        (endpoint, TABLE.quote("private_endpoint", "hourly"))):  # fmt: skip
        assert quote is not None
        assert (line.source, line.recorded_on, line.query) == (
            quote.source,
            quote.recorded_on,
            quote.query,
        )
    assert endpoint.recorded_on == "2026-11-24" != compute.recorded_on
    assert cost.recorded_on == compute.recorded_on  # the oldest price used
    (free,) = estimate(_graph(_resource("network:VirtualNetwork", "v"))).lines
    assert (free.basis, free.source) == ("free", "")


def test_a_cache_layer_wins_where_it_has_a_price_and_the_table_below_answers_the_rest() -> None:
    fetched = {"currency": "USD", "source": "the cache", "recorded_on": "2026-12-01",
               "vm_hourly": {"Standard_D4s_v3": {"westeurope": {
                   "price": 1.0, "recorded_on": "2026-12-02", "query": "q"}}}}  # fmt: skip
    cost = estimate(_graph(_vm("Standard_D4s_v3")), prices=PriceTable(fetched, TABLE))
    compute, disk = cost.lines
    assert (compute.always_on, compute.source, compute.recorded_on, compute.query) == (
        730.0,
        "the cache",
        "2026-12-02",
        "q",
    )
    assert disk.source == TABLE.source and disk.always_on == TABLE.disk_monthly(
        "Premium_LRS", 128, "westeurope"
    )
    assert cost.source == f"{TABLE.source}; the cache"  # oldest first
    alone = estimate(_graph(_vm("Standard_D4s_v3")), prices=PriceTable(fetched))
    assert alone.lines[1].basis == "unpriced"


def test_price_needs_are_the_lookups_of_the_estimate() -> None:
    graph = _graph(_vm("Standard_NC4as_T4_v3"), _cluster(low_priority=True),
                   _scale_set(2, "Spot"), _resource("network:NatGateway", "nat"),
                   _resource("network:BastionHost", "dev", sku={"name": "Developer"}))  # fmt: skip
    assert price_needs(graph) == [
        PriceNeed("managed_disk_monthly", "Premium_LRS", "westeurope"),
        PriceNeed("nat_gateway", "hourly", "eastus"),
        PriceNeed("nat_gateway", "per_gb_processed", "eastus"),
        PriceNeed("vm_hourly", "Standard_NC4as_T4_v3", "westeurope"),
        PriceNeed("vm_low_priority_hourly", "Standard_NC4as_T4_v3", "eastus"),
        PriceNeed("vm_spot_hourly", "Standard_D4s_v3", "westeurope"),
    ]  # the Developer Bastion is free by rule: nothing to fetch


def test_spot_prices_are_used_when_recorded_and_say_they_change() -> None:
    data = json.loads(json.dumps(TABLE.data))
    data["vm_spot_hourly"] = {"Standard_D4s_v3": {"westeurope": 0.05}}
    compute = estimate(_graph(_scale_set(2, "Spot")), prices=PriceTable(data)).lines[0]
    assert compute.always_on == pytest.approx(2 * 0.05 * 730)
    assert "spot price of 2026-11-23: it changes, and VMs can be evicted" in compute.note


def _scale_set(capacity: int = 2, priority: str | None = None) -> PlannedResource:
    profile: dict[str, object] = {
        "storageProfile": {
            "osDisk": {"diskSizeGB": 64, "managedDisk": {"storageAccountType": "Premium_LRS"}}
        }
    }
    if priority:
        profile["priority"] = priority
    return _resource("compute:VirtualMachineScaleSet", "vmss", location="westeurope",
                     sku={"name": "Standard_D4s_v3", "capacity": capacity},
                     virtualMachineProfile=profile)  # fmt: skip


def _autoscale(minimum: str, maximum: str, enabled: bool = True) -> PlannedResource:
    profile = {"capacity": {"minimum": minimum, "maximum": maximum, "default": minimum}}
    return _resource("monitor:AutoscaleSetting", "as", enabled=enabled,
                     targetResourceUri="/id/vmss", profiles=[profile])  # fmt: skip


def test_scale_set_costs_capacity_times_size_and_autoscale_sets_the_range() -> None:
    hourly = TABLE.vm_hourly("Standard_D4s_v3", "westeurope")
    disk = TABLE.disk_monthly("Premium_LRS", 64, "westeurope")
    assert hourly is not None and disk is not None
    compute, disks = estimate(_graph(_scale_set(2))).lines
    assert compute.always_on == compute.scheduled == pytest.approx(2 * hourly * 730, abs=0.01)
    assert disks.always_on == disks.scheduled == pytest.approx(2 * disk, abs=0.01)
    compute, disks, autoscale = estimate(_graph(_scale_set(2), _autoscale("0", "4"))).lines
    assert autoscale.basis == "free"
    assert compute.always_on == pytest.approx(4 * hourly * 730, abs=0.01)
    assert (compute.scheduled, disks.scheduled) == (0, 0)
    assert disks.always_on == pytest.approx(4 * disk, abs=0.01)
    off = estimate(_graph(_scale_set(2), _autoscale("0", "4", enabled=False))).lines[0]
    assert off.scheduled == off.always_on  # a disabled autoscale setting does nothing
    (empty,) = estimate(_graph(_scale_set(0))).lines
    assert (empty.always_on, empty.scheduled) == (0, 0)


@pytest.mark.parametrize("priority", ["Spot", "Low"])
def test_spot_and_low_priority_scale_sets_are_unpriced(priority: str) -> None:
    compute = estimate(_graph(_scale_set(2, priority))).lines[0]
    assert compute.basis == "unpriced"
    assert f"{priority.lower()}-priority" in compute.note


def _instance(**props: object) -> PlannedResource:
    properties = {
        "computeType": "ComputeInstance",
        "properties": {"vmSize": "Standard_DS3_v2", **props},
    }
    return _resource("machinelearningservices:Compute", "ci", properties=properties)


def _stop(**trigger: object) -> dict[str, object]:
    return {"computeStartStop": [{"action": "Stop", **trigger}]}


@pytest.mark.parametrize(
    ("props", "hours"),
    [({}, 730.0), ({"idleTimeBeforeShutdown": "PT30M"}, 8.5 * 22),
     ({"idleTimeBeforeShutdown": "PT1H"}, 9 * 22),
     ({"schedules": _stop(recurrence={"schedule": {"hours": [18], "minutes": [30]}})}, 10.5 * 22),
     ({"schedules": _stop(cron={"expression": "0 20 * * 1-5"})}, 12 * 22),
     ({"schedules": _stop(cron={"expression": "0 20 * * *"}, status="Disabled")}, 730.0),
     # Schedule and idle shutdown: whichever stops it first (08:00 + 8 h of work + idle).
     ({"schedules": _stop(cron={"expression": "0 19 * * *"}), "idleTimeBeforeShutdown": "PT1H"},
      9 * 22),
     ({"schedules": _stop(cron={"expression": "0 15 * * *"}), "idleTimeBeforeShutdown": "PT1H"},
      7 * 22)],
)  # fmt: skip
def test_compute_instance_runs_until_idle_shutdown_or_its_stop_schedule(
    props: dict[str, object], hours: float
) -> None:
    (line,) = estimate(_graph(_instance(**props))).lines
    hourly = TABLE.vm_hourly("Standard_DS3_v2", "eastus")
    assert hourly is not None
    assert line.always_on == pytest.approx(hourly * 730, abs=0.01)
    assert line.scheduled == pytest.approx(hourly * hours, abs=0.01)
    assert line.description == "ComputeInstance Standard_DS3_v2 in eastus"


@pytest.mark.parametrize(
    ("type_", "inputs", "monthly", "basis"),
    [("network:PrivateEndpoint", {}, 0.01 * 730, "fixed"),
     ("network:NatGateway", {}, 0.045 * 730, "fixed"),
     ("network:BastionHost", {"sku": {"name": "Developer"}}, 0.0, "free"),
     ("network:BastionHost", {"sku": {"name": "Basic"}}, 0.19 * 730, "fixed"),
     ("network:BastionHost", {}, 0.19 * 730, "fixed"),  # Basic is Azure's default
     ("network:BastionHost", {"sku": {"name": "Standard"}}, 0.29 * 730, "fixed")],
)  # fmt: skip
def test_network_resources_bill_by_the_hour(
    type_: str, inputs: dict[str, object], monthly: float, basis: str
) -> None:
    (line,) = estimate(_graph(_resource(type_, "net", **inputs))).lines
    assert line.basis == basis
    assert line.always_on == line.scheduled == pytest.approx(monthly, abs=0.01)
    if type_ != "network:BastionHost":
        assert "per GB processed (not estimated)" in line.note


def test_unrecorded_network_prices_are_unpriced() -> None:
    premium = _resource("network:BastionHost", "b", sku={"name": "Premium"})
    (line,) = estimate(_graph(premium)).lines
    assert line.basis == "unpriced" and "Premium" in line.note
    data = {k: v for k, v in TABLE.data.items() if k != "nat_gateway"}
    (nat,) = estimate(_graph(_resource("network:NatGateway", "n")), prices=PriceTable(data)).lines
    assert nat.basis == "unpriced"


def test_online_deployment_costs_its_instances_all_month() -> None:
    deployment = _resource(
        "machinelearningservices:OnlineDeployment", "blue",
        properties={"instanceType": "Standard_DS3_v2"}, sku={"capacity": 2},
    )  # fmt: skip
    (line,) = estimate(_graph(deployment)).lines
    hourly = TABLE.vm_hourly("Standard_DS3_v2", "eastus")
    assert hourly is not None
    assert line.always_on == line.scheduled == pytest.approx(2 * hourly * 730, abs=0.01)
    assert "cannot scale to zero" in line.note
