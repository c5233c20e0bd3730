"""Security and cost policies, checked on the planned resource graph.

Each policy reads type tokens and inputs only, so it judges any program, including one
the user changed; the budget policy also reads the plan's cost estimate (see :func:`evaluate`).
Type tokens, tag keys and markers come from ``components.catalog``, the one place that names
them. Where checkov has the same rule its id is given as a reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlstart_infra.components.catalog import (
    AML_CLUSTER,
    AML_INSTANCE,
    AUTH_CONFIG,
    AUTOSCALE,
    BLOB_CONTAINER,
    BLOB_SERVICE,
    BUDGET,
    CONTAINER_APP,
    DEPLOYMENT,
    ENDPOINT,
    FEDERATED_CREDENTIAL,
    ML_COMPUTE,
    ML_WORKSPACE,
    NIC,
    NSG,
    NSG_RULE,
    PRIVATE_ENDPOINT,
    PRIVILEGED_ROLES,
    PUBLIC_IP,
    REGISTRY,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    SCHEDULE,
    STORAGE,
    USER_IDENTITY,
    VAULT,
    VM,
    VMSS,
)

# Re-exported: the components' tests check that policies and components agree on them.
from mlstart_infra.components.catalog import MISSING_KEY_MARKER as MISSING_KEY_MARKER
from mlstart_infra.components.catalog import REQUIRED_TAG_KEYS as REQUIRED_TAG_KEYS
from mlstart_infra.components.catalog import UNTAGGABLE_TYPES as UNTAGGABLE_TYPES
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph, dig
from mlstart_infra.pricing import CostEstimate, estimate
from mlstart_infra.pricing import iso_minutes as iso_minutes
from mlstart_infra.pricing import stop_time as _stop_time

Severity = Literal["high", "medium", "low"]
Status = Literal["pass", "fail", "not-applicable"]

#: Types that hold data, secrets or history and must be created with ``protect=True``.
STATEFUL_TYPES = (STORAGE, BLOB_CONTAINER, VAULT, REGISTRY, ML_WORKSPACE)
#: Types that should authenticate with a managed identity rather than keys.
IDENTITY_TYPES = (ML_WORKSPACE, ML_COMPUTE, ENDPOINT, CONTAINER_APP, VM)
OPEN_SOURCES = frozenset({"*", "0.0.0.0/0", "::/0", "internet", "any"})
MAX_IDLE_MINUTES = 15
#: The longest a compute instance may sit idle before it shuts itself down.
MAX_INSTANCE_IDLE_MINUTES = 60
#: ``publicNetworkAccess`` values that close a resource's public endpoint.
CLOSED_ACCESS = frozenset({"disabled", "securedbyperimeter"})
#: ``environment`` tag values that make a stack production (its stack config sets
#: ``environment: prod``; see copier.yml's ``environments``): the MLS-PROD policies apply.
PRODUCTION_TAGS = frozenset({"prod", "production"})


@dataclass(frozen=True)
class Finding:
    """One resource that breaks a policy, and why.

    Attributes:
        resource: The resource's Azure name (``(none)`` when no resource is to blame).
        type: Its type token.
        message: What is wrong.
        urn: Its Pulumi URN, where the finding is about one resource in the graph (the
            policy pack reports the violation against it).
    """

    resource: str
    type: str
    message: str
    urn: str | None = field(default=None, compare=False)


#: A check returns how many resources it looked at and what it found wrong.
Check = Callable[[ResourceGraph], tuple[int, list[Finding]]]
#: A check that also reads the plan's monthly cost estimate.
CostCheck = Callable[[ResourceGraph, CostEstimate], tuple[int, list[Finding]]]


@dataclass(frozen=True)
class WithCosts:
    """Wraps a :data:`CostCheck` so it can stand where a :data:`Check` is expected.

    :func:`evaluate` hands it the estimate it was given (priced once for all such checks);
    called on its own, it prices the graph with the table shipped with mlstart.

    Attributes:
        check: The check over the graph and its estimate.
    """

    check: CostCheck

    def __call__(self, graph: ResourceGraph) -> tuple[int, list[Finding]]:
        """Run the check with an estimate from the shipped price table."""
        return self.check(graph, estimate(graph))


@dataclass(frozen=True)
class Policy:
    """A rule the planned infrastructure must meet.

    Attributes:
        id: Stable id, e.g. ``MLS-VM-001``.
        title: What must be true, in one line.
        severity: ``high``, ``medium`` or ``low``.
        mandatory: A failed mandatory policy fails ``mlstart plan``.
        fix: How to fix it, in one line.
        references: The same rule in other tools (checkov ids).
        check: The check over the graph.
    """

    id: str
    title: str
    severity: Severity
    mandatory: bool
    fix: str
    references: tuple[str, ...]
    check: Check = field(repr=False, compare=False)


@dataclass
class PolicyResult:
    """The outcome of one policy on one graph."""

    policy: Policy
    status: Status
    checked: int
    findings: list[Finding]

    @property
    def failed_mandatory(self) -> bool:
        """True when this is a mandatory policy that failed."""
        return self.status == "fail" and self.policy.mandatory

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the result."""
        return {
            "id": self.policy.id,
            "title": self.policy.title,
            "severity": self.policy.severity,
            "mandatory": self.policy.mandatory,
            "status": self.status,
            "fix": self.policy.fix,
            "references": list(self.policy.references),
            "checked": self.checked,
            "findings": [
                {"resource": f.resource, "type": f.type, "message": f.message}
                for f in self.findings
            ],
        }


def evaluate(
    graph: ResourceGraph,
    policies: Sequence[Policy] | None = None,
    *,
    costs: CostEstimate | None = None,
) -> list[PolicyResult]:
    """Check every policy on the graph.

    Args:
        graph: The planned resources.
        policies: The policies to check; all of :data:`POLICIES` by default.
        costs: The plan's cost estimate (``pricing.estimate(graph, prices=...)``), for the
            policies that judge costs; priced with the shipped table when not given.

    Returns:
        One result per policy, in the policies' order.
    """
    results = []
    for policy in POLICIES if policies is None else policies:
        if isinstance(policy.check, WithCosts):
            costs = costs if costs is not None else estimate(graph)
            checked, findings = policy.check.check(graph, costs)
        else:
            checked, findings = policy.check(graph)
        status: Status = "not-applicable" if checked == 0 else "fail" if findings else "pass"
        results.append(PolicyResult(policy, status, checked, findings))
    return results


# ------------------------------------------------------------------ helpers


def _finding(resource: PlannedResource, message: str) -> Finding:
    return Finding(resource.azure_name, resource.type, message, resource.urn)


def _each(types: Iterable[str], problem: Callable[[PlannedResource], str | None]) -> Check:
    """A check that applies ``problem`` to every resource of ``types``."""
    wanted = tuple(types)

    def check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        resources = graph.of_type(*wanted)
        findings = []
        for resource in resources:
            message = problem(resource)
            if message:
                findings.append(_finding(resource, message))
        return len(resources), findings

    return check


def _aml_compute(graph: ResourceGraph, compute_type: str = AML_CLUSTER) -> list[PlannedResource]:
    return [r for r in graph.of_type(ML_COMPUTE) if r.get("properties.computeType") == compute_type]


def _each_cluster(
    problem: Callable[[dict[str, Any]], str | None], compute_type: str = AML_CLUSTER
) -> Check:
    """A check that applies ``problem`` to the ``properties`` of every AML compute of a type."""

    def check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        clusters = _aml_compute(graph, compute_type)
        findings = []
        for cluster in clusters:
            message = problem(dict(cluster.get("properties", {}) or {}))
            if message:
                findings.append(_finding(cluster, message))
        return len(clusters), findings

    return check


def _each_instance(problem: Callable[[dict[str, Any]], str | None]) -> Check:
    """A check that applies ``problem`` to the ``properties`` of every compute instance."""
    return _each_cluster(problem, AML_INSTANCE)


def _machine(resource: PlannedResource) -> dict[str, Any]:
    """The inputs that describe one machine: a VM's own, a scale set's ``virtualMachineProfile``."""
    if resource.type == VMSS:
        return dict(resource.get("virtualMachineProfile", {}) or {})
    return dict(resource.inputs)


def _linux(vm: PlannedResource) -> dict[str, Any]:
    return dict(dig(_machine(vm), "osProfile.linuxConfiguration", {}) or {})


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rules(nsg: PlannedResource, graph: ResourceGraph) -> list[dict[str, Any]]:
    rules = [dict(rule) for rule in nsg.get("securityRules", []) or []]
    for rule in graph.of_type(NSG_RULE):
        if rule.get("networkSecurityGroupName") == nsg.azure_name:
            rules.append({"name": rule.azure_name, **dict(rule.inputs)})
    return rules


def _covers_port(rule: dict[str, Any], port: int) -> bool:
    ranges = [rule.get("destinationPortRange"), *list(rule.get("destinationPortRanges") or [])]
    for text in (str(r) for r in ranges if r is not None):
        if text == "*":
            return True
        low, _, high = text.partition("-")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False


def _open_source(rule: dict[str, Any]) -> bool:
    sources = [rule.get("sourceAddressPrefix"), *list(rule.get("sourceAddressPrefixes") or [])]
    return any(str(s).lower() in OPEN_SOURCES for s in sources if s is not None)


# ------------------------------------------------------------------ checks


def _password_disabled(vm: PlannedResource) -> str | None:
    if dig(_machine(vm), "osProfile.windowsConfiguration") is not None:
        return "Windows VM: password login cannot be disabled; use a Linux VM with SSH keys"
    if dig(_machine(vm), "osProfile.adminPassword"):
        return "an admin password is set"
    if _linux(vm).get("disablePasswordAuthentication") is not True:
        return "disablePasswordAuthentication is not true"
    return None


def _ssh_key(vm: PlannedResource) -> str | None:
    keys = dig(_linux(vm), "ssh.publicKeys", []) or []
    if not any(isinstance(k, Mapping) and k.get("keyData") for k in keys):
        return "no SSH public key is configured"
    return None


def _ssh_key_available(vm: PlannedResource) -> str | None:
    keys = dig(_linux(vm), "ssh.publicKeys", []) or []
    for key in keys:
        data = str(key.get("keyData", "")) if isinstance(key, Mapping) else ""
        if data.startswith(MISSING_KEY_MARKER):
            return f"the SSH public key file is missing: {data}"
    return None


def _managed_disk(vm: PlannedResource) -> str | None:
    if vm.get("storageProfile.osDisk.vhd") is not None:
        return "the OS disk is an unmanaged VHD"
    return None


def _nic_public_ip(nic: PlannedResource) -> str | None:
    configs = nic.get("ipConfigurations", []) or []
    if any(isinstance(c, Mapping) and c.get("publicIPAddress") for c in configs):
        return "the network interface has a public IP address"
    return None


def _nsg_of(nic: PlannedResource, graph: ResourceGraph) -> PlannedResource | None:
    nsg = graph.by_id(nic.get("networkSecurityGroup.id"))
    if nsg is not None:
        return nsg
    for config in nic.get("ipConfigurations", []) or []:
        subnet = graph.by_id(dig(config, "subnet.id"))
        if subnet is not None:
            found = graph.by_id(subnet.get("networkSecurityGroup.id"))
            if found is not None:
                return found
    return None


def _public_nic_behind_nsg(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    public = [nic for nic in graph.of_type(NIC) if _nic_public_ip(nic)]
    findings = [
        _finding(nic, "public IP without a network security group on the NIC or its subnet")
        for nic in public
        if _nsg_of(nic, graph) is None
    ]
    return len(public), findings


def _port_not_open(port: int, service: str) -> Check:
    """A check that no network security group lets the internet reach a TCP port."""

    def check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        groups = graph.of_type(NSG)
        findings = []
        for nsg in groups:
            for rule in _rules(nsg, graph):
                if (
                    str(rule.get("direction", "")).lower() == "inbound"
                    and str(rule.get("access", "")).lower() == "allow"
                    and str(rule.get("protocol", "*")).lower() in {"tcp", "*"}
                    and _covers_port(rule, port)
                    and _open_source(rule)
                ):
                    name = rule.get("name", "?")
                    findings.append(
                        _finding(nsg, f"rule {name!r} allows {service} from the internet")
                    )
        return len(groups), findings

    return check


def _https_only(account: PlannedResource) -> str | None:
    if account.get("enableHttpsTrafficOnly") is False:
        return "enableHttpsTrafficOnly is false"
    return None


def _tls12(account: PlannedResource) -> str | None:
    if account.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        return f"minimumTlsVersion is {account.get('minimumTlsVersion')!r}, not TLS1_2"
    return None


def _no_public_blobs(account: PlannedResource) -> str | None:
    if account.get("allowBlobPublicAccess") is not False:
        return "allowBlobPublicAccess is not set to false"
    return None


def _vault_rbac(vault: PlannedResource) -> str | None:
    if vault.get("properties.enableRbacAuthorization") is not True:
        return "enableRbacAuthorization is not true (access policies are used)"
    return None


def _vault_soft_delete(vault: PlannedResource) -> str | None:
    if vault.get("properties.enableSoftDelete") is False:
        return "enableSoftDelete is false"
    return None


def _vault_purge_protection(vault: PlannedResource) -> str | None:
    if vault.get("properties.enablePurgeProtection") is not True:
        return "enablePurgeProtection is not true"
    return None


def _registry_admin(registry: PlannedResource) -> str | None:
    if registry.get("adminUserEnabled") is True:
        return "the admin user (a shared password) is enabled"
    return None


def _cluster_public_ip(props: dict[str, Any]) -> str | None:
    if dig(props, "properties.enableNodePublicIp") is not False:
        return "enableNodePublicIp is not false (the SDK default gives every node a public IP)"
    return None


def _cluster_remote_login(props: dict[str, Any]) -> str | None:
    if dig(props, "properties.remoteLoginPortPublicAccess") != "Disabled":
        return "remoteLoginPortPublicAccess is not Disabled"
    if dig(props, "properties.userAccountCredentials.adminUserPassword"):
        return "an admin password is set for the nodes"
    return None


def _cluster_local_auth(props: dict[str, Any]) -> str | None:
    if props.get("disableLocalAuth") is not True:
        return "disableLocalAuth is not true"
    return None


def _cluster_min_zero(props: dict[str, Any]) -> str | None:
    minimum = _number(dig(props, "properties.scaleSettings.minNodeCount", 0))
    if minimum is None or minimum != 0:
        return f"minNodeCount is {dig(props, 'properties.scaleSettings.minNodeCount')}, not 0"
    return None


def _cluster_idle(props: dict[str, Any]) -> str | None:
    duration = dig(props, "properties.scaleSettings.nodeIdleTimeBeforeScaleDown")
    minutes = iso_minutes(duration)
    if minutes is None:
        return "nodeIdleTimeBeforeScaleDown is not set (Azure's default is 120 minutes)"
    if minutes > MAX_IDLE_MINUTES:
        return f"idle scale-down after {minutes:g} minutes (more than {MAX_IDLE_MINUTES})"
    return None


def _has_identity(resource: PlannedResource) -> str | None:
    if "Assigned" not in str(resource.get("identity.type", "")):
        return "no managed identity (keys or passwords would be needed)"
    return None


def _endpoint_auth(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    endpoints = graph.of_type(ENDPOINT)
    apps = [a for a in graph.of_type(CONTAINER_APP) if a.get("configuration.ingress.external")]
    findings = [
        _finding(e, f"authMode is {e.get('properties.authMode')!r}")
        for e in endpoints
        if e.get("properties.authMode") not in ("Key", "AMLToken", "AADToken")
    ]
    configs = graph.of_type(AUTH_CONFIG)
    for app in apps:
        guarded = any(
            c.get("containerAppName") == app.azure_name
            and c.get("platform.enabled") is True
            and c.get("globalValidation.unauthenticatedClientAction")
            in ("Return401", "Return403", "RedirectToLoginPage")
            for c in configs
        )
        if not guarded:
            findings.append(
                _finding(app, "external ingress without authentication (anyone can call it)")
            )
    return len(endpoints) + len(apps), findings


def _group(resource: PlannedResource) -> str | None:
    """The resource group named in the inputs (None where unknown offline)."""
    group = resource.get("resourceGroupName")
    return group if isinstance(group, str) and group else None


def _same_group(one: PlannedResource, other: PlannedResource) -> bool:
    """True unless both resource groups are known and differ (names are case-insensitive)."""
    mine, theirs = _group(one), _group(other)
    return mine is None or theirs is None or mine.lower() == theirs.lower()


def _shutdown_schedule(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    vms = graph.of_type(VM)
    schedules = [
        s
        for s in graph.of_type(SCHEDULE)
        if s.get("taskType") == "ComputeVmShutdownTask" and s.get("status") != "Disabled"
    ]
    findings = []
    for vm in vms:
        mine = [
            s
            for s in schedules
            if str(s.get("targetResourceId", "")).lower() == (vm.id or "").lower()
        ]
        expected = f"shutdown-computevm-{vm.azure_name}"
        if not mine:
            findings.append(_finding(vm, "no enabled auto-shutdown schedule targets this VM"))
        elif not any(s.azure_name == expected for s in mine):
            findings.append(_finding(vm, f"the shutdown schedule must be named {expected}"))
        elif not any(_same_group(s, vm) for s in mine if s.azure_name == expected):
            findings.append(
                _finding(vm, f"{expected} must be in the VM's resource group ({_group(vm)})")
            )
        elif not any(dig(s.inputs, "dailyRecurrence.time") for s in mine):
            findings.append(_finding(vm, "the shutdown schedule has no daily time"))
    return len(vms), findings


def _shutdown_notice(schedule: PlannedResource) -> str | None:
    if schedule.get("taskType") != "ComputeVmShutdownTask":
        return None
    settings = schedule.get("notificationSettings", {}) or {}
    if settings.get("status") != "Enabled" or not (
        settings.get("emailRecipient") or settings.get("webhookUrl")
    ):
        return "no notice (email or webhook) before the shutdown"
    return None


def _budget(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    if not graph.cloud_resources:
        return 0, []
    budgets = graph.of_type(BUDGET)
    if not budgets:
        return 1, [Finding("(none)", BUDGET, "no budget watches this infrastructure")]
    findings = []
    for budget in budgets:
        alerts = [
            n
            for n in (budget.get("notifications", {}) or {}).values()
            if isinstance(n, Mapping)
            and n.get("enabled") is not False
            and (n.get("contactEmails") or n.get("contactGroups") or n.get("contactRoles"))
        ]
        if (_number(budget.get("amount")) or 0) <= 0:
            findings.append(_finding(budget, "the budget amount is not greater than 0"))
        elif not alerts:
            findings.append(_finding(budget, "the budget sends no alerts to anyone"))
    return len(budgets), findings


def _tags(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    taggable = [
        r
        for r in graph.cloud_resources
        if r.type.startswith("azure-native:") and r.type not in UNTAGGABLE_TYPES
    ]
    findings = []
    for resource in taggable:
        tags = resource.get("tags", {}) or {}
        missing = [k for k in REQUIRED_TAG_KEYS if not str(tags.get(k, "")).strip()]
        if missing:
            findings.append(_finding(resource, f"missing tags: {', '.join(missing)}"))
    return len(taggable), findings


def _protected(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    stateful = graph.of_type(*STATEFUL_TYPES)
    return len(stateful), [
        _finding(r, "not created with protect=True: a destroy would delete its data")
        for r in stateful
        if not r.protect
    ]


def _scale_to_zero(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    apps = graph.of_type(CONTAINER_APP)
    deployments = graph.of_type(DEPLOYMENT)
    findings = [
        _finding(a, f"minReplicas is {a.get('template.scale.minReplicas')}, so it bills while idle")
        for a in apps
        if (_number(a.get("template.scale.minReplicas", 0)) or 0) > 0
    ]
    findings += [
        _finding(d, "managed online deployments cannot scale to zero: instances bill while idle")
        for d in deployments
    ]
    return len(apps) + len(deployments), findings


#: Where each type keeps its public-access switch, and its network rules' default action.
_NETWORK_INPUTS: dict[str, tuple[str, str | None]] = {
    VAULT: ("properties.publicNetworkAccess", "properties.networkAcls.defaultAction"),
    STORAGE: ("publicNetworkAccess", "networkRuleSet.defaultAction"),
    REGISTRY: ("publicNetworkAccess", "networkRuleSet.defaultAction"),
    ML_WORKSPACE: ("publicNetworkAccess", None),
}


def _public_access(resource: PlannedResource) -> str | None:
    """Why the resource is reachable from the whole internet (None when it is closed)."""
    access_path, rules_path = _NETWORK_INPUTS[resource.type]
    access = resource.get(access_path)
    if str(access).lower() in CLOSED_ACCESS:
        return None
    if rules_path is not None and str(resource.get(rules_path, "")).lower() == "deny":
        return None
    shown = "not set (Azure's default is Enabled)" if access is None else repr(access)
    rules = "" if rules_path is None else " and no network rule denies by default"
    return f"open to the internet: publicNetworkAccess is {shown}{rules}"


def _private_endpoint_targets(graph: ResourceGraph) -> set[str]:
    """The ids (lower case) of the resources that some private endpoint connects to."""
    targets = set()
    for endpoint in graph.of_type(PRIVATE_ENDPOINT):
        for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for connection in endpoint.get(key, []) or []:
                target = dig(connection, "privateLinkServiceId")
                if isinstance(target, str):
                    targets.add(target.lower())
    return targets


def _private_endpoint_closes(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    targets = _private_endpoint_targets(graph)
    behind = [r for r in graph.of_type(*_NETWORK_INPUTS) if (r.id or "").lower() in targets]
    findings = []
    for resource in behind:
        message = _public_access(resource)
        if message:
            findings.append(_finding(resource, f"{message}, though a private endpoint serves it"))
    return len(behind), findings


def _blob_soft_delete(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    accounts = [a for a in graph.of_type(STORAGE) if str(a.get("kind", "")) != "FileStorage"]
    services = graph.of_type(BLOB_SERVICE)
    findings = []
    for account in accounts:
        mine = [
            s
            for s in services
            if str(s.get("accountName", "")).lower() == account.azure_name.lower()
            and _same_group(s, account)
        ]
        if not mine:
            message = "no BlobServiceProperties turns on soft delete for its blobs"
        elif not any(s.get("deleteRetentionPolicy.enabled") is True for s in mine):
            message = "deleteRetentionPolicy is not enabled: a deleted blob is gone at once"
        elif not any(s.get("containerDeleteRetentionPolicy.enabled") is True for s in mine):
            message = "containerDeleteRetentionPolicy is not enabled: a deleted container is lost"
        else:
            continue
        findings.append(_finding(account, message))
    return len(accounts), findings


def _scale_set_idle(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    scale_sets = graph.of_type(VMSS)
    autoscale = [a for a in graph.of_type(AUTOSCALE) if a.get("enabled") is True]
    findings = []
    for scale_set in scale_sets:
        capacity = _number(scale_set.get("sku.capacity"))
        if capacity == 0:
            continue
        mine = [
            a
            for a in autoscale
            if str(a.get("targetResourceUri", "")).lower() == (scale_set.id or "").lower()
        ]
        minimums = [
            _number(dig(profile, "capacity.minimum"))
            for setting in mine
            for profile in setting.get("profiles", []) or []
        ]
        if not mine:
            shown = "not set" if capacity is None else f"{capacity:g}"
            message = (
                f"capacity is {shown} and no enabled autoscale setting scales it to 0 "
                "(scale sets have no auto-shutdown schedule)"
            )
        elif not minimums or any(m != 0 for m in minimums):
            message = "its autoscale setting keeps instances running (a profile minimum is not 0)"
        else:
            continue
        findings.append(_finding(scale_set, message))
    return len(scale_sets), findings


def _instance_public_ip(props: dict[str, Any]) -> str | None:
    if dig(props, "properties.enableNodePublicIp") is not False:
        return "enableNodePublicIp is not false (Azure's default gives the instance a public IP)"
    return None


def _instance_ssh(props: dict[str, Any]) -> str | None:
    access = dig(props, "properties.sshSettings.sshPublicAccess")
    if access not in (None, "Disabled"):  # Azure's default is Disabled
        return f"sshSettings.sshPublicAccess is {access!r}: SSH is open to the internet"
    return None


def _stop_schedules(props: dict[str, Any]) -> list[Mapping[str, Any]]:
    schedules = dig(props, "properties.schedules.computeStartStop", []) or []
    return [
        s
        for s in schedules
        if isinstance(s, Mapping) and s.get("action") == "Stop" and s.get("status") != "Disabled"
    ]


def _instance_stop_schedule(props: dict[str, Any]) -> str | None:
    schedules = _stop_schedules(props)
    if not schedules:
        return "no enabled Stop schedule: nothing stops it at the end of the day"
    # A Stop the pricing cannot place in the day (e.g. a cron with ranges of hours) is not
    # trusted to end the day: the same reading prices the instance's scheduled hours.
    if all(_stop_time(schedule) is None for schedule in schedules):
        return "its Stop schedule names no time of day (recurrence hours/minutes or a cron)"
    return None


def _instance_idle(props: dict[str, Any]) -> str | None:
    minutes = iso_minutes(dig(props, "properties.idleTimeBeforeShutdown"))
    if (minutes is not None and minutes <= MAX_INSTANCE_IDLE_MINUTES) or _stop_schedules(props):
        return None
    if minutes is None:
        return "no idleTimeBeforeShutdown and no stop schedule: it runs until someone stops it"
    return (
        f"idle shutdown after {minutes:g} minutes (more than {MAX_INSTANCE_IDLE_MINUTES}) "
        "and no stop schedule"
    )


def _idle_shutdown(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    from mlstart_infra.idle import idle_shutdown_of

    views = idle_shutdown_of(graph)
    findings = [Finding(v.vm, VM, "; ".join(v.problems)) for v in views if v.problems]
    return len(views), findings


def _budget_covers_estimate(graph: ResourceGraph, costs: CostEstimate) -> tuple[int, list[Finding]]:
    budgets = [b for b in graph.of_type(BUDGET) if (_number(b.get("amount")) or 0) > 0]
    unpriced = f"; {len(costs.unpriced)} resources unpriced" if costs.unpriced else ""
    findings = [
        _finding(
            budget,
            f"the scheduled estimate of {costs.total_scheduled:,.2f} {costs.currency} a month is "
            f"more than the budget of {_number(budget.get('amount')):,.2f}{unpriced}",
        )
        for budget in budgets
        if costs.total_scheduled > (_number(budget.get("amount")) or 0)
    ]
    return len(budgets), findings


def _ci_identity_roles(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    """Role assignments of a CI identity: none privileged, none wider than a resource group.

    A CI identity is a user-assigned identity that a federated credential trusts (the
    credential depends on it); its role assignments are those whose principal is read
    from it (they depend on it).
    """
    federated = {urn for c in graph.of_type(FEDERATED_CREDENTIAL) for urn in c.dependencies}
    identities = {i.urn for i in graph.of_type(USER_IDENTITY) if i.urn in federated}
    assignments = [a for a in graph.of_type(ROLE_ASSIGNMENT) if identities & set(a.dependencies)]
    findings = []
    for assignment in assignments:
        problems = []
        definition = str(assignment.get("roleDefinitionId") or "")
        role = definition.rstrip("/").rsplit("/", 1)[-1].lower()
        if role in PRIVILEGED_ROLES:
            problems.append(f"grants {PRIVILEGED_ROLES[role]} to the CI identity")
        scope = assignment.get("scope")
        if isinstance(scope, str) and "/resourcegroups/" not in scope.lower():
            problems.append(f"is scoped to {scope or '(nothing)'}, wider than a resource group")
        if problems:
            findings.append(_finding(assignment, "; ".join(problems)))
    return len(assignments), findings


# ------------------------------------------------------------------ production


def environment_of(graph: ResourceGraph) -> str:
    """The stack's ``environment`` tag: its resource group's, else the most common one.

    Policies see only resources (the policy pack gets no stack config), so the environment
    is read where every resource carries it: the tags.
    """
    for group in graph.of_type(RESOURCE_GROUP):
        value = str((group.get("tags", {}) or {}).get("environment", "")).strip()
        if value:
            return value
    seen: dict[str, int] = {}
    for resource in graph.cloud_resources:
        value = str((resource.get("tags", {}) or {}).get("environment", "") or "").strip()
        if value:
            seen[value] = seen.get(value, 0) + 1
    return max(seen, key=lambda v: seen[v]) if seen else ""


def is_production(graph: ResourceGraph) -> bool:
    """Whether the graph is a production stack (its ``environment`` tag is prod)."""
    return environment_of(graph).lower() in PRODUCTION_TAGS


def _in_production(check: Check) -> Check:
    """A check that judges production stacks only (elsewhere: nothing checked, n/a)."""

    def production_check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        return check(graph) if is_production(graph) else (0, [])

    return production_check


def _outside_production(check: Check) -> Check:
    """A check that production stacks skip (a rule production replaces with a stricter one)."""

    def other_check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        return (0, []) if is_production(graph) else check(graph)

    return other_check


def _no_workstation(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    machines = [*graph.of_type(VM, VMSS), *_aml_compute(graph, AML_INSTANCE)]
    findings = [
        _finding(m, "a workstation in production: develop in the first environment instead")
        for m in machines
    ]
    return max(len(machines), 1), findings


def _serving_replicas(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    apps = graph.of_type(CONTAINER_APP)
    deployments = graph.of_type(DEPLOYMENT)
    findings = [
        _finding(a, f"minReplicas is {a.get('template.scale.minReplicas', 0)}: the first "
                    "request after an idle spell waits for a cold start")
        for a in apps
        if (_number(a.get("template.scale.minReplicas", 0)) or 0) < 1
    ]  # fmt: skip
    findings += [
        _finding(d, "the deployment has no instance")
        for d in deployments
        if (_number(d.get("sku.capacity", 1)) or 0) < 1
    ]
    return len(apps) + len(deployments), findings


def _no_public_ip(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    addresses = graph.of_type(PUBLIC_IP)
    nics = graph.of_type(NIC)
    clusters = _aml_compute(graph, AML_CLUSTER) + _aml_compute(graph, AML_INSTANCE)
    findings = [_finding(a, "a public IP address in production") for a in addresses]
    findings += [_finding(n, message) for n in nics if (message := _nic_public_ip(n))]
    findings += [
        _finding(c, "nodes get public IPs (enableNodePublicIp is not false)")
        for c in clusters
        if dig(c.get("properties", {}) or {}, "properties.enableNodePublicIp") is not False
    ]
    return len(addresses) + len(nics) + len(clusters), findings


def _regular_nodes(props: dict[str, Any]) -> str | None:
    priority = str(dig(props, "properties.vmPriority", "Dedicated"))
    if priority.lower() == "lowpriority":
        return "low-priority nodes can be preempted while a production job runs"
    return None


# ------------------------------------------------------------------ the policy list

POLICIES: tuple[Policy, ...] = (
    Policy("MLS-VM-001", "VMs disable password login", "high", True,
           "set osProfile.linuxConfiguration.disablePasswordAuthentication=True; no adminPassword",
           ("CKV_AZURE_1", "CKV_AZURE_149"), _each([VM], _password_disabled)),
    Policy("MLS-VM-002", "VMs log in with an SSH public key", "high", True,
           "add the key in osProfile.linuxConfiguration.ssh.publicKeys",
           ("CKV_AZURE_178",), _each([VM], _ssh_key)),
    Policy("MLS-VM-003", "The SSH public key file exists", "medium", False,
           "create it (ssh-keygen -t ed25519) or `pulumi config set sshPublicKey '<key text>'`",
           (), _each([VM, VMSS], _ssh_key_available)),
    Policy("MLS-VM-004", "VMs use managed disks", "medium", True,
           "use storageProfile.osDisk.managedDisk instead of a VHD", ("CKV_AZURE_92",),
           _each([VM], _managed_disk)),
    Policy("MLS-NET-001", "VM network interfaces have no public IP", "medium", False,
           "set publicIp=false and connect through Azure Bastion or a VPN", ("CKV_AZURE_119",),
           _each([NIC], _nic_public_ip)),
    Policy("MLS-NET-002", "A public IP sits behind a network security group", "high", True,
           "attach an NSG to the NIC or its subnet that allows SSH only from sshAllowedCidr",
           (), _public_nic_behind_nsg),
    Policy("MLS-NET-003", "SSH is not open to the internet", "high", True,
           "restrict the rule's source to your address range (sshAllowedCidr)", ("CKV_AZURE_10",),
           _port_not_open(22, "SSH")),
    Policy("MLS-STO-001", "Storage accepts HTTPS only", "high", True,
           "set enable_https_traffic_only=True", ("CKV_AZURE_3",), _each([STORAGE], _https_only)),
    Policy("MLS-STO-002", "Storage requires TLS 1.2", "high", True,
           "set minimum_tls_version='TLS1_2'", ("CKV_AZURE_44",), _each([STORAGE], _tls12)),
    Policy("MLS-STO-003", "Storage allows no public blob access", "high", True,
           "set allow_blob_public_access=False", ("CKV_AZURE_190",),
           _each([STORAGE], _no_public_blobs)),
    Policy("MLS-KV-001", "Key vaults use Azure RBAC", "medium", True,
           "set properties.enable_rbac_authorization=True", (), _each([VAULT], _vault_rbac)),
    Policy("MLS-KV-002", "Key vaults keep deleted secrets (soft delete)", "high", True,
           "set properties.enable_soft_delete=True", ("CKV_AZURE_111", "CKV_AZURE_42"),
           _each([VAULT], _vault_soft_delete)),
    Policy("MLS-KV-003", "Key vaults have purge protection", "high", True,
           "set properties.enable_purge_protection=True", ("CKV_AZURE_110", "CKV_AZURE_42"),
           _each([VAULT], _vault_purge_protection)),
    Policy("MLS-ACR-001", "Container registries have the admin user disabled", "high", True,
           "set admin_user_enabled=False; pull with a managed identity (AcrPull)",
           ("CKV_AZURE_137",), _each([REGISTRY], _registry_admin)),
    Policy("MLS-AML-001", "Training clusters give nodes no public IP", "high", True,
           "set enable_node_public_ip=False (the workspace's managed network gives outbound)",
           (), _each_cluster(_cluster_public_ip)),
    Policy("MLS-AML-002", "Training clusters disable SSH/remote login", "high", True,
           "set remote_login_port_public_access='Disabled' and no user_account_credentials",
           (), _each_cluster(_cluster_remote_login)),
    Policy("MLS-AML-003", "Training clusters disable local authentication", "medium", True,
           "set disable_local_auth=True on the AmlCompute", ("CKV_AZURE_142",),
           _each_cluster(_cluster_local_auth)),
    Policy("MLS-SRV-001", "Serving endpoints require authentication", "high", True,
           "endpoints: auth_mode Key/AADToken; container apps: an auth config returning 401",
           (), _endpoint_auth),
    Policy("MLS-IAM-001", "Workloads use managed identities, not keys", "medium", True,
           "add identity=...(type='SystemAssigned')", (), _each(IDENTITY_TYPES, _has_identity)),
    Policy("MLS-IAM-002", "The CI identity holds no owner-level role and nothing wider than "
           "a resource group", "high", True,
           "grant the CI identity narrow roles (AzureML Data Scientist, AcrPush) on the "
           "resources it uses; pulumi up runs as a separate deployer identity", (),
           _ci_identity_roles),
    Policy("MLS-DATA-001", "Stateful resources are protected from deletion", "medium", True,
           "create storage, key vaults, registries, workspaces with ResourceOptions(protect=True)",
           (),
           _protected),
    Policy("MLS-COST-001", "Every VM has a daily auto-shutdown schedule", "high", True,
           "add a devtestlab.GlobalSchedule named shutdown-computevm-<vm> targeting the VM id",
           (), _shutdown_schedule),
    Policy("MLS-COST-002", "Shutdown schedules send a notice first", "low", False,
           "set notificationSettings with status Enabled and an email or webhook", (),
           _each([SCHEDULE], _shutdown_notice)),
    Policy("MLS-COST-003", "Training clusters scale down to 0 nodes", "high", True,
           "set scale_settings.min_node_count=0", ("CKV_AZURE_150",),
           _each_cluster(_cluster_min_zero)),
    Policy("MLS-COST-004", "Idle cluster nodes are released within 15 minutes", "medium", True,
           "set scale_settings.node_idle_time_before_scale_down='PT2M' (at most PT15M)", (),
           _each_cluster(_cluster_idle)),
    Policy("MLS-COST-005", "A monthly budget with alerts watches the resources", "high", True,
           "add a consumption.Budget with notifications at 80% and 100%", (), _budget),
    Policy("MLS-COST-006", "Every resource carries project/owner/environment/decommission-by",
           "medium", True, "pass standard_tags(...) as tags= to every resource", (), _tags),
    Policy("MLS-COST-007", "Serving scales to zero when idle (outside production)", "low", False,
           "use Container Apps with min_replicas=0, or delete idle online deployments", (),
           _outside_production(_scale_to_zero)),
    Policy("MLS-NET-004", "RDP is not open to the internet", "high", True,
           "remove the rule or restrict its source to your address range; prefer Azure Bastion",
           ("CKV_AZURE_9",), _port_not_open(3389, "RDP")),
    Policy("MLS-NET-005", "Resources with a private endpoint close their public endpoint", "high",
           True, "set public_network_access='Disabled' where a private endpoint serves it", (),
           _private_endpoint_closes),
    Policy("MLS-KV-004", "Key vaults are closed to the public internet", "medium", False,
           "advisory: Azure ML reaches the vault publicly; set public_network_access='Disabled' "
           "or network_acls default_action='Deny' once a private endpoint serves it",
           ("CKV_AZURE_189", "CKV_AZURE_109"), _each([VAULT], _public_access)),
    Policy("MLS-STO-004", "Storage is closed to the public internet", "medium", False,
           "advisory: Azure ML and DVC reach storage publicly; set public_network_access="
           "'Disabled' or network_rule_set default_action='Deny' once private endpoints exist",
           ("CKV_AZURE_59", "CKV_AZURE_35"), _each([STORAGE], _public_access)),
    Policy("MLS-STO-005", "Storage keeps deleted blobs and containers (soft delete)", "medium",
           True, "add a storage.BlobServiceProperties with delete_retention_policy and "
           "container_delete_retention_policy enabled (days >= 1)", ("CKV2_AZURE_38",),
           _blob_soft_delete),
    Policy("MLS-ACR-002", "Container registries are closed to the public internet", "medium",
           False, "advisory: Azure ML builds and pulls images publicly; set public_network_access="
           "'Disabled' (Premium) once a private endpoint serves it", ("CKV_AZURE_139",),
           _each([REGISTRY], _public_access)),
    Policy("MLS-AML-004", "ML workspaces are closed to the public internet", "medium", False,
           "advisory: the studio and SDK reach the workspace publicly; set public_network_access="
           "'Disabled' once a private endpoint serves it", ("CKV_AZURE_144", "CKV2_AZURE_49"),
           _each([ML_WORKSPACE], _public_access)),
    Policy("MLS-AML-005", "Compute instances have no public IP", "high", True,
           "set enable_node_public_ip=False on the ComputeInstance properties", (),
           _each_instance(_instance_public_ip)),
    Policy("MLS-AML-006", "Compute instances keep SSH closed to the internet", "high", True,
           "set ssh_settings.ssh_public_access='Disabled' (or leave ssh_settings out)", (),
           _each_instance(_instance_ssh)),
    Policy("MLS-VMSS-001", "Scale sets disable password login", "high", True,
           "set virtual_machine_profile.os_profile.linux_configuration."
           "disable_password_authentication=True; no admin_password",
           ("CKV_AZURE_49", "CKV_AZURE_149"), _each([VMSS], _password_disabled)),
    Policy("MLS-VMSS-002", "Scale sets log in with an SSH public key", "high", True,
           "add the key in virtual_machine_profile.os_profile.linux_configuration.ssh.public_keys",
           ("CKV_AZURE_178",), _each([VMSS], _ssh_key)),
    Policy("MLS-COST-008", "Scale sets scale in to 0 instances when idle", "high", True,
           "set sku.capacity=0, or add an enabled monitor.AutoscaleSetting whose profiles have "
           "minimum '0'", (), _scale_set_idle),
    Policy("MLS-COST-009", "Compute instances shut down when idle", "high", True,
           f"set idle_time_before_shutdown='PT30M' (at most PT{MAX_INSTANCE_IDLE_MINUTES}M) or a "
           "Stop schedule", (), _each_instance(_instance_idle)),
    Policy("MLS-COST-011", "Compute instances stop on a daily schedule", "high", True,
           "add schedules.compute_start_stop=[ComputeStartStopScheduleArgs(action='Stop', "
           "trigger_type='Recurrence', recurrence=RecurrenceArgs(frequency='Day', ...))]", (),
           _each_instance(_instance_stop_schedule)),
    Policy("MLS-COST-010", "The scheduled monthly estimate fits in the budget", "high", True,
           "raise the budget amount or shrink the plan (smaller sizes, fewer nodes, earlier "
           "shutdown); the estimate is in the price table's currency", (),
           WithCosts(_budget_covers_estimate)),
    Policy("MLS-COST-012", "Every VM runs the idle-shutdown agent or opts out explicitly",
           "medium", True, "set idleShutdownMinutes (15-1440) so the workstation installs the "
           "agent with a read+deallocate role on the VM itself, or 0 to tag it idle-shutdown: off",
           (), _idle_shutdown),
    # Production (the stack's `environment` tag is prod): stricter rules on top of the rest.
    # Low-priority VMs "can be preempted" and suit jobs that tolerate it:
    # https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-optimize-cost#use-low-priority-vms
    # Container Apps scaled to zero start a replica on the next request (a cold start):
    # https://learn.microsoft.com/en-us/azure/container-apps/scale-app
    Policy("MLS-PROD-001", "Production has no workstation", "high", True,
           "set gpuWorkstation: \"false\" in the production stack's config; develop in the "
           "first environment", (), _in_production(_no_workstation)),
    Policy("MLS-PROD-002", "Production serving keeps at least one replica running", "medium",
           True, "set servingMinReplicas: \"1\" (or more) in the production stack's config",
           (), _in_production(_serving_replicas)),
    Policy("MLS-PROD-003", "Production has no public IP addresses", "high", True,
           "remove public IPs: publicIp false, enable_node_public_ip=False; reach machines "
           "through a private network", ("CKV_AZURE_119",), _in_production(_no_public_ip)),
    Policy("MLS-PROD-004", "Production clusters use regular (not low-priority) nodes", "medium",
           True, "set clusterLowPriority: \"false\" in the production stack's config", (),
           _in_production(_each_cluster(_regular_nodes))),
)  # fmt: skip
