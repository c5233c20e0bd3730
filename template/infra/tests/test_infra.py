"""The Pulumi program under Pulumi's unit-test mocks: no cloud account, no Pulumi CLI.

Run from the project root after `pip install -r infra/requirements.txt`:

    python -m pytest infra/tests
"""

import base64
from pathlib import Path

import pytest
import yaml
from components import catalog, idle_shutdown, naming
from mocks import RecordedResource, run_program

INFRA = Path(__file__).resolve().parents[1]
PROJECT = yaml.safe_load((INFRA / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
STACK = yaml.safe_load((INFRA / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"]
TEST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlc3Rz test@example"


def setting(key: str) -> str:
    return str(STACK.get(f"{PROJECT}:{key}", ""))


def plan(**overrides: str) -> list[RecordedResource]:
    """Run the program with the dev stack's config, some keys overridden."""
    config = {key: str(value) for key, value in STACK.items()}
    config.update({f"{PROJECT}:{key}": value for key, value in overrides.items()})
    run = run_program(INFRA, project=PROJECT, stack="dev", config=config)
    return [r for r in run.resources if r.custom and not r.type.startswith("pulumi:")]


def of_type(resources: list[RecordedResource], token: str) -> list[RecordedResource]:
    return [r for r in resources if r.type == token]


@pytest.fixture(scope="module")
def resources() -> list[RecordedResource]:
    return plan(sshPublicKey=TEST_KEY)


needs_workstation = pytest.mark.skipif(
    setting("gpuWorkstation") != "true" or setting("workstationKind") != "vm",
    reason="no workstation VM in this stack",
)
needs_instance = pytest.mark.skipif(
    setting("gpuWorkstation") != "true" or setting("workstationKind") != "compute-instance",
    reason="no compute instance workstation in this stack",
)
needs_cluster = pytest.mark.skipif(
    setting("trainingCluster") != "true", reason="no training cluster in this stack"
)


def test_every_taggable_resource_carries_the_standard_tags(resources) -> None:
    taggable = [r for r in resources if r.type not in catalog.UNTAGGABLE_TYPES]
    assert taggable
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert all(tags.get(key) for key in catalog.REQUIRED_TAG_KEYS), (resource.name, tags)
    assert {r.inputs["tags"]["decommission-by"] for r in taggable} == {setting("decommissionBy")}


def test_data_holding_resources_and_the_budget_are_protected(resources) -> None:
    kept = {
        catalog.STORAGE,
        catalog.BLOB_CONTAINER,
        catalog.VAULT,
        catalog.REGISTRY,
        catalog.ML_WORKSPACE,
        catalog.BUDGET,
    }
    protected = [r for r in resources if r.type in kept]
    dvc = setting("dataVersioning") == "dvc"
    assert len(protected) == 5 + dvc
    assert all(r.protect for r in protected)


def test_every_azure_name_meets_azures_rule(resources) -> None:
    for resource in resources:
        name = resource.inputs.get(catalog.NAME_INPUTS.get(resource.type, "name"))
        if isinstance(name, str):
            assert naming.name_problem(resource.type, name) is None, (resource.type, name)


def test_workspace_has_a_system_assigned_identity(resources) -> None:
    (workspace,) = of_type(resources, "azure-native:machinelearningservices:Workspace")
    assert workspace.inputs["identity"]["type"] == "SystemAssigned"


def test_ci_logs_in_as_an_identity_that_trusts_this_stacks_environment(resources) -> None:
    identities = of_type(resources, catalog.USER_IDENTITY)
    if setting("ciProvider") == "none":
        assert identities == []
        return
    (identity,) = identities
    credentials = of_type(resources, catalog.FEDERATED_CREDENTIAL)
    if setting("ciProvider") == "github":
        (credential,) = credentials
        subject = f"repo:{setting('ciRepository')}:environment:dev"
        assert credential.inputs["subject"] == subject
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    granted = [
        r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        for r in of_type(resources, catalog.ROLE_ASSIGNMENT) if identity.urn in r.dependencies
    ]  # fmt: skip
    assert catalog.AZUREML_DATA_SCIENTIST_ROLE in granted
    assert not set(granted) & set(catalog.PRIVILEGED_ROLES)


def test_budget_alerts_at_80_and_100_percent(resources) -> None:
    (budget,) = of_type(resources, "azure-native:consumption:Budget")
    thresholds = sorted(n["threshold"] for n in budget.inputs["notifications"].values())
    assert thresholds == [80, 100]
    assert budget.inputs["amount"] == float(setting("budgetAmount"))


@needs_workstation
def test_workstation_logs_in_with_the_ssh_key_only(resources) -> None:
    (vm,) = of_type(resources, "azure-native:compute:VirtualMachine")
    linux = vm.inputs["osProfile"]["linuxConfiguration"]
    assert linux["disablePasswordAuthentication"] is True
    assert "adminPassword" not in vm.inputs["osProfile"]
    assert [k["keyData"] for k in linux["ssh"]["publicKeys"]] == [TEST_KEY]


@needs_workstation
def test_workstation_shuts_down_every_day(resources) -> None:
    (vm,) = of_type(resources, "azure-native:compute:VirtualMachine")
    (schedule,) = of_type(resources, "azure-native:devtestlab:GlobalSchedule")
    assert schedule.inputs["name"] == f"shutdown-computevm-{vm.inputs['vmName']}"
    assert schedule.inputs["targetResourceId"] == vm.id
    assert schedule.inputs["dailyRecurrence"]["time"] == setting("shutdownTime").replace(":", "")
    assert schedule.inputs["timeZoneId"] == setting("timeZone")
    assert schedule.inputs["notificationSettings"]["emailRecipient"] == setting("notificationEmail")


@needs_workstation
def test_workstation_has_no_public_ip_unless_asked(resources) -> None:
    (nic,) = of_type(resources, "azure-native:network:NetworkInterface")
    has_public_ip = any("publicIPAddress" in c for c in nic.inputs["ipConfigurations"])
    assert has_public_ip == (setting("publicIp") == "true")


@needs_workstation
def test_workstation_is_reachable_and_has_explicit_outbound_access(resources) -> None:
    (bastion,) = of_type(resources, catalog.BASTION)
    assert bastion.inputs["sku"]["name"] == "Developer"
    (nat,) = of_type(resources, catalog.NAT_GATEWAY)
    (subnet,) = of_type(resources, catalog.SUBNET)
    assert subnet.inputs["defaultOutboundAccess"] is False
    assert subnet.inputs["natGateway"]["id"] == nat.id


@needs_workstation
def test_workstation_runs_the_idle_agent_or_opts_out(resources) -> None:
    (vm,) = of_type(resources, catalog.VM)
    minutes = int(setting("idleShutdownMinutes"))
    definitions = of_type(resources, catalog.ROLE_DEFINITION)
    granted = [r for r in of_type(resources, catalog.ROLE_ASSIGNMENT) if r.inputs["scope"] == vm.id]
    if minutes == 0:
        assert vm.inputs["tags"][idle_shutdown.MINUTES_TAG] == idle_shutdown.OFF
        assert "customData" not in vm.inputs["osProfile"] and not definitions and not granted
        return
    assert vm.inputs["tags"][idle_shutdown.MINUTES_TAG] == f"{minutes}m"
    cloud_config = base64.b64decode(vm.inputs["osProfile"]["customData"]).decode()
    assert cloud_config.startswith("#cloud-config\n")
    written = {f["path"] for f in yaml.safe_load(cloud_config)["write_files"]}
    assert set(idle_shutdown.INSTALLED_FILES) <= written
    # The agent's identity may read and deallocate this VM, nothing else.
    (definition,) = definitions
    assert definition.inputs["permissions"][0]["actions"] == list(idle_shutdown.ROLE_ACTIONS)
    (assignment,) = granted
    assert assignment.inputs["roleDefinitionId"].endswith(definition.inputs["roleDefinitionId"])


@needs_workstation
def test_a_public_ip_needs_an_allowed_ssh_range() -> None:
    with pytest.raises(ValueError, match="ssh_allowed_cidr"):
        plan(sshPublicKey=TEST_KEY, publicIp="true", sshAllowedCidr="0.0.0.0/0")


def computes(resources: list[RecordedResource], compute_type: str) -> list[RecordedResource]:
    return [
        r
        for r in of_type(resources, catalog.ML_COMPUTE)
        if r.inputs["properties"]["computeType"] == compute_type
    ]


@needs_instance
def test_compute_instance_stops_daily_and_when_idle(resources) -> None:
    (instance,) = computes(resources, "ComputeInstance")
    assert naming.name_problem(catalog.ML_COMPUTE, instance.inputs["computeName"]) is None
    props = instance.inputs["properties"]["properties"]
    (stop,) = props["schedules"]["computeStartStop"]
    hour, minute = (int(part) for part in setting("shutdownTime").split(":"))
    assert (stop["action"], stop["status"]) == ("Stop", "Enabled")
    assert stop["triggerType"] == "Recurrence" and stop["recurrence"]["frequency"] == "Day"
    assert stop["recurrence"]["schedule"] == {"hours": [hour], "minutes": [minute]}
    assert stop["recurrence"]["timeZone"] == setting("timeZone")
    idle = int(setting("idleShutdownMinutes"))
    assert props.get("idleTimeBeforeShutdown") == (f"PT{idle}M" if idle else None)


@needs_instance
def test_compute_instance_is_private_and_signs_in_with_entra_id(resources) -> None:
    (instance,) = computes(resources, "ComputeInstance")
    props = instance.inputs["properties"]["properties"]
    assert props["enableNodePublicIp"] is False
    assert props["sshSettings"]["sshPublicAccess"] == "Disabled"
    assert instance.inputs["properties"]["disableLocalAuth"] is True
    assert instance.inputs["identity"]["type"] == "SystemAssigned"
    # Idle shutdown works only if the instance's identity is Contributor on the workspace.
    (workspace,) = of_type(resources, catalog.ML_WORKSPACE)
    assigned = [r for r in of_type(resources, catalog.ROLE_ASSIGNMENT)
                if r.inputs["scope"] == workspace.id
                and r.inputs["roleDefinitionId"].endswith(catalog.CONTRIBUTOR_ROLE)]  # fmt: skip
    assert len(assigned) == (setting("idleShutdownMinutes") != "0")


@needs_instance
def test_compute_instance_refuses_an_idle_time_azure_refuses() -> None:
    with pytest.raises(ValueError, match="idleShutdownMinutes must be 15-1440, or 0"):
        plan(idleShutdownMinutes="5")


@needs_cluster
def test_cluster_scales_to_zero_without_public_ips(resources) -> None:
    (cluster,) = computes(resources, "AmlCompute")
    props = cluster.inputs["properties"]["properties"]
    assert props["scaleSettings"]["minNodeCount"] == 0
    assert props["scaleSettings"]["maxNodeCount"] == int(setting("clusterMaxNodes"))
    assert props["enableNodePublicIp"] is False
    assert props["remoteLoginPortPublicAccess"] == "Disabled"


def test_serving_follows_the_config(resources) -> None:
    apps = of_type(resources, "azure-native:app:ContainerApp")
    endpoints = of_type(resources, "azure-native:machinelearningservices:OnlineEndpoint")
    serving = setting("serving")
    assert len(apps) == (serving == "container-apps")
    assert len(endpoints) == (serving == "aml-endpoint")
    for app in apps:
        assert app.inputs["template"]["scale"]["minReplicas"] == 0
        # The deploy workflow owns image and port; `pulumi up` must not reset them.
        assert "template.containers[0].image" in app.ignore_changes
    for endpoint in endpoints:
        assert endpoint.inputs["properties"]["authMode"] in {"AADToken", "Key", "AMLToken"}
        assert endpoint.inputs["endpointName"] == setting("endpointName")
    # The first `pulumi up` cannot deploy a model that is not registered yet.
    assert not of_type(resources, catalog.DEPLOYMENT)
