"""Conformance: every planned resource checked against Azure's published constraints.

The mocks accept any value, so a plan can hold names, enum values and references that Azure
would refuse. This stage, separate from the policies (which judge choices), finds them:

- AZ-NAME: names that break the type's naming rule (:mod:`components.naming`).
- AZ-ENUM: enum-typed inputs whose value is not one of the enum's values, found by reading
  the parameter annotations pulumi-azure-native ships (not a hand-written list).
- AZ-REQ: properties Azure requires beyond what the SDK enforces (a small cited table).
- AZ-REF: resource ids and names that point at nothing in the plan (or in ``existing``).
- AZ-ORDER: references to what only exists after the first ``pulumi up`` (a registered
  model, an image in a registry the same plan creates, which starts empty).
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
import sys
import typing
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from mlstart_infra.components.catalog import (
    AUTH_CONFIG,
    BLOB_CONTAINER,
    BLOB_SERVICE,
    CONTAINER_APP,
    DEPLOYMENT,
    DISK,
    ENDPOINT,
    ML_COMPUTE,
    ML_MODEL_CONTAINER,
    ML_MODEL_VERSION,
    ML_WORKSPACE,
    NSG,
    NSG_RULE,
    REGISTRY,
    RESOURCE_GROUP,
    SCHEDULE,
    STORAGE,
    SUBNET,
    VM,
    VM_EXTENSION,
    VNET,
    short_type,
)
from mlstart_infra.components.naming import NAME_RULES_URL, SHUTDOWN_PREFIX, name_problem
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph

_PULUMI_SDK = "pulumi-azure-native (enum types of the resource's module)"
_ML_DEPLOY = "https://learn.microsoft.com/en-us/azure/machine-learning/concept-endpoints-online"
_ACR_INTRO = "https://learn.microsoft.com/en-us/azure/container-registry/container-registry-intro"
_ARM_IDS = (
    "https://learn.microsoft.com/en-us/azure/azure-resource-manager/templates/"
    "template-functions-resource#resourceid"
)

#: Every check: (id, title, source).
CHECKS: tuple[tuple[str, str, str], ...] = (
    ("AZ-NAME", "Names meet the type's Azure naming rule", NAME_RULES_URL),
    ("AZ-ENUM", "Enum-typed inputs hold one of the enum's values", _PULUMI_SDK),
    ("AZ-REQ", "Properties Azure requires beyond the SDK are set", "see each finding"),
    ("AZ-REF", "Resource ids and names refer to resources that exist", _ARM_IDS),
    ("AZ-ORDER", "Nothing refers to what exists only after the first `pulumi up`", _ML_DEPLOY),
)


@dataclass(frozen=True)
class ConformanceFinding:
    """One way a planned resource breaks Azure's published constraints.

    Attributes:
        id: The check, e.g. ``AZ-NAME``.
        resource: The resource's Azure name.
        type: The resource's type token.
        message: What is wrong, in one line.
        fix: How to fix it, in one line.
        source: Where the constraint is published.
    """

    id: str
    resource: str
    type: str
    message: str
    fix: str
    source: str


def check(graph: ResourceGraph, *, existing: Collection[str] = ()) -> list[ConformanceFinding]:
    """Check every cloud resource in ``graph`` against Azure's published constraints.

    Args:
        graph: The planned resources.
        existing: Resource ids (or names) that exist outside this plan; ids under them and
            names equal to them (or to their last segment) count as resolved.

    Returns:
        The findings, in resource order; empty when everything conforms.
    """
    context = _Context(graph, existing)
    findings: list[ConformanceFinding] = []
    for resource in graph.cloud_resources:
        # What another owner creates (the deploy workflow's online deployment) is shown and
        # priced with the plan, but its spec is that owner's: only its name is judged here.
        checks = (_names, _enums, _required, _references, _order)
        for check_one in checks if resource.owner == "pulumi" else (_names,):
            findings.extend(check_one(resource, context))
    return findings


# ---------------------------------------------------------------- context


class _Context:
    """The graph, indexed for lookups by id, name and type."""

    def __init__(self, graph: ResourceGraph, existing: Collection[str]) -> None:
        self.graph = graph
        self.ids = {r.id.lower(): r for r in graph.cloud_resources if r.id}
        self.names: dict[str, set[str]] = {}
        for r in graph.cloud_resources:
            self.names.setdefault(r.type, set()).add(r.azure_name.lower())
        self.existing = [e.lower().rstrip("/") for e in existing]
        self.login_servers = {f"{name}.azurecr.io" for name in self.names.get(REGISTRY, set())}
        self.models = {
            (str(r.get("name", "")).lower(), str(r.get("version", "")).lower())
            for r in graph.of_type(ML_MODEL_VERSION)
        } | {(r.azure_name.lower(), "") for r in graph.of_type(ML_MODEL_CONTAINER)}

    def id_resolves(self, value: str) -> bool:
        wanted = value.lower().rstrip("/")
        if wanted in self.ids or _builtin_id(wanted):
            return True
        under = (i for i, r in self.ids.items() if r.type != RESOURCE_GROUP)
        if any(wanted.startswith(i + "/") for i in under):
            return True  # a child of a planned resource (e.g. an inline subnet)
        return any(wanted == e or wanted.startswith(e + "/") for e in self.existing)

    def name_resolves(self, target_type: str, name: str) -> bool:
        wanted = name.lower()
        if wanted in self.names.get(target_type, set()):
            return True
        return any(wanted in (e, e.rsplit("/", 1)[-1]) for e in self.existing)

    def model_created(self, name: str, version: str) -> bool:
        key = (name.lower(), version.lower())
        return key in self.models or ((name.lower(), "") in self.models and not version)


def _builtin_id(resource_id: str) -> bool:
    """Ids that exist without being created: subscriptions, role definitions, /providers/…."""
    if resource_id.startswith("/providers/"):
        return True
    role = r"(/providers/microsoft\.authorization/roledefinitions/[^/]+)?"
    return re.fullmatch(r"/subscriptions/[^/]+" + role, resource_id) is not None


def _finding(
    check_id: str, resource: PlannedResource, message: str, fix: str, source: str
) -> ConformanceFinding:
    return ConformanceFinding(check_id, resource.azure_name, resource.type, message, fix, source)


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested input, with its dotted path (list items as ``[i]``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


# ---------------------------------------------------------------- AZ-NAME


def _names(resource: PlannedResource, context: _Context) -> list[ConformanceFinding]:
    from mlstart_infra.components.naming import RULES

    found = []
    named = [(resource.type, resource.azure_name, "")]
    disk = resource.get("storageProfile.osDisk.name")
    if resource.type == VM and isinstance(disk, str):
        named.append((DISK, disk, "OS disk "))
    for type_token, name, what in named:
        problem = name_problem(type_token, name)
        if problem:
            rule = RULES[type_token]
            found.append(
                _finding(
                    "AZ-NAME",
                    resource,
                    f"{what}{problem}",
                    f"rename it ({rule.min_length}-{rule.max_length} characters; see the rule)",
                    rule.source,
                )
            )
    if resource.type == SCHEDULE:
        target = context.graph.by_id(resource.get("targetResourceId"))
        if target is not None and target.type == VM:
            expected = SHUTDOWN_PREFIX + target.azure_name
            if resource.azure_name.lower() != expected.lower():
                found.append(
                    _finding(
                        "AZ-NAME",
                        resource,
                        f"the auto-shutdown schedule of VM {target.azure_name!r} must be "
                        f"named {expected!r}",
                        f"name it {expected!r}",
                        RULES[SCHEDULE].source,
                    )
                )
    return found


# ---------------------------------------------------------------- AZ-ENUM

#: Enum types whose values are not a complete list of what Azure accepts, with the reason.
ENUM_EXEMPTIONS: Mapping[str, str] = {
    # Microsoft: "The enum data type is currently deprecated and will be removed by December
    # 23rd 2023" — newer sizes (e.g. Standard_NC4as_T4_v3) are missing from it.
    "VirtualMachineSizeTypes": "https://learn.microsoft.com/en-us/rest/api/compute/"
    "virtual-machines/create-or-update#virtualmachinesizetypes",
}


def _enums(resource: PlannedResource, context: _Context) -> list[ConformanceFinding]:
    fields = _resource_fields(resource.type)
    found = []
    for key, value in resource.inputs.items():
        annotation = fields.get(key)
        if annotation is None:
            continue
        for path, bad, enum_type in _enum_problems(value, annotation, key):
            allowed = ", ".join(str(m.value) for m in enum_type)
            found.append(
                _finding(
                    "AZ-ENUM",
                    resource,
                    f"{path} is {bad!r}, not one of {enum_type.__name__}'s values",
                    f"use one of: {allowed}"[:300],
                    f"pulumi_azure_native.{resource.module}.{enum_type.__name__}",
                )
            )
    return found


def _enum_problems(value: Any, annotation: Any, path: str) -> list[tuple[str, str, Any]]:
    enums, input_types = _leaves(annotation)
    if isinstance(value, str):
        checked = [e for e in enums if e.__name__ not in ENUM_EXEMPTIONS]
        if checked and not any(value in {m.value for m in e} for e in checked):
            return [(path, value, checked[0])]
        return []
    if isinstance(value, Mapping):
        candidates = [_input_fields(c) for c in input_types]
        fitting = [c for c in candidates if c and set(value) <= set(c)]
        results = [
            [p for k, v in value.items() for p in _enum_problems(v, fields[k], f"{path}.{k}")]
            for fields in fitting
        ]
        return min(results, key=len) if results else []
    if isinstance(value, Sequence):
        items = (_enum_problems(v, annotation, f"{path}[{i}]") for i, v in enumerate(value))
        return [problem for item in items for problem in item]
    return []


@cache
def _resource_fields(type_token: str) -> Mapping[str, Any]:
    """CamelCase input -> annotation, read from the resource class's ``_internal_init``."""
    cls = _sdk_class(type_token)
    if cls is None:
        return {}
    init = getattr(cls, "_internal_init", None) or cls
    params = inspect.signature(init).parameters.values()
    skip = {"__self__", "self", "resource_name", "opts", "__props__"}
    return {_camel(p.name): _Annotation(p.annotation, cls) for p in params if p.name not in skip}


@cache
def _input_fields(cls: type) -> Mapping[str, Any]:
    """CamelCase key -> annotation of an ``*Args`` input type (names from its getters)."""
    params = inspect.signature(cls).parameters
    fields = {}
    for attr, member in vars(cls).items():
        getter = getattr(member, "fget", None)
        if attr in params and getter is not None:
            key = getattr(getter, "_pulumi_name", None) or _camel(attr)
            fields[key] = _Annotation(params[attr].annotation, cls)
    return fields


@dataclass(frozen=True)
class _Annotation:
    """A parameter annotation and the class whose module resolves its forward references."""

    hint: Any
    owner: type


@cache
def _leaves(annotation: Any) -> tuple[tuple[Any, ...], tuple[type, ...]]:
    """The enum types and input types an annotation names, anywhere inside it."""
    if not isinstance(annotation, _Annotation):
        return (), ()
    namespace = vars(sys.modules[annotation.owner.__module__])
    enums: list[Any] = []
    inputs: list[type] = []
    pending = [annotation.hint]
    while pending:
        hint = pending.pop()
        if isinstance(hint, typing.ForwardRef):
            hint = namespace.get(hint.__forward_arg__)
        elif isinstance(hint, str):
            hint = namespace.get(hint)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            enums.append(hint)
        elif isinstance(hint, type) and hasattr(hint, "_pulumi_input_type"):
            inputs.append(hint)
        else:
            pending.extend(typing.get_args(hint))
    return tuple(dict.fromkeys(enums)), tuple(dict.fromkeys(inputs))


def _sdk_class(type_token: str) -> type | None:
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    try:
        module = importlib.import_module(f"pulumi_azure_native.{parts[1]}")
        cls = getattr(module, parts[2], None)
    except ImportError:  # no pulumi here: enums cannot be read
        return None
    return cls if isinstance(cls, type) else None


def _camel(snake: str) -> str:
    head, *rest = snake.rstrip("_").split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


# ---------------------------------------------------------------- AZ-REQ


def _required(resource: PlannedResource, context: _Context) -> list[ConformanceFinding]:
    found = []
    for type_token, applies, paths, message, fix, source in _REQUIRED:
        if resource.type != type_token or not applies(resource):
            continue
        missing = [p for p in paths if not _present(resource, p)]
        if missing:
            found.append(
                _finding(
                    "AZ-REQ", resource, f"{message}: {', '.join(missing)} missing", fix, source
                )
            )
    return found


def _present(resource: PlannedResource, path: str) -> bool:
    if "|" in path:
        return any(_present(resource, p) for p in path.split("|"))
    if path == "osProfile.linuxConfiguration.ssh.publicKeys[].keyData":
        keys = resource.get("osProfile.linuxConfiguration.ssh.publicKeys") or []
        return any(isinstance(k, Mapping) and k.get("keyData") for k in keys)
    return resource.get(path) not in (None, "", [], {})


_REQUIRED: tuple[tuple[str, Any, tuple[str, ...], str, str, str], ...] = (
    (
        SCHEDULE,
        lambda r: r.get("taskType") == "ComputeVmShutdownTask",
        ("dailyRecurrence.time", "timeZoneId", "targetResourceId"),
        "a VM auto-shutdown schedule needs a daily time, a time zone and its VM",
        "set daily_recurrence=DayDetailsArgs(time='1900'), time_zone_id and target_resource_id",
        "https://learn.microsoft.com/en-us/azure/templates/microsoft.devtestlab/schedules",
    ),
    (
        VM,
        lambda r: r.get("osProfile.linuxConfiguration.disablePasswordAuthentication") is True,
        ("osProfile.linuxConfiguration.ssh.publicKeys[].keyData",),
        "a Linux VM without password login needs an SSH public key",
        "add ssh=SshConfigurationArgs(public_keys=[SshPublicKeyArgs(key_data=..., path=...)])",
        "https://learn.microsoft.com/en-us/azure/virtual-machines/linux/create-ssh-keys-detailed",
    ),
    (
        DEPLOYMENT,
        lambda r: True,
        ("properties.model|properties.environmentId",),
        "an online deployment needs a model or an environment (image) to serve",
        "set properties.model (MLflow model) or properties.environment_id with a scoring image",
        _ML_DEPLOY,
    ),
)


# ---------------------------------------------------------------- AZ-REF

#: (type, input) -> the type the named resource must have.
NAME_REFERENCES: Mapping[tuple[str, str], str] = {
    (ML_COMPUTE, "workspaceName"): ML_WORKSPACE,
    (ENDPOINT, "workspaceName"): ML_WORKSPACE,
    (DEPLOYMENT, "workspaceName"): ML_WORKSPACE,
    (DEPLOYMENT, "endpointName"): ENDPOINT,
    (BLOB_CONTAINER, "accountName"): STORAGE,
    (BLOB_SERVICE, "accountName"): STORAGE,
    (VM_EXTENSION, "vmName"): VM,
    (AUTH_CONFIG, "containerAppName"): CONTAINER_APP,
    (SUBNET, "virtualNetworkName"): VNET,
    (NSG_RULE, "networkSecurityGroupName"): NSG,
}


def _references(resource: PlannedResource, context: _Context) -> list[ConformanceFinding]:
    found = []
    for path, value in _strings(dict(resource.inputs)):
        last = path.rsplit(".", 1)[-1].split("[", 1)[0]
        is_id = value.lower().startswith(("/subscriptions/", "/providers/"))
        if is_id and _model_reference(last, value) is None and not context.id_resolves(value):
            found.append(
                _finding(
                    "AZ-REF",
                    resource,
                    f"{path} refers to {value!r}, which this plan does not create",
                    "refer to a planned resource's .id, or pass the id as existing",
                    _ARM_IDS,
                )
            )
    references = {k: t for (owner, k), t in NAME_REFERENCES.items() if owner == resource.type}
    if resource.type != RESOURCE_GROUP:
        references["resourceGroupName"] = RESOURCE_GROUP
    for key, target in references.items():
        named = resource.inputs.get(key)
        if isinstance(named, str) and not context.name_resolves(target, named):
            kind = short_type(target)
            found.append(
                _finding(
                    "AZ-REF",
                    resource,
                    f"{key} {named!r} names no {kind} in this plan",
                    f"pass the {kind}'s .name output, or list {named!r} as existing",
                    _ARM_IDS,
                )
            )
    return found


# ---------------------------------------------------------------- AZ-ORDER

_SHORT_MODEL = re.compile(r"azureml:(?!//)([^:@/]+)(?::([^:@/]+)|@[^:/]+)?", re.IGNORECASE)
_MODEL_PATH = re.compile(r"/models/([^/]+)(?:/versions/([^/]+))?/?$", re.IGNORECASE)


def _order(resource: PlannedResource, context: _Context) -> list[ConformanceFinding]:
    found = []
    for path, value in _strings(dict(resource.inputs)):
        last = path.rsplit(".", 1)[-1].split("[", 1)[0]
        model = _model_reference(last, value)
        if model is not None and not context.model_created(*model):
            found.append(
                _finding(
                    "AZ-ORDER",
                    resource,
                    f"{path} uses model {value!r}, which no resource in this plan creates "
                    "(it cannot exist on the first `pulumi up`)",
                    "register the model first (CI), or create it in the program (ModelVersion); "
                    "deploy it after the first `up`",
                    _ML_DEPLOY,
                )
            )
        host = value.split("/", 1)[0].lower()
        if last == "image" and "/" in value and host in context.login_servers:
            found.append(
                _finding(
                    "AZ-ORDER",
                    resource,
                    f"{path} pulls {value!r} from a registry this plan creates, which is empty "
                    "on the first `pulumi up`",
                    "start with a public placeholder; let CI push and deploy the model's image",
                    _ACR_INTRO,
                )
            )
    return found


def _model_reference(key: str, value: str) -> tuple[str, str] | None:
    """(name, version) of a workspace model the value refers to; None when it is none."""
    lowered = value.lower()
    if lowered.startswith("azureml://registries/"):
        return None  # a registry's model exists outside the workspace
    if lowered.startswith(("azureml://", "/subscriptions/")):
        match = _MODEL_PATH.search(value)
        return (match.group(1), match.group(2) or "") if match else None
    if key.lower() in ("model", "modelid"):
        short = _SHORT_MODEL.fullmatch(value)
        if short:
            return short.group(1), short.group(2) or ""
    return None
