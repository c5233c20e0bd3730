"""``mlstart status``: what a stack holds, what its compute runs and costs, what time is left.

Per compute resource (VM, compute instance, training cluster, online deployment, container
app) it shows the live state that ``az`` reports (:mod:`mlstart.core.live`) and what the
current month costs at the plan's list prices if the resource stays as it is
(:mod:`mlstart_infra.month_cost`). A resource whose state cannot be read gets one line
saying why; the rest of the report does not depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstart_infra.components.catalog import (
    AML_CLUSTER,
    AML_INSTANCE,
    CONTAINER_APP,
    DEPLOYMENT,
    ENDPOINT,
    ML_COMPUTE,
    VM,
)
from mlstart_infra.month_cost import MonthCost, UnitRate
from mlstart_infra.pricing import PriceTable

from mlstart.core.live import Az, LiveStateError, parse_time, read_live_state, run_az
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
    VM: "GPU workstation",
    ML_COMPUTE: "Azure ML compute",
    ENDPOINT: "online endpoint",
    DEPLOYMENT: "online deployment",
    CONTAINER_APP: "container app",
}
#: Azure ML compute types, in words.
ML_COMPUTE_LABELS = {AML_INSTANCE: "compute instance", AML_CLUSTER: "training cluster"}
WARN_DAYS_BEFORE_DECOMMISSION = 14
#: The stack output holding the command that opens a shell on the workstation.
CONNECT_OUTPUT = "workstation_connect"
#: The deployment spec the deploy workflow applies under the stack's online endpoint.
ONLINE_DEPLOYMENT_FILE = Path("aml") / "online-deployment.yml"


@dataclass
class ComputeStatus:
    """One compute resource: what it runs now, since when, and this month's cost.

    Attributes:
        label: What it is, e.g. ``GPU workstation``, ``training cluster``.
        resource: The resource in the stack's state.
        state: Its state in words (``running``, ``deallocated``, ``2 nodes``); None when
            unknown or when it runs nothing by itself (an endpoint).
        running: Units running now (machines, nodes, instances, replicas).
        since: When the present state began, as far as known.
        rate: Its list prices (None for a type that runs nothing by itself).
        month: This month's cost if it stays as it is (None when unknown or unpriced).
        problem: Why the state or the cost is missing, in one line.
        owner: ``pulumi``, or ``ci`` for the online deployment the deploy workflow creates.
    """

    label: str
    resource: StackResource
    state: str | None = None
    running: float | None = None
    since: dt.datetime | None = None
    rate: UnitRate | None = None
    month: MonthCost | None = None
    problem: str | None = None
    owner: str = "pulumi"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "label": self.label,
            "name": self.resource.azure_name,
            "type": self.resource.type,
            "owner": self.owner,
            "state": self.state,
            "running": self.running,
            "unit": self.rate.unit if self.rate else None,
            "since": self.since.isoformat() if self.since else None,
            "hourly_per_unit": self.rate.hourly if self.rate else None,
            "fixed_monthly": self.rate.fixed_monthly if self.rate else None,
            "this_month": self.month.to_dict() if self.month else None,
            "problem": self.problem,
        }


@dataclass
class StatusReport:
    """Everything ``mlstart status`` shows.

    ``connect`` is the workstation's connect command (the ``workstation_connect`` output,
    e.g. ``az network bastion ssh ...``), or None when the stack has no workstation.
    """

    stack: str
    outputs: dict[str, Any]
    resources: list[StackResource]
    compute: list[ComputeStatus]
    next_shutdown: dt.datetime | None
    time_zone: str | None
    cost: dict[str, Any] | None
    decommission_by: dt.date | None
    days_left: int | None
    warnings: list[str] = field(default_factory=list)
    connect: str | None = None
    now: dt.datetime | None = None
    currency: str = ""
    prices_recorded_on: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The whole report in a JSON-ready form (what ``--json`` prints)."""
        return {
            "stack": self.stack,
            "now": self.now.isoformat() if self.now else None,
            "resources": len(self.resources),
            "outputs": self.outputs,
            "currency": self.currency,
            "prices_recorded_on": self.prices_recorded_on,
            "compute": [c.to_dict() for c in self.compute],
            "next_shutdown": self.next_shutdown.isoformat() if self.next_shutdown else None,
            "time_zone": self.time_zone,
            "monthly_estimate": self.cost,
            "decommission_by": self.decommission_by.isoformat() if self.decommission_by else None,
            "days_left": self.days_left,
            "connect": self.connect,
            "warnings": list(self.warnings),
        }


def stack_status(
    project: Path | str,
    *,
    stack: str = "dev",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    az: Az = run_az,
) -> StatusReport:
    """Collect the stack's outputs, compute, next shutdown, cost and decommission countdown.

    Args:
        project: The generated project (or its ``infra/`` folder).
        stack: The Pulumi stack.
        today: The date the decommission countdown counts from.
        now: The current time (aware): the next shutdown and this month's costs.
        az: Runs the Azure CLI (the real one by default).

    Raises:
        ToolMissingError: If the Pulumi CLI is missing.
        UsageError: If the stack does not exist.
    """
    now = now or dt.datetime.now(dt.UTC)
    pulumi_project = load_project(project)
    pulumi_stack = open_stack(pulumi_project.folder, stack, create=False)
    outputs = {
        key: "[secret]" if value.secret else value.value
        for key, value in pulumi_stack.outputs().items()
    }
    resources = [r for r in stack_resources(pulumi_stack) if not r.is_provider]
    config = load_stack_config(pulumi_project, stack)
    table = PriceTable.load()
    report = StatusReport(
        stack=stack,
        outputs=outputs,
        resources=resources,
        compute=[],
        next_shutdown=None,
        time_zone=None,
        cost=None,
        decommission_by=None,
        days_left=None,
        now=now,
        currency=str(table.data.get("currency", "USD")),
        prices_recorded_on=str(table.data.get("recorded_on", "unknown")),
    )
    region = str(config.get("azure-native:location") or "")
    for resource in resources:
        if resource.type in COMPUTE_TYPES:
            report.compute.append(compute_status(resource, region, table, now, az=az))
        if resource.type == ENDPOINT:
            deployment = ci_deployment(pulumi_project.root, resource)
            if deployment is not None:
                status = compute_status(deployment, region, table, now, az=az)
                status.owner = "ci"
                report.compute.append(status)
    connect = outputs.get(CONNECT_OUTPUT)
    if isinstance(connect, str) and connect.strip() and connect != "[secret]":
        report.connect = connect.strip()
    if any(r.type == VM or _compute_type(r) == AML_INSTANCE for r in resources):
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


def compute_label(resource: StackResource) -> str:
    """What a compute resource is, in words (a cluster and an instance share one type)."""
    if resource.type == ML_COMPUTE:
        return ML_COMPUTE_LABELS.get(str(_compute_type(resource)), COMPUTE_TYPES[ML_COMPUTE])
    return COMPUTE_TYPES[resource.type]


def compute_status(
    resource: StackResource,
    region: str,
    table: PriceTable,
    now: dt.datetime,
    *,
    az: Az = run_az,
) -> ComputeStatus:
    """Read one compute resource's live state and price its month.

    Args:
        resource: The resource from the stack's state.
        region: The stack's region, for resources that record none.
        table: The price table the plan uses.
        now: The current time (aware).
        az: Runs the Azure CLI.

    Returns:
        Its status; ``problem`` holds the one line that explains a missing state or cost.
    """
    from mlstart_infra.month_cost import month_cost, unit_rate

    status = ComputeStatus(compute_label(resource), resource)
    where = str(resource.inputs.get("location") or region)
    status.rate = unit_rate(resource.type, resource.inputs, where, table)
    if status.rate is None:
        return status  # an endpoint: its deployments run (and bill), it does not
    try:
        live = read_live_state(resource, now, az=az)
    except LiveStateError as error:
        status.problem = f"state unknown: {error}"
        return status
    if live is None:
        return status
    status.state = live.state
    status.running = live.timeline.running
    status.since = live.since
    status.month = month_cost(status.rate, live.timeline, now, created=parse_time(resource.created))
    if status.month is None:
        status.problem = f"no cost: {status.rate.note}"
    return status


def ci_deployment(root: Path, endpoint: StackResource) -> StackResource | None:
    """The online deployment the deploy workflow creates under ``endpoint``, if specified.

    Pulumi creates the endpoint only; ``aml/online-deployment.yml`` names the deployment
    and its instances, and its Azure id lies under the endpoint's.
    """
    from mlstart_infra.project import ProjectError, read_yaml

    path = root / ONLINE_DEPLOYMENT_FILE
    endpoint_id = endpoint.id or str(endpoint.outputs.get("id") or "")
    if not path.is_file() or not endpoint_id:
        return None
    try:
        spec = read_yaml(path)
        name = str(spec["name"])
        instance_type = str(spec["instance_type"])
    except (ProjectError, KeyError, TypeError):
        return None
    return StackResource(
        type=DEPLOYMENT,
        name=name,
        urn=f"{endpoint.urn}$ci-deployment::{name}",
        protect=False,
        inputs={
            "location": endpoint.inputs.get("location"),
            "properties": {"instanceType": instance_type},
        },
        outputs={"name": name},
        id=f"{endpoint_id}/deployments/{name}",
    )


def _compute_type(resource: StackResource) -> Any:
    properties = resource.inputs.get("properties")
    return properties.get("computeType") if isinstance(properties, dict) else None


def _cost(root: Path, stack: str, warnings: list[str]) -> dict[str, Any] | None:
    from mlstart.core.plan import plan_project

    try:
        cost: dict[str, Any] = plan_project(root, stack=stack).cost.to_dict()
    except MlstartError as error:
        warnings.append(f"no cost estimate: {error}")
        return None
    return cost
