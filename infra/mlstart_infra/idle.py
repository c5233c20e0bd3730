"""Idle shutdown as the plan shows it: per VM, the agent, its identity and its role.

Read from the planned graph only (type tokens and inputs), so it judges any program: for each
VM, whether it opts out explicitly (tag ``idle-shutdown: off``) or runs the idle-shutdown
agent, and then whether its custom data installs the agent and a role assignment lets its
own identity read and deallocate that VM and nothing more. The policy MLS-COST-012 and
``mlstart plan``'s "Idle shutdown" section both use :func:`idle_shutdown_of`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mlstart_infra.components.catalog import ROLE_ASSIGNMENT, ROLE_DEFINITION, VM
from mlstart_infra.components.idle_agent import (
    CPU_TAG,
    GPU_TAG,
    MAX_MINUTES,
    MIN_MINUTES,
    MINUTES_TAG,
    OFF,
)
from mlstart_infra.components.idle_shutdown import (
    CLOUD_CONFIG_HEADER,
    DEALLOCATE_ACTION,
    ENABLE_TIMER,
    INSTALLED_FILES,
    ROLE_ACTIONS,
    resource_group_id,
)
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph, dig

Mode = Literal["agent", "off", "missing"]


@dataclass(frozen=True)
class IdleShutdownView:
    """Idle shutdown of one VM, as planned.

    Attributes:
        vm: The VM's Azure name.
        mode: ``agent`` (tagged with minutes), ``off`` (the explicit opt-out) or ``missing``.
        minutes: The ``idle-shutdown`` tag's value (e.g. ``60m``), or None.
        cpu_percent: The CPU threshold tag's value, or None.
        gpu_percent: The GPU threshold tag's value, or None.
        identity: The VM's identity type, e.g. ``SystemAssigned``.
        role: The custom role's name, as planned (None without one).
        actions: What that role allows.
        scope: Where the role is assigned (the VM's id when right).
        problems: Why the VM fails MLS-COST-012; empty when it passes.
    """

    vm: str
    mode: Mode
    minutes: str | None = None
    cpu_percent: str | None = None
    gpu_percent: str | None = None
    identity: str | None = None
    role: str | None = None
    actions: tuple[str, ...] = ()
    scope: str | None = None
    problems: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "vm": self.vm,
            "mode": self.mode,
            "minutes": self.minutes,
            "cpu_percent": self.cpu_percent,
            "gpu_percent": self.gpu_percent,
            "identity": self.identity,
            "role": self.role,
            "actions": list(self.actions),
            "scope": self.scope,
            "problems": list(self.problems),
        }


def idle_shutdown_of(graph: ResourceGraph) -> list[IdleShutdownView]:
    """Idle shutdown of every VM in the plan, in the graph's order."""
    return [_view(vm, graph) for vm in graph.of_type(VM)]


def agent_problem(custom_data: Any) -> str | None:
    """Why a VM's custom data does not install the idle-shutdown agent (None when it does).

    The custom data must be base64 of a ``#cloud-config`` whose ``write_files`` writes the
    agent, its configuration and its systemd units, and whose ``runcmd`` enables the timer.
    """
    if not isinstance(custom_data, str) or not custom_data.strip():
        return "no custom data installs the idle-shutdown agent"
    try:
        text = base64.b64decode(custom_data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "the custom data is not base64 of UTF-8 text"
    if not text.startswith(CLOUD_CONFIG_HEADER):
        return (
            f"the custom data is not a cloud-config (its first line is not {CLOUD_CONFIG_HEADER})"
        )
    import yaml

    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return "the custom data's cloud-config is not valid YAML"
    if not isinstance(config, Mapping):
        return "the custom data's cloud-config is not a mapping"
    written = {
        str(item.get("path"))
        for item in config.get("write_files") or []
        if isinstance(item, Mapping) and item.get("content")
    }
    missing = [path for path in INSTALLED_FILES if path not in written]
    if missing:
        return f"the cloud-config does not write {', '.join(missing)}"
    commands = [
        list(c) if isinstance(c, list) else str(c).split() for c in config.get("runcmd") or []
    ]
    if ENABLE_TIMER not in commands:
        return f"the cloud-config does not run `{' '.join(ENABLE_TIMER)}`"
    return None


def _view(vm: PlannedResource, graph: ResourceGraph) -> IdleShutdownView:
    tags = {str(k).lower(): str(v) for k, v in (vm.get("tags", {}) or {}).items()}
    minutes = tags.get(MINUTES_TAG)
    identity = vm.get("identity.type")
    common: dict[str, Any] = {
        "vm": vm.azure_name,
        "minutes": minutes,
        "cpu_percent": tags.get(CPU_TAG),
        "gpu_percent": tags.get(GPU_TAG),
        "identity": str(identity) if identity else None,
    }
    if minutes is not None and minutes.strip().lower() == OFF:
        return IdleShutdownView(mode="off", **common)
    agent = agent_problem(vm.get("osProfile.customData"))
    if minutes is None and agent:
        problem = f"neither the idle-shutdown agent nor the opt-out tag {MINUTES_TAG}: {OFF}"
        return IdleShutdownView(mode="missing", problems=(problem,), **common)
    problems: list[str] = []
    if minutes is None:
        problems.append(
            f"the agent reads its idle minutes from the tag {MINUTES_TAG}: it is missing"
        )
    elif not _minutes_ok(minutes):
        problems.append(
            f"tag {MINUTES_TAG} is {minutes!r}: use minutes like '60m' "
            f"({MIN_MINUTES}-{MAX_MINUTES}) or '{OFF}'"
        )
    if agent:
        problems.append(agent)
    if "SystemAssigned" not in str(identity or ""):
        problems.append("the VM has no system-assigned identity for the agent to sign in with")
    role, actions, scope, grant = _grant(vm, graph)
    problems += grant
    return IdleShutdownView(
        mode="agent",
        role=role,
        actions=actions,
        scope=scope,
        problems=tuple(problems),
        **common,
    )


def _minutes_ok(value: str) -> bool:
    number = value.strip().lower().removesuffix("m")
    return number.isdigit() and MIN_MINUTES <= int(number) <= MAX_MINUTES


def _grant(
    vm: PlannedResource, graph: ResourceGraph
) -> tuple[str | None, tuple[str, ...], str | None, list[str]]:
    """The role assignment that lets the VM's identity deallocate it, and what is wrong.

    Candidates are the assignments whose principal is read from this VM (they depend on
    it) or whose scope is the VM; the first one with no problem wins.
    """
    vm_id = (vm.id or "").lower()
    candidates = [
        a
        for a in graph.of_type(ROLE_ASSIGNMENT)
        if vm.urn in a.dependencies or str(a.get("scope", "")).lower() == vm_id
    ]
    if not candidates:
        return None, (), None, ["no role assignment lets the VM's identity deallocate it"]
    judged = [_judge(a, vm, graph) for a in candidates]
    judged.sort(key=lambda j: len(j[3]))
    return judged[0]


def _judge(
    assignment: PlannedResource, vm: PlannedResource, graph: ResourceGraph
) -> tuple[str | None, tuple[str, ...], str | None, list[str]]:
    problems = []
    scope = str(assignment.get("scope", ""))
    if scope.lower() != (vm.id or "").lower():
        problems.append(
            f"the deallocate role is assigned at {scope or 'no scope'}, not at the VM itself "
            "(it could stop other VMs)"
        )
    if vm.urn not in assignment.dependencies:
        problems.append("the deallocate role is not assigned to the VM's own identity")
    if str(assignment.get("principalType", "ServicePrincipal")) != "ServicePrincipal":
        problems.append("the deallocate role's principal type is not ServicePrincipal")
    wanted = str(assignment.get("roleDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1].lower()
    definition = next(
        (d for d in graph.of_type(ROLE_DEFINITION) if d.azure_name.lower() == wanted), None
    )
    if definition is None:
        problems.append(
            "the assigned role is not a custom role in this plan that allows only "
            "reading and deallocating the VM"
        )
        return None, (), scope or None, problems
    actions, extra = _actions(definition)
    if DEALLOCATE_ACTION not in actions:
        problems.append(f"role {_role_name(definition)!r} does not allow {DEALLOCATE_ACTION}")
    if extra:
        problems.append(
            f"role {_role_name(definition)!r} allows more than reading and deallocating the "
            f"VM: {', '.join(extra)}"
        )
    group = _group_id(vm)
    for assignable in definition.get("assignableScopes", []) or []:
        text = str(assignable).lower()
        if group is None or not (text == group or text.startswith(group + "/")):
            problems.append(
                f"role {_role_name(definition)!r} can be assigned at {assignable}, beyond the "
                "VM's resource group"
            )
    return _role_name(definition), actions, scope or None, problems


def _actions(definition: PlannedResource) -> tuple[tuple[str, ...], list[str]]:
    """Every action the role allows, and those beyond read and deallocate."""
    allowed = {a.lower() for a in ROLE_ACTIONS}
    actions: list[str] = []
    extra: list[str] = []
    for permission in definition.get("permissions", []) or []:
        for action in dig(permission, "actions", []) or []:
            actions.append(str(action))
            if str(action).lower() not in allowed:
                extra.append(str(action))
        extra += [f"data action {a}" for a in dig(permission, "dataActions", []) or []]
    return tuple(actions), extra


def _role_name(definition: PlannedResource) -> str:
    return str(definition.get("roleName") or definition.azure_name)


def _group_id(vm: PlannedResource) -> str | None:
    try:
        return resource_group_id(vm.id or "").lower()
    except ValueError:
        return None
