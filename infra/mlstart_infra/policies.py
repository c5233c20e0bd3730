"""Security and cost policies, checked on the planned resource graph.

Each policy reads type tokens and inputs only, so it judges any program, including one
the user changed. Where checkov has the same rule its id is given as a reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlstart_infra.offline.graph import PlannedResource, ResourceGraph, dig

Severity = Literal["high", "medium", "low"]
Status = Literal["pass", "fail", "not-applicable"]

#: Tag keys every taggable resource must carry (same as components.tags.REQUIRED_TAG_KEYS).
REQUIRED_TAG_KEYS = ("project", "owner", "environment", "decommission-by")
#: Types that accept no tags in Azure, and so are exempt from the tag policy.
UNTAGGABLE_TYPES = frozenset(
    {
        "azure-native:network:Subnet",
        "azure-native:storage:BlobContainer",
        "azure-native:network:SecurityRule",
        "azure-native:consumption:Budget",
        "azure-native:authorization:RoleAssignment",
        "azure-native:app:ContainerAppsAuthConfig",
    }
)
#: Types that hold data or history and must be created with ``protect=True``.
STATEFUL_TYPES = (
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:containerregistry:Registry",
    "azure-native:machinelearningservices:Workspace",
)
#: Types that should authenticate with a managed identity rather than keys.
IDENTITY_TYPES = (
    "azure-native:machinelearningservices:Workspace",
    "azure-native:machinelearningservices:Compute",
    "azure-native:machinelearningservices:OnlineEndpoint",
    "azure-native:app:ContainerApp",
    "azure-native:compute:VirtualMachine",
)
VM = "azure-native:compute:VirtualMachine"
NIC = "azure-native:network:NetworkInterface"
NSG = "azure-native:network:NetworkSecurityGroup"
NSG_RULE = "azure-native:network:SecurityRule"
SUBNET = "azure-native:network:Subnet"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
CONTAINER_APP = "azure-native:app:ContainerApp"
AUTH_CONFIG = "azure-native:app:ContainerAppsAuthConfig"
SCHEDULE = "azure-native:devtestlab:GlobalSchedule"
BUDGET = "azure-native:consumption:Budget"
MISSING_KEY_MARKER = "MISSING-SSH-PUBLIC-KEY"
OPEN_SOURCES = frozenset({"*", "0.0.0.0/0", "::/0", "internet", "any"})
MAX_IDLE_MINUTES = 15


@dataclass(frozen=True)
class Finding:
    """One resource that breaks a policy, and why."""

    resource: str
    type: str
    message: str


#: A check returns how many resources it looked at and what it found wrong.
Check = Callable[[ResourceGraph], tuple[int, list[Finding]]]


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


def evaluate(graph: ResourceGraph, policies: Sequence[Policy] | None = None) -> list[PolicyResult]:
    """Check every policy on the graph.

    Args:
        graph: The planned resources.
        policies: The policies to check; all of :data:`POLICIES` by default.

    Returns:
        One result per policy, in the policies' order.
    """
    results = []
    for policy in POLICIES if policies is None else policies:
        checked, findings = policy.check(graph)
        status: Status = "not-applicable" if checked == 0 else "fail" if findings else "pass"
        results.append(PolicyResult(policy, status, checked, findings))
    return results


# ------------------------------------------------------------------ helpers


def _finding(resource: PlannedResource, message: str) -> Finding:
    return Finding(resource.azure_name, resource.type, message)


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


def _aml_compute(graph: ResourceGraph) -> list[PlannedResource]:
    return [r for r in graph.of_type(ML_COMPUTE) if r.get("properties.computeType") == "AmlCompute"]


def _each_cluster(problem: Callable[[dict[str, Any]], str | None]) -> Check:
    def check(graph: ResourceGraph) -> tuple[int, list[Finding]]:
        clusters = _aml_compute(graph)
        findings = []
        for cluster in clusters:
            message = problem(dict(cluster.get("properties", {}) or {}))
            if message:
                findings.append(_finding(cluster, message))
        return len(clusters), findings

    return check


def _linux(vm: PlannedResource) -> dict[str, Any]:
    return dict(vm.get("osProfile.linuxConfiguration", {}) or {})


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def iso_minutes(duration: Any) -> float | None:
    """Minutes in an ISO 8601 time duration such as ``PT2M`` or ``PT1H30M`` (None if not one)."""
    match = _DURATION.match(str(duration or ""))
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 60 + minutes + seconds / 60


def _rules(nsg: PlannedResource, graph: ResourceGraph) -> list[dict[str, Any]]:
    rules = [dict(rule) for rule in nsg.get("securityRules", []) or []]
    for rule in graph.of_type(NSG_RULE):
        if rule.get("networkSecurityGroupName") == nsg.azure_name:
            rules.append(dict(rule.inputs))
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
    if vm.get("osProfile.windowsConfiguration") is not None:
        return "Windows VM: password login cannot be disabled; use a Linux VM with SSH keys"
    if vm.get("osProfile.adminPassword"):
        return "an admin password is set"
    if _linux(vm).get("disablePasswordAuthentication") is not True:
        return "disablePasswordAuthentication is not true"
    return None


def _ssh_key(vm: PlannedResource) -> str | None:
    keys = dig(_linux(vm), "ssh.publicKeys", []) or []
    if not any(isinstance(k, dict) and k.get("keyData") for k in keys):
        return "no SSH public key is configured"
    return None


def _ssh_key_available(vm: PlannedResource) -> str | None:
    keys = dig(_linux(vm), "ssh.publicKeys", []) or []
    for key in keys:
        data = str(key.get("keyData", "")) if isinstance(key, dict) else ""
        if data.startswith(MISSING_KEY_MARKER):
            return f"the SSH public key file is missing: {data}"
    return None


def _managed_disk(vm: PlannedResource) -> str | None:
    if vm.get("storageProfile.osDisk.vhd") is not None:
        return "the OS disk is an unmanaged VHD"
    return None


def _nic_public_ip(nic: PlannedResource) -> str | None:
    configs = nic.get("ipConfigurations", []) or []
    if any(isinstance(c, dict) and c.get("publicIPAddress") for c in configs):
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


def _ssh_not_open(graph: ResourceGraph) -> tuple[int, list[Finding]]:
    groups = graph.of_type(NSG)
    findings = []
    for nsg in groups:
        for rule in _rules(nsg, graph):
            if (
                str(rule.get("direction", "")).lower() == "inbound"
                and str(rule.get("access", "")).lower() == "allow"
                and str(rule.get("protocol", "*")).lower() in {"tcp", "*"}
                and _covers_port(rule, 22)
                and _open_source(rule)
            ):
                findings.append(
                    _finding(nsg, f"rule {rule.get('name', '?')!r} allows SSH from the internet")
                )
    return len(groups), findings


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
            if isinstance(n, dict)
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
           (), _each([VM], _ssh_key_available)),
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
           _ssh_not_open),
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
    Policy("MLS-DATA-001", "Stateful resources are protected from deletion", "medium", True,
           "create storage, registries and workspaces with ResourceOptions(protect=True)", (),
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
    Policy("MLS-COST-007", "Serving scales to zero when idle", "low", False,
           "use Container Apps with min_replicas=0, or delete idle online deployments", (),
           _scale_to_zero),
)  # fmt: skip
