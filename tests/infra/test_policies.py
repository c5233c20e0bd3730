"""Policies: a deliberately insecure program fails them, with the right ids and fixes."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from mlstart_infra import policies
from mlstart_infra.components import catalog
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.offline.plan import plan_project
from mlstart_infra.pricing import CostEstimate, estimate

from tests.infra.conftest import write_program

#: A checkov id, or a Pulumi compliance-ready policy name.
REFERENCE = re.compile(r"CKV2?_AZURE_\d+|[a-z0-9]+(-[a-z0-9]+)+")

#: A program a user might write: plain azure-native resources, no mlstart components.
INSECURE_PROGRAM = """
import pulumi
from pulumi_azure_native import (
    app, authorization, compute, containerregistry, keyvault, machinelearningservices as ml,
    managedidentity, network, storage,
)

rg = "rg-insecure"
nsg = network.NetworkSecurityGroup("nsg", network_security_group_name="nsg", resource_group_name=rg,
    security_rules=[network.SecurityRuleArgs(name="ssh-anywhere", priority=100,
        direction="Inbound", access="Allow", protocol="Tcp", source_address_prefix="*",
        source_port_range="*", destination_address_prefix="*", destination_port_range="22"),
        network.SecurityRuleArgs(name="rdp-anywhere", priority=110, direction="Inbound",
        access="Allow", protocol="*", source_address_prefix="Internet", source_port_range="*",
        destination_address_prefix="*", destination_port_ranges=["3380-3390"])])
pip = network.PublicIPAddress("pip", public_ip_address_name="pip", resource_group_name=rg)
nic = network.NetworkInterface("nic", network_interface_name="nic", resource_group_name=rg,
    ip_configurations=[network.NetworkInterfaceIPConfigurationArgs(name="ip",
        public_ip_address=network.PublicIPAddressArgs(id=pip.id))])
compute.VirtualMachine("vm", vm_name="vm-insecure", resource_group_name=rg,
    hardware_profile=compute.HardwareProfileArgs(vm_size="Standard_D4s_v3"),
    os_profile=compute.OSProfileArgs(computer_name="vm", admin_username="azureuser",
        admin_password="Passw0rd!Passw0rd",
        linux_configuration=compute.LinuxConfigurationArgs(disable_password_authentication=False)),
    storage_profile=compute.StorageProfileArgs(os_disk=compute.OSDiskArgs(create_option="FromImage",
        name="os", vhd=compute.VirtualHardDiskArgs(uri="https://x.blob.core.windows.net/v/os.vhd"))),
    network_profile=compute.NetworkProfileArgs(network_interfaces=[
        compute.NetworkInterfaceReferenceArgs(id=nic.id)]))
storage.StorageAccount("st", account_name="stinsecure", resource_group_name=rg,
    kind="StorageV2", sku=storage.SkuArgs(name="Standard_LRS"),
    enable_https_traffic_only=False, minimum_tls_version="TLS1_0", allow_blob_public_access=True)
kv = keyvault.Vault("kv", vault_name="kv-insecure", resource_group_name=rg,
    properties=keyvault.VaultPropertiesArgs(tenant_id="t", enable_soft_delete=False,
        sku=keyvault.SkuArgs(family="A", name="standard")))
containerregistry.Registry("cr", registry_name="crinsecure", resource_group_name=rg,
    sku=containerregistry.SkuArgs(name="Basic"), admin_user_enabled=True)
ws = ml.Workspace("mlw", workspace_name="mlw-insecure", resource_group_name=rg)
ml.Compute("cluster", compute_name="cluster", workspace_name="mlw-insecure",
    resource_group_name=rg,
    properties=ml.AmlComputeArgs(compute_type="AmlCompute", properties=ml.AmlComputePropertiesArgs(
        vm_size="Standard_D4s_v3", remote_login_port_public_access="Enabled",
        scale_settings=ml.ScaleSettingsArgs(min_node_count=1, max_node_count=4,
            node_idle_time_before_scale_down="PT30M"))))
app.ContainerApp("app", container_app_name="app-insecure", resource_group_name=rg,
    configuration=app.ConfigurationArgs(ingress=app.IngressArgs(external=True, target_port=80)),
    template=app.TemplateArgs(containers=[app.ContainerArgs(name="c", image="nginx")],
        scale=app.ScaleArgs(min_replicas=1)))
network.PrivateEndpoint("pe", private_endpoint_name="pe-kv", resource_group_name=rg,
    private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(name="kv",
        private_link_service_id=kv.id, group_ids=["vault"])])
ml.Compute("instance", compute_name="ci-insecure", workspace_name="mlw-insecure",
    resource_group_name=rg, properties=ml.ComputeInstanceArgs(compute_type="ComputeInstance",
        properties=ml.ComputeInstancePropertiesArgs(vm_size="Standard_DS3_v2",
            ssh_settings=ml.ComputeInstanceSshSettingsArgs(ssh_public_access="Enabled"))))
compute.VirtualMachineScaleSet("vmss", vm_scale_set_name="vmss-insecure", resource_group_name=rg,
    sku=compute.SkuArgs(name="Standard_D4s_v3", capacity=2),
    virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
        os_profile=compute.VirtualMachineScaleSetOSProfileArgs(computer_name_prefix="v",
            admin_username="azureuser", admin_password="Passw0rd!Passw0rd",
            linux_configuration=compute.LinuxConfigurationArgs(
                disable_password_authentication=False))))
ci = managedidentity.UserAssignedIdentity("ci", resource_name_="id-ci", resource_group_name=rg)
managedidentity.FederatedIdentityCredential("gh", federated_identity_credential_resource_name="gh",
    resource_name_=ci.name, resource_group_name=rg, subject="repo:o/r:environment:dev",
    issuer="https://token.actions.githubusercontent.com", audiences=["api://AzureADTokenExchange"])
authorization.RoleAssignment("ci-contributor",
    role_assignment_name="11111111-1111-1111-1111-111111111111",
    principal_id=ci.principal_id, scope="/subscriptions/00000000-0000-0000-0000-000000000000",
    role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/"
    "b24988ac-6180-42a0-ab88-20f7382dd24c")
"""

EXPECTED_FAILURES = {
    "MLS-VM-001", "MLS-VM-002", "MLS-VM-004", "MLS-NET-001", "MLS-NET-002", "MLS-NET-003",
    "MLS-STO-001", "MLS-STO-002", "MLS-STO-003", "MLS-KV-001", "MLS-KV-002", "MLS-KV-003",
    "MLS-ACR-001", "MLS-AML-001", "MLS-AML-002", "MLS-AML-003", "MLS-SRV-001", "MLS-IAM-001",
    "MLS-DATA-001", "MLS-COST-001", "MLS-COST-003", "MLS-COST-004", "MLS-COST-005",
    "MLS-COST-006", "MLS-COST-007",
    # issue 9: RDP, public endpoints, blob soft delete, scale sets, compute instances
    "MLS-NET-004", "MLS-NET-005", "MLS-KV-004", "MLS-STO-004", "MLS-STO-005", "MLS-ACR-002",
    "MLS-AML-004", "MLS-AML-005", "MLS-AML-006", "MLS-VMSS-001", "MLS-VMSS-002",
    "MLS-COST-008", "MLS-COST-009",
    # issue 12: a compute instance without a stop schedule
    "MLS-COST-011",
    # issue 12: a VM with neither the idle-shutdown agent nor the opt-out tag
    "MLS-COST-012",
    # issue 13: a CI identity with Contributor on the subscription
    "MLS-IAM-002",
}  # fmt: skip


def write_insecure(folder: Path) -> Path:
    """The insecure program as a project folder."""
    return write_program(folder, INSECURE_PROGRAM, name="insecure")


@pytest.fixture(scope="module")
def insecure_graph(tmp_path_factory: pytest.TempPathFactory) -> ResourceGraph:
    return plan_project(write_insecure(tmp_path_factory.mktemp("insecure")))


def test_insecure_program_fails_the_expected_policies(insecure_graph: ResourceGraph) -> None:
    results = {r.policy.id: r for r in policies.evaluate(insecure_graph)}
    failed = {pid for pid, r in results.items() if r.status == "fail"}
    assert failed == EXPECTED_FAILURES
    assert results["MLS-COST-002"].status == "not-applicable"  # no schedule at all
    assert results["MLS-VM-003"].status == "pass"  # no key, but no missing key file either
    assert results["MLS-COST-010"].status == "not-applicable"  # no budget to compare with


def test_findings_name_the_resource_and_the_reason(insecure_graph: ResourceGraph) -> None:
    results = {r.policy.id: r for r in policies.evaluate(insecure_graph)}
    messages = {pid: [(f.resource, f.message) for f in r.findings] for pid, r in results.items()}
    assert messages["MLS-NET-003"] == [("nsg", "rule 'ssh-anywhere' allows SSH from the internet")]
    assert messages["MLS-NET-004"] == [("nsg", "rule 'rdp-anywhere' allows RDP from the internet")]
    assert messages["MLS-NET-005"] == [
        ("kv-insecure", "open to the internet: publicNetworkAccess is 'enabled' and no network "
         "rule denies by default, though a private endpoint serves it")  # the SDK's default
    ]  # fmt: skip
    assert messages["MLS-AML-006"] == [
        ("ci-insecure", "sshSettings.sshPublicAccess is 'Enabled': SSH is open to the internet")
    ]
    assert messages["MLS-COST-008"] == [
        ("vmss-insecure", "capacity is 2 and no enabled autoscale setting scales it to 0 "
         "(scale sets have no auto-shutdown schedule)")
    ]  # fmt: skip
    assert messages["MLS-COST-003"] == [("cluster", "minNodeCount is 1.0, not 0")]
    assert messages["MLS-COST-004"] == [
        ("cluster", "idle scale-down after 30 minutes (more than 15)")
    ]
    assert messages["MLS-COST-001"] == [
        ("vm-insecure", "no enabled auto-shutdown schedule targets this VM")
    ]
    assert ("mlw-insecure", "not created with protect=True: a destroy would delete its data") in (
        messages["MLS-DATA-001"]
    )
    assert messages["MLS-COST-005"] == [("(none)", "no budget watches this infrastructure")]
    assert messages["MLS-IAM-002"] == [
        ("11111111-1111-1111-1111-111111111111", "grants Contributor to the CI identity; is "
         "scoped to /subscriptions/00000000-0000-0000-0000-000000000000, wider than a resource "
         "group")
    ]  # fmt: skip


def test_every_policy_has_an_id_severity_and_fix() -> None:
    ids = [p.id for p in policies.POLICIES]
    assert len(ids) == len(set(ids))
    for policy in policies.POLICIES:
        assert policy.id.startswith("MLS-")
        assert policy.severity in ("high", "medium", "low")
        assert policy.fix and "\n" not in policy.fix
        assert all(REFERENCE.fullmatch(ref) for ref in policy.references), policy.references
    advisory = {p.id for p in policies.POLICIES if not p.mandatory}
    assert advisory == {
        "MLS-VM-003", "MLS-NET-001", "MLS-COST-002", "MLS-COST-007",
        "MLS-KV-004", "MLS-STO-004", "MLS-ACR-002", "MLS-AML-004",
    }  # fmt: skip


def _graph(*resources: PlannedResource) -> ResourceGraph:
    return ResourceGraph("p", "dev", list(resources))


def _resource(type_: str, name: str, **inputs: object) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:{name}", type=f"azure-native:{type_}", name=name, azure_name=name,
        custom=True, inputs=inputs, id=f"/id/{name}",
    )  # fmt: skip


def _status(graph: ResourceGraph, policy_id: str) -> str:
    (result,) = [r for r in policies.evaluate(graph) if r.policy.id == policy_id]
    return result.status


@pytest.mark.parametrize(
    ("duration", "status"),
    [("PT2M", "pass"), ("PT15M", "pass"), ("PT900S", "pass"), ("PT16M", "fail"),
     ("PT1H", "fail"), (None, "fail"), ("2 minutes", "fail")],
)  # fmt: skip
def test_idle_scale_down_limit(duration: str | None, status: str) -> None:
    scale = {"minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": duration}
    cluster = _resource(
        "machinelearningservices:Compute", "c",
        properties={"computeType": "AmlCompute", "properties": {"scaleSettings": scale}},
    )  # fmt: skip
    assert _status(_graph(cluster), "MLS-COST-004") == status


@pytest.mark.parametrize(
    ("rule", "status"),
    [({"sourceAddressPrefix": "10.0.0.0/8", "destinationPortRange": "22"}, "pass"),
     ({"sourceAddressPrefix": "Internet", "destinationPortRange": "20-30"}, "fail"),
     ({"sourceAddressPrefixes": ["1.2.3.4/32", "0.0.0.0/0"], "destinationPortRange": "*"}, "fail"),
     ({"sourceAddressPrefix": "*", "destinationPortRanges": ["80", "443"]}, "pass"),
     ({"sourceAddressPrefix": "*", "destinationPortRange": "22", "access": "Deny"}, "pass")],
)  # fmt: skip
def test_ssh_exposure_rules(rule: dict[str, object], status: str) -> None:
    full = {"name": "r", "direction": "Inbound", "access": "Allow", "protocol": "Tcp", **rule}
    nsg = _resource("network:NetworkSecurityGroup", "nsg", securityRules=[full])
    assert _status(_graph(nsg), "MLS-NET-003") == status


def test_schedule_must_use_the_azure_name_and_target_the_vm() -> None:
    vm = _resource("compute:VirtualMachine", "vm1")
    daily = {"time": "1900"}
    wrong_name = _resource("devtestlab:GlobalSchedule", "nightly", taskType="ComputeVmShutdownTask",
                           targetResourceId="/id/vm1", dailyRecurrence=daily)  # fmt: skip
    right = _resource("devtestlab:GlobalSchedule", "shutdown-computevm-vm1",
                      taskType="ComputeVmShutdownTask", targetResourceId="/ID/VM1",
                      dailyRecurrence={"time": "1900"})  # fmt: skip
    disabled = _resource("devtestlab:GlobalSchedule", "shutdown-computevm-vm1", status="Disabled",
                         taskType="ComputeVmShutdownTask", targetResourceId="/id/vm1")  # fmt: skip
    assert _status(_graph(vm, wrong_name), "MLS-COST-001") == "fail"
    assert _status(_graph(vm, right), "MLS-COST-001") == "pass"
    assert _status(_graph(vm, disabled), "MLS-COST-001") == "fail"


def test_budget_without_recipients_fails() -> None:
    silent = _resource("consumption:Budget", "b", amount=100,
                       notifications={"a": {"enabled": True, "threshold": 80}})  # fmt: skip
    alert = {"threshold": 80, "contactEmails": ["x@y.z"]}
    loud = _resource("consumption:Budget", "b", amount=100, notifications={"a": alert})
    assert _status(_graph(silent), "MLS-COST-005") == "fail"
    assert _status(_graph(loud), "MLS-COST-005") == "pass"


def test_missing_tags_are_named() -> None:
    vnet = _resource("network:VirtualNetwork", "v", tags={"project": "p", "owner": ""})
    subnet = _resource("network:Subnet", "s")  # subnets take no tags
    (result,) = [
        r for r in policies.evaluate(_graph(vnet, subnet)) if r.policy.id == "MLS-COST-006"
    ]
    assert [(f.resource, f.message) for f in result.findings] == [
        ("v", "missing tags: owner, environment, decommission-by")
    ]


def _nsg_rule(port: str, source: str = "*", access: str = "Allow") -> PlannedResource:
    rule = {"name": "r", "direction": "Inbound", "access": access, "protocol": "Tcp",
            "sourceAddressPrefix": source, "destinationPortRange": port}  # fmt: skip
    return _resource("network:NetworkSecurityGroup", "nsg", securityRules=[rule])


@pytest.mark.parametrize(
    ("port", "source", "access", "rdp", "ssh"),
    [("3389", "*", "Allow", "fail", "pass"), ("3000-4000", "Internet", "Allow", "fail", "pass"),
     ("3389", "10.0.0.0/16", "Allow", "pass", "pass"), ("3389", "*", "Deny", "pass", "pass"),
     ("22", "*", "Allow", "pass", "fail"), ("*", "0.0.0.0/0", "Allow", "fail", "fail")],
)  # fmt: skip
def test_rdp_and_ssh_share_the_open_port_check(
    port: str, source: str, access: str, rdp: str, ssh: str
) -> None:
    graph = _graph(_nsg_rule(port, source, access))
    assert (_status(graph, "MLS-NET-004"), _status(graph, "MLS-NET-003")) == (rdp, ssh)
    assert _status(_graph(), "MLS-NET-004") == "not-applicable"


#: type, policy, and inputs that close the public endpoint (publicNetworkAccess / rules).
CLOSABLE = [
    ("keyvault:Vault", "MLS-KV-004", {"properties": {"publicNetworkAccess": "Disabled"}},
     {"properties": {"networkAcls": {"defaultAction": "Deny"}}}),
    ("storage:StorageAccount", "MLS-STO-004", {"publicNetworkAccess": "disabled"},
     {"networkRuleSet": {"defaultAction": "Deny"}}),
    ("containerregistry:Registry", "MLS-ACR-002", {"publicNetworkAccess": "Disabled"},
     {"networkRuleSet": {"defaultAction": "Deny"}}),
    ("machinelearningservices:Workspace", "MLS-AML-004", {"publicNetworkAccess": "Disabled"},
     None),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "policy_id", "closed", "denied"), CLOSABLE)
def test_public_network_access_is_advisory(
    type_: str, policy_id: str, closed: dict[str, object], denied: dict[str, object] | None
) -> None:
    assert _status(_graph(_resource(type_, "x", **closed)), policy_id) == "pass"
    if denied is not None:
        assert _status(_graph(_resource(type_, "x", **denied)), policy_id) == "pass"
    (result,) = [
        r for r in policies.evaluate(_graph(_resource(type_, "x"))) if r.policy.id == policy_id
    ]
    assert result.status == "fail" and not result.policy.mandatory
    assert (
        "publicNetworkAccess is not set (Azure's default is Enabled)" in result.findings[0].message
    )
    opened = _resource(
        type_, "x", publicNetworkAccess="Enabled", properties={"publicNetworkAccess": "Enabled"}
    )
    assert _status(_graph(opened), policy_id) == "fail"
    assert _status(_graph(), policy_id) == "not-applicable"


def _private_endpoint(target: str) -> PlannedResource:
    connection = {"name": "c", "privateLinkServiceId": f"/ID/{target.upper()}"}
    return _resource("network:PrivateEndpoint", "pe", privateLinkServiceConnections=[connection])


@pytest.mark.parametrize(("type_", "policy_id", "closed", "denied"), CLOSABLE)
def test_a_private_endpoint_makes_closing_the_public_endpoint_mandatory(
    type_: str, policy_id: str, closed: dict[str, object], denied: dict[str, object] | None
) -> None:
    open_one, closed_one = _resource(type_, "x"), _resource(type_, "x", **closed)
    assert _status(_graph(open_one, _private_endpoint("x")), "MLS-NET-005") == "fail"
    assert _status(_graph(closed_one, _private_endpoint("x")), "MLS-NET-005") == "pass"
    assert _status(_graph(open_one, _private_endpoint("other")), "MLS-NET-005") == "not-applicable"
    assert _status(_graph(open_one), "MLS-NET-005") == "not-applicable"
    # the same resource stays an advisory finding of its own policy
    assert _status(_graph(open_one, _private_endpoint("x")), policy_id) == "fail"


def _blob_service(
    account: str = "st", blobs: bool = True, containers: bool = True
) -> PlannedResource:
    return _resource(
        "storage:BlobServiceProperties", "default", accountName=account, resourceGroupName="rg",
        deleteRetentionPolicy={"enabled": blobs, "days": 7},
        containerDeleteRetentionPolicy={"enabled": containers, "days": 7},
    )  # fmt: skip


def _blob_messages(*resources: PlannedResource) -> list[str]:
    (result,) = [r for r in policies.evaluate(_graph(*resources)) if r.policy.id == "MLS-STO-005"]
    return [f.message for f in result.findings] if result.status != "not-applicable" else ["n/a"]


def test_blob_soft_delete_needs_blob_and_container_retention() -> None:
    account = _resource("storage:StorageAccount", "st", kind="StorageV2", resourceGroupName="rg")
    assert _blob_messages(account, _blob_service()) == []
    assert _blob_messages(account) == [
        "no BlobServiceProperties turns on soft delete for its blobs"
    ]
    assert _blob_messages(account, _blob_service("other")) == [
        "no BlobServiceProperties turns on soft delete for its blobs"
    ]
    assert _blob_messages(account, _blob_service(blobs=False)) == [
        "deleteRetentionPolicy is not enabled: a deleted blob is gone at once"
    ]
    assert _blob_messages(account, _blob_service(containers=False)) == [
        "containerDeleteRetentionPolicy is not enabled: a deleted container is lost"
    ]
    files = _resource("storage:StorageAccount", "st", kind="FileStorage")
    assert _blob_messages(files) == ["n/a"]
    assert _blob_messages() == ["n/a"]


def _scale_set(
    capacity: object = 2, *, password: bool = False, key: bool = True
) -> PlannedResource:
    linux: dict[str, object] = {"disablePasswordAuthentication": not password}
    if key:
        linux["ssh"] = {"publicKeys": [{"path": "/home/a/.ssh/authorized_keys", "keyData": "k"}]}
    profile = {"osProfile": {"adminUsername": "a", "linuxConfiguration": linux}}
    return _resource("compute:VirtualMachineScaleSet", "vmss",
                     sku={"name": "Standard_D4s_v3", "capacity": capacity},
                     virtualMachineProfile=profile)  # fmt: skip


def test_scale_sets_are_judged_like_vms() -> None:
    good = _graph(_scale_set())
    assert (_status(good, "MLS-VMSS-001"), _status(good, "MLS-VMSS-002")) == ("pass", "pass")
    bad = _graph(_scale_set(password=True, key=False))
    assert (_status(bad, "MLS-VMSS-001"), _status(bad, "MLS-VMSS-002")) == ("fail", "fail")
    missing = _scale_set()
    keys = missing.inputs["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["ssh"]
    keys["publicKeys"][0]["keyData"] = "MISSING-SSH-PUBLIC-KEY ~/.ssh/id.pub"
    assert _status(_graph(missing), "MLS-VM-003") == "fail"
    for policy_id in ("MLS-VMSS-001", "MLS-VMSS-002", "MLS-COST-008"):
        assert _status(_graph(), policy_id) == "not-applicable"
    assert _status(_graph(_scale_set()), "MLS-VM-001") == "not-applicable"  # VMs only


def _autoscale(minimum: str, enabled: bool = True, target: str = "/id/vmss") -> PlannedResource:
    profile = {"name": "p", "capacity": {"minimum": minimum, "maximum": "4", "default": minimum}}
    return _resource("monitor:AutoscaleSetting", "as", enabled=enabled, targetResourceUri=target,
                     profiles=[profile])  # fmt: skip


@pytest.mark.parametrize(
    ("resources", "status"),
    [((_scale_set(0),), "pass"), ((_scale_set(2),), "fail"), ((_scale_set(None),), "fail"),
     ((_scale_set(2), _autoscale("0")), "pass"), ((_scale_set(2), _autoscale("1")), "fail"),
     ((_scale_set(2), _autoscale("0", enabled=False)), "fail"),
     ((_scale_set(2), _autoscale("0", target="/id/other")), "fail")],
)  # fmt: skip
def test_scale_sets_scale_in_to_zero(resources: tuple[PlannedResource, ...], status: str) -> None:
    assert _status(_graph(*resources), "MLS-COST-008") == status


def _instance(**props: object) -> PlannedResource:
    properties = {"computeType": "ComputeInstance", "properties": props}
    return _resource("machinelearningservices:Compute", "ci", properties=properties)


GOOD_INSTANCE = {"vmSize": "Standard_DS3_v2", "enableNodePublicIp": False,
                 "idleTimeBeforeShutdown": "PT30M"}  # fmt: skip
STOP_AT_SIX = {"computeStartStop": [{"action": "Stop", "triggerType": "Cron",
                                     "cron": {"expression": "0 18 * * *"}}]}  # fmt: skip


GOOD_INSTANCE = {**GOOD_INSTANCE, "schedules": STOP_AT_SIX}
#: A Stop recurrence as the compute instance component writes it (floats: the plan's numbers).
SEVEN_PM = {"frequency": "Day", "interval": 1.0, "timeZone": "UTC",
            "schedule": {"hours": [19.0], "minutes": [0.0]}}  # fmt: skip
STOP_AT_SEVEN = {"computeStartStop": [
    {"action": "Stop", "status": "Enabled", "triggerType": "Recurrence", "recurrence": SEVEN_PM},
]}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "failed"),
    [({}, set()), ({"enableNodePublicIp": True}, {"MLS-AML-005"}),
     ({"enableNodePublicIp": None}, {"MLS-AML-005"}),
     ({"sshSettings": {"sshPublicAccess": "Enabled"}}, {"MLS-AML-006"}),
     ({"sshSettings": {"sshPublicAccess": "Disabled"}}, set()),
     ({"idleTimeBeforeShutdown": "PT60M"}, set()), ({"idleTimeBeforeShutdown": "PT1H"}, set()),
     ({"idleTimeBeforeShutdown": "PT90M", "schedules": None}, {"MLS-COST-009", "MLS-COST-011"}),
     ({"idleTimeBeforeShutdown": "P1D", "schedules": None}, {"MLS-COST-009", "MLS-COST-011"}),
     ({"idleTimeBeforeShutdown": None, "schedules": None}, {"MLS-COST-009", "MLS-COST-011"}),
     ({"idleTimeBeforeShutdown": "PT30M", "schedules": None}, {"MLS-COST-011"}),
     ({"idleTimeBeforeShutdown": "P1D"}, set()),  # the daily stop ends the day anyway
     ({"idleTimeBeforeShutdown": None}, set()),
     ({"schedules": STOP_AT_SEVEN}, set()),
     ({"schedules": {"computeStartStop": [{"action": "Start", "triggerType": "Cron",
                                           "cron": {"expression": "0 8 * * *"}}]}},
      {"MLS-COST-011"}),
     ({"schedules": {"computeStartStop": [{"action": "Stop", "triggerType": "Cron",
                                           "cron": {"expression": "0 18-20 * * *"}}]}},
      {"MLS-COST-011"})],
)  # fmt: skip
def test_compute_instances_are_private_and_stop_when_idle(
    change: dict[str, object], failed: set[str]
) -> None:
    props = {k: v for k, v in {**GOOD_INSTANCE, **change}.items() if v is not None}
    graph = _graph(_instance(**props))
    judged = ("MLS-AML-005", "MLS-AML-006", "MLS-COST-009", "MLS-COST-011")
    assert {pid for pid in judged if _status(graph, pid) == "fail"} == failed
    assert all(_status(graph, pid) != "not-applicable" for pid in judged)
    assert _status(graph, "MLS-AML-001") == "not-applicable"  # cluster policies skip instances


def test_instance_policies_skip_clusters_and_a_disabled_stop_schedule_does_not_count() -> None:
    cluster = _resource("machinelearningservices:Compute", "c",
                        properties={"computeType": "AmlCompute", "properties": {}})  # fmt: skip
    for policy_id in ("MLS-AML-005", "MLS-AML-006", "MLS-COST-009", "MLS-COST-011"):
        assert _status(_graph(cluster), policy_id) == "not-applicable"
    disabled = {"computeStartStop": [{**STOP_AT_SIX["computeStartStop"][0], "status": "Disabled"}]}
    assert _status(_graph(_instance(schedules=disabled)), "MLS-COST-009") == "fail"


def test_key_vaults_must_be_protected() -> None:
    vault = _resource("keyvault:Vault", "kv")
    assert _status(_graph(vault), "MLS-DATA-001") == "fail"
    kept = PlannedResource(**{**vault.__dict__, "protect": True})
    assert _status(_graph(kept), "MLS-DATA-001") == "pass"
    assert catalog.VAULT in policies.STATEFUL_TYPES


def test_shutdown_schedule_must_be_in_the_vms_resource_group() -> None:
    vm = _resource("compute:VirtualMachine", "vm1", resourceGroupName="rg-Work")

    def schedule(group: str) -> PlannedResource:
        return _resource("devtestlab:GlobalSchedule", "shutdown-computevm-vm1",
                         taskType="ComputeVmShutdownTask", targetResourceId="/id/vm1",
                         dailyRecurrence={"time": "1900"}, resourceGroupName=group)  # fmt: skip

    (result,) = [r for r in policies.evaluate(_graph(vm, schedule("rg-other")))
                 if r.policy.id == "MLS-COST-001"]  # fmt: skip
    assert [f.message for f in result.findings] == [
        "shutdown-computevm-vm1 must be in the VM's resource group (rg-Work)"
    ]
    assert _status(_graph(vm, schedule("RG-work")), "MLS-COST-001") == "pass"


def _priced_plan(amount: object) -> ResourceGraph:
    vm = _resource("compute:VirtualMachine", "vm1", location="eastus",
                   hardwareProfile={"vmSize": "Standard_D4s_v3"})  # fmt: skip
    alert = {"threshold": 80, "contactEmails": ["x@y.z"]}
    budget = _resource("consumption:Budget", "budget", amount=amount, notifications={"a": alert})
    return _graph(vm, budget)


def test_a_budget_smaller_than_the_scheduled_estimate_fails_the_plan() -> None:
    (result,) = [r for r in policies.evaluate(_priced_plan(10)) if r.policy.id == "MLS-COST-010"]
    assert result.status == "fail" and result.failed_mandatory
    scheduled = estimate(_priced_plan(10)).total_scheduled
    assert scheduled > 10
    assert result.findings[0].message.startswith(
        f"the scheduled estimate of {scheduled:,.2f} USD a month is more than the budget of 10.00"
    )
    assert _status(_priced_plan(100_000), "MLS-COST-010") == "pass"
    assert _status(_priced_plan(0), "MLS-COST-010") == "not-applicable"  # MLS-COST-005's job
    assert _status(_graph(_resource("compute:VirtualMachine", "vm1")), "MLS-COST-010") == (
        "not-applicable"
    )


def test_evaluate_uses_the_estimate_it_is_given() -> None:
    graph = _priced_plan(10)
    free = CostEstimate(lines=[], currency="USD", recorded_on="2030-01-01", source="test")
    results = {r.policy.id: r for r in policies.evaluate(graph, costs=free)}
    assert results["MLS-COST-010"].status == "pass"
    (budget_policy,) = [p for p in policies.POLICIES if p.id == "MLS-COST-010"]
    checked, findings = budget_policy.check(graph)  # on its own: the shipped price table
    assert checked == 1 and len(findings) == 1


@pytest.mark.parametrize(
    ("duration", "minutes"),
    [("PT2M", 2), ("PT1H30M", 90), ("P1D", 1440), ("P1DT1H", 1500), ("PT", None), ("P", None),
     ("1H", None)],
)  # fmt: skip
def test_iso_minutes(duration: str, minutes: float | None) -> None:
    assert policies.iso_minutes(duration) == minutes


def _ci_identity(*assignments: tuple[str, str]) -> ResourceGraph:
    """A CI identity (trusted by a federated credential) with role assignments (role, scope)."""
    identity = _resource("managedidentity:UserAssignedIdentity", "id-ci")
    credential = replace(
        _resource("managedidentity:FederatedIdentityCredential", "gh"),
        dependencies=(identity.urn,),
    )
    granted = [
        replace(
            _resource(
                "authorization:RoleAssignment",
                f"a{n}",
                scope=scope,
                roleDefinitionId=f"/subscriptions/s/providers/Microsoft.Authorization/"
                f"roleDefinitions/{role}",
            ),
            dependencies=(identity.urn,),
        )
        for n, (role, scope) in enumerate(assignments)
    ]
    return _graph(identity, credential, *granted)


@pytest.mark.parametrize(
    ("role", "scope", "status"),
    [(catalog.AZUREML_DATA_SCIENTIST_ROLE, "/subscriptions/s/resourceGroups/rg/x/w", "pass"),
     (catalog.ACR_PUSH_ROLE, "/subscriptions/s/resourceGroups/rg", "pass"),
     (catalog.ACR_PUSH_ROLE, "/subscriptions/s", "fail"),
     (catalog.ACR_PUSH_ROLE, "/", "fail"),
     (catalog.OWNER_ROLE, "/subscriptions/s/resourceGroups/rg", "fail"),
     (catalog.USER_ACCESS_ADMINISTRATOR_ROLE.upper(), "/subscriptions/s/resourceGroups/rg", "fail"),
     (catalog.RBAC_ADMINISTRATOR_ROLE, "/subscriptions/s/resourceGroups/rg", "fail")],
)  # fmt: skip
def test_the_ci_identity_holds_narrow_roles_only(role: str, scope: str, status: str) -> None:
    assert _status(_ci_identity((role, scope)), "MLS-IAM-002") == status


def test_only_federated_identities_are_judged_as_the_ci_identity() -> None:
    graph = _ci_identity((catalog.CONTRIBUTOR_ROLE, "/subscriptions/s"))
    untrusted = [r for r in graph.resources if r.type != catalog.FEDERATED_CREDENTIAL]
    assert _status(_graph(*untrusted), "MLS-IAM-002") == "not-applicable"
