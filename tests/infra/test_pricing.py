"""Monthly estimates: from the dated table, always-on vs scheduled, unknown sizes unpriced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.pricing import PriceTable, UsageAssumptions, estimate

TABLE = PriceTable.load()
DEFAULT_SIZES = ("Standard_NC4as_T4_v3", "Standard_D4s_v3", "Standard_DS3_v2")
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


def test_container_app_scales_to_zero_and_usage_based_services_have_no_amount() -> None:
    app = _resource("app:ContainerApp", "app",
                    template={"containers": [{"resources": {"cpu": 0.5, "memory": "1Gi"}}],
                              "scale": {"minReplicas": 0}})  # fmt: skip
    storage = _resource("storage:StorageAccount", "st")
    mystery = _resource("cdn:Profile", "cdn")
    lines = {line.resource: line for line in estimate(_graph(app, storage, mystery)).lines}
    rates = TABLE.data["container_apps"]
    per_replica = (0.5 * rates["vcpu_second"] + 1 * rates["gib_second"]) * 730 * 3600
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
    assert cost.lines[0].always_on == 730.0
    assert cost.to_dict()["prices_recorded_on"] == "2030-01-01"
