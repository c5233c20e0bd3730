"""Policies: a deliberately insecure program fails them, with the right ids and fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlstart_infra import policies
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.offline.plan import plan_project

from tests.infra.conftest import write_program

#: A program a user might write: plain azure-native resources, no mlstart components.
INSECURE_PROGRAM = """
import pulumi
from pulumi_azure_native import (
    app, compute, containerregistry, keyvault, machinelearningservices as ml, network, storage,
)

rg = "rg-insecure"
nsg = network.NetworkSecurityGroup("nsg", network_security_group_name="nsg", resource_group_name=rg,
    security_rules=[network.SecurityRuleArgs(name="ssh-anywhere", priority=100,
        direction="Inbound", access="Allow", protocol="Tcp", source_address_prefix="*",
        source_port_range="*", destination_address_prefix="*", destination_port_range="22")])
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
keyvault.Vault("kv", vault_name="kv-insecure", resource_group_name=rg,
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
"""

EXPECTED_FAILURES = {
    "MLS-VM-001", "MLS-VM-002", "MLS-VM-004", "MLS-NET-001", "MLS-NET-002", "MLS-NET-003",
    "MLS-STO-001", "MLS-STO-002", "MLS-STO-003", "MLS-KV-001", "MLS-KV-002", "MLS-KV-003",
    "MLS-ACR-001", "MLS-AML-001", "MLS-AML-002", "MLS-AML-003", "MLS-SRV-001", "MLS-IAM-001",
    "MLS-DATA-001", "MLS-COST-001", "MLS-COST-003", "MLS-COST-004", "MLS-COST-005",
    "MLS-COST-006", "MLS-COST-007",
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


def test_findings_name_the_resource_and_the_reason(insecure_graph: ResourceGraph) -> None:
    results = {r.policy.id: r for r in policies.evaluate(insecure_graph)}
    messages = {pid: [(f.resource, f.message) for f in r.findings] for pid, r in results.items()}
    assert messages["MLS-NET-003"] == [("nsg", "rule 'ssh-anywhere' allows SSH from the internet")]
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


def test_every_policy_has_an_id_severity_and_fix() -> None:
    ids = [p.id for p in policies.POLICIES]
    assert len(ids) == len(set(ids))
    for policy in policies.POLICIES:
        assert policy.id.startswith("MLS-")
        assert policy.severity in ("high", "medium", "low")
        assert policy.fix and "\n" not in policy.fix
        assert all(ref.startswith("CKV_AZURE_") for ref in policy.references)
    advisory = {p.id for p in policies.POLICIES if not p.mandatory}
    assert advisory == {"MLS-VM-003", "MLS-NET-001", "MLS-COST-002", "MLS-COST-007"}


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
