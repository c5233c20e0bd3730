"""The ARM-template export of a plan, and checkov's `arm` framework judging it.

Fast tests check the template's shape (ARM names, nested properties, references, secrets).
The slow ones run checkov once for the whole module over every template (the generated
projects' and the parity cases'): generated infrastructure has no failed check beyond the
skips listed in SKIPPED_CHECKS, and where a policy cites a checkov id both reach the same
verdict on the same resource.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlstart.core.tools import find_uv
from mlstart_infra import policies
from mlstart_infra.arm import ARM_TYPES, api_version, to_arm_template, write_arm_template
from mlstart_infra.components import catalog
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph

from tests.infra.conftest import ANSWER_SETS, SHARES_ANSWER_SET_PLANS, TEST_KEY, PlannedProject
from tests.ship_helpers import completed, uv_cache_env

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("pulumi_azure_native") is None,
        reason="the export reads API versions from pulumi-azure-native (the `azure` extra)",
    ),
    SHARES_ANSWER_SET_PLANS,
]

#: The checkov release these skips and verdicts were checked against (its own environment).
CHECKOV = "checkov==3.3.30"

#: checkov ARM checks the generated infrastructure does not meet, on purpose. Each is passed
#: to checkov with --skip-check; a mandatory policy may not cite one (an advisory one may:
#: it reports the same choice).
SKIPPED_CHECKS: dict[str, str] = {
    "CKV_AZURE_35": (
        "storage default network action Deny: the workspace has no private network, and the "
        "user's laptop (DVC, MLflow artifacts) and CI reach the account over the internet with "
        "Entra ID; a Deny default needs private endpoints or per-user IP rules"
    ),
    "CKV_AZURE_59": (
        "storage public network access: Azure ML and DVC reach the account over the internet "
        "(no private endpoints); the advisory policy MLS-STO-004 reports the same choice"
    ),
    "CKV2_AZURE_49": (
        "ML workspace public network access: the studio, the SDK and CI reach the workspace "
        "over the internet (no private endpoint); the advisory policy MLS-AML-004 reports it"
    ),
    "CKV_AZURE_206": (
        "geo-redundant storage: a development project keeps data in locally redundant storage "
        "(Standard_LRS, three copies in one datacenter) to keep the cost down; the raw data "
        "is versioned by DVC and can be pushed again"
    ),
    "CKV_AZURE_109": (
        "key vault firewall default Deny: the workspace and its users reach the vault over "
        "the internet, guarded by Azure RBAC (enableRbacAuthorization); no private endpoints"
    ),
    "CKV_AZURE_189": (
        "key vault public network access disabled: needs private endpoints and a private "
        "network for the workspace, which the project deliberately does not create"
    ),
    "CKV_AZURE_139": (
        "registry public network access disabled: needs the Premium tier and private "
        "endpoints; CI pushes images from hosted runners over the internet (admin user off, "
        "pulls with managed identities)"
    ),
    "CKV_AZURE_163": (
        "image vulnerability scanning: checkov passes only Standard/Premium registries "
        "(Defender for Containers); the project uses the Basic tier for cost"
    ),
    "CKV_AZURE_166": (
        "image quarantine policy: a Premium-tier feature; the project uses the Basic tier"
    ),
    "CKV_AZURE_233": (
        "zone-redundant registry: a Premium-tier feature; the project uses the Basic tier"
    ),
    "CKV_AZURE_243": (
        "ML workspace private endpoint outbound rules: the workspace's managed network allows "
        "internet outbound (AllowInternetOutbound) instead of private endpoints, a deliberate "
        "cost/complexity choice for a starter project"
    ),
    "CKV_AZURE_50": (
        "VM extensions not allowed: the GPU workstation needs the NvidiaGpuDriverLinux "
        "extension to install the NVIDIA driver"
    ),
    "CKV_AZURE_97": (
        "encryption at host: needs the EncryptionAtHost feature registered on the subscription "
        "(a first deploy fails without it); managed disks are encrypted at rest by the "
        "platform anyway"
    ),
    "CKV_AZURE_151": (
        "'Windows VM enables encryption' (it reads securityProfile.encryptionAtHost on every "
        "VM, Linux included): same reason as CKV_AZURE_97"
    ),
}

#: Ids policies cite that checkov implements for Terraform only (no ARM check to compare).
TERRAFORM_ONLY = {
    "CKV_AZURE_119": "NIC without public IP: a Terraform graph check (azurerm_network_interface)",
    "CKV_AZURE_142": "AML compute cluster local auth disabled: azurerm only",
    "CKV_AZURE_150": "AML compute cluster min nodes 0: azurerm only",
    "CKV_AZURE_190": "storage blobs restrict public access: azurerm only",
    "CKV_AZURE_144": "ML workspace public access disabled: azurerm only (ARM: CKV2_AZURE_49)",
    "CKV2_AZURE_38": "storage soft delete: a Terraform graph check only",
}

# ---------------------------------------------------------------- parity cases

RG = "rg-parity"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu", "sku": "22_04-lts-gen2", "version": "latest"}


def _vm(
    name: str,
    *,
    password_disabled: bool = True,
    admin_password: str | None = None,
    ssh_key: bool = True,
    vhd: bool = False,
) -> tuple[str, dict[str, Any]]:
    linux: dict[str, Any] = {"disablePasswordAuthentication": password_disabled}
    if ssh_key:
        path = "/home/azureuser/.ssh/authorized_keys"
        linux["ssh"] = {"publicKeys": [{"path": path, "keyData": TEST_KEY}]}
    os_profile: dict[str, Any] = {
        "computerName": name,
        "adminUsername": "azureuser",
        "linuxConfiguration": linux,
    }
    if admin_password:
        os_profile["adminPassword"] = admin_password
    disk: dict[str, Any] = {"createOption": "FromImage", "name": f"os-{name}"}
    if vhd:
        disk["vhd"] = {"uri": f"https://stparity.blob.core.windows.net/vhds/{name}.vhd"}
    else:
        disk["managedDisk"] = {"storageAccountType": "Premium_LRS"}
    return catalog.VM, {
        "vmName": name,
        "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
        "osProfile": os_profile,
        "storageProfile": {"imageReference": UBUNTU, "osDisk": disk},
    }


def _vmss(name: str, **vm_changes: Any) -> tuple[str, dict[str, Any]]:
    _, vm = _vm(name, **vm_changes)
    profile = {"osProfile": vm["osProfile"], "storageProfile": {"imageReference": UBUNTU}}
    profile["osProfile"]["computerNamePrefix"] = profile["osProfile"].pop("computerName")
    return catalog.VMSS, {
        "vmScaleSetName": name,
        "sku": {"name": "Standard_D2s_v3", "capacity": 0},
        "virtualMachineProfile": profile,
    }


def _nsg(name: str, source: str, port: int = 22) -> tuple[str, dict[str, Any]]:
    rule = {
        "name": "inbound", "priority": 100, "direction": "Inbound", "access": "Allow",
        "protocol": "Tcp", "sourceAddressPrefix": source, "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": str(port),
    }  # fmt: skip
    return catalog.NSG, {"networkSecurityGroupName": name, "securityRules": [rule]}


def _storage(name: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    inputs = {
        "accountName": name, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
        "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
    }  # fmt: skip
    return catalog.STORAGE, {**inputs, **changes}


def _vault(name: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    properties = {
        "tenantId": "00000000-0000-0000-0000-00000000000a",
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True, "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90, "enablePurgeProtection": True,
    }  # fmt: skip
    return catalog.VAULT, {"vaultName": name, "properties": {**properties, **changes}}


def _registry(name: str, admin: bool = False, access: str = "Enabled") -> tuple[str, Any]:
    return catalog.REGISTRY, {
        "registryName": name,
        "sku": {"name": "Premium"},
        "adminUserEnabled": admin,
        "publicNetworkAccess": access,
    }


def _workspace(name: str, access: str) -> tuple[str, dict[str, Any]]:
    return catalog.ML_WORKSPACE, {
        "workspaceName": name,
        "identity": {"type": "SystemAssigned"},
        "publicNetworkAccess": access,
    }


CLOSED_VAULT = {"publicNetworkAccess": "disabled", "networkAcls": {"defaultAction": "Deny"}}
CLOSED_STORAGE = {
    "publicNetworkAccess": "Disabled",
    "networkRuleSet": {"defaultAction": "Deny", "bypass": "AzureServices"},
}


#: Per policy that cites an ARM check: a resource that breaks it and one that meets every
#: policy citing the same checkov ids.
PARITY_CASES: dict[str, tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "MLS-VM-001": (
        _vm("vm-password", password_disabled=False, admin_password="Passw0rd!Passw0rd"),
        _vm("vm-key-only"),
    ),
    "MLS-VM-002": (_vm("vm-no-key", ssh_key=False), _vm("vm-with-key")),
    "MLS-VM-004": (_vm("vm-vhd", vhd=True), _vm("vm-managed")),
    "MLS-NET-003": (_nsg("nsg-open", "*"), _nsg("nsg-narrow", "203.0.113.7/32")),
    "MLS-STO-001": (
        _storage("sthttp", enableHttpsTrafficOnly=False),
        _storage("sthttps"),
    ),
    "MLS-STO-002": (_storage("sttls10", minimumTlsVersion="TLS1_0"), _storage("sttls12")),
    "MLS-KV-002": (_vault("kv-no-soft-delete", enableSoftDelete=False), _vault("kv-soft")),
    "MLS-KV-003": (_vault("kv-no-purge", enablePurgeProtection=False), _vault("kv-purge")),
    "MLS-ACR-001": (_registry("cradmin", admin=True), _registry("crnoadmin")),
    "MLS-NET-004": (_nsg("nsg-rdp-open", "*", 3389), _nsg("nsg-rdp-narrow", "10.0.0.0/24", 3389)),
    "MLS-KV-004": (_vault("kv-public"), _vault("kv-closed", **CLOSED_VAULT)),
    "MLS-STO-004": (
        _storage("stpublic", publicNetworkAccess="Enabled"),
        _storage("stclosed", **CLOSED_STORAGE),
    ),
    "MLS-ACR-002": (_registry("crpublic"), _registry("crclosed", access="Disabled")),
    "MLS-AML-004": (_workspace("mlw-public", "Enabled"), _workspace("mlw-closed", "Disabled")),
    "MLS-VMSS-001": (
        _vmss("vmss-password", password_disabled=False, admin_password="Passw0rd!Passw0rd"),
        _vmss("vmss-key-only"),
    ),
    "MLS-VMSS-002": (_vmss("vmss-no-key", ssh_key=False), _vmss("vmss-with-key")),
}
POLICY_BY_ID = {p.id: p for p in policies.POLICIES}


def _graph(case: str, type_token: str, inputs: dict[str, Any]) -> ResourceGraph:
    name = next(v for k, v in inputs.items() if k.endswith("Name"))
    resource = PlannedResource(
        urn=f"urn:pulumi:parity::{case}::{type_token}::{name}",
        type=type_token,
        name=name,
        azure_name=name,
        custom=True,
        inputs={"resourceGroupName": RG, "location": "westeurope", **inputs},
        id=f"/subscriptions/0/resourceGroups/{RG}/providers/mock/{name}",
    )
    return ResourceGraph("parity", "dev", [resource])


def _parity_graphs() -> Iterator[tuple[str, str, str, ResourceGraph]]:
    """(policy id, verdict the policy must reach, file stem, graph) for every case."""
    for policy_id, (violating, meeting) in PARITY_CASES.items():
        for expected, (type_token, inputs) in (("fail", violating), ("pass", meeting)):
            stem = f"parity-{policy_id.lower()}-{expected}"
            yield policy_id, expected, stem, _graph(stem, type_token, inputs)


def _cited_arm_ids() -> dict[str, list[str]]:
    """checkov id -> the policies citing it (Terraform-only ids left out)."""
    cited: dict[str, list[str]] = {}
    for policy in policies.POLICIES:
        for reference in policy.references:
            if reference.startswith("CKV") and reference not in TERRAFORM_ONLY:
                cited.setdefault(reference, []).append(policy.id)
    return cited


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def graphs(planned_answer_sets: dict[str, PlannedProject]) -> dict[str, ResourceGraph]:
    """Each answer set's plan (rendered and planned once per session, see conftest)."""
    return {label: planned.graph for label, planned in planned_answer_sets.items()}


@pytest.fixture(scope="module")
def templates(graphs: dict[str, ResourceGraph]) -> dict[str, dict[str, Any]]:
    return {label: to_arm_template(graph) for label, graph in graphs.items()}


def _run_checkov(folder: Path, skip: list[str]) -> dict[str, dict[str, Any]]:
    """checkov's results per template file stem, from one run over every file in ``folder``."""
    env = {**uv_cache_env(), "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "NO_COLOR": "1"}
    command = [
        find_uv(), "tool", "run", "--from", CHECKOV, "checkov", "--directory", ".",
        "--framework", "arm", "--skip-download", "--output", "json",
    ]  # fmt: skip
    if skip:
        command += ["--skip-check", ",".join(skip)]
    result = completed(command, folder, env=env, timeout=900)
    assert result.stdout.lstrip().startswith(("{", "[")), result.stderr[-3000:]
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["check_type"] == "arm"
    assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
    by_file: dict[str, dict[str, Any]] = {
        path.stem: {"passed_checks": [], "failed_checks": []} for path in folder.glob("*.json")
    }
    for outcome in ("passed_checks", "failed_checks"):
        for check in report["results"].get(outcome, []):
            by_file[Path(check["file_path"]).stem][outcome].append(check)
    return by_file


@pytest.fixture(scope="module")
def checkov_results(
    graphs: dict[str, ResourceGraph], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """One checkov run over the generated projects' templates, with SKIPPED_CHECKS skipped."""
    folder = tmp_path_factory.mktemp("arm-projects-templates")
    for label, graph in graphs.items():
        write_arm_template(graph, folder / f"{label}.json")
    return _run_checkov(folder, list(SKIPPED_CHECKS))


@pytest.fixture(scope="module")
def parity_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One checkov run over every parity case's template, nothing skipped."""
    folder = tmp_path_factory.mktemp("arm-parity-templates")
    for _, _, stem, graph in _parity_graphs():
        write_arm_template(graph, folder / f"{stem}.json")
    return _run_checkov(folder, [])


# ---------------------------------------------------------------- the type table


def test_every_catalog_type_has_an_arm_type() -> None:
    tokens = {
        value
        for name, value in vars(catalog).items()
        if name.isupper() and isinstance(value, str) and value.startswith("azure-native:")
    }
    assert tokens - set(ARM_TYPES) == set()
    for token, spec in ARM_TYPES.items():
        assert re.fullmatch(r"Microsoft\.[A-Za-z]+(/[A-Za-z]+)+", spec.arm_type), token
        # A nested type names one parent per extra segment.
        assert len(spec.parents) == spec.arm_type.count("/") - 1, token


def test_api_versions_are_the_ones_pulumi_states() -> None:
    import importlib
    import inspect

    for token in ARM_TYPES:
        _, module, name = token.split(":")
        cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
        stated = re.search(r"Uses Azure REST API version ([0-9a-z-]+)\.", inspect.getsource(cls))
        assert stated is not None, token
        assert api_version(token) == stated.group(1), token
    assert api_version(catalog.STORAGE) == "2024-01-01"  # pulumi-azure-native 3.29
    assert api_version("azure-native:nosuchmodule:Thing") is None
    assert api_version("mlstart:azure:MlWorkspace") is None


# ---------------------------------------------------------------- template shape


def _by_type(template: dict[str, Any], arm_type: str) -> list[dict[str, Any]]:
    return [r for r in template["resources"] if r["type"] == arm_type]


def test_template_is_deployable_shaped(
    templates: dict[str, dict[str, Any]], graphs: dict[str, ResourceGraph]
) -> None:
    template = templates["container-apps-public-ip"]
    graph = graphs["container-apps-public-ip"]
    assert template["$schema"].endswith("2019-04-01/deploymentTemplate.json#")
    assert template["contentVersion"] == "1.0.0.0"
    # Every cloud resource but the resource group, which the template deploys into.
    assert len(template["resources"]) == len(graph.cloud_resources) - 1
    assert template["metadata"]["resourceGroup"]["name"].startswith("rg-")
    assert "skipped" not in template["metadata"]
    for resource in template["resources"]:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", resource["apiVersion"]), resource
        assert "resourceGroupName" not in json.dumps(resource)

    (storage,) = _by_type(template, "Microsoft.Storage/storageAccounts")
    assert storage["properties"]["supportsHttpsTrafficOnly"] is True
    assert "enableHttpsTrafficOnly" not in storage["properties"]
    assert storage["sku"] == {"name": "Standard_LRS"} and storage["kind"] == "StorageV2"
    (container,) = _by_type(template, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container["name"] == f"{storage['name']}/default/dvc"
    (logs,) = _by_type(template, "Microsoft.OperationalInsights/workspaces")
    assert "sku" in logs["properties"] and "sku" not in logs
    (insights,) = _by_type(template, "Microsoft.Insights/components")
    assert insights["properties"]["Application_Type"] == "web"
    assert insights["properties"]["WorkspaceResourceId"].startswith(
        "[resourceId('Microsoft.OperationalInsights/workspaces', "
    )

    (subnet,) = _by_type(template, "Microsoft.Network/virtualNetworks/subnets")
    (vnet,) = _by_type(template, "Microsoft.Network/virtualNetworks")
    assert subnet["name"] == f"{vnet['name']}/workstation"
    assert (
        f"[resourceId('Microsoft.Network/virtualNetworks', '{vnet['name']}')]"
        in (subnet["dependsOn"])
    )
    (nsg,) = _by_type(template, "Microsoft.Network/networkSecurityGroups")
    rules = {rule["name"]: rule for rule in nsg["properties"]["securityRules"]}
    assert rules["allow-ssh-from-allowed-range"]["properties"]["sourceAddressPrefix"] == (
        "203.0.113.7/32"
    )
    (nic,) = _by_type(template, "Microsoft.Network/networkInterfaces")
    ip_config = nic["properties"]["ipConfigurations"][0]["properties"]
    public_ip_ids = [
        f"[resourceId('Microsoft.Network/publicIPAddresses', '{pip['name']}')]"
        for pip in _by_type(template, "Microsoft.Network/publicIPAddresses")
    ]
    assert set(ip_config["publicIPAddress"]) == {"id"}
    assert ip_config["publicIPAddress"]["id"] in public_ip_ids
    assert ip_config["publicIPAddress"]["id"] in nic["dependsOn"]
    assert set(ip_config["subnet"]) == {"id"}
    (vm,) = _by_type(template, "Microsoft.Compute/virtualMachines")
    assert vm["properties"]["networkProfile"]["networkInterfaces"][0]["properties"] == {
        "primary": True
    }
    (schedule,) = _by_type(template, "Microsoft.DevTestLab/schedules")
    vm_id = f"[resourceId('Microsoft.Compute/virtualMachines', '{vm['name']}')]"
    assert schedule["properties"]["targetResourceId"] == vm_id
    assert vm_id in schedule["dependsOn"]
    (compute,) = _by_type(template, "Microsoft.MachineLearningServices/workspaces/computes")
    assert compute["properties"]["computeType"] == "AmlCompute"
    assert compute["properties"]["properties"]["scaleSettings"]["minNodeCount"] == 0

    (auth,) = _by_type(template, "Microsoft.App/containerApps/authConfigs")
    (app,) = _by_type(template, "Microsoft.App/containerApps")
    assert auth["name"] == f"{app['name']}/current"
    # The CI identity's grants (AzureML Data Scientist, AcrPush, Container Apps Contributor)
    # are checked in test_ci_identity; here the workloads' own.
    ci_roles = (
        catalog.AZUREML_DATA_SCIENTIST_ROLE, catalog.ACR_PUSH_ROLE,
        catalog.CONTAINER_APPS_CONTRIBUTOR_ROLE,
    )  # fmt: skip
    idle_role, role = sorted(
        (
            r for r in _by_type(template, "Microsoft.Authorization/roleAssignments")
            if not any(ci in r["properties"]["roleDefinitionId"] for ci in ci_roles)
        ),
        key=lambda r: r["scope"],
    )  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", role["name"])
    assert role["scope"].startswith("Microsoft.ContainerRegistry/registries/")
    assert role["properties"]["roleDefinitionId"].startswith("[concat(subscription().id, ")
    # The workstation's idle-shutdown role: defined in the group, assigned on the VM only.
    (definition,) = _by_type(template, "Microsoft.Authorization/roleDefinitions")
    assert definition["properties"]["assignableScopes"] == ["[resourceGroup().id]"]
    assert definition["properties"]["type"] == "CustomRole"
    assert idle_role["scope"] == f"Microsoft.Compute/virtualMachines/{vm['name']}"
    assert idle_role["properties"]["roleDefinitionId"].endswith(f"{definition['name']}')]")
    (budget,) = _by_type(template, "Microsoft.Consumption/budgets")
    assert "scope" not in budget and budget["properties"]["amount"] > 0


def test_secrets_become_secure_parameters(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["container-apps-public-ip"]
    text = json.dumps(template)
    assert "mock-key" not in text  # the Log Analytics shared key the mocks answer
    (environment,) = _by_type(template, "Microsoft.App/managedEnvironments")
    reference = environment["properties"]["appLogsConfiguration"]
    name = re.fullmatch(r"\[parameters\('(\w+)'\)\]", reference)
    assert name is not None, reference
    parameter = template["parameters"][name.group(1)]
    assert parameter["type"] in ("secureString", "secureObject")
    assert "defaultValue" not in parameter


def test_endpoint_and_deployment_names_nest(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["aml-endpoint"]
    (workspace,) = _by_type(template, "Microsoft.MachineLearningServices/workspaces")
    (endpoint,) = _by_type(template, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints")
    assert endpoint["name"].startswith(f"{workspace['name']}/")
    assert endpoint["properties"]["authMode"] in ("Key", "AMLToken", "AADToken")
    deployments = _by_type(
        template, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
    )
    assert [d["name"] for d in deployments] == [f"{endpoint['name']}/blue"]


def test_unknown_types_and_bracket_strings() -> None:
    graph = ResourceGraph(
        "odd",
        "dev",
        [
            PlannedResource(
                "urn:a", "azure-native:cdn:Profile", "cdn", "cdn", True, {"location": "x"}
            ),
            PlannedResource(
                "urn:b", "mlstart:azure:MlWorkspace", "group", "group", False, {}
            ),
            PlannedResource(
                "urn:c", catalog.VAULT, "kv", "kv", True,
                {"vaultName": "kv", "tags": {"note": "[secret]"}, "properties": {}},
                id="/subscriptions/0/resourceGroups/rg/providers/mock.keyvault/Vault/kv",
            ),
            PlannedResource(
                "urn:d", catalog.ROLE_ASSIGNMENT, "reader", "reader", True,
                {"scope": "/subscriptions/0/resourceGroups/rg/providers/mock.keyvault/Vault/kv",
                 "principalId": "p", "roleDefinitionId": "r"},
            ),
        ],
    )  # fmt: skip
    template = to_arm_template(graph)
    assert template["metadata"]["skipped"] == [
        {
            "type": "azure-native:cdn:Profile",
            "name": "cdn",
            "reason": "no ARM type is known for this type token",
        }
    ]
    vault, role = template["resources"]
    assert vault["tags"] == {"note": "[[secret]"}  # a literal, not an ARM expression
    # A role assignment without a name gets a GUID derived from scope, principal and role.
    vault_id = "resourceId('Microsoft.KeyVault/vaults', 'kv')"
    assert role["name"] == f"[guid({vault_id}, 'p', 'r')]"
    assert role["scope"] == "Microsoft.KeyVault/vaults/kv"
    assert role["dependsOn"] == [f"[{vault_id}]"]


def test_write_arm_template(tmp_path: Path) -> None:
    graph = ResourceGraph("empty", "dev", [])
    path = write_arm_template(graph, tmp_path / "out" / "template.json")
    assert path == tmp_path / "out" / "template.json"
    assert json.loads(path.read_text(encoding="utf-8"))["resources"] == []


# ---------------------------------------------------------------- checkov


def test_no_mandatory_policy_cites_a_skipped_check() -> None:
    for policy in policies.POLICIES:
        if policy.mandatory:
            assert set(policy.references) & set(SKIPPED_CHECKS) == set(), policy.id
    assert all(len(reason) > 40 for reason in SKIPPED_CHECKS.values())


def test_every_cited_arm_id_has_a_parity_case() -> None:
    """A new reference must get a parity case, or be listed as Terraform-only."""
    for checkov_id, citing in _cited_arm_ids().items():
        assert any(policy_id in PARITY_CASES for policy_id in citing), checkov_id
    for policy_id, (violating, meeting) in PARITY_CASES.items():
        policy = POLICY_BY_ID[policy_id]
        assert any(r in _cited_arm_ids() for r in policy.references), policy_id
        assert violating[0] == meeting[0]


@pytest.mark.slow
@pytest.mark.parametrize("label", list(ANSWER_SETS))
def test_checkov_finds_nothing_in_generated_infra(
    label: str,
    checkov_results: dict[str, dict[str, Any]],
    templates: dict[str, dict[str, Any]],
) -> None:
    results = checkov_results[label]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    judged = {c["resource"] for c in results["passed_checks"]}
    assert len(judged) >= 3
    names = {f"{r['type']}.{r['name']}" for r in templates[label]["resources"]}
    assert judged <= names


@pytest.mark.slow
@pytest.mark.parametrize("policy_id", list(PARITY_CASES))
def test_policy_and_checkov_agree(
    policy_id: str, parity_results: dict[str, dict[str, Any]]
) -> None:
    """Where a policy cites a checkov id, both reach the same verdict on the same resource."""
    policy = POLICY_BY_ID[policy_id]
    cited = _cited_arm_ids()
    for _, expected, stem, graph in (c for c in _parity_graphs() if c[0] == policy_id):
        (resource,) = graph.cloud_resources
        (result,) = policies.evaluate(graph, [policy])
        assert result.status == expected, (stem, result.findings)
        (exported,) = to_arm_template(graph)["resources"]
        name = f"{exported['type']}.{exported['name']}"
        results = parity_results[stem]
        for checkov_id in (r for r in policy.references if r in cited):
            # An id cited by several policies (CKV_AZURE_42: soft delete and purge
            # protection) passes only where all of them pass.
            others = [POLICY_BY_ID[p] for p in cited[checkov_id]]
            verdicts_of_citing = [r.status for r in policies.evaluate(graph, others)]
            want = "fail" if "fail" in verdicts_of_citing else "pass"
            verdicts = {
                "pass" if outcome == "passed_checks" else "fail"
                for outcome in ("passed_checks", "failed_checks")
                for check in results[outcome]
                if check["check_id"] == checkov_id and check["resource"] == name
            }
            assert verdicts == {want}, (stem, checkov_id, resource.azure_name)
