"""What each compute resource of a stack runs now, and since when, read with the Azure CLI.

``mlstart status`` asks Azure, through ``az`` (documented JSON output), per resource:

- a VM: ``az vm get-instance-view`` gives its ``PowerState/<state>`` status
  (https://learn.microsoft.com/en-us/cli/azure/vm#az-vm-get-instance-view); whether a
  state bills follows https://learn.microsoft.com/en-us/azure/virtual-machines/states-billing
  (starting, running, stopping and stopped bill; deallocating and deallocated do not).
  Since when: ``az monitor activity-log list --resource-id ... --start-time <month start>``
  (https://learn.microsoft.com/en-us/cli/azure/monitor/activity-log#az-monitor-activity-log-list)
  lists this month's start, restart, power-off and deallocate operations
  (https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema);
- an Azure ML compute (``az resource show --ids``, the REST ``Compute - Get`` body,
  https://learn.microsoft.com/en-us/rest/api/azureml/compute/get): a compute instance's
  ``state`` and ``lastOperation`` (name and time of its last start or stop, whoever or
  whatever triggered it); a cluster's ``currentNodeCount`` and
  ``allocationStateTransitionTime``;
- an online deployment (``az resource show --ids``,
  https://learn.microsoft.com/en-us/rest/api/azureml/online-deployments/get): its
  ``sku.capacity`` instances, since ``systemData.lastModifiedAt``;
- a container app: ``az containerapp replica list``
  (https://learn.microsoft.com/en-us/cli/azure/containerapp/replica#az-containerapp-replica-list),
  each replica with its ``properties.createdTime``.

Parsing is separate from running ``az`` (an :data:`Az` callable), so it is tested on
fixed answers; any failure is one line, for one resource.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlstart_infra.components.catalog import (
    AML_CLUSTER,
    AML_INSTANCE,
    CONTAINER_APP,
    DEPLOYMENT,
    ML_COMPUTE,
    VM,
)
from mlstart_infra.month_cost import Timeline

from mlstart.core.stack import StackResource

#: Seconds one ``az`` call may take.
AZ_TIMEOUT_S = 60
#: The REST API version ``az resource show`` asks for Azure ML computes and deployments (GA;
#: it has a compute instance's state and lastOperation and a cluster's node counts).
ML_API_VERSION = "2024-04-01"
#: How many activity-log events are read for one VM's month (the CLI's default is 50).
MAX_EVENTS = 1000
#: VM power states that bill compute (states-billing page cited above).
BILLED_POWER_STATES = frozenset({"starting", "running", "stopping", "stopped"})
UNBILLED_POWER_STATES = frozenset({"deallocating", "deallocated"})
#: Activity-log operations on a VM and whether the VM bills after them.
VM_OPERATIONS = {
    "microsoft.compute/virtualmachines/start/action": 1.0,
    "microsoft.compute/virtualmachines/restart/action": 1.0,
    # Power off keeps the hardware allocated: Stopped (allocated) still bills.
    "microsoft.compute/virtualmachines/poweroff/action": 1.0,
    "microsoft.compute/virtualmachines/deallocate/action": 0.0,
}
#: Compute instance states (ComputeInstanceState in the REST reference) in which it does
#: not run; every other state (running, starting, job running, setting up...) bills.
INSTANCE_STOPPED_STATES = frozenset({"Stopped", "Stopping", "CreateFailed", "Deleting"})

#: Runs ``az`` with these arguments and returns its parsed JSON output.
Az = Callable[[Sequence[str]], Any]


class LiveStateError(Exception):
    """Azure's state of a resource could not be read; the message is one line."""


@dataclass(frozen=True)
class LiveState:
    """What a compute resource runs now and what is known of its month.

    Attributes:
        state: The state in words, e.g. ``running``, ``deallocated``, ``2 nodes``.
        timeline: Units running from each known change on (its last entry is now).
    """

    state: str
    timeline: Timeline

    @property
    def since(self) -> dt.datetime:
        """When the present state began, as far as known."""
        running = self.timeline.running
        since = self.timeline.changes[-1][0]
        for when, units in reversed(self.timeline.changes):
            if units != running:
                break
            since = when
        return since


def run_az(args: Sequence[str]) -> Any:
    """Run ``az ARGS --output json`` and return the parsed output.

    Raises:
        LiveStateError: If ``az`` is missing, fails, times out or answers no JSON.
    """
    az = shutil.which("az")
    if az is None:
        raise LiveStateError("az not found (install the Azure CLI: https://aka.ms/azcli)")
    command = [az, *args, "--output", "json"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=AZ_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise LiveStateError(f"`az {args[0]} {args[1]}` took over {AZ_TIMEOUT_S} s") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        why = lines[-1].removeprefix("ERROR: ") if lines else f"exit status {result.returncode}"
        raise LiveStateError(f"`az {' '.join(args[:2])}` failed: {why}")
    try:
        return json.loads(result.stdout or "null")
    except ValueError:
        raise LiveStateError(f"`az {' '.join(args[:2])}` did not answer JSON") from None


def read_live_state(
    resource: StackResource, now: dt.datetime, *, az: Az = run_az
) -> LiveState | None:
    """Ask Azure what ``resource`` runs now and since when.

    Args:
        resource: A compute resource from the stack's state (its ``id`` output is used).
        now: The current time (aware); the activity log is read from the month's start.
        az: Runs ``az`` (the real CLI by default).

    Returns:
        The live state, or None for a type that runs nothing by itself.

    Raises:
        LiveStateError: One line saying what could not be read.
    """
    resource_id = resource.id or str(resource.outputs.get("id") or "")
    if resource.type in (VM, ML_COMPUTE, DEPLOYMENT) and not resource_id:
        raise LiveStateError("the stack's state holds no Azure id for it")
    if resource.type == VM:
        view = az(["vm", "get-instance-view", "--ids", resource_id])
        state, units = vm_power(view)
        start = now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        events = az(["monitor", "activity-log", "list", "--resource-id", resource_id,
                     "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "--max-events", str(MAX_EVENTS)])  # fmt: skip
        return LiveState(state, vm_timeline(events, units, start, now))
    if resource.type in (ML_COMPUTE, DEPLOYMENT):
        body = az(["resource", "show", "--ids", resource_id, "--api-version", ML_API_VERSION])
        if resource.type == DEPLOYMENT:
            return deployment_state(body, now)
        return compute_state(body, now)
    if resource.type == CONTAINER_APP:
        name = str(resource.inputs.get("containerAppName") or resource.azure_name)
        group = str(resource.inputs.get("resourceGroupName") or "")
        if not group:
            raise LiveStateError("the stack's state holds no resource group for it")
        replicas = az(
            ["containerapp", "replica", "list", "--name", name, "--resource-group", group]
        )
        return replica_state(replicas, now)
    return None


def vm_power(view: Any) -> tuple[str, float]:
    """The power state in an instance view and whether it bills (1) or not (0).

    Raises:
        LiveStateError: If the answer has no known ``PowerState/...`` status.
    """
    statuses = _get(view, "instanceView", "statuses") or _get(view, "statuses") or []
    for status in statuses if isinstance(statuses, list) else []:
        code = str(_get(status, "code") or "")
        if code.lower().startswith("powerstate/"):
            state = code.split("/", 1)[1].lower()
            if state in BILLED_POWER_STATES:
                return state, 1.0
            if state in UNBILLED_POWER_STATES:
                return state, 0.0
            raise LiveStateError(f"power state {state!r} is not one Azure documents")
    raise LiveStateError("the instance view has no PowerState status")


def vm_timeline(
    events: Any, units_now: float, month_start: dt.datetime, now: dt.datetime
) -> Timeline:
    """A VM's month from its activity log (succeeded operations) and its present state.

    Before the month's first operation the VM was deallocated if that operation was a
    start, else billing (one deallocates, restarts or powers off a VM that runs). Without
    operations this month, it has been in its present state all month. The present state
    (instance view) has the last word.
    """
    changes: list[tuple[dt.datetime, str]] = []
    for event in events if isinstance(events, list) else []:
        operation = str(_get(event, "operationName", "value") or "").lower()
        status = str(_get(event, "status", "value") or "")
        when = parse_time(_get(event, "eventTimestamp"))
        if operation in VM_OPERATIONS and status == "Succeeded" and when is not None:
            changes.append((when, operation))
    changes.sort(key=lambda change: change[0])
    if not changes:
        return Timeline(((month_start, units_now),))
    before = 0.0 if changes[0][1].endswith("/start/action") else 1.0
    timeline = [(month_start, before), *((when, VM_OPERATIONS[op]) for when, op in changes)]
    if timeline[-1][1] != units_now:  # the log has not caught up yet
        timeline.append((now, units_now))
    return Timeline(tuple(timeline))


def compute_state(body: Any, now: dt.datetime) -> LiveState:
    """A compute instance's or cluster's state from its ``Compute - Get`` body.

    Raises:
        LiveStateError: If the body is not an instance or cluster with a state.
    """
    kind = _get(body, "properties", "computeType")
    props = _get(body, "properties", "properties") or {}
    if kind == AML_INSTANCE:
        state = _get(props, "state")
        if not isinstance(state, str) or not state:
            raise LiveStateError("the compute instance reports no state")
        units = 0.0 if state in INSTANCE_STOPPED_STATES else 1.0
        since = parse_time(_get(props, "lastOperation", "operationTime"))
        return LiveState(state.lower(), Timeline(((since or now, units),)))
    if kind == AML_CLUSTER:
        nodes = _get(props, "currentNodeCount")
        if not isinstance(nodes, int | float) or isinstance(nodes, bool):
            raise LiveStateError("the cluster reports no currentNodeCount")
        since = parse_time(_get(props, "allocationStateTransitionTime"))
        return LiveState(_count(nodes, "node"), Timeline(((since or now, float(nodes)),)))
    raise LiveStateError(f"compute type {kind!r} is neither ComputeInstance nor AmlCompute")


def deployment_state(body: Any, now: dt.datetime) -> LiveState:
    """An online deployment's instances from its ``Online Deployments - Get`` body.

    Raises:
        LiveStateError: If it has no instance count.
    """
    capacity = _get(body, "sku", "capacity")
    if not isinstance(capacity, int | float) or isinstance(capacity, bool):
        raise LiveStateError("the deployment reports no sku.capacity")
    since = parse_time(_get(body, "systemData", "lastModifiedAt")) or parse_time(
        _get(body, "systemData", "createdAt")
    )
    return LiveState(_count(capacity, "instance"), Timeline(((since or now, float(capacity)),)))


def replica_state(replicas: Any, now: dt.datetime) -> LiveState:
    """A container app's replicas (latest revision), each from its creation on.

    Raises:
        LiveStateError: If the answer is not a list of replicas.
    """
    if not isinstance(replicas, list):
        raise LiveStateError("`az containerapp replica list` did not answer a list")
    created = sorted(
        parse_time(_get(replica, "properties", "createdTime")) or now for replica in replicas
    )
    if not created:
        return LiveState(_count(0, "replica"), Timeline(((now, 0.0),)))
    changes = tuple((when, float(index + 1)) for index, when in enumerate(created))
    return LiveState(_count(len(created), "replica"), Timeline(changes))


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time as Azure writes it (``Z``, up to 7 fraction digits) in UTC, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most 6 fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _count(number: float, unit: str) -> str:
    return f"{number:g} {unit}{'' if number == 1 else 's'}"


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
