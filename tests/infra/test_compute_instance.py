"""The compute instance workstation: the generated program under mocks, and what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlstart_infra import conformance, policies, pricing, roles
from mlstart_infra.components import catalog, compute_instance, settings
from mlstart_infra.offline.graph import ResourceGraph
from mlstart_infra.offline.plan import ProgramFailedError, plan_project

from tests.infra.conftest import by_type, write_program
from tests.infra.test_components import EXPECTED_ADVISORIES

#: Answers of the project planned once for this module.
ANSWERS = {"workstation_kind": "compute-instance", "shutdown_time": "18:30",
           "time_zone": "W. Europe Standard Time", "idle_shutdown_minutes": 45}  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlstart.core.new import new_project

    result = new_project("Instance Demo", output_dir=tmp_path_factory.mktemp("ci"), data=ANSWERS,
                         defaults=True, git=False, lock=False)  # fmt: skip
    assert result.warnings == []  # no SSH key needed, so none missing
    assert "ssh_public_key" not in result.answers and "workstation_public_ip" not in result.answers
    return result.path


@pytest.fixture(scope="module")
def graph(project: Path) -> ResourceGraph:
    return plan_project(project)


def _computes(graph: ResourceGraph, compute_type: str) -> list[Any]:
    return [
        r for r in by_type(graph, "machinelearningservices:Compute")
        if r.get("properties.computeType") == compute_type
    ]  # fmt: skip


def test_the_instance_replaces_the_vm_and_passes_every_mandatory_policy(
    graph: ResourceGraph, project: Path
) -> None:
    assert conformance.check(graph) == []
    results = {r.policy.id: r for r in policies.evaluate(graph)}
    assert {pid for pid, r in results.items() if r.status == "fail"} == EXPECTED_ADVISORIES
    for pid in ("MLS-AML-005", "MLS-AML-006", "MLS-COST-009", "MLS-COST-011", "MLS-IAM-001"):
        assert results[pid].status == "pass", pid
    # No VM, network, Bastion or DevTest Labs schedule: Azure ML manages the machine.
    workstation_types = (catalog.VM, catalog.VNET, catalog.BASTION, catalog.NAT_GATEWAY,
                         catalog.SCHEDULE, catalog.PUBLIC_IP, catalog.NSG)  # fmt: skip
    assert not graph.of_type(*workstation_types)
    config = (project / "infra" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    assert "sshPublicKey" not in config and "publicIp" not in config
    assert "shutdownNoticeMinutes" not in config and 'idleShutdownMinutes: "45"' in config


def test_azure_stops_it_daily_and_when_idle(graph: ResourceGraph) -> None:
    (instance,) = _computes(graph, catalog.AML_INSTANCE)
    (cluster,) = _computes(graph, catalog.AML_CLUSTER)
    assert instance.azure_name != cluster.azure_name  # unique across the region's computes
    # Hyphens go when the suffix is all digits (a hyphen must be followed later by a letter).
    assert instance.azure_name.replace("-", "").startswith("ciinstancedemo")
    props = instance.get("properties.properties")
    (stop,) = props["schedules"]["computeStartStop"]
    assert (stop["action"], stop["status"]) == ("Stop", "Enabled")
    assert stop["triggerType"] == "Recurrence"
    assert stop["recurrence"]["frequency"] == "Day" and stop["recurrence"]["interval"] == 1
    assert stop["recurrence"]["schedule"] == {"hours": [18], "minutes": [30]}
    assert stop["recurrence"]["timeZone"] == "W. Europe Standard Time"
    assert props["idleTimeBeforeShutdown"] == "PT45M"
    assert props["vmSize"] == "Standard_NC4as_T4_v3"
    assert instance.get("tags")["decommission-by"]
    assert graph.component_of(instance).type == "mlstart:azure:ComputeInstanceWorkstation"


def test_it_is_private_personal_and_signs_in_with_entra_id(graph: ResourceGraph) -> None:
    (instance,) = _computes(graph, catalog.AML_INSTANCE)
    props = instance.get("properties.properties")
    assert props["enableNodePublicIp"] is False
    assert props["sshSettings"] == {"sshPublicAccess": "Disabled"}
    assert props["applicationSharingPolicy"] == "Personal"
    assert "subnet" not in props  # the workspace's managed network holds it
    assert instance.get("properties.disableLocalAuth") is True
    assert instance.get("identity.type") == "SystemAssigned"
    # Nobody named: Azure gives the instance to whoever runs `pulumi up`.
    assert "personalComputeInstanceSettings" not in props


def test_its_identity_is_contributor_on_the_workspace_only(graph: ResourceGraph) -> None:
    (workspace,) = by_type(graph, "machinelearningservices:Workspace")
    ci = {r.urn for r in graph.of_type(catalog.USER_IDENTITY)}  # the CI identity's grants
    assigned = [
        r for r in graph.of_type(catalog.ROLE_ASSIGNMENT)
        if r.get("scope") == workspace.id and not ci & set(r.dependencies)
    ]  # fmt: skip
    (role,) = assigned
    assert role.get("roleDefinitionId").endswith(f"/{compute_instance.CONTRIBUTOR_ROLE}")
    assert role.get("principalType") == "ServicePrincipal"
    assert roles.CONTRIBUTOR_ROLE_ID == compute_instance.CONTRIBUTOR_ROLE
    (rbac,) = [r for r in roles.required_roles(graph) if r.role.startswith("Role Based")]
    assert "Contributor to the compute instance's identity on the workspace" in rbac.reason
    assert "AcrPull to the serving app's identity" in rbac.reason


def test_the_estimate_counts_whichever_stop_comes_first(graph: ResourceGraph) -> None:
    costs = pricing.estimate(graph)
    (instance,) = _computes(graph, catalog.AML_INSTANCE)
    (line,) = [line for line in costs.lines if line.resource == instance.azure_name]
    hourly = pricing.PriceTable.load().vm_hourly("Standard_NC4as_T4_v3", "westeurope")
    assert hourly is not None
    # 08:00 start, 8 hours of work, 45 idle minutes: stopped at 16:45, before the 18:30 stop.
    assert line.scheduled == pytest.approx(hourly * 8.75 * 22, abs=0.01)
    assert line.always_on == pytest.approx(hourly * 730, abs=0.01)
    assert "45 idle minutes" in line.note


INSTANCE_PROGRAM = """
import pulumi
from mlstart_infra.components.compute_instance import (
    ComputeInstanceWorkstation, ComputeInstanceWorkstationArgs,
)
config = pulumi.Config()
ComputeInstanceWorkstation("workstation", ComputeInstanceWorkstationArgs(
    resource_group_name="rg-x", location="westeurope", workspace_name="mlw-x",
    workspace_id="/subscriptions/s/resourceGroups/rg-x/providers/x/workspaces/mlw-x",
    compute_name=config.get("name") or "ci-x-abc123", vm_size="Standard_DS3_v2",
    shutdown_time=config.get("time") or "19:00", time_zone="UTC",
    idle_shutdown_minutes=int(config.get("idle") or "0"),
    assigned_user_object_id=config.get("user"),
    tags={"project": "x", "owner": "o", "environment": "dev", "decommission-by": "2030-01-01"},
))
"""


def instance(tmp_path: Path, **config: str) -> ResourceGraph:
    return plan_project(write_program(tmp_path / "ci", INSTANCE_PROGRAM, config=config))


def test_without_idle_shutdown_no_role_is_assigned_and_a_user_can_be_named(
    tmp_path: Path,
) -> None:
    user = "11111111-2222-3333-4444-555555555555"
    graph = instance(tmp_path, user=user)
    assert not graph.of_type(catalog.ROLE_ASSIGNMENT)
    (compute,) = by_type(graph, "machinelearningservices:Compute")
    props = compute.get("properties.properties")
    assert "idleTimeBeforeShutdown" not in props
    assigned = props["personalComputeInstanceSettings"]["assignedUser"]
    assert assigned["objectId"] == user and assigned["tenantId"]
    results = {r.policy.id: r.status for r in policies.evaluate(graph)}
    assert results["MLS-COST-009"] == results["MLS-COST-011"] == "pass"  # the daily stop


@pytest.mark.parametrize(
    ("config", "message"),
    [({"idle": "5"}, "idle shutdown of 5 minutes: use 0 .off. or 15-4320"),
     ({"idle": "4321"}, "Azure accepts 15 minutes to 3 days"),
     ({"time": "7pm"}, "must be HH:MM"),
     ({"name": "cpu-cluster-1"}, "compute instance name: 'cpu-cluster-1' is not a valid"),
     ({"name": "ci"}, "computes names need 3-24"),
     ({"user": "somebody@example.com"}, "must be an Entra ID object id")],
)  # fmt: skip
def test_bad_settings_are_refused_in_one_line(
    tmp_path: Path, config: dict[str, str], message: str
) -> None:
    with pytest.raises(ProgramFailedError, match=message) as refused:
        instance(tmp_path, **config)
    assert "\n" not in str(refused.value)


COMMON = {
    "owner": "o@x.io", "decommissionBy": "2030-01-01", "budgetAmount": "100",
    "notificationEmail": "o@x.io", "nameSuffix": "abc123", "gpuWorkstation": "true",
    "trainingCluster": "false", "serving": "none", "dataVersioning": "manifest",
    "ciProvider": "none",
    "workstationKind": "compute-instance", "vmSize": "Standard_DS3_v2", "shutdownTime": "19:00",
    "timeZone": "UTC", "idleShutdownMinutes": "60",
}  # fmt: skip


def _settings(config: dict[str, str]) -> settings.Settings:
    return settings.settings_from(config.get, project="p", stack="dev", location="westeurope")


def test_settings_of_a_compute_instance_need_no_ssh_key() -> None:
    loaded = _settings(COMMON)
    assert (loaded.workstation_kind, loaded.idle_shutdown_minutes) == ("compute-instance", 60)
    assert loaded.instance_user_object_id is None and loaded.ssh_public_key == ""
    vm = {**COMMON, "workstationKind": "vm"}
    with pytest.raises(settings.SettingsError, match="shutdownNoticeMinutes, sshPublicKey"):
        _settings(vm)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"workstationKind": "laptop"}, "workstationKind must be one of vm, compute-instance"),
     ({"workstationKind": None}, "does not set workstationKind"),
     ({"idleShutdownMinutes": None}, "does not set idleShutdownMinutes"),
     ({"idleShutdownMinutes": "an hour"}, "idleShutdownMinutes must be a whole number"),
     ({"instanceUserObjectId": "me@example.com"}, "instanceUserObjectId must be an Entra ID")],
)  # fmt: skip
def test_bad_instance_settings_name_the_key(change: dict[str, str | None], message: str) -> None:
    config = {k: v for k, v in {**COMMON, **change}.items() if v is not None}
    with pytest.raises(settings.SettingsError, match=message):
        _settings(config)
