"""`mlstart status` per compute resource: live state from `az`, since when, this month's cost.

The parsing runs on fixed answers in the documented output formats; one end-to-end test
runs a compute instance project through `up`, `status --json` and `down` against the
stand-in Pulumi and Azure CLIs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from mlstart.cli import app
from mlstart.core.live import (
    LiveStateError,
    compute_state,
    deployment_state,
    parse_time,
    read_live_state,
    replica_state,
    vm_power,
    vm_timeline,
)
from mlstart.core.plan import plan_project
from mlstart.core.stack import StackResource
from mlstart.core.up import provision
from mlstart_infra.components import catalog as c
from mlstart_infra.month_cost import UnitRate, month_cost
from typer.testing import CliRunner

from tests.conftest import render_project
from tests.standin import (  # noqa: F401
    StandinAz,
    StandinPulumi,
    program_from_graph,
    standin_az,
    standin_pulumi,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOV = dt.datetime(2026, 11, 1, tzinfo=UTC)
VM_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-x"


def power(code: str) -> dict[str, Any]:
    """``az vm get-instance-view`` output, reduced to its statuses."""
    return {"instanceView": {"statuses": [
        {"code": "ProvisioningState/succeeded", "time": "2026-11-02T07:59:01.1234567+00:00"},
        {"code": f"PowerState/{code}", "displayStatus": f"VM {code}"}]}}  # fmt: skip


def event(operation: str, when: str, status: str = "Succeeded") -> dict[str, Any]:
    """One activity-log event (the fields ``az monitor activity-log list`` prints and we read)."""
    return {"operationName": {"value": f"Microsoft.Compute/virtualMachines/{operation}/action",
                              "localizedValue": operation},
            "status": {"value": status, "localizedValue": status},
            "eventTimestamp": when, "resourceId": VM_ID}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "units"),
    [("running", 1.0), ("starting", 1.0), ("stopped", 1.0), ("stopping", 1.0),
     ("deallocating", 0.0), ("deallocated", 0.0)],
)  # fmt: skip
def test_vm_power_states_bill_as_azure_documents(code: str, units: float) -> None:
    assert vm_power(power(code)) == (code, units)


@pytest.mark.parametrize("view", [power("hibernating-ish"), {"instanceView": {}}, [], None])
def test_an_unreadable_instance_view_is_one_line(view: Any) -> None:
    with pytest.raises(LiveStateError) as failed:
        vm_power(view)
    assert "\n" not in str(failed.value)


def test_the_vm_month_comes_from_its_activity_log() -> None:
    events = [  # newest first, as the CLI answers; a failed start does not count
        event("start", "2026-11-23T08:00:00.0000000Z"),
        event("deallocate", "2026-11-22T19:00:00.5Z"),
        event("start", "2026-11-22T08:00:00Z"),
        event("start", "2026-11-21T08:00:00Z", status="Failed"),
        event("deallocate", "2026-11-20T19:00:00Z"),
        {"operationName": {"value": "Microsoft.Compute/virtualMachines/write"},
         "status": {"value": "Succeeded"}, "eventTimestamp": "2026-11-20T20:00:00Z"},
    ]  # fmt: skip
    timeline = vm_timeline(events, 1.0, NOV, NOW)
    assert timeline.changes[0] == (NOV, 1.0)  # deallocated on the 20th: it ran before
    assert [units for _, units in timeline.changes] == [1.0, 0.0, 1.0, 0.0, 1.0]
    cost = month_cost(UnitRate("machine", 1.0), timeline, NOW)
    assert cost is not None and cost.complete
    assert cost.so_far == (19 * 24 + 19) + 11 + 4  # 1st-20th 19:00, the 22nd, this morning
    assert cost.rest == 7 * 24 + 12


def test_a_vm_without_operations_this_month_kept_its_state_and_the_view_wins() -> None:
    assert vm_timeline([], 0.0, NOV, NOW).changes == ((NOV, 0.0),)
    # Powered off (still allocated, still billed) from a running state.
    off = vm_timeline([event("powerOff", "2026-11-22T19:00:00Z")], 1.0, NOV, NOW)
    assert [units for _, units in off.changes] == [1.0, 1.0]
    late = vm_timeline([event("deallocate", "2026-11-22T19:00:00Z")], 1.0, NOV, NOW)
    assert late.changes[-1] == (NOW, 1.0)  # started again; the log has not caught up


def test_compute_instance_and_cluster_states_from_the_rest_body() -> None:
    instance = compute_state({"properties": {"computeType": "ComputeInstance", "properties": {
        "state": "Running", "lastOperation": {"operationName": "Start",
        "operationTime": "2026-11-23T08:15:00Z", "operationStatus": "Succeeded",
        "operationTrigger": "Schedule"}}}}, NOW)  # fmt: skip
    assert (instance.state, instance.timeline.running) == ("running", 1.0)
    assert instance.since == dt.datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    stopped = compute_state({"properties": {"computeType": "ComputeInstance",
                                            "properties": {"state": "Stopped"}}}, NOW)  # fmt: skip
    assert (stopped.state, stopped.timeline.running, stopped.since) == ("stopped", 0.0, NOW)
    cluster = compute_state({"properties": {"computeType": "AmlCompute", "properties": {
        "currentNodeCount": 2, "allocationState": "Steady",
        "allocationStateTransitionTime": "2026-11-23T11:00:00Z"}}}, NOW)  # fmt: skip
    assert (cluster.state, cluster.timeline.running) == ("2 nodes", 2.0)
    for body in ({"properties": {"computeType": "Kubernetes"}},
                 {"properties": {"computeType": "AmlCompute", "properties": {}}},
                 {"properties": {"computeType": "ComputeInstance", "properties": {}}}):  # fmt: skip
        with pytest.raises(LiveStateError):
            compute_state(body, NOW)


def test_deployments_and_replicas() -> None:
    deployment = deployment_state(
        {"sku": {"capacity": 1}, "systemData": {"lastModifiedAt": "2026-11-20T10:00:00Z"}}, NOW
    )
    assert (deployment.state, deployment.since.day) == ("1 instance", 20)
    with pytest.raises(LiveStateError, match=r"sku\.capacity"):
        deployment_state({"sku": {}}, NOW)
    created = ("2026-11-23T11:30:00Z", "2026-11-23T10:00:00Z")
    replicas = replica_state([{"properties": {"createdTime": when}} for when in created], NOW)
    assert replicas.state == "2 replicas" and replicas.timeline.running == 2.0
    assert replicas.timeline.changes[0] == (dt.datetime(2026, 11, 23, 10, tzinfo=UTC), 1.0)
    assert replica_state([], NOW).state == "0 replicas"
    with pytest.raises(LiveStateError, match="did not answer a list"):
        replica_state({"value": []}, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-23T08:01:12.1234567Z", dt.datetime(2026, 11, 23, 8, 1, 12, 123456, tzinfo=UTC)),
     ("2026-11-23T09:01:12+01:00", dt.datetime(2026, 11, 23, 8, 1, 12, tzinfo=UTC)),
     ("2026-11-23T08:01:12", dt.datetime(2026, 11, 23, 8, 1, 12, tzinfo=UTC)),
     ("yesterday", None), ("", None), (None, None)],
)  # fmt: skip
def test_azure_times_are_read(text: Any, expected: dt.datetime | None) -> None:
    assert parse_time(text) == expected


def test_the_az_calls_ask_for_the_month_and_the_api_version() -> None:
    asked: list[Sequence[str]] = []

    def az(args: Sequence[str]) -> Any:
        asked.append(list(args))
        return power("deallocated") if args[0] == "vm" else []

    vm = StackResource(type=c.VM, name="vm", urn="u", protect=False, id=VM_ID)
    state = read_live_state(vm, NOW, az=az)
    assert state is not None and state.state == "deallocated"
    assert asked[1][-4:] == ["--start-time", "2026-11-01T00:00:00Z", "--max-events", "1000"]
    endpoint = StackResource(type=c.ENDPOINT, name="ep", urn="e", protect=False, id="/x")
    assert read_live_state(endpoint, NOW, az=az) is None
    with pytest.raises(LiveStateError, match="no Azure id"):
        read_live_state(
            StackResource(type=c.ML_COMPUTE, name="ci", urn="c", protect=False), NOW, az=az
        )


# ---------------------------------------------------------------- end to end

runner = CliRunner()


def test_compute_instance_project_through_up_status_and_down(
    tmp_path: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
    standin_az: StandinAz,  # noqa: F811
) -> None:
    pytest.importorskip("pulumi_azure_native")
    root = render_project(tmp_path, "Instance Life", workstation_kind="compute-instance",
                          decommission_by="2030-01-31")  # fmt: skip
    program = program_from_graph(plan_project(root).graph.to_dict()["resources"])
    by_logical = {r["name"]: r for r in program}
    instance = by_logical["workstation-compute"]
    cluster = by_logical["training-cluster-compute"]
    container_app = by_logical["serving-app"]
    started = dt.datetime.now(UTC) - dt.timedelta(hours=3)
    instance["created"] = (started - dt.timedelta(days=40)).isoformat()
    standin_pulumi.program(program, {"workstation_connect": "open Azure ML studio"})
    provision(root)
    standin_az.login()
    group, app_name = (
        container_app["inputs"][k] for k in ("resourceGroupName", "containerAppName")
    )
    standin_az.live({
        "/standin/workstation-compute": {"resource": {"properties": {
            "computeType": "ComputeInstance", "properties": {"state": "Running",
            "lastOperation": {"operationName": "Start", "operationStatus": "Succeeded",
                              "operationTime": started.isoformat()}}}}},
        "/standin/training-cluster-compute": {"fail": "(AuthorizationFailed) no read access"},
        f"containerapp:{group}/{app_name}": {"replicas": []},
    })  # fmt: skip

    result = runner.invoke(app, ["status", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {entry["name"]: entry for entry in report["compute"]}
    ci = by_name[instance["outputs"]["name"]]
    assert (ci["label"], ci["state"], ci["running"], ci["unit"]) == (
        "compute instance", "running", 1.0, "machine",
    )  # fmt: skip
    assert parse_time(ci["since"]) == started
    now = parse_time(report["now"])
    assert now is not None
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    hours = (now - max(started, month_start)) / dt.timedelta(hours=1)
    month = ci["this_month"]
    assert month["so_far"] == pytest.approx(hours * ci["hourly_per_unit"], abs=0.02)
    assert month["complete"] is (started <= month_start)  # only its last start is known
    assert month["total"] == pytest.approx(month["so_far"] + month["rest_of_month"], abs=0.011)
    broken = by_name[cluster["outputs"]["name"]]
    assert broken["problem"] == (
        "state unknown: `az resource show` failed: (AuthorizationFailed) no read access"
    )
    app_status = by_name[app_name]
    assert (app_status["state"], app_status["this_month"]["rest_of_month"]) == ("0 replicas", 0.0)
    assert report["connect"] == "open Azure ML studio"
    assert report["next_shutdown"] is not None  # the instance's daily stop

    result = runner.invoke(app, ["down", str(root), "--yes"])
    assert result.exit_code == 0, result.output
    for name in ("workstation-compute", "workstation-workspace-contributor"):
        assert re.search(rf"destroy +azure-native:\S+ +{name}\n", result.stdout), name
    left = {r["name"] for r in standin_pulumi.state()["resources"]}
    assert "workstation-compute" not in left and "workstation-workspace-contributor" not in left
    assert "workspace-workspace" in left  # protected data stays


def test_the_text_report_says_how_much_of_the_month_is_known() -> None:
    from mlstart.commands.status import _month, _state
    from mlstart.core.status import ComputeStatus

    vm = StackResource(type=c.VM, name="vm", urn="u", protect=False)
    known = month_cost(UnitRate("machine", 1.0), vm_timeline([], 1.0, NOV, NOW), NOW)
    status = ComputeStatus("GPU workstation", vm, "running", 1.0, NOV, UnitRate("machine", 1.0),
                           known)  # fmt: skip
    assert _state(status) == "running since 2026-11-01 00:00 UTC"
    assert _month(status) == "this month 720.00: 540.00 so far + 180.00 if it stays running"
    since_nine = month_cost(UnitRate("node", 1.0), compute_state({"properties": {
        "computeType": "AmlCompute", "properties": {"currentNodeCount": 1,
        "allocationStateTransitionTime": "2026-11-23T09:00:00Z"}}}, NOW).timeline, NOW)  # fmt: skip
    status = ComputeStatus("training cluster", vm, "1 node", 1.0, NOW, UnitRate("node", 1.0),
                           since_nine)  # fmt: skip
    assert _month(status) == (
        "this month at least 183.00: 3.00 since 2026-11-23 09:00 UTC (earlier this month not "
        "known) + 180.00 if it stays 1 node"
    )
    endpoint = ComputeStatus("online endpoint", vm)
    assert _state(endpoint).startswith("no charge of its own")
    assert _state(ComputeStatus("GPU workstation", vm, rate=UnitRate("machine", 1.0))) == (
        "state unknown"
    )
