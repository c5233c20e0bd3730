"""Export a planned resource graph as an ARM template, for tools that judge ARM (checkov).

Each cloud resource becomes an ARM resource built from the inputs the provider would send:
pulumi-azure-native flattens most resources' ``properties`` into top-level inputs, so the
export puts the envelope fields (``location``, ``tags``, ``sku``, ``kind``, ``identity``, ...)
at the top and everything else under ``properties``, under ARM's own property names where
the REST API renames them (``enableHttpsTrafficOnly`` is ``supportsHttpsTrafficOnly``).
Child resources get ARM's nested names (``<vnet>/<subnet>``), references to resources in
the graph become ``[resourceId(...)]`` expressions with a matching ``dependsOn``, and secret
values become ``secureString``/``secureObject`` parameters without defaults. Resources another
owner creates (``owner="ci"``: the deploy workflow's online deployment) are kept, so checkov
judges everything that will run, with a ``comments`` entry that says who creates them.

The resource group itself is left out: the template deploys into one
(``az deployment group create --resource-group ...``), and its name, location and tags are
kept in the template's ``metadata``. A subscription-scope template would need a nested
deployment per group, which checkov judges less well.

API versions are read from pulumi-azure-native's own docstrings ("Uses Azure REST API
version 2024-01-01"), so the template asks ARM for the same version the provider uses.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstart_infra.components import catalog
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
CONTENT_VERSION = "1.0.0.0"

#: Where each ARM type below is documented (append the lower-case type, e.g.
#: ``microsoft.storage/storageaccounts``); the property names follow these pages.
ARM_REFERENCE = "https://learn.microsoft.com/en-us/azure/templates/"

#: Envelope fields ARM keeps beside ``properties`` (for the types below that have them).
_ENVELOPE = frozenset(
    {"location", "tags", "sku", "kind", "identity", "zones", "extendedLocation", "plan",
     "managedBy", "eTag", "etag"}
)  # fmt: skip
#: Inputs that only say where a resource lives (never part of the ARM body).
_PATH_INPUTS = frozenset({"resourceGroupName"})
#: Top-level fields of an inline sub-resource (subnet, security rule, IP configuration).
_SUB_ENVELOPE = frozenset({"name", "id", "type", "etag"})
#: Inputs of network and compute resources whose items are flattened sub-resources.
_SUB_RESOURCES = frozenset(
    {"subnets", "securityRules", "defaultSecurityRules", "ipConfigurations", "delegations",
     "virtualNetworkPeerings", "privateLinkServiceConnections",
     "manualPrivateLinkServiceConnections", "networkInterfaces",
     "networkInterfaceConfigurations", "publicIPAddressConfiguration"}
)  # fmt: skip

#: Pulumi's wire markers: a secret value is ``{SIG_KEY: SECRET_SIG, "value": ...}``, and a
#: value not known until deployment is the UNKNOWN string (``pulumi.runtime.rpc``).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: The input path of a VM's custom data (see ``_Context._custom_data``).
_CUSTOM_DATA = "osProfile.customData"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_VERSION = re.compile(r"Uses Azure REST API version (\d{4}-\d{2}-\d{2}(?:-[A-Za-z]+)?)")


@dataclass(frozen=True)
class ArmType:
    """How one Pulumi type token becomes an ARM resource.

    Attributes:
        arm_type: The ARM resource type, e.g. ``Microsoft.Storage/storageAccounts``.
        name_input: The input holding the resource's own name.
        parents: Inputs holding the parents' names, outermost first, for ARM's nested name
            (``=default`` is the literal segment ``default``).
        flattened: Whether pulumi-azure-native flattens ARM's ``properties`` into top-level
            inputs; if not, the ``properties`` input is ARM's ``properties``.
        renames: Flattened inputs whose ARM property name differs (the REST API's
            ``x-ms-client-name`` renames).
        in_properties: Envelope-looking inputs that ARM keeps under ``properties``.
        dropped: Further inputs that are not part of the ARM body (read-only or path).
        sub_resources: Whether nested sub-resources (subnets, rules, IP configurations)
            are flattened too and need ``{"name", "properties"}`` put back.
    """

    arm_type: str
    name_input: str
    parents: tuple[str, ...] = ()
    flattened: bool = True
    renames: Mapping[str, str] = field(default_factory=dict)
    in_properties: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()
    sub_resources: bool = False


_NETWORK_DROPPED = frozenset({"id", "name", "type"})

#: Type token -> ARM type: the one table. Source: the Azure Resource Manager template
#: reference, https://learn.microsoft.com/en-us/azure/templates/<arm type, lower case>, e.g.
#: https://learn.microsoft.com/en-us/azure/templates/microsoft.storage/storageaccounts, and
#: the REST API specs (github.com/Azure/azure-rest-api-specs) for the renamed properties.
ARM_TYPES: Mapping[str, ArmType] = {
    catalog.RESOURCE_GROUP: ArmType("Microsoft.Resources/resourceGroups", "resourceGroupName"),
    catalog.VNET: ArmType(
        "Microsoft.Network/virtualNetworks", "virtualNetworkName",
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.SUBNET: ArmType(
        "Microsoft.Network/virtualNetworks/subnets", "subnetName", ("virtualNetworkName",),
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.NSG: ArmType(
        "Microsoft.Network/networkSecurityGroups", "networkSecurityGroupName",
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.NSG_RULE: ArmType(
        "Microsoft.Network/networkSecurityGroups/securityRules", "securityRuleName",
        ("networkSecurityGroupName",), dropped=_NETWORK_DROPPED,
    ),
    catalog.NIC: ArmType(
        "Microsoft.Network/networkInterfaces", "networkInterfaceName",
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.PUBLIC_IP: ArmType(
        "Microsoft.Network/publicIPAddresses", "publicIpAddressName",
        dropped=_NETWORK_DROPPED | {"ipAddress"}, sub_resources=True,
    ),
    catalog.NAT_GATEWAY: ArmType(
        "Microsoft.Network/natGateways", "natGatewayName", dropped=_NETWORK_DROPPED,
    ),
    catalog.BASTION: ArmType(
        "Microsoft.Network/bastionHosts", "bastionHostName",
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.PRIVATE_ENDPOINT: ArmType(
        "Microsoft.Network/privateEndpoints", "privateEndpointName",
        dropped=_NETWORK_DROPPED, sub_resources=True,
    ),
    catalog.VM: ArmType("Microsoft.Compute/virtualMachines", "vmName", sub_resources=True),
    catalog.VM_EXTENSION: ArmType(
        "Microsoft.Compute/virtualMachines/extensions", "vmExtensionName", ("vmName",),
    ),
    catalog.VMSS: ArmType(
        "Microsoft.Compute/virtualMachineScaleSets", "vmScaleSetName", sub_resources=True,
    ),
    catalog.DISK: ArmType("Microsoft.Compute/disks", "diskName"),
    catalog.SCHEDULE: ArmType("Microsoft.DevTestLab/schedules", "name"),
    catalog.STORAGE: ArmType(
        "Microsoft.Storage/storageAccounts", "accountName",
        renames={
            "enableHttpsTrafficOnly": "supportsHttpsTrafficOnly",
            "enableNfsV3": "isNfsV3Enabled",
            "networkRuleSet": "networkAcls",
        },
    ),
    catalog.BLOB_SERVICE: ArmType(
        "Microsoft.Storage/storageAccounts/blobServices", "blobServicesName", ("accountName",),
    ),
    catalog.BLOB_CONTAINER: ArmType(
        "Microsoft.Storage/storageAccounts/blobServices/containers", "containerName",
        ("accountName", "=default"),
    ),
    catalog.VAULT: ArmType("Microsoft.KeyVault/vaults", "vaultName", flattened=False),
    catalog.LOG_ANALYTICS: ArmType(
        "Microsoft.OperationalInsights/workspaces", "workspaceName",
        in_properties=frozenset({"sku"}),
    ),
    catalog.APP_INSIGHTS: ArmType(
        "Microsoft.Insights/components", "resourceName",
        renames={
            "applicationType": "Application_Type",
            "flowType": "Flow_Type",
            "requestSource": "Request_Source",
            "hockeyAppId": "HockeyAppId",
            "samplingPercentage": "SamplingPercentage",
            "retentionInDays": "RetentionInDays",
            "disableIpMasking": "DisableIpMasking",
            "immediatePurgeDataOn30Days": "ImmediatePurgeDataOn30Days",
            "workspaceResourceId": "WorkspaceResourceId",
            "ingestionMode": "IngestionMode",
            "disableLocalAuth": "DisableLocalAuth",
            "forceCustomerStorageForProfiler": "ForceCustomerStorageForProfiler",
        },
    ),
    catalog.REGISTRY: ArmType("Microsoft.ContainerRegistry/registries", "registryName"),
    catalog.ML_WORKSPACE: ArmType("Microsoft.MachineLearningServices/workspaces", "workspaceName"),
    catalog.ML_REGISTRY: ArmType("Microsoft.MachineLearningServices/registries", "registryName"),
    catalog.ML_COMPUTE: ArmType(
        "Microsoft.MachineLearningServices/workspaces/computes", "computeName",
        ("workspaceName",), flattened=False,
    ),
    catalog.ENDPOINT: ArmType(
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "endpointName",
        ("workspaceName",), flattened=False,
    ),
    catalog.DEPLOYMENT: ArmType(
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
        "deploymentName", ("workspaceName", "endpointName"), flattened=False,
    ),
    catalog.ML_MODEL_CONTAINER: ArmType(
        "Microsoft.MachineLearningServices/workspaces/models", "name", ("workspaceName",),
        flattened=False,
    ),
    catalog.ML_MODEL_VERSION: ArmType(
        "Microsoft.MachineLearningServices/workspaces/models/versions", "version",
        ("workspaceName", "name"), flattened=False,
    ),
    catalog.CONTAINER_ENV: ArmType("Microsoft.App/managedEnvironments", "environmentName"),
    catalog.CONTAINER_APP: ArmType("Microsoft.App/containerApps", "containerAppName"),
    catalog.AUTH_CONFIG: ArmType(
        "Microsoft.App/containerApps/authConfigs", "authConfigName", ("containerAppName",),
    ),
    catalog.AUTOSCALE: ArmType("Microsoft.Insights/autoscalesettings", "autoscaleSettingName"),
    catalog.BUDGET: ArmType(
        "Microsoft.Consumption/budgets", "budgetName", dropped=frozenset({"scope"}),
    ),
    # https://learn.microsoft.com/en-us/azure/templates/microsoft.managedidentity/
    # userassignedidentities and .../userassignedidentities/federatedidentitycredentials
    catalog.USER_IDENTITY: ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName",
    ),
    catalog.FEDERATED_CREDENTIAL: ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        "federatedIdentityCredentialResourceName", ("resourceName",),
    ),
    catalog.ROLE_ASSIGNMENT: ArmType(
        "Microsoft.Authorization/roleAssignments", "roleAssignmentName",
        dropped=frozenset({"scope"}),
    ),
    # Created in the resource group the template deploys into (its `scope` input); ARM
    # calls the flattened `roleType` `type`.
    catalog.ROLE_DEFINITION: ArmType(
        "Microsoft.Authorization/roleDefinitions", "roleDefinitionId",
        renames={"roleType": "type"}, dropped=frozenset({"scope"}),
    ),
}  # fmt: skip


@functools.cache
def api_version(type_token: str) -> str | None:
    """The Azure REST API version pulumi-azure-native uses for ``type_token``.

    Read from the resource class's docstring ("Uses Azure REST API version 2024-01-01");
    the service package is imported only on the first call for it (a program that ran
    under the mocks has imported it already).

    Returns:
        The version, or None when the package, the class or the sentence is missing.
    """
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    try:
        module = importlib.import_module(f"pulumi_azure_native.{parts[1]}")
        cls = getattr(module, parts[2])
    except (ImportError, AttributeError):
        return None
    init = getattr(cls, "__init__", None)
    docs = [cls.__doc__, getattr(init, "__doc__", None)]
    if init is not None:
        docs += [overload.__doc__ for overload in typing.get_overloads(init)]
    for doc in docs:
        match = _VERSION.search(doc or "")
        if match:
            return match.group(1)
    return None


def to_arm_template(graph: ResourceGraph) -> dict[str, Any]:
    """Build an ARM deployment template (resource-group scope) from the planned graph.

    Args:
        graph: The planned resources.

    Returns:
        The template as a JSON-ready mapping. Types with no ARM mapping (or whose API
        version cannot be read) are left out and listed in ``metadata.skipped``.
    """
    return _Exporter(graph).template()


def write_arm_template(graph: ResourceGraph, path: Path | str) -> Path:
    """Write :func:`to_arm_template`'s template to ``path`` as JSON; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_arm_template(graph), indent=2, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


# ------------------------------------------------------------------ the export


@dataclass(frozen=True)
class _Placed:
    """A resource of the template: its ARM type and the segments of its nested name."""

    resource: PlannedResource
    spec: ArmType
    segments: tuple[str, ...]

    @property
    def name(self) -> str:
        return "/".join(self.segments)

    @property
    def resource_id(self) -> str:
        """The ``resourceId(...)`` call that names it (without brackets)."""
        args = ", ".join(_quote(s) for s in (self.spec.arm_type, *self.segments))
        return f"resourceId({args})"

    @property
    def relative_id(self) -> str:
        """The extension-resource form of its id: ``Microsoft.X/type/name/child/name``."""
        provider, *kinds = self.spec.arm_type.split("/")
        steps = "/".join(f"{k}/{s}" for k, s in zip(kinds, self.segments, strict=False))
        return f"{provider}/{steps}"


class _Exporter:
    def __init__(self, graph: ResourceGraph) -> None:
        self.graph = graph
        self.skipped: list[dict[str, str]] = []
        self.parameters: dict[str, dict[str, Any]] = {}
        self.groups = [r for r in graph.of_type(catalog.RESOURCE_GROUP)]
        self.placed: dict[str, _Placed] = {}
        for resource in graph.cloud_resources:
            if resource.type == catalog.RESOURCE_GROUP:
                continue
            spec = ARM_TYPES.get(resource.type)
            if spec is None:
                self._skip(resource, "no ARM type is known for this type token")
            elif api_version(resource.type) is None:
                self._skip(resource, "no Azure REST API version in the Pulumi class docstring")
            else:
                self.placed[resource.urn] = _Placed(resource, spec, _segments(resource, spec))
        self.by_id = {
            (p.resource.id or "").lower(): p for p in self.placed.values() if p.resource.id
        }
        self.group_ids = {(g.id or "").lower(): g for g in self.groups if g.id}
        self.main_group = _main_group(graph, self.groups)

    def _skip(self, resource: PlannedResource, reason: str) -> None:
        self.skipped.append({"type": resource.type, "name": resource.azure_name, "reason": reason})

    def template(self) -> dict[str, Any]:
        resources = [self._resource(p) for p in self.placed.values()]
        metadata: dict[str, Any] = {
            "generator": "mlstart plan --arm",
            "project": self.graph.project,
            "stack": self.graph.stack,
            "armReference": ARM_REFERENCE,
        }
        if self.main_group is not None:
            metadata["resourceGroup"] = {
                "name": self.main_group.azure_name,
                "location": self.main_group.inputs.get("location"),
                "tags": dict(self.main_group.inputs.get("tags") or {}),
                "note": "not in the template: it deploys into this resource group",
            }
        if self.skipped:
            metadata["skipped"] = self.skipped
        template: dict[str, Any] = {
            "$schema": SCHEMA,
            "contentVersion": CONTENT_VERSION,
            "metadata": metadata,
            "parameters": self.parameters,
            "resources": resources,
        }
        return template

    # -------------------------------------------------------------- one resource

    def _resource(self, placed: _Placed) -> dict[str, Any]:
        resource, spec = placed.resource, placed.spec
        depends: dict[str, None] = {}
        context = _Context(self, placed, depends)
        skip = _PATH_INPUTS | spec.dropped | {spec.name_input} | set(spec.parents)
        top: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for key, raw in resource.inputs.items():
            if key in skip:
                continue
            value = context.convert(raw, key)
            if value is _DROP:
                continue
            if spec.flattened:
                if key in _ENVELOPE and key not in spec.in_properties:
                    top[key] = value
                else:
                    properties[spec.renames.get(key, key)] = value
            elif key == "properties":
                properties.update(value if isinstance(value, dict) else {})
            else:
                top[key] = value
        if spec.sub_resources:
            properties = _nest(properties, network=resource.module == "network")
        body: dict[str, Any] = {
            "type": spec.arm_type,
            "apiVersion": api_version(resource.type),
            "name": self._name(placed, context),
        }
        scope = self._scope(placed, context)
        if scope is not None:
            body["scope"] = scope
        body.update(top)
        if properties:
            body["properties"] = properties
        for dependency in self._dependencies(placed):
            depends.setdefault(f"[{dependency.resource_id}]", None)
        depends.pop(f"[{placed.resource_id}]", None)
        if depends:
            body["dependsOn"] = list(depends)
        owner = getattr(resource, "owner", "pulumi")
        if owner != "pulumi":
            body["comments"] = f"created by {owner!r}, not by pulumi up: listed to be judged"
        return body

    def _name(self, placed: _Placed, context: _Context) -> str:
        resource, spec = placed.resource, placed.spec
        if spec.arm_type == "Microsoft.Authorization/roleAssignments" and not isinstance(
            resource.inputs.get(spec.name_input), str
        ):
            # Role assignment names are GUIDs: derive one from what makes it unique.
            parts = [
                context.expression(resource.inputs.get(key))
                for key in ("scope", "principalId", "roleDefinitionId")
            ]
            return f"[guid({', '.join(parts)})]"
        return _escape(placed.name)

    def _scope(self, placed: _Placed, context: _Context) -> str | None:
        if placed.spec.arm_type not in (
            "Microsoft.Authorization/roleAssignments",
            "Microsoft.Consumption/budgets",
        ):
            return None
        scope = placed.resource.inputs.get("scope")
        if not isinstance(scope, str) or self.is_main_group(scope):
            return None
        target = self.by_id.get(scope.lower())
        if target is not None:
            context.depends.setdefault(f"[{target.resource_id}]", None)
            return target.relative_id
        return _escape(scope)

    def is_main_group(self, resource_id: str) -> bool:
        group = self.group_ids.get(resource_id.lower())
        return group is not None and group is self.main_group

    def _dependencies(self, placed: _Placed) -> list[_Placed]:
        found: list[_Placed] = []
        for urn in getattr(placed.resource, "dependencies", ()) or ():
            other = self.placed.get(urn)
            if other is not None:
                found.append(other)
        # The parents named in the nested name (the VNet of a subnet, the app of an auth config).
        for other in self.placed.values():
            if other is not placed and _is_ancestor(other, placed):
                found.append(other)
        return found


def _is_ancestor(parent: _Placed, child: _Placed) -> bool:
    parent_type, child_type = parent.spec.arm_type, child.spec.arm_type
    if not child_type.startswith(parent_type + "/"):
        return False
    depth = len(parent.segments)
    return child.segments[:depth] == parent.segments


class _Drop:
    """Marks a value the template leaves out (unknown until deployment)."""


_DROP: Any = _Drop()


class _Context:
    """Converts one resource's input values into template values."""

    def __init__(self, exporter: _Exporter, placed: _Placed, depends: dict[str, None]) -> None:
        self.exporter = exporter
        self.placed = placed
        self.depends = depends

    def convert(self, value: Any, path: str) -> Any:
        if path.endswith(_CUSTOM_DATA) and isinstance(value, str) and value:
            return self._custom_data(path)
        if isinstance(value, Mapping):
            if value.get(_SIG_KEY) == _SECRET_SIG:
                return self._secret(value.get("value"), path)
            converted = {}
            for key, item in value.items():
                result = self.convert(item, f"{path}.{key}")
                if result is not _DROP:
                    converted[str(key)] = result
            return converted
        if isinstance(value, (list, tuple)):
            items = [self.convert(item, f"{path}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not _DROP]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, (int, float)):
            return value
        text = str(value)
        if text == _UNKNOWN:
            return _DROP
        reference = self.reference(text)
        return f"[{reference}]" if reference is not None else _escape(text)

    def reference(self, text: str) -> str | None:
        """An expression (no brackets) for the id of a resource in the graph, or None.

        Ids of resources in the template become ``resourceId(...)`` (and a dependency), the
        resource group's id ``resourceGroup().id``, other ids in the mocked subscription
        ``concat(subscription().id, ...)``.
        """
        from mlstart_infra.offline.mocks import MOCK_PRINCIPAL_ID, MOCK_TENANT_ID

        if text == MOCK_TENANT_ID:  # the signed-in tenant, as the mocks answer it
            return "subscription().tenantId"
        if text == MOCK_PRINCIPAL_ID:  # a managed identity this resource depends on
            return self._principal_of_dependency()
        if not text.startswith("/subscriptions/"):
            return None
        target = self.exporter.by_id.get(text.lower())
        if target is not None:
            self.depends.setdefault(f"[{target.resource_id}]", None)
            return target.resource_id
        if self.exporter.is_main_group(text):
            return "resourceGroup().id"
        from mlstart_infra.offline.mocks import MOCK_SUBSCRIPTION_ID

        prefix = f"/subscriptions/{MOCK_SUBSCRIPTION_ID}"
        if text.lower().startswith(prefix.lower()):
            return f"concat(subscription().id, {_quote(text[len(prefix) :])})"
        return None

    def _principal_of_dependency(self) -> str | None:
        """``reference(...).identity.principalId`` of the identity-bearing dependency, if one."""
        for urn in self.placed.resource.dependencies:
            target = self.exporter.placed.get(urn)
            if target is not None and "SystemAssigned" in str(target.resource.get("identity.type")):
                self.depends.setdefault(f"[{target.resource_id}]", None)
                version = _quote(str(api_version(target.resource.type)))
                full = f"reference({target.resource_id}, {version}, 'Full')"
                return f"{full}.identity.principalId"
        return None

    def expression(self, value: Any) -> str:
        """``value`` as an argument inside an ARM expression."""
        if isinstance(value, str):
            return self.reference(value) or _quote(value)
        return _quote(json.dumps(value, sort_keys=True))

    def _custom_data(self, path: str) -> str:
        """A VM's custom data (the base64 cloud-config) as a parameter without a default.

        The workstation's cloud-config holds the idle-shutdown agent (~40 KB in base64), and
        checkov 3.3's ARM parser does not finish on a string that long. Its content is checked
        where it is made (``cloud-init schema``, the agent's tests); the template checkov judges
        keeps that the VM has custom data, and where it goes.
        """
        name = re.sub(r"[^A-Za-z0-9]+", "_", f"{self.placed.name}_{path}").strip("_")
        self.exporter.parameters[name] = {
            "type": "string",
            "metadata": {"description": f"the base64 cloud-config ({path}) of {self.placed.name}"},
        }
        return f"[parameters({_quote(name)})]"

    def _secret(self, value: Any, path: str) -> str:
        name = re.sub(r"[^A-Za-z0-9]+", "_", f"{self.placed.name}_{path}").strip("_")
        kind = "secureString" if isinstance(value, str) or value is None else "secureObject"
        self.exporter.parameters[name] = {
            "type": kind,
            "metadata": {"description": f"secret input {path} of {self.placed.name}"},
        }
        return f"[parameters({_quote(name)})]"


def _nest(value: Any, *, network: bool) -> Any:
    """Put back ``{"name": ..., "properties": {...}}`` on flattened inline sub-resources.

    In network resources a nested ``{"id": ..., <defaults>}`` that points into the graph is a
    plain reference, and ARM reads only its ``id``.
    """
    if isinstance(value, list):
        return [_nest(item, network=network) for item in value]
    if not isinstance(value, dict):
        return value
    if network and str(value.get("id", "")).startswith("[") and "name" not in value:
        return {"id": value["id"]}
    nested: dict[str, Any] = {}
    for key, item in value.items():
        if key in _SUB_RESOURCES and isinstance(item, list):
            nested[key] = [_sub_resource(i, network=network) for i in item]
        elif key in _SUB_RESOURCES and isinstance(item, dict):
            nested[key] = _sub_resource(item, network=network)
        else:
            nested[key] = _nest(item, network=network)
    return nested


def _sub_resource(item: Any, *, network: bool) -> Any:
    if not isinstance(item, dict):
        return item
    top = {k: v for k, v in item.items() if k in _SUB_ENVELOPE}
    inner = {k: v for k, v in item.items() if k not in _SUB_ENVELOPE}
    if "id" in item and "name" not in item:  # a reference, e.g. a VM's NIC (primary, ...)
        if network:
            return {"id": item["id"]}
        top = {"id": item["id"]}
    if inner:
        top["properties"] = _nest(inner, network=network)
    return top


def _segments(resource: PlannedResource, spec: ArmType) -> tuple[str, ...]:
    names: list[str] = []
    for parent in spec.parents:
        value = parent[1:] if parent.startswith("=") else resource.inputs.get(parent)
        if not isinstance(value, str) or not value:
            return (resource.azure_name,)
        names.append(value)
    own = resource.inputs.get(spec.name_input)
    names.append(own if isinstance(own, str) and own else resource.azure_name)
    return tuple(names)


def _main_group(graph: ResourceGraph, groups: list[PlannedResource]) -> PlannedResource | None:
    """The resource group most resources are created in."""
    counts: dict[str, int] = {}
    for resource in graph.cloud_resources:
        group = resource.inputs.get("resourceGroupName")
        if isinstance(group, str):
            counts[group] = counts.get(group, 0) + 1
    ranked = sorted(groups, key=lambda g: -counts.get(g.azure_name, 0))
    return ranked[0] if ranked else None


def _quote(text: str) -> str:
    """A string literal inside an ARM expression (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _escape(text: str) -> str:
    """A literal string ARM must not read as an expression (``[x]`` is written ``[[x]``)."""
    return "[" + text if text.startswith("[") and text.endswith("]") else text
