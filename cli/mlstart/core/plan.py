"""``mlstart plan``: what ``pulumi up`` would create, what it costs, which policies it breaks.

Runs the project's Pulumi program under recording mocks (no cloud account, no Pulumi CLI),
checks the policies and prices the result. Pulumi is imported only here, and only when a
plan is made, so the rest of mlstart works without the ``azure`` extra.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstart.errors import PlanError, PolicyFailureError, ToolMissingError, UsageError

if TYPE_CHECKING:
    from mlstart_infra.conformance import ConformanceFinding
    from mlstart_infra.idle import IdleShutdownView
    from mlstart_infra.offline.graph import ResourceGraph
    from mlstart_infra.policies import PolicyResult
    from mlstart_infra.pricing import CostEstimate, PriceTable

AZURE_EXTRA_HINT = (
    "mlstart plan needs Pulumi: install mlstart's azure extra into mlstart's environment "
    "(pip install 'mlstart[azure]'; from a clone: pip install -e '.[azure]')"
)


@dataclass
class PlanReport:
    """A plan: the resources, Azure's rules, the policy results and the monthly estimate.

    Attributes:
        graph: The resources the program would create.
        conformance: Where a resource breaks a rule Azure publishes (names, enum values,
            required properties, references, what exists only later); any finding fails
            the plan.
        policies: One result per policy.
        cost: The monthly estimate.
        idle_shutdown: Per VM, its idle-shutdown agent, identity and role (or its opt-out).
    """

    graph: ResourceGraph
    conformance: list[ConformanceFinding]
    policies: list[PolicyResult]
    cost: CostEstimate
    idle_shutdown: list[IdleShutdownView] = field(default_factory=list)

    @property
    def failed_mandatory(self) -> list[PolicyResult]:
        """The mandatory policies that failed."""
        return [result for result in self.policies if result.failed_mandatory]

    @property
    def passed(self) -> bool:
        """No conformance finding and no failed mandatory policy."""
        return not self.conformance and not self.failed_mandatory

    def to_dict(self) -> dict[str, Any]:
        """The whole report in a JSON-ready form (what ``--json`` prints)."""
        return {
            "project": self.graph.project,
            "stack": self.graph.stack,
            "passed": self.passed,
            "failed_mandatory": [result.policy.id for result in self.failed_mandatory],
            "warnings": list(self.graph.warnings),
            "resources": self.graph.to_dict()["resources"],
            "conformance": [asdict(finding) for finding in self.conformance],
            "policies": [result.to_dict() for result in self.policies],
            "cost": self.cost.to_dict(),
            "idle_shutdown": [view.to_dict() for view in self.idle_shutdown],
        }


def plan_project(
    path: Path | str = ".",
    *,
    stack: str = "dev",
    prices: Path | None = None,
    timeout: float | None = None,
) -> PlanReport:
    """Plan a generated project's infrastructure offline.

    Args:
        path: The project (or its ``infra/`` folder).
        stack: The stack whose config to use (``Pulumi.<stack>.yaml``).
        prices: A price table to use alone, instead of the price cache (``mlstart prices
            refresh``) over the table shipped with mlstart.
        timeout: Seconds the project's program may run (the default limit when None).

    Returns:
        The resources, policy results and cost estimate.

    Raises:
        ToolMissingError: If Pulumi (the ``azure`` extra) is not installed.
        PlanError: If the project, its config, its program or a price table cannot be used.
    """
    from mlstart_infra import conformance, policies, pricing
    from mlstart_infra.idle import idle_shutdown_of

    table = price_table(prices)
    graph = plan_graph(path, stack=stack, timeout=timeout)
    cost = pricing.estimate(graph, prices=table)
    findings = conformance.check(graph, existing=existing_resources(graph.config, graph.project))
    results = policies.evaluate(graph, costs=cost)
    return PlanReport(graph, findings, results, cost, idle_shutdown_of(graph))


def price_table(prices: Path | None = None) -> PriceTable:
    """The prices a plan uses: ``prices`` alone, else the price cache over the shipped table.

    Raises:
        PlanError: If the given table or the price cache cannot be read or is not a table.
    """
    from mlstart_infra.prices import cache
    from mlstart_infra.pricing import PriceTable, PriceTableError

    if prices is not None:
        try:
            return PriceTable.load(prices)
        except (OSError, PriceTableError) as error:
            raise PlanError(f"cannot read the price table {prices}: {error}") from error
    try:
        return cache.plan_table()
    except (OSError, PriceTableError) as error:
        raise PlanError(
            f"{error}; run `mlstart prices refresh` to replace it, or delete {cache.cache_path()}"
        ) from error


def plan_graph(
    path: Path | str = ".", *, stack: str = "dev", timeout: float | None = None
) -> ResourceGraph:
    """The resources a project's program would create, planned offline under Pulumi's mocks.

    Raises:
        ToolMissingError: If Pulumi (the ``azure`` extra) is not installed.
        UsageError: If the stack config is incomplete.
        PlanError: If the project or its program cannot be planned.
    """
    for module in ("pulumi", "pulumi_azure_native"):
        if importlib.util.find_spec(module) is None:
            raise ToolMissingError(AZURE_EXTRA_HINT)
    from mlstart_infra.offline import plan

    try:
        limit = plan.DEFAULT_TIMEOUT if timeout is None else timeout
        return plan.plan_project(path, stack=stack, timeout=limit)
    except plan.StackConfigError as error:
        raise UsageError(str(error)) from error
    except (plan.PlanInputError, plan.ProgramFailedError) as error:
        raise PlanError(str(error)) from error


def existing_resources(config: dict[str, str], project: str) -> list[str]:
    """Resources the program uses but does not create: the ``existingResources`` config key.

    A JSON list or a comma-separated string of resource ids (or names), e.g. a shared
    resource group or virtual network; conformance counts references to them as resolved.
    """
    import json

    raw = config.get(f"{project}:existingResources", "").strip()
    if raw.startswith("["):
        try:
            values = json.loads(raw)
        except ValueError as error:
            raise PlanError(f"existingResources is not a JSON list: {error}") from error
        return [str(value) for value in values]
    return [part.strip() for part in raw.split(",") if part.strip()]


def check_mandatory(report: PlanReport) -> None:
    """Raise if a resource breaks Azure's rules or a mandatory policy failed.

    Raises:
        PolicyFailureError: Naming the conformance rules and failed policies by id.
    """
    rules = sorted({finding.id for finding in report.conformance})
    failed = [result.policy.id for result in report.failed_mandatory]
    parts = []
    if rules:
        count = len(report.conformance)
        parts.append(f"{count} conformance finding{'s' if count != 1 else ''}: {', '.join(rules)}")
    if failed:
        noun = "policy" if len(failed) == 1 else "policies"
        parts.append(f"{len(failed)} mandatory {noun} failed: {', '.join(failed)}")
    if parts:
        raise PolicyFailureError("; ".join(parts))


def write_arm(report: PlanReport, path: Path) -> Path:
    """Write the plan's resources as an ARM template.

    Raises:
        PlanError: If the file cannot be written.
    """
    from mlstart_infra.arm import write_arm_template

    try:
        return write_arm_template(report.graph, path)
    except OSError as error:
        raise PlanError(f"cannot write the ARM template {path}: {error.strerror}") from error
