"""``mlstart status``: what a project's stack holds, what it costs, how long it has left."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstart.core.schedule import days_until, next_shutdown
from mlstart.core.stack import (
    StackResource,
    load_project,
    load_stack_config,
    open_stack,
    stack_resources,
)
from mlstart.errors import MlstartError

#: Resource types that run compute and so cost money while they exist.
COMPUTE_TYPES = {
    "azure-native:compute:VirtualMachine": "GPU workstation",
    "azure-native:machinelearningservices:Compute": "Azure ML compute",
    "azure-native:machinelearningservices:OnlineEndpoint": "online endpoint",
    "azure-native:machinelearningservices:OnlineDeployment": "online deployment",
    "azure-native:app:ContainerApp": "container app",
}
WARN_DAYS_BEFORE_DECOMMISSION = 14
#: The stack output holding the command that opens a shell on the workstation.
CONNECT_OUTPUT = "workstation_connect"


@dataclass
class StatusReport:
    """Everything ``mlstart status`` shows.

    ``connect`` is the workstation's connect command (the ``workstation_connect`` output,
    e.g. ``az network bastion ssh ...``), or None when the stack has no workstation.
    """

    stack: str
    outputs: dict[str, Any]
    resources: list[StackResource]
    compute: list[tuple[str, StackResource]]
    next_shutdown: dt.datetime | None
    time_zone: str | None
    cost: dict[str, Any] | None
    decommission_by: dt.date | None
    days_left: int | None
    warnings: list[str] = field(default_factory=list)
    connect: str | None = None


def stack_status(
    project: Path | str,
    *,
    stack: str = "dev",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> StatusReport:
    """Collect the stack's outputs, compute, next shutdown, cost and decommission countdown.

    Raises:
        ToolMissingError: If the Pulumi CLI is missing.
        UsageError: If the stack does not exist.
    """
    pulumi_project = load_project(project)
    pulumi_stack = open_stack(pulumi_project.folder, stack, create=False)
    outputs = {
        key: "[secret]" if value.secret else value.value
        for key, value in pulumi_stack.outputs().items()
    }
    resources = [r for r in stack_resources(pulumi_stack) if not r.is_provider]
    compute = [(COMPUTE_TYPES[r.type], r) for r in resources if r.type in COMPUTE_TYPES]
    config = load_stack_config(pulumi_project, stack)
    report = StatusReport(
        stack=stack,
        outputs=outputs,
        resources=resources,
        compute=compute,
        next_shutdown=None,
        time_zone=None,
        cost=None,
        decommission_by=None,
        days_left=None,
    )
    connect = outputs.get(CONNECT_OUTPUT)
    if isinstance(connect, str) and connect.strip() and connect != "[secret]":
        report.connect = connect.strip()
    if any(r.type == "azure-native:compute:VirtualMachine" for r in resources):
        time_zone = config.get("timeZone") or "UTC"
        report.time_zone = time_zone
        report.next_shutdown = next_shutdown(config.get("shutdownTime") or "", time_zone, now)
        if report.next_shutdown is None:
            report.warnings.append("the workstation's shutdown time or time zone is not understood")
    report.cost = _cost(pulumi_project.root, stack, report.warnings)
    deadline = config.get("decommissionBy")
    if deadline:
        try:
            report.decommission_by = dt.date.fromisoformat(str(deadline))
        except ValueError:
            report.warnings.append(f"decommissionBy '{deadline}' is not a date")
    if report.decommission_by is not None:
        report.days_left = days_until(report.decommission_by, today)
        if report.days_left < 0:
            report.warnings.append(
                f"the decommission-by date {report.decommission_by} has passed "
                f"({-report.days_left} days ago): run `mlstart down`, or move decommissionBy"
            )
        elif report.days_left <= WARN_DAYS_BEFORE_DECOMMISSION:
            report.warnings.append(
                f"{report.days_left} days left until the decommission-by date "
                f"{report.decommission_by}"
            )
    return report


def _cost(root: Path, stack: str, warnings: list[str]) -> dict[str, Any] | None:
    from mlstart.core.plan import plan_project

    try:
        cost: dict[str, Any] = plan_project(root, stack=stack).cost.to_dict()
    except MlstartError as error:
        warnings.append(f"no cost estimate: {error}")
        return None
    return cost
