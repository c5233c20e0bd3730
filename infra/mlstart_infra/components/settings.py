"""The stack's settings: every value the program reads from ``Pulumi.<stack>.yaml``, typed once.

The values come from the answers given to mlstart (``copier.yml`` declares each question's
default, and nothing here repeats it): a key the stack config must set is required, so a
missing one stops the program with one line naming every missing key instead of a silent
fallback. Keys that no question sets (the serving image CI builds, an Entra ID client id, a
webhook) are optional and say so.

Pure standard library: mlstart's offline checks and the tests read the same settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .idle_agent import MAX_MINUTES, MIN_MINUTES

#: Config keys (without the project namespace) the program reads, by section.
COMMON_KEYS = (
    "owner",
    "decommissionBy",
    "budgetAmount",
    "notificationEmail",
    "nameSuffix",
    "gpuWorkstation",
    "trainingCluster",
    "serving",
    "dataVersioning",
    "ciProvider",
)
#: Keys every workstation kind reads.
WORKSTATION_KEYS = (
    "workstationKind",
    "vmSize",
    "shutdownTime",
    "timeZone",
    "idleShutdownMinutes",
)
#: Keys only the VM workstation reads (the compute instance has no SSH and no public IP).
VM_WORKSTATION_KEYS = (
    "shutdownNoticeMinutes",
    "sshPublicKey",
    "publicIp",
)
#: ``workstationKind`` values: a VM with a DevTest Labs schedule, or an Azure ML compute
#: instance stopped by its own schedule and idle shutdown.
WORKSTATION_KINDS = ("vm", "compute-instance")
#: Keys the stack sets when idle shutdown is on (idleShutdownMinutes is not 0).
IDLE_KEYS = ("idleCpuPercent", "idleGpuPercent")
CLUSTER_KEYS = (
    "clusterName",
    "clusterVmSize",
    "clusterMaxNodes",
    "clusterLowPriority",
    "clusterIdleMinutes",
)
SERVING_CHOICES = ("container-apps", "aml-endpoint", "none")
#: ``ciProvider`` values: the CI service whose runs log in as the stack's CI identity.
CI_PROVIDERS = ("github", "azure-devops", "none")
#: ``ciRepository``: GitHub's ``owner/repository``, or Azure DevOps' ``organization/project``
#: (GitHub: owner 1-39 letters, digits, hyphens; repository 1-100 letters, digits, ``.-_``).
CI_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
#: Idle minutes the idle-shutdown agent accepts, and the range of its percentages.
IDLE_MINUTES = (MIN_MINUTES, MAX_MINUTES)
PERCENT = (1, 100)
_SUFFIX = re.compile(r"^[a-z0-9]{6}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


class SettingsError(ValueError):
    """The stack config is missing a key or holds a value the program cannot use."""


@dataclass(frozen=True)
class Settings:
    """What the stack config says, typed.

    Attributes:
        project: The Pulumi project name (the project's slug).
        stack: The stack name, e.g. ``dev``.
        location: The Azure region (``azure-native:location``).
        environment: The ``environment`` tag (the stack name unless set).
        owner: Owner tag.
        decommission_by: ISO date by which everything is removed.
        budget_amount: Monthly budget.
        notification_email: Who gets budget alerts and shutdown notices.
        name_suffix: Suffix that keeps globally and regionally unique names unique.
        data_versioning: ``manifest`` or ``dvc`` (dvc adds a private blob container).
        gpu_workstation: Whether to create the workstation.
        workstation_kind: ``vm`` or ``compute-instance`` (see :data:`WORKSTATION_KINDS`).
        vm_size: Workstation VM size.
        shutdown_time: Daily shutdown, ``HH:MM``.
        time_zone: Windows time-zone id of the schedule.
        idle_shutdown_minutes: Idle minutes before the workstation stops itself (0: never):
            the VM's agent deallocates it, a compute instance uses Azure's idle shutdown.
        idle_cpu_percent: Average CPU utilization below which the VM is idle (agent).
        idle_gpu_percent: GPU utilization below which the VM is idle (agent).
        shutdown_notice_minutes: Minutes of notice before the shutdown (VM).
        ssh_public_key: The workstation's OpenSSH public key text, or a legacy path (VM).
        public_ip: Whether the workstation gets a public IP (VM).
        ssh_allowed_cidr: The one range allowed SSH when ``public_ip`` (VM).
        instance_user_object_id: The Entra ID object id of the person the compute instance
            is assigned to; None assigns it to whoever runs ``pulumi up``.
        notification_webhook_url: Optional webhook for the shutdown notice.
        training_cluster: Whether to create the training cluster.
        cluster_name: The cluster's name (``aml/train-job.yml`` runs on it).
        cluster_vm_size: Node size.
        cluster_max_nodes: Most nodes.
        cluster_low_priority: Low-priority nodes.
        cluster_idle_minutes: Idle minutes before nodes are released.
        serving: ``container-apps``, ``aml-endpoint`` or ``none``.
        serving_image: The model's image, once CI has built one (Container Apps).
        serving_aad_client_id: Entra ID app that callers get tokens for (Container Apps).
        endpoint_name: The online endpoint's name (``aml-endpoint``); the deployment spec
            ``aml/online-deployment.yml`` names the same endpoint.
        ci_provider: ``github``, ``azure-devops`` or ``none`` (no CI identity).
        ci_repository: GitHub ``owner/repository`` or Azure DevOps ``organization/project``
            whose runs the CI identity trusts (set unless ``ci_provider`` is ``none``).
        ado_organization_id: The Azure DevOps organization's id (a GUID), which the
            issuer of its workload identity federation names; None until the user sets it.
        ado_issuer: The issuer an Azure DevOps service connection shows, set with
            ``ado_subject`` where it is not the Azure DevOps issuer (Microsoft Entra's).
        ado_subject: The subject identifier that service connection shows.
        stack_in_names: Whether the stack's name joins its unique Azure names (every
            environment but the first, ``stackInNames``; see ``naming.project_names``).
        serving_min_replicas: Replicas serving keeps running (``servingMinReplicas``; unset
            is 0, scale to zero; production stacks set 1).
        model_registry: The Azure ML registry this stack creates and owns
            (``modelRegistry``: the stack of the second environment), or None.
    """

    project: str
    stack: str
    location: str
    environment: str
    owner: str
    decommission_by: str
    budget_amount: float
    notification_email: str
    name_suffix: str
    data_versioning: str
    gpu_workstation: bool
    training_cluster: bool
    serving: str
    workstation_kind: str = ""
    vm_size: str = ""
    shutdown_time: str = ""
    time_zone: str = ""
    idle_shutdown_minutes: int = 0
    shutdown_notice_minutes: int = 0
    ssh_public_key: str = ""
    public_ip: bool = False
    idle_cpu_percent: int = 0
    idle_gpu_percent: int = 0
    ssh_allowed_cidr: str | None = None
    notification_webhook_url: str | None = None
    instance_user_object_id: str | None = None
    cluster_name: str = ""
    cluster_vm_size: str = ""
    cluster_max_nodes: int = 0
    cluster_low_priority: bool = False
    cluster_idle_minutes: int = 0
    serving_image: str | None = None
    serving_aad_client_id: str | None = None
    endpoint_name: str | None = None
    ci_provider: str = "none"
    ci_repository: str | None = None
    ado_organization_id: str | None = None
    ado_issuer: str | None = None
    ado_subject: str | None = None
    stack_in_names: bool = False
    serving_min_replicas: int = 0
    model_registry: str | None = None


#: Reads one config key (no namespace) and returns its string value, or None when unset.
Getter = Callable[[str], "str | None"]


def settings_from(get: Getter, *, project: str, stack: str, location: str | None) -> Settings:
    """Build :class:`Settings` from a config getter.

    Args:
        get: Returns the string value of a key of the project's namespace, or None.
        project: The Pulumi project name.
        stack: The stack name.
        location: ``azure-native:location``.

    Raises:
        SettingsError: One line naming every missing key, or the first bad value.
    """
    wanted = list(COMMON_KEYS)
    if _flag(get, "gpuWorkstation"):
        wanted += WORKSTATION_KEYS
        if _text(get, "workstationKind") == "vm":
            wanted += VM_WORKSTATION_KEYS
            if _flag(get, "publicIp"):
                wanted.append("sshAllowedCidr")
            if _text(get, "idleShutdownMinutes") not in ("", "0"):
                wanted += IDLE_KEYS
    if _flag(get, "trainingCluster"):
        wanted += CLUSTER_KEYS
    if _text(get, "serving") == "aml-endpoint":
        wanted.append("endpointName")
    if _text(get, "ciProvider") not in ("", "none"):
        wanted.append("ciRepository")
    missing = [key for key in wanted if not (get(key) or "").strip()]
    if not location:
        missing.insert(0, "azure-native:location")
    if missing == ["sshPublicKey"]:
        raise SettingsError(
            f"sshPublicKey is empty in infra/Pulumi.{stack}.yaml: put your public key's text "
            f'there ({project}:sshPublicKey: "ssh-ed25519 AAAA..."), or, with the Pulumi CLI, '
            'run in infra/: pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"'
        )
    if missing:
        raise SettingsError(
            f"infra/Pulumi.{stack}.yaml does not set {', '.join(missing)}: add each under "
            "config: (or run `pulumi config set KEY VALUE` in infra/)"
        )
    values: dict[str, Any] = {
        "project": project,
        "stack": stack,
        "location": str(location),
        "environment": (get("environment") or stack).strip(),
        "owner": _text(get, "owner"),
        "decommission_by": _text(get, "decommissionBy"),
        "budget_amount": _positive_number(get, "budgetAmount"),
        "notification_email": _text(get, "notificationEmail"),
        "name_suffix": _suffix(get),
        "data_versioning": _choice(get, "dataVersioning", ("manifest", "dvc")),
        "gpu_workstation": _flag(get, "gpuWorkstation"),
        "training_cluster": _flag(get, "trainingCluster"),
        "serving": _choice(get, "serving", SERVING_CHOICES),
        "notification_webhook_url": _optional(get, "notificationWebhookUrl"),
        "serving_image": _optional(get, "servingImage"),
        "serving_aad_client_id": _optional(get, "servingAadClientId"),
        "endpoint_name": _optional(get, "endpointName"),
        "ci_provider": _choice(get, "ciProvider", CI_PROVIDERS),
        # Keys that only some environments' stack configs set (see copier.yml's
        # `environments`); unset, they keep what a single-stack project always had.
        "stack_in_names": _flag(get, "stackInNames"),
        "serving_min_replicas": _min_replicas(get),
        "model_registry": _optional(get, "modelRegistry"),
    }
    if values["ci_provider"] != "none":
        values["ci_repository"] = _repository(get)
    if values["ci_provider"] == "azure-devops":
        values["ado_organization_id"] = _object_id(
            get, "adoOrganizationId", "an Azure DevOps organization id"
        )
        values["ado_issuer"] = _optional(get, "adoIssuer")
        values["ado_subject"] = _optional(get, "adoSubject")
        if bool(values["ado_issuer"]) != bool(values["ado_subject"]):
            raise SettingsError(
                "adoIssuer and adoSubject go together: set both to what the Azure DevOps "
                "service connection shows, or neither"
            )
        if values["ado_issuer"] and not values["ado_issuer"].startswith("https://"):
            raise SettingsError(f"adoIssuer must be an https:// URL, not {values['ado_issuer']!r}")
    if values["gpu_workstation"]:
        values.update(
            workstation_kind=_choice(get, "workstationKind", WORKSTATION_KINDS),
            vm_size=_text(get, "vmSize"),
            shutdown_time=_text(get, "shutdownTime"),
            time_zone=_text(get, "timeZone"),
            idle_shutdown_minutes=_bounded(get, "idleShutdownMinutes", IDLE_MINUTES, off=0),
        )
    if values.get("workstation_kind") == "vm":
        values.update(
            shutdown_notice_minutes=_whole_number(get, "shutdownNoticeMinutes"),
            ssh_public_key=_text(get, "sshPublicKey"),
            public_ip=_flag(get, "publicIp"),
            ssh_allowed_cidr=_optional(get, "sshAllowedCidr"),
        )
        if values["idle_shutdown_minutes"]:
            values.update(
                idle_cpu_percent=_bounded(get, "idleCpuPercent", PERCENT),
                idle_gpu_percent=_bounded(get, "idleGpuPercent", PERCENT),
            )
    elif values.get("workstation_kind") == "compute-instance":
        values["instance_user_object_id"] = _object_id(get, "instanceUserObjectId")
    if values["training_cluster"]:
        values.update(
            cluster_name=_text(get, "clusterName"),
            cluster_vm_size=_text(get, "clusterVmSize"),
            cluster_max_nodes=_whole_number(get, "clusterMaxNodes"),
            cluster_low_priority=_flag(get, "clusterLowPriority"),
            cluster_idle_minutes=_whole_number(get, "clusterIdleMinutes"),
        )
    return Settings(**values)


def load_settings() -> Settings:
    """The settings of the stack the Pulumi program runs for (``pulumi up``/preview/mocks).

    Raises:
        SettingsError: If the stack config is incomplete or a value is unusable.
    """
    import pulumi

    config = pulumi.Config()
    return settings_from(
        config.get,
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        location=pulumi.Config("azure-native").get("location"),
    )


def _text(get: Getter, key: str) -> str:
    return (get(key) or "").strip()


def _optional(get: Getter, key: str) -> str | None:
    return _text(get, key) or None


def _flag(get: Getter, key: str) -> bool:
    value = _text(get, key).lower()
    if value in _TRUE:
        return True
    if value in _FALSE or not value:
        return False
    raise SettingsError(f"{key} must be true or false, not {value!r}")


def _whole_number(get: Getter, key: str) -> int:
    value = _text(get, key)
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, not {value!r}") from None


def _bounded(get: Getter, key: str, bounds: tuple[int, int], *, off: int | None = None) -> int:
    value = _whole_number(get, key)
    low, high = bounds
    if value != off and not low <= value <= high:
        also = f", or {off} to turn it off" if off is not None else ""
        raise SettingsError(f"{key} must be {low}-{high}{also}, not {value}")
    return value


def _positive_number(get: Getter, key: str) -> float:
    value = _text(get, key)
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{key} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise SettingsError(f"{key} must be a finite number greater than 0, not {value!r}")
    return number


def _choice(get: Getter, key: str, choices: tuple[str, ...]) -> str:
    value = _text(get, key)
    if value not in choices:
        raise SettingsError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _object_id(get: Getter, key: str, what: str = "an Entra ID object id") -> str | None:
    value = _optional(get, key)
    if value is not None and not _GUID.match(value):
        raise SettingsError(
            f"{key} must be {what} (a GUID like "
            f"00000000-0000-0000-0000-000000000000), not {value!r}"
        )
    return value


def _repository(get: Getter) -> str:
    value = _text(get, "ciRepository")
    if not CI_REPOSITORY.match(value):
        raise SettingsError(
            "ciRepository must be owner/repository (GitHub) or organization/project "
            f"(Azure DevOps), e.g. contoso/credit-risk, not {value!r}"
        )
    return value


#: The most replicas serving may be told to keep running (Container Apps allows 0-1000:
#: https://learn.microsoft.com/en-us/azure/container-apps/scale-app#scale-definition).
MAX_MIN_REPLICAS = 1000


def _min_replicas(get: Getter) -> int:
    if not _text(get, "servingMinReplicas"):
        return 0
    value = _whole_number(get, "servingMinReplicas")
    if not 0 <= value <= MAX_MIN_REPLICAS:
        raise SettingsError(f"servingMinReplicas must be 0-{MAX_MIN_REPLICAS}, not {value}")
    return value


def _suffix(get: Getter) -> str:
    value = _text(get, "nameSuffix")
    if not _SUFFIX.match(value):
        raise SettingsError(f"nameSuffix must be 6 lower-case letters or digits, not {value!r}")
    return value
