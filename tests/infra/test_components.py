"""The components under Pulumi's mocks: key properties, validation and policy results."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from mlstart_infra import conformance, policies
from mlstart_infra.components import catalog, naming, settings, ssh_key, tags
from mlstart_infra.offline.plan import plan_project

from tests.conftest import REPO_ROOT
from tests.infra.conftest import TEST_KEY, by_type, write_program

COMPONENTS = REPO_ROOT / "infra" / "mlstart_infra" / "components"


@pytest.fixture(scope="module")
def default_graph(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The default generated project, planned once for this module."""
    from mlstart.core.new import new_project

    result = new_project(
        "Component Demo",
        output_dir=tmp_path_factory.mktemp("out"),
        data={"ssh_public_key": TEST_KEY, "notification_email": "alerts@example.com"},
        defaults=True,
        git=False,
        lock=False,
    )
    return plan_project(result.path)


def results_by_id(graph):  # type: ignore[no-untyped-def]
    return {r.policy.id: r for r in policies.evaluate(graph)}


#: Advisory policies the default project fails on purpose: Azure ML's default network setup
#: reaches storage, key vault, registry and workspace over their public endpoints.
EXPECTED_ADVISORIES = {"MLS-KV-004", "MLS-STO-004", "MLS-ACR-002", "MLS-AML-004"}


def test_default_project_conforms_and_passes_every_mandatory_policy(default_graph) -> None:  # type: ignore[no-untyped-def]
    assert conformance.check(default_graph) == []
    results = results_by_id(default_graph)
    assert set(results) == {p.id for p in policies.POLICIES}
    failed = {pid for pid, r in results.items() if r.status == "fail"}
    assert failed == EXPECTED_ADVISORIES
    assert not any(results[pid].policy.mandatory for pid in failed)


def test_schedule_is_named_for_the_vm_and_targets_its_id(default_graph) -> None:  # type: ignore[no-untyped-def]
    (vm,) = by_type(default_graph, "compute:VirtualMachine")
    (schedule,) = by_type(default_graph, "devtestlab:GlobalSchedule")
    assert schedule.azure_name == f"shutdown-computevm-{vm.azure_name}"
    assert schedule.get("targetResourceId") == vm.id
    assert schedule.get("taskType") == "ComputeVmShutdownTask"
    assert schedule.get("dailyRecurrence.time") == "1900"
    assert schedule.get("notificationSettings.timeInMinutes") == 30
    assert default_graph.component_of(schedule).type == "mlstart:azure:GpuWorkstation"


def test_vm_accepts_ssh_keys_only_and_has_no_public_ip(default_graph) -> None:  # type: ignore[no-untyped-def]
    (vm,) = by_type(default_graph, "compute:VirtualMachine")
    assert vm.get("osProfile.linuxConfiguration.disablePasswordAuthentication") is True
    assert vm.get("osProfile.adminPassword") is None
    keys = vm.get("osProfile.linuxConfiguration.ssh.publicKeys")
    assert [k["keyData"] for k in keys] == [TEST_KEY]
    (nat_ip,) = by_type(default_graph, "network:PublicIPAddress")  # the NAT gateway's only
    (nat,) = by_type(default_graph, "network:NatGateway")
    assert nat.get("publicIpAddresses") == [{"id": nat_ip.id}]
    (nic,) = by_type(default_graph, "network:NetworkInterface")
    assert "publicIPAddress" not in nic.get("ipConfigurations")[0]
    (driver,) = by_type(default_graph, "compute:VirtualMachineExtension")
    assert (driver.get("publisher"), driver.get("type")) == (
        "Microsoft.HpcCompute",
        "NvidiaGpuDriverLinux",
    )


def test_cluster_scales_to_zero_quickly_without_public_ips(default_graph) -> None:  # type: ignore[no-untyped-def]
    (cluster,) = by_type(default_graph, "machinelearningservices:Compute")
    props = cluster.get("properties.properties")
    assert props["scaleSettings"]["minNodeCount"] == 0
    assert props["scaleSettings"]["maxNodeCount"] == 2
    assert props["scaleSettings"]["nodeIdleTimeBeforeScaleDown"] == "PT2M"
    assert props["enableNodePublicIp"] is False
    assert props["remoteLoginPortPublicAccess"] == "Disabled"
    assert props["vmPriority"] == "Dedicated"
    assert cluster.get("properties.disableLocalAuth") is True


def test_every_taggable_resource_has_the_four_tags(default_graph) -> None:  # type: ignore[no-untyped-def]
    taggable = [r for r in default_graph.cloud_resources if r.type not in policies.UNTAGGABLE_TYPES]
    assert len(taggable) >= 15
    for resource in taggable:
        assert set(tags.REQUIRED_TAG_KEYS) <= set(resource.get("tags", {})), resource.name
        assert resource.get("tags")["environment"] == "dev"


def test_stateful_resources_and_the_budget_are_protected_and_others_are_not(default_graph) -> None:  # type: ignore[no-untyped-def]
    protected = {r.type for r in default_graph.cloud_resources if r.protect}
    kept = {catalog.STORAGE, catalog.VAULT, catalog.REGISTRY, catalog.ML_WORKSPACE}
    assert protected == kept | {catalog.BUDGET}
    # A project without DVC gets no DVC container.
    assert by_type(default_graph, "storage:BlobContainer") == []


def test_workstation_is_reachable_without_an_open_port(default_graph) -> None:  # type: ignore[no-untyped-def]
    (bastion,) = by_type(default_graph, "network:BastionHost")
    (vnet,) = by_type(default_graph, "network:VirtualNetwork")
    assert bastion.get("sku.name") == "Developer"
    assert bastion.get("virtualNetwork.id") == vnet.id
    (subnet,) = by_type(default_graph, "network:Subnet")
    assert subnet.get("defaultOutboundAccess") is False
    (nsg,) = by_type(default_graph, "network:NetworkSecurityGroup")
    assert [r["access"] for r in nsg.get("securityRules")] == ["Deny"]


def test_blob_soft_delete_keeps_deleted_data_for_a_week(default_graph) -> None:  # type: ignore[no-untyped-def]
    (service,) = by_type(default_graph, "storage:BlobServiceProperties")
    (storage,) = by_type(default_graph, "storage:StorageAccount")
    assert service.get("accountName") == storage.azure_name
    assert service.get("deleteRetentionPolicy") == {"enabled": True, "days": 7}
    assert service.get("containerDeleteRetentionPolicy") == {"enabled": True, "days": 7}


def test_ci_owned_image_and_port_survive_pulumi_up(default_graph) -> None:  # type: ignore[no-untyped-def]
    (app,) = by_type(default_graph, "app:ContainerApp")
    assert set(app.ignore_changes) == {
        "template.containers[0].image",
        "configuration.ingress.targetPort",
    }
    assert app.get("configuration.ingress.targetPort") == 80  # the placeholder, until CI


def test_workspace_identity_and_secure_dependencies(default_graph) -> None:  # type: ignore[no-untyped-def]
    (workspace,) = by_type(default_graph, "machinelearningservices:Workspace")
    assert workspace.get("identity.type") == "SystemAssigned"
    (storage,) = by_type(default_graph, "storage:StorageAccount")
    assert workspace.get("storageAccount") == storage.id
    assert (storage.get("minimumTlsVersion"), storage.get("allowBlobPublicAccess")) == (
        "TLS1_2",
        False,
    )
    (vault,) = by_type(default_graph, "keyvault:Vault")
    assert vault.get("properties.enableRbacAuthorization") is True
    assert vault.get("properties.enablePurgeProtection") is True
    (registry,) = by_type(default_graph, "containerregistry:Registry")
    assert registry.get("adminUserEnabled") is False


def test_budget_alerts_at_80_and_100_percent(default_graph) -> None:  # type: ignore[no-untyped-def]
    (budget,) = by_type(default_graph, "consumption:Budget")
    alerts = budget.get("notifications").values()
    assert sorted(a["threshold"] for a in alerts) == [80, 100]
    assert all(a["contactEmails"] == ["alerts@example.com"] for a in alerts)
    (group,) = by_type(default_graph, "resources:ResourceGroup")
    assert budget.get("scope") == group.id
    assert budget.get("timeGrain") == "Monthly"
    import datetime

    first = datetime.date.today().replace(day=1).isoformat()
    assert budget.get("timePeriod.startDate") == f"{first}T00:00:00Z"
    assert budget.get("timePeriod.endDate").startswith("20")


def test_container_app_scales_to_zero_behind_authentication(default_graph) -> None:  # type: ignore[no-untyped-def]
    (app,) = by_type(default_graph, "app:ContainerApp")
    assert app.get("template.scale.minReplicas") == 0
    assert app.get("identity.type") == "SystemAssigned"
    (auth,) = by_type(default_graph, "app:ContainerAppsAuthConfig")
    assert auth.get("containerAppName") == app.azure_name
    assert auth.get("globalValidation.unauthenticatedClientAction") == "Return401"
    (role,) = [
        r
        for r in by_type(default_graph, "authorization:RoleAssignment")
        if default_graph.component_of(r).type == "mlstart:azure:ContainerAppServing"
    ]
    (registry,) = by_type(default_graph, "containerregistry:Registry")
    assert role.get("scope") == registry.id
    assert role.get("roleDefinitionId").endswith("7f951dda-4ed3-4680-a7ca-43fe172d538d")


WORKSTATION_PROGRAM = """
import pulumi
from mlstart_infra.components import GpuWorkstation, GpuWorkstationArgs, project_names
from pulumi_azure_native import resources

config = pulumi.Config()
group = resources.ResourceGroup("rg", resource_group_name="rg", location="westeurope")
GpuWorkstation("ws", GpuWorkstationArgs(
    resource_group_name=group.name, location="westeurope",
    names=project_names("test", "dev", "abc123"),
    vm_size="Standard_NC4as_T4_v3", ssh_public_key="{key}",
    public_ip=config.get_bool("publicIp") or False,
    ssh_allowed_cidr=config.get("cidr"), shutdown_time=config.get("time") or "19:00",
    notification_email=config.get("email"), tags={tags},
))
"""
TAGS = {"project": "p", "owner": "o", "environment": "dev", "decommission-by": "2030-01-01"}


def workstation(tmp_path: Path, **config: str):  # type: ignore[no-untyped-def]
    body = WORKSTATION_PROGRAM.format(key=TEST_KEY, tags=TAGS)
    return plan_project(write_program(tmp_path / "ws", body, config=config))


def test_public_ip_allows_ssh_only_from_the_given_range(tmp_path: Path) -> None:
    graph = workstation(tmp_path, publicIp="true", cidr="203.0.113.7/32")
    (nsg,) = by_type(graph, "network:NetworkSecurityGroup")
    allowed = [r for r in nsg.get("securityRules") if r["access"] == "Allow"]
    assert [(r["sourceAddressPrefix"], r["destinationPortRange"]) for r in allowed] == [
        ("203.0.113.7/32", "22")
    ]
    assert conformance.check(graph) == []
    results = results_by_id(graph)
    assert results["MLS-NET-001"].status == "fail"  # advisory: a public IP exists
    assert not results["MLS-NET-001"].policy.mandatory
    assert results["MLS-NET-002"].status == "pass"
    assert results["MLS-NET-003"].status == "pass"


@pytest.mark.parametrize("cidr", ["", "0.0.0.0/0", "*", "not-a-range"])
def test_public_ip_without_a_real_range_is_refused(tmp_path: Path, cidr: str) -> None:
    from mlstart_infra.offline.plan import ProgramFailedError

    with pytest.raises(ProgramFailedError, match="ssh_allowed_cidr"):
        workstation(tmp_path, publicIp="true", cidr=cidr)


def test_schedule_without_recipient_turns_the_notice_off(tmp_path: Path) -> None:
    graph = workstation(tmp_path, time="07:30")
    (schedule,) = by_type(graph, "devtestlab:GlobalSchedule")
    assert schedule.get("dailyRecurrence.time") == "0730"
    assert schedule.get("notificationSettings.status") == "Disabled"
    assert results_by_id(graph)["MLS-COST-002"].status == "fail"
    # Without idle_shutdown: no agent, no role, and the explicit opt-out tag.
    (vm,) = by_type(graph, "compute:VirtualMachine")
    assert vm.get("tags")["idle-shutdown"] == "off"
    assert vm.get("osProfile.customData") is None
    assert not by_type(graph, "authorization:RoleDefinition")
    assert not by_type(graph, "authorization:RoleAssignment")
    assert results_by_id(graph)["MLS-COST-012"].status == "pass"


def test_workstation_runs_the_idle_agent_with_a_role_on_itself_only(default_graph) -> None:  # type: ignore[no-untyped-def]
    from mlstart.commands.plan import render_text
    from mlstart.core.plan import PlanReport
    from mlstart_infra import pricing
    from mlstart_infra.components import idle_shutdown
    from mlstart_infra.idle import agent_problem, idle_shutdown_of
    from mlstart_infra.offline.mocks import MOCK_PRINCIPAL_ID

    (vm,) = by_type(default_graph, "compute:VirtualMachine")
    assert {k: v for k, v in vm.get("tags").items() if k.startswith("idle-")} == {
        "idle-shutdown": "60m", "idle-shutdown-cpu-percent": "10",
        "idle-shutdown-gpu-percent": "5",
    }  # fmt: skip
    assert agent_problem(vm.get("osProfile.customData")) is None
    assert "osProfile.customData" in vm.ignore_changes  # Azure cannot change it later
    (definition,) = by_type(default_graph, "authorization:RoleDefinition")
    (group,) = by_type(default_graph, "resources:ResourceGroup")
    assert definition.azure_name == idle_shutdown.role_guid(vm.id, "role")
    assert definition.get("permissions") == [
        {"actions": list(idle_shutdown.ROLE_ACTIONS), "notActions": [], "dataActions": [],
         "notDataActions": []}
    ]  # fmt: skip
    assert definition.get("assignableScopes") == [group.id] and definition.get("scope") == group.id
    (assignment,) = [
        r for r in by_type(default_graph, "authorization:RoleAssignment") if r.get("scope") == vm.id
    ]
    assert assignment.get("principalId") == MOCK_PRINCIPAL_ID  # the VM's identity (mocked)
    assert assignment.get("principalType") == "ServicePrincipal"
    assert assignment.get("roleDefinitionId").endswith(f"/roleDefinitions/{definition.azure_name}")
    assert vm.urn in assignment.dependencies and definition.urn in assignment.dependencies
    assert results_by_id(default_graph)["MLS-COST-012"].status == "pass"
    (view,) = idle_shutdown_of(default_graph)
    report = PlanReport(default_graph, [], policies.evaluate(default_graph),
                        pricing.estimate(default_graph), [view])  # fmt: skip
    text = render_text(report)
    assert "vm-component-demo: agent deallocates after 60 idle minutes" in text
    assert f"assigned at: {vm.id}" in text
    assert "Microsoft.Compute/virtualMachines/deallocate/action" in text
    assert report.to_dict()["idle_shutdown"][0]["scope"] == vm.id


def test_cluster_refuses_slow_scale_down() -> None:
    from mlstart_infra.components import TrainingClusterArgs

    args = TrainingClusterArgs("rg", "westeurope", "ws", "train-cluster", "Standard_D4s_v3")
    args.validate()
    for bad in ({"idle_minutes": 16}, {"max_nodes": 0}, {"compute_name": "x" * 25}):
        with pytest.raises(ValueError):
            TrainingClusterArgs(
                "rg", "westeurope", "ws", **{"compute_name": "c1", "vm_size": "S", **bad}
            ).validate()


def test_budget_refuses_bad_settings() -> None:
    from mlstart_infra.components import CostGuardArgs

    good = {"scope": "/x", "budget_name": "b", "amount": 10.0, "contact_emails": ["a@b.c"],
            "start_date": "2026-11-01"}  # fmt: skip
    CostGuardArgs(**good).validate()  # type: ignore[arg-type]
    for bad in ({"amount": 0}, {"contact_emails": []}, {"start_date": "2026-11-15"},
                {"thresholds": [0]}):  # fmt: skip
        with pytest.raises(ValueError):
            CostGuardArgs(**{**good, **bad}).validate()  # type: ignore[arg-type]


def test_ssh_key_from_text_or_file(tmp_path: Path) -> None:
    assert ssh_key.read_ssh_public_key(f"  {TEST_KEY}\n") == TEST_KEY
    path = tmp_path / "id.pub"
    path.write_text(TEST_KEY + "\n", encoding="utf-8")
    assert ssh_key.read_ssh_public_key(str(path)) == TEST_KEY
    with pytest.raises(ssh_key.MissingSshKeyError, match="does not exist"):
        ssh_key.read_ssh_public_key(str(tmp_path / "missing.pub"))
    private = tmp_path / "id"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n", encoding="utf-8")
    with pytest.raises(ssh_key.SshKeyError, match="not an OpenSSH public key"):
        ssh_key.read_ssh_public_key(str(private))


@pytest.mark.parametrize("value", ["", "~/.ssh/id_ed25519.pub", "/home/me/key.pub"])
def test_the_program_takes_key_text_only(value: str) -> None:
    """A path works on one machine only; the error says how to store the key text."""
    assert ssh_key.ssh_public_key_for_program(f" {TEST_KEY} ") == TEST_KEY
    with pytest.raises(ssh_key.SshKeyError, match="pulumi config set sshPublicKey"):
        ssh_key.ssh_public_key_for_program(value)


def test_settings_require_every_key_the_stack_sets() -> None:
    config = {
        "owner": "o@x.io", "decommissionBy": "2030-01-01", "budgetAmount": "100",
        "notificationEmail": "o@x.io", "nameSuffix": "abc123", "gpuWorkstation": "false",
        "trainingCluster": "true", "serving": "none", "dataVersioning": "manifest",
        "ciProvider": "none",
        "clusterName": "trainabc123", "clusterVmSize": "Standard_D4s_v3",
        "clusterMaxNodes": "2", "clusterLowPriority": "false", "clusterIdleMinutes": "2",
    }  # fmt: skip
    loaded = settings.settings_from(config.get, project="p", stack="dev", location="westeurope")
    assert (loaded.cluster_max_nodes, loaded.budget_amount, loaded.environment) == (2, 100.0, "dev")
    partial = {k: v for k, v in config.items() if k not in ("clusterVmSize", "owner")}
    with pytest.raises(settings.SettingsError, match="does not set owner, clusterVmSize"):
        settings.settings_from(partial.get, project="p", stack="dev", location="westeurope")
    bad_values = (
        ("budgetAmount", "nan"), ("budgetAmount", "-5"), ("clusterMaxNodes", "abc"),
        ("trainingCluster", "maybe"), ("nameSuffix", "ABC!"), ("serving", "k8s"),
    )  # fmt: skip
    for key, bad in bad_values:
        with pytest.raises(settings.SettingsError, match=key):
            settings.settings_from(
                {**config, key: bad}.get, project="p", stack="dev", location="westeurope"
            )


@pytest.mark.parametrize("base", ["a", "credit-risk", "x" * 80, "Ünïcode Project 42"])
def test_global_names_fit_azure_rules(base: str) -> None:
    suffix = naming.name_suffix(base, "dev")
    assert len(suffix) == 6
    names = naming.project_names(base, "dev", suffix)
    for field, type_token in naming.PROJECT_NAME_TYPES.items():
        assert naming.name_problem(type_token, getattr(names, field)) is None, field
    assert names.storage_account.isalnum() and names.storage_account.endswith(suffix)
    assert names.key_vault[0].isalpha() and "--" not in names.key_vault
    assert names.registry.isalnum() and names.registry.endswith(suffix)
    assert naming.name_suffix(base, "prod") != suffix


def test_policies_and_components_share_one_catalog() -> None:
    assert tags.REQUIRED_TAG_KEYS is catalog.REQUIRED_TAG_KEYS
    assert ssh_key.MISSING_KEY_MARKER is catalog.MISSING_KEY_MARKER


def test_components_import_only_pulumi_and_their_own_modules() -> None:
    """They are rendered into projects as `components`: no mlstart imports allowed."""
    allowed = {"pulumi", "pulumi_azure_native", "__future__"}
    for source in COMPONENTS.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                top = (node.module or "").split(".")[0]
                assert top in allowed or _stdlib(top), f"{source.name}: from {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top in allowed or _stdlib(top), f"{source.name}: import {alias.name}"


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names
