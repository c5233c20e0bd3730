"""Azure resource names: explicit, deterministic, and within each service's published rules.

Pulumi's auto-naming adds random suffixes; these components set every Azure name
explicitly so that a plan shows the real names and a re-created stack gets the same ones.
:data:`RULES` holds Microsoft's naming rule for every type the components create, each with
the page it comes from; :func:`name_problem` judges a name, :func:`fit_name` builds one, and
:func:`project_names` derives every name a project needs. Names that must be unique across
Azure or a region, and names that soft-delete keeps reserved, carry a 6-character suffix.

Pure standard library: ``mlstart plan`` imports this without Pulumi.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .catalog import (
    APP_INSIGHTS,
    BASTION,
    BLOB_CONTAINER,
    BLOB_SERVICE,
    BUDGET,
    CONTAINER_APP,
    CONTAINER_ENV,
    DEPLOYMENT,
    DISK,
    ENDPOINT,
    FEDERATED_CREDENTIAL,
    LOG_ANALYTICS,
    ML_COMPUTE,
    ML_REGISTRY,
    ML_WORKSPACE,
    NAT_GATEWAY,
    NIC,
    NSG,
    NSG_RULE,
    PRIVATE_ENDPOINT,
    PUBLIC_IP,
    REGISTRY,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    SCHEDULE,
    STORAGE,
    SUBNET,
    USER_IDENTITY,
    VAULT,
    VM,
    VM_EXTENSION,
    VNET,
)

Scope = Literal["global", "region", "subscription", "resource-group", "parent"]

#: Microsoft's table of naming rules, the main source of the rules below.
NAME_RULES_URL = (
    "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules"
)
#: The prefix Azure requires on a VM's auto-shutdown schedule (see the SCHEDULE rule).
SHUTDOWN_PREFIX = "shutdown-computevm-"


@dataclass(frozen=True)
class NameRule:
    """The rule Azure applies to one resource type's names.

    Attributes:
        type: The Pulumi type token.
        arm_type: The Azure Resource Manager type, e.g. ``Microsoft.Storage/storageAccounts``.
        min_length: The shortest name allowed.
        max_length: The longest name allowed.
        pattern: A regex a valid name fully matches (characters, first and last character).
        scope: Where the name must be unique.
        source: The URL of the published rule.
        note: The rule as published, in short (and what could not be confirmed).
        separator: What joins the parts of a built name: ``-`` where hyphens are allowed.
    """

    type: str
    arm_type: str
    min_length: int
    max_length: int
    pattern: str
    scope: Scope
    source: str
    note: str
    separator: str = "-"


def _network(
    token: str, arm_type: str, low: int = 1, high: int = 80, scope: Scope = "resource-group"
) -> NameRule:
    """The rule Microsoft.Network's resources share in NAME_RULES_URL."""
    return NameRule(
        token, arm_type, low, high, r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", scope,
        NAME_RULES_URL + "#microsoftnetwork",
        f"{low}-{high} alphanumerics, underscores, periods, hyphens; start with alphanumeric, "
        "end with alphanumeric or underscore",
    )  # fmt: skip


_ML_ENDPOINTS = (
    "https://learn.microsoft.com/en-us/azure/machine-learning/"
    "how-to-manage-quotas#azure-machine-learning-online-endpoints-and-batch-endpoints"
)
_ENDPOINT_PATTERN = r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?"
#: Where Microsoft states the compute name rule for clusters and for compute instances.
COMPUTE_CLUSTER_NAME_URL = (
    "https://learn.microsoft.com/en-us/azure/machine-learning/how-to-create-attach-compute-cluster"
)
#: The Azure ML registry's resource (name pattern) and how-to (what a registry is for).
ML_REGISTRY_NAME_URL = (
    "https://learn.microsoft.com/en-us/azure/templates/microsoft.machinelearningservices/registries"
)
COMPUTE_INSTANCE_NAME_URL = (
    "https://learn.microsoft.com/en-us/azure/machine-learning/how-to-create-compute-instance#create"
)

#: Microsoft Entra's page on federated credentials of a user-assigned identity: the
#: credential's name rule, at most 20 credentials per identity, no concurrent writes.
FEDERATED_CREDENTIAL_RULES_URL = (
    "https://learn.microsoft.com/en-us/entra/workload-id/"
    "workload-identity-federation-create-trust-user-assigned-managed-identity"
    "#important-considerations-and-restrictions"
)

_RULE_LIST = (
    NameRule(
        RESOURCE_GROUP, "Microsoft.Resources/resourceGroups", 1, 90, r"[-\w.()]*[-\w()]",
        "subscription", NAME_RULES_URL + "#microsoftresources",
        "1-90 letters or digits (Unicode), underscores, hyphens, periods, parentheses; "
        "can't end with period",
    ),
    _network(VNET, "Microsoft.Network/virtualNetworks", 2, 64),
    _network(SUBNET, "Microsoft.Network/virtualNetworks/subnets", scope="parent"),
    _network(NSG, "Microsoft.Network/networkSecurityGroups"),
    _network(NSG_RULE, "Microsoft.Network/networkSecurityGroups/securityRules", scope="parent"),
    _network(NIC, "Microsoft.Network/networkInterfaces"),
    _network(PUBLIC_IP, "Microsoft.Network/publicIPAddresses"),
    _network(BASTION, "Microsoft.Network/bastionHosts"),
    _network(PRIVATE_ENDPOINT, "Microsoft.Network/privateEndpoints", 2, 64),
    # natGateways is missing from Microsoft's table (checked 2025-03 version): the rule
    # shared by every other Microsoft.Network resource there is assumed, not confirmed.
    NameRule(
        NAT_GATEWAY, "Microsoft.Network/natGateways", 1, 80,
        r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", "resource-group",
        NAME_RULES_URL + "#microsoftnetwork",
        "NOT PUBLISHED for natGateways: assumed as for other Microsoft.Network resources "
        "(1-80 alphanumerics, _ . -; start alphanumeric, end alphanumeric or _)",
    ),
    # Linux VMs: 1-64; the character rule is the host name's, which Azure applies too.
    NameRule(
        VM, "Microsoft.Compute/virtualMachines", 1, 64, r"[A-Za-z0-9-]*[A-Za-z0-9]",
        "resource-group", NAME_RULES_URL + "#microsoftcompute",
        "1-64 (Linux; 1-15 Windows); no spaces, control characters or ~!@#$%^&*()=+_[]{}\\|;:.'\","
        "<>/?; Linux names can't end with period or hyphen",
    ),
    # Extension names are not in Microsoft's table; only the characters ARM itself cannot
    # carry in a resource id are refused, and the length is an assumption.
    NameRule(
        VM_EXTENSION, "Microsoft.Compute/virtualMachines/extensions", 1, 80,
        r"[^\\/#%&?<>:*\s]+", "parent", NAME_RULES_URL,
        "NOT PUBLISHED: only characters ARM ids cannot carry are refused; 80 is assumed",
    ),
    NameRule(
        DISK, "Microsoft.Compute/disks", 1, 80, r"[A-Za-z0-9_-]+", "resource-group",
        NAME_RULES_URL + "#microsoftcompute", "1-80 alphanumerics, underscores, hyphens",
    ),
    # The portal and the API find a VM's auto-shutdown schedule by this exact name; anything
    # else is answered 400 Bad Request (found by testing in terraform-provider-azurerm #5536;
    # Microsoft's quickstart templates use the same name). Not in Microsoft's table.
    NameRule(
        SCHEDULE, "Microsoft.DevTestLab/schedules", len(SHUTDOWN_PREFIX) + 1,
        len(SHUTDOWN_PREFIX) + 64, re.escape(SHUTDOWN_PREFIX) + r"[A-Za-z0-9-]*[A-Za-z0-9]",
        "resource-group", "https://github.com/hashicorp/terraform-provider-azurerm/pull/5536",
        "a VM's auto-shutdown schedule must be named shutdown-computevm-<vm name> "
        "(not in Microsoft's table; from the API's behaviour)",
    ),
    NameRule(
        STORAGE, "Microsoft.Storage/storageAccounts", 3, 24, r"[a-z0-9]+", "global",
        NAME_RULES_URL + "#microsoftstorage", "3-24 lowercase letters and numbers, globally unique",
        separator="",
    ),
    NameRule(
        BLOB_SERVICE, "Microsoft.Storage/storageAccounts/blobServices", 7, 7, r"default",
        "parent", NAME_RULES_URL + "#microsoftstorage", "must be `default`",
    ),
    NameRule(
        BLOB_CONTAINER, "Microsoft.Storage/storageAccounts/blobServices/containers", 3, 63,
        r"[a-z0-9]+(-[a-z0-9]+)*", "parent",
        "https://learn.microsoft.com/en-us/rest/api/storageservices/"
        "naming-and-referencing-containers--blobs--and-metadata",
        "3-63 lowercase letters, numbers, hyphens; start and end with letter or number; "
        "no consecutive hyphens",
    ),
    NameRule(
        VAULT, "Microsoft.KeyVault/vaults", 3, 24, r"[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
        "global", NAME_RULES_URL + "#microsoftkeyvault",
        "3-24 alphanumerics and hyphens; start with letter, end with letter or digit; "
        "no consecutive hyphens; globally unique (soft-deleted names stay reserved)",
    ),
    NameRule(
        LOG_ANALYTICS, "Microsoft.OperationalInsights/workspaces", 4, 63,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]", "resource-group",
        NAME_RULES_URL + "#microsoftoperationalinsights",
        "4-63 alphanumerics and hyphens; start and end with alphanumeric",
    ),
    NameRule(
        APP_INSIGHTS, "Microsoft.Insights/components", 1, 260,
        r"[^%&\\?/\x00-\x1f]*[^%&\\?/\x00-\x1f. ]", "resource-group",
        NAME_RULES_URL + "#microsoftinsights",
        "1-260; can't use %&\\?/ or control characters; can't end with space or period",
    ),
    NameRule(
        REGISTRY, "Microsoft.ContainerRegistry/registries", 5, 50, r"[A-Za-z0-9]+", "global",
        NAME_RULES_URL + "#microsoftcontainerregistry", "5-50 alphanumerics, globally unique",
        separator="",
    ),
    # The REST API's pattern (Compute - Create Or Update, api-version 2025-09-01):
    # https://learn.microsoft.com/en-us/rest/api/azureml/compute/create-or-update
    NameRule(
        ML_WORKSPACE, "Microsoft.MachineLearningServices/workspaces", 3, 33,
        r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}", "resource-group",
        NAME_RULES_URL + "#microsoftmachinelearningservices",
        "3-33 alphanumerics, hyphens, underscores; start with alphanumeric "
        "(REST API pattern ^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$); soft-deleted names stay reserved",
    ),
    # The Azure ML registry: the REST API's registryName pattern (api-version 2025-12-01,
    # the version pulumi-azure-native's machinelearningservices.Registry uses), as in the ARM
    # template reference; the name is part of azureml://registries/<name> URIs.
    NameRule(
        ML_REGISTRY, "Microsoft.MachineLearningServices/registries", 3, 33,
        r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}", "global", ML_REGISTRY_NAME_URL,
        "3-33 letters, digits, hyphens, underscores; start with a letter or digit "
        "(REST API pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{2,32}$)",
    ),
    # One token for clusters and compute instances, and one rule: the stricter of those
    # published. The table says 3-24 (instance) / 3-32 (AmlCompute). The cluster how-to
    # (COMPUTE_CLUSTER_NAME_URL) and the compute instance how-to (COMPUTE_INSTANCE_NAME_URL,
    # "Compute name" in its form) state the same rule: 3-24 letters, digits and hyphens,
    # starting with a letter, any hyphen followed later by at least one letter, unique
    # across all the computes of an Azure region (so a cluster and an instance of one
    # project need different names: ProjectNames gives them different prefixes).
    NameRule(
        ML_COMPUTE, "Microsoft.MachineLearningServices/workspaces/computes", 3, 24,
        r"[A-Za-z](?:[A-Za-z0-9]*|[A-Za-z0-9-]*-[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*)", "region",
        COMPUTE_INSTANCE_NAME_URL,
        "3-24 letters, digits, hyphens; start with a letter; a hyphen must be followed later "
        "by a letter; unique across the region's computes (clusters and instances alike)",
    ),
    # azure-ai-ml's check (azure/ai/ml/entities/_endpoint/_endpoint_helpers.py) and the docs.
    NameRule(
        ENDPOINT, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", 3, 32,
        _ENDPOINT_PATTERN, "region", _ML_ENDPOINTS,
        "3-32 letters, digits, hyphens; start with a letter, end alphanumeric; "
        "unique in the Azure region",
    ),
    NameRule(
        DEPLOYMENT,
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments", 3, 32,
        _ENDPOINT_PATTERN, "parent", _ML_ENDPOINTS,
        "3-32 letters, digits, hyphens; start with a letter, end alphanumeric",
    ),
    # Not in Microsoft's table: the portal's message, as kept by PSRule.Rules.Azure
    # (Azure.ContainerApp.EnvNaming) and terraform-provider-azurerm's validator.
    NameRule(
        CONTAINER_ENV, "Microsoft.App/managedEnvironments", 2, 60,
        r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]", "resource-group",
        "https://azure.github.io/PSRule.Rules.Azure/en/rules/Azure.ContainerApp.EnvNaming/",
        "NOT IN MICROSOFT'S TABLE: 2-60 lowercase letters, numbers, hyphens; start with a "
        "letter, end alphanumeric, no '--' (portal/terraform validator)",
    ),
    # The table gives 2-32, start letter, end alphanumeric; the portal adds "cannot have '--'".
    NameRule(
        CONTAINER_APP, "Microsoft.App/containerApps", 2, 32, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
        "resource-group", NAME_RULES_URL + "#microsoftapp",
        "2-32 lowercase letters, numbers, hyphens; start with letter, end alphanumeric; "
        "no '--' (portal message)",
    ),
    NameRule(
        BUDGET, "Microsoft.Consumption/budgets", 1, 63, r"[A-Za-z0-9_-]+", "resource-group",
        NAME_RULES_URL + "#microsoftconsumption",
        "1-63 alphanumerics, hyphens, underscores (unique in its subscription or resource group)",
    ),
    NameRule(
        USER_IDENTITY, "Microsoft.ManagedIdentity/userAssignedIdentities", 3, 128,
        r"[A-Za-z0-9][A-Za-z0-9_-]*", "resource-group",
        NAME_RULES_URL + "#microsoftmanagedidentity",
        "3-128 alphanumerics, hyphens, underscores; start with letter or number",
    ),
    # Not in Microsoft's table: the rule Microsoft Entra states for a federated credential's
    # name ("Important considerations and restrictions").
    NameRule(
        FEDERATED_CREDENTIAL,
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", 3, 120,
        r"[A-Za-z0-9][A-Za-z0-9_-]*", "parent", FEDERATED_CREDENTIAL_RULES_URL,
        "3-120 alphanumerics, hyphens, underscores; first character alphanumeric; "
        "at most 20 per identity",
    ),
    NameRule(
        ROLE_ASSIGNMENT, "Microsoft.Authorization/roleAssignments", 36, 36,
        r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", "global",
        NAME_RULES_URL + "#microsoftauthorization", "must be a GUID",
    ),
    NameRule(
        ROLE_DEFINITION, "Microsoft.Authorization/roleDefinitions", 36, 36,
        r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", "global",
        NAME_RULES_URL + "#microsoftauthorization", "must be a GUID",
    ),
)  # fmt: skip

#: Every naming rule, keyed by Pulumi type token.
RULES: Mapping[str, NameRule] = {rule.type: rule for rule in _RULE_LIST}


def name_problem(type_token: str, name: str) -> str | None:
    """Say in one line why ``name`` breaks the naming rule of ``type_token``.

    Args:
        type_token: The Pulumi type token, e.g. ``azure-native:storage:StorageAccount``.
        name: The Azure name.

    Returns:
        The reason, or None when the name is valid or the type has no rule here.
    """
    rule = RULES.get(type_token)
    if rule is None:
        return None
    kind = rule.arm_type.rsplit("/", 1)[-1]
    if not rule.min_length <= len(name) <= rule.max_length:
        return (
            f"{name!r} has {len(name)} characters; {kind} names need "
            f"{rule.min_length}-{rule.max_length}"
        )
    if re.fullmatch(rule.pattern, name) is None:
        return f"{name!r} is not a valid {kind} name: {rule.note}"
    return None


def fit_name(type_token: str, *parts: str, unique: str = "") -> str:
    """Build a name valid for ``type_token`` from ``parts``, ending with ``unique`` whole.

    Each part is lower-cased and cleaned to letters and digits, joined by ``-`` where the
    type allows hyphens. When the result is too long, the stem (the parts) is cut and ends
    with a short hash of the whole stem, so that different long stems stay different.

    Args:
        type_token: The Pulumi type token whose rule the name must meet.
        *parts: The name's parts, e.g. ``"kv", "credit-risk"``.
        unique: A part that must survive whole at the end (e.g. a suffix).

    Returns:
        A name for which :func:`name_problem` returns None.

    Raises:
        ValueError: If the type has no rule or no valid name can be built.
    """
    rule = RULES.get(type_token)
    if rule is None:
        raise ValueError(f"no naming rule for {type_token}")
    separators = (rule.separator, "") if rule.separator else ("",)
    for sep in separators:
        tail = _clean(unique, sep)
        if unique and not tail:
            break
        stem = sep.join(part for part in (_clean(p, sep) for p in parts) if part)
        room = rule.max_length - len(tail) - (len(sep) if tail and stem else 0)
        name = sep.join(x for x in (_shorten(stem, room, sep), tail) if x)
        if name_problem(type_token, name) is None:
            return name
    raise ValueError(f"cannot build a valid {rule.arm_type} name from {parts!r} + {unique!r}")


def _clean(text: str, sep: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", sep, text.lower())
    return cleaned.strip(sep) if sep else cleaned


def _shorten(stem: str, room: int, sep: str) -> str:
    if len(stem) <= room:
        return stem
    digest = _hash(stem, 4)
    if room < len(digest) + len(sep) + 2:
        return stem[: max(room, 0)].rstrip(sep) if sep else stem[: max(room, 0)]
    head = stem[: room - len(digest) - len(sep)]
    return (head.rstrip(sep) if sep else head) + sep + digest


def _hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def name_suffix(project: str, stack: str) -> str:
    """Return a 6-character suffix that is stable for one project and stack."""
    return _hash(f"{project}/{stack}", 6)


def new_suffix() -> str:
    """Return 6 random lower-case letters and digits (for a stack whose names must change)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


@dataclass(frozen=True)
class ProjectNames:
    """Every Azure name one project's stack uses (see :func:`project_names`)."""

    resource_group: str
    storage_account: str
    blob_container_dvc: str
    key_vault: str
    log_analytics: str
    app_insights: str
    registry: str
    workspace: str
    vm: str
    vnet: str
    subnet: str
    nsg: str
    nic: str
    public_ip: str
    os_disk: str
    schedule: str
    bastion: str
    nat_gateway: str
    nat_public_ip: str
    cluster: str
    compute_instance: str
    endpoint: str
    container_env: str
    container_app: str
    budget: str
    ci_identity: str


#: Each :class:`ProjectNames` field -> the type token whose rule its name must meet.
PROJECT_NAME_TYPES: Mapping[str, str] = {
    "resource_group": RESOURCE_GROUP, "storage_account": STORAGE,
    "blob_container_dvc": BLOB_CONTAINER, "key_vault": VAULT, "log_analytics": LOG_ANALYTICS,
    "app_insights": APP_INSIGHTS, "registry": REGISTRY, "workspace": ML_WORKSPACE, "vm": VM,
    "vnet": VNET, "subnet": SUBNET, "nsg": NSG, "nic": NIC, "public_ip": PUBLIC_IP,
    "os_disk": DISK, "schedule": SCHEDULE, "bastion": BASTION, "nat_gateway": NAT_GATEWAY,
    "nat_public_ip": PUBLIC_IP, "cluster": ML_COMPUTE, "compute_instance": ML_COMPUTE,
    "endpoint": ENDPOINT,
    "container_env": CONTAINER_ENV, "container_app": CONTAINER_APP, "budget": BUDGET,
    "ci_identity": USER_IDENTITY,
}  # fmt: skip


def project_names(
    project: str, stack: str, suffix: str, *, stack_in_names: bool = False
) -> ProjectNames:
    """Derive every Azure name of a project's stack, each valid for its type.

    Names unique across Azure or a region (storage, key vault, registry, compute, endpoint)
    and names soft-delete keeps reserved (key vault, ML workspace) end with ``suffix``; the
    resource group is ``rg-<project>-<stack>``; the rest derive from the project alone.
    The stacks of a project's other environments share its suffix: with ``stack_in_names``
    those unique names end with the suffix and the stack (``stcreditriskabc123prod``), so
    no two stacks of one project want the same global or regional name.

    Args:
        project: The project's slug (``^[a-z0-9]+(-[a-z0-9]+)*$``, any length).
        stack: The Pulumi stack name.
        suffix: 6 lower-case letters or digits (:func:`name_suffix` or :func:`new_suffix`).
        stack_in_names: Add the stack to the unique names (every environment but the first,
            whose names stay as they were before environments existed).

    Raises:
        ValueError: If ``suffix`` is not 6 lower-case letters or digits.
    """
    if re.fullmatch(r"[a-z0-9]{6}", suffix) is None:
        raise ValueError(f"name suffix {suffix!r} must be 6 lower-case letters or digits")
    unique = f"{suffix}{_clean(stack, '')}" if stack_in_names else suffix
    vm = fit_name(VM, "vm", project)
    return ProjectNames(
        resource_group=fit_name(RESOURCE_GROUP, "rg", project, unique=_stack_part(stack)),
        storage_account=fit_name(STORAGE, "st", project, unique=unique),
        blob_container_dvc="dvc",
        key_vault=fit_name(VAULT, "kv", project, unique=unique),
        log_analytics=fit_name(LOG_ANALYTICS, "log", project),
        app_insights=fit_name(APP_INSIGHTS, "appi", project),
        registry=fit_name(REGISTRY, "cr", project, unique=unique),
        workspace=fit_name(ML_WORKSPACE, "mlw", project, unique=unique),
        vm=vm,
        vnet=fit_name(VNET, "vnet", project),
        subnet="workstation",
        nsg=fit_name(NSG, "nsg", project),
        nic=fit_name(NIC, "nic", project),
        public_ip=fit_name(PUBLIC_IP, "pip", project),
        os_disk=fit_name(DISK, "osdisk", project),
        schedule=SHUTDOWN_PREFIX + vm,
        bastion=fit_name(BASTION, "bas", project),
        nat_gateway=fit_name(NAT_GATEWAY, "ng", project),
        nat_public_ip=fit_name(PUBLIC_IP, "pip", "ng", project),
        cluster=fit_name(ML_COMPUTE, "train", project, unique=unique),
        # Compute names are unique across the region's computes: "ci" keeps the instance's
        # name apart from the cluster's ("train...") for every project and suffix.
        compute_instance=fit_name(ML_COMPUTE, "ci", project, unique=unique),
        endpoint=fit_name(ENDPOINT, "ep", project, unique=unique),
        container_env=fit_name(CONTAINER_ENV, "cae", project),
        container_app=fit_name(CONTAINER_APP, "ca", project),
        budget=fit_name(BUDGET, "budget", project),
        # The identity CI logs in as; it appears in Microsoft Entra ID under this name, so
        # the stack is part of it (one identity per stack, each trusting its environment).
        ci_identity=fit_name(USER_IDENTITY, "id", project, "ci", unique=_stack_part(stack)),
    )


def _stack_part(stack: str) -> str:
    """The stack as it appears in the resource group name: whole where it can be."""
    cleaned = _clean(stack, "-")
    if cleaned == stack and len(stack) <= 60:
        return stack
    return f"{cleaned[:60]}-{_hash(stack, 6)}".strip("-")
