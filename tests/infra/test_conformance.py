"""Conformance: invalid names, enum values, references and first-`up` order are found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlstart_infra import conformance
from mlstart_infra.components import catalog
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
from mlstart_infra.offline.plan import plan_project

from tests.infra.conftest import TEST_KEY, write_program

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG_ID = f"{SUB}/resourceGroups/rg-demo"
GUID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def resource(type_token: str, name: str, inputs: dict[str, Any], kind: str = "") -> PlannedResource:
    """A planned resource with a mock-like id."""
    module = type_token.split(":")[1]
    rid = (
        RG_ID
        if type_token == catalog.RESOURCE_GROUP
        else f"{RG_ID}/providers/mock.{module}/{kind or 'X'}/{name}"
    )
    return PlannedResource(f"urn:{name}", type_token, name, name, True, inputs, id=rid)


def graph(*resources: PlannedResource) -> ResourceGraph:
    group = resource(catalog.RESOURCE_GROUP, "rg-demo", {"resourceGroupName": "rg-demo"})
    return ResourceGraph("demo", "dev", [group, *resources])


def ids(findings: list[conformance.ConformanceFinding]) -> list[tuple[str, str]]:
    return [(f.id, f.resource) for f in findings]


def test_clean_hand_made_graph_has_no_findings() -> None:
    vm = resource(
        catalog.VM,
        "vm-demo",
        {"resourceGroupName": "rg-demo", "storageProfile": {"osDisk": {"name": "osdisk-vm-demo"}}},
        "virtualMachines",
    )
    schedule = resource(
        catalog.SCHEDULE,
        "shutdown-computevm-vm-demo",
        {
            "resourceGroupName": "rg-demo",
            "taskType": "ComputeVmShutdownTask",
            "dailyRecurrence": {"time": "1900"},
            "timeZoneId": "UTC",
            "targetResourceId": vm.id,
        },
    )
    budget = resource(catalog.BUDGET, "budget-demo", {"scope": RG_ID})
    assert conformance.check(graph(vm, schedule, budget)) == []


def test_names_and_the_os_disk_and_the_schedule_name() -> None:
    vm = resource(
        catalog.VM,
        "vm-demo",
        {"resourceGroupName": "rg-demo", "storageProfile": {"osDisk": {"name": "os.disk"}}},
        "virtualMachines",
    )
    schedule = resource(
        catalog.SCHEDULE,
        "shutdown-computevm-other",
        {
            "resourceGroupName": "rg-demo",
            "taskType": "ComputeVmShutdownTask",
            "dailyRecurrence": {"time": "1900"},
            "timeZoneId": "UTC",
            "targetResourceId": vm.id,
        },
    )
    storage = resource(catalog.STORAGE, "st-demo", {"resourceGroupName": "rg-demo"})
    found = conformance.check(graph(vm, schedule, storage))
    assert ids(found) == [
        ("AZ-NAME", "vm-demo"),
        ("AZ-NAME", "shutdown-computevm-other"),
        ("AZ-NAME", "st-demo"),
    ]
    assert "OS disk" in found[0].message and "shutdown-computevm-vm-demo" in found[1].fix


def test_references_by_id_and_by_name() -> None:
    ghost = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/ghost/subnets/s"
    nic = resource(
        catalog.NIC,
        "nic-demo",
        {"resourceGroupName": "rg-demo", "ipConfigurations": [{"subnet": {"id": ghost}}]},
    )
    ext = resource(
        catalog.VM_EXTENSION, "ext", {"resourceGroupName": "rg-other", "vmName": "vm-nope"}
    )
    role = resource(
        catalog.ROLE_ASSIGNMENT,
        GUID,
        {
            "roleDefinitionId": f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{GUID}",
            "scope": nic.id,
        },
    )
    found = conformance.check(graph(nic, ext, role))
    assert ids(found) == [("AZ-REF", "nic-demo"), ("AZ-REF", "ext"), ("AZ-REF", "ext")]
    messages = " ".join(f.message for f in found)
    assert all(word in messages for word in ("ghost", "rg-other", "vm-nope"))
    existing = [f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/ghost", "rg-other", "vm-nope"]
    assert conformance.check(graph(nic, ext, role), existing=existing) == []


def test_required_properties() -> None:
    vm = resource(
        catalog.VM,
        "vm-demo",
        {
            "resourceGroupName": "rg-demo",
            "osProfile": {
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {"publicKeys": []},
                }
            },
        },
    )
    schedule = resource(
        catalog.SCHEDULE,
        "shutdown-computevm-vm-demo",
        {
            "resourceGroupName": "rg-demo",
            "taskType": "ComputeVmShutdownTask",
            "targetResourceId": vm.id,
        },
    )
    found = conformance.check(graph(vm, schedule))
    assert ids(found) == [("AZ-REQ", "vm-demo"), ("AZ-REQ", "shutdown-computevm-vm-demo")]
    assert "dailyRecurrence.time" in found[1].message and "timeZoneId" in found[1].message


def test_order_models_and_images_from_a_new_registry() -> None:
    registry = resource(catalog.REGISTRY, "crdemo", {"resourceGroupName": "rg-demo"})
    app = resource(
        catalog.CONTAINER_APP,
        "ca-demo",
        {
            "resourceGroupName": "rg-demo",
            "template": {
                "containers": [
                    {"name": "a", "image": "crdemo.azurecr.io/model:1"},
                    {"name": "b", "image": "mcr.microsoft.com/k8se/quickstart:latest"},
                ]
            },
        },
    )
    found = conformance.check(graph(registry, app))
    assert ids(found) == [("AZ-ORDER", "ca-demo")] and "containers[0].image" in found[0].message


@pytest.mark.parametrize(
    ("model", "created"),
    [
        ("azureml:churn:1", False),
        ("azureml:churn:1", True),
        ("azureml://registries/azureml/models/phi/versions/2", False),
        (
            f"{RG_ID}/providers/Microsoft.MachineLearningServices/workspaces/w/models/churn/versions/1",
            False,
        ),
    ],
)
def test_model_references(model: str, created: bool) -> None:
    deployment = resource(catalog.DEPLOYMENT, "blue", {"properties": {"model": model}})
    extra = (
        [resource(catalog.ML_MODEL_VERSION, "1", {"name": "churn", "version": "1"})]
        if created
        else []
    )
    found = [f.id for f in conformance.check(graph(deployment, *extra)) if f.id != "AZ-REF"]
    registry_model = model.startswith("azureml://registries/")
    assert found == ([] if created or registry_model else ["AZ-ORDER"])


def test_checks_are_listed_with_sources() -> None:
    assert [c[0] for c in conformance.CHECKS] == [
        "AZ-NAME",
        "AZ-ENUM",
        "AZ-REQ",
        "AZ-REF",
        "AZ-ORDER",
    ]
    assert all(source for _, _, source in conformance.CHECKS)


# ---------------------------------------------------------------- whole programs

CLEAN_PROGRAM = f"""
import pulumi
from pulumi_azure_native import compute, devtestlab, network, resources, storage

group = resources.ResourceGroup("rg", resource_group_name="rg-clean", location="westeurope")
rg = group.name
storage.StorageAccount("st", account_name="stclean01", resource_group_name=rg,
    kind="StorageV2", sku=storage.SkuArgs(name="Standard_LRS"))
vnet = network.VirtualNetwork("vnet", virtual_network_name="vnet-clean", resource_group_name=rg,
    address_space=network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]))
subnet = network.Subnet("subnet", subnet_name="workstation", resource_group_name=rg,
    virtual_network_name=vnet.name, address_prefix="10.0.1.0/24")
nic = network.NetworkInterface("nic", network_interface_name="nic-clean", resource_group_name=rg,
    ip_configurations=[network.NetworkInterfaceIPConfigurationArgs(name="ipconfig1",
        subnet=network.SubnetArgs(id=subnet.id))])
vm = compute.VirtualMachine("vm", vm_name="vm-clean", resource_group_name=rg,
    hardware_profile=compute.HardwareProfileArgs(vm_size="Standard_NC4as_T4_v3"),
    os_profile=compute.OSProfileArgs(computer_name="vm-clean", admin_username="azureuser",
        linux_configuration=compute.LinuxConfigurationArgs(disable_password_authentication=True,
            ssh=compute.SshConfigurationArgs(public_keys=[compute.SshPublicKeyArgs(
                key_data="{TEST_KEY}", path="/home/azureuser/.ssh/authorized_keys")]))),
    storage_profile=compute.StorageProfileArgs(os_disk=compute.OSDiskArgs(
        create_option="FromImage", name="osdisk-vm-clean")),
    network_profile=compute.NetworkProfileArgs(network_interfaces=[
        compute.NetworkInterfaceReferenceArgs(id=nic.id)]))
devtestlab.GlobalSchedule("shutdown", name="shutdown-computevm-vm-clean", resource_group_name=rg,
    status="Enabled", task_type="ComputeVmShutdownTask",
    daily_recurrence=devtestlab.DayDetailsArgs(time="1900"), time_zone_id="UTC",
    target_resource_id=vm.id)
"""


def plan(tmp_path: Path, body: str) -> ResourceGraph:
    return plan_project(write_program(tmp_path / "program", body, name="conf"))


def test_clean_program_has_no_findings(tmp_path: Path) -> None:
    assert conformance.check(plan(tmp_path, CLEAN_PROGRAM)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('kind="StorageV2"', 'kind="StorageV3"'), ("AZ-ENUM", "stclean01")),
        (
            (
                'sku=storage.SkuArgs(name="Standard_LRS")',
                'sku=storage.SkuArgs(name="Standard_XRS")',
            ),
            ("AZ-ENUM", "stclean01"),
        ),
        (('status="Enabled"', 'status="On"'), ("AZ-ENUM", "shutdown-computevm-vm-clean")),
        (('account_name="stclean01"', 'account_name="st-clean"'), ("AZ-NAME", "st-clean")),
        (
            (
                "subnet=network.SubnetArgs(id=subnet.id)",
                'subnet=network.SubnetArgs(id="/subscriptions/0/resourceGroups/rg-clean/providers/Microsoft.Network/virtualNetworks/v/subnets/s")',
            ),
            ("AZ-REF", "nic-clean"),
        ),
        (("rg = group.name", 'rg = "rg-elsewhere"'), ("AZ-REF", "stclean01")),
    ],
)
def test_a_broken_program_gets_the_right_finding(
    tmp_path: Path, change: tuple[str, str], expected: tuple[str, str]
) -> None:
    assert change[0] in CLEAN_PROGRAM
    found = conformance.check(plan(tmp_path, CLEAN_PROGRAM.replace(*change)))
    assert expected in ids(found), ids(found)
    assert all(f.message and f.fix and f.source for f in found)


def test_enum_message_names_the_allowed_values(tmp_path: Path) -> None:
    found = conformance.check(
        plan(tmp_path, CLEAN_PROGRAM.replace('kind="StorageV2"', 'kind="StorageV3"'))
    )
    assert [f.id for f in found] == ["AZ-ENUM"]
    assert "kind is 'StorageV3'" in found[0].message and "StorageV2" in found[0].fix


DEPLOYMENT_PROGRAM = """
import pulumi
from pulumi_azure_native import machinelearningservices as ml, resources

group = resources.ResourceGroup("rg", resource_group_name="rg-ml", location="westeurope")
ws = ml.Workspace("ws", workspace_name="mlw-demo", resource_group_name=group.name)
ep = ml.OnlineEndpoint("ep", endpoint_name="ep-demo-a01290", resource_group_name=group.name,
    workspace_name=ws.name, properties=ml.OnlineEndpointPropertiesArgs(auth_mode="Key"))
ml.OnlineDeployment("blue", deployment_name="blue", endpoint_name=ep.name,
    resource_group_name=group.name, workspace_name=ws.name,
    properties=ml.ManagedOnlineDeploymentArgs(endpoint_compute_type="Managed",
        model="azureml:model:1", instance_type="Standard_DS3_v2"))
"""


def test_deployment_of_a_model_nothing_creates(tmp_path: Path) -> None:
    found = conformance.check(plan(tmp_path, DEPLOYMENT_PROGRAM))
    assert ids(found) == [("AZ-ORDER", "blue")]
    assert "azureml:model:1" in found[0].message
