"""``mlstart plan``: what ``pulumi up`` would create, what it costs, which policies it breaks.

Runs the project's Pulumi program under recording mocks (no cloud account, no Pulumi CLI),
checks the policies and prices the result. Pulumi is imported only here, and only when a
plan is made, so the rest of mlstart works without the ``azure`` extra.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstart.errors import PlanError, PolicyFailureError, ToolMissingError

if TYPE_CHECKING:
    from mlstart_infra.offline.graph import ResourceGraph
    from mlstart_infra.policies import PolicyResult
    from mlstart_infra.pricing import CostEstimate

AZURE_EXTRA_HINT = "mlstart plan needs Pulumi: pip install 'mlstart[azure]'"


@dataclass
class PlanReport:
    """A plan: the resources, the policy results and the monthly estimate.

    Attributes:
        graph: The resources the program would create.
        policies: One result per policy.
        cost: The monthly estimate.
    """

    graph: ResourceGraph
    policies: list[PolicyResult]
    cost: CostEstimate

    @property
    def failed_mandatory(self) -> list[PolicyResult]:
        """The mandatory policies that failed."""
        return [result for result in self.policies if result.failed_mandatory]

    def to_dict(self) -> dict[str, Any]:
        """The whole report in a JSON-ready form (what ``--json`` prints)."""
        return {
            "project": self.graph.project,
            "stack": self.graph.stack,
            "passed": not self.failed_mandatory,
            "failed_mandatory": [result.policy.id for result in self.failed_mandatory],
            "warnings": list(self.graph.warnings),
            "resources": self.graph.to_dict()["resources"],
            "policies": [result.to_dict() for result in self.policies],
            "cost": self.cost.to_dict(),
        }


def plan_project(
    path: Path | str = ".", *, stack: str = "dev", prices: Path | None = None
) -> PlanReport:
    """Plan a generated project's infrastructure offline.

    Args:
        path: The project (or its ``infra/`` folder).
        stack: The stack whose config to use (``Pulumi.<stack>.yaml``).
        prices: A price table to use instead of the one shipped with mlstart.

    Returns:
        The resources, policy results and cost estimate.

    Raises:
        ToolMissingError: If Pulumi (the ``azure`` extra) is not installed.
        PlanError: If the project, its config or its program cannot be planned.
    """
    for module in ("pulumi", "pulumi_azure_native"):
        if importlib.util.find_spec(module) is None:
            raise ToolMissingError(AZURE_EXTRA_HINT)
    from mlstart_infra import policies, pricing
    from mlstart_infra.offline import plan

    try:
        table = pricing.PriceTable.load(prices) if prices else None
    except (OSError, ValueError) as error:
        raise PlanError(f"cannot read the price table {prices}: {error}") from error
    try:
        graph = plan.plan_project(path, stack=stack)
    except (plan.PlanInputError, plan.ProgramFailedError) as error:
        raise PlanError(str(error)) from error
    return PlanReport(graph, policies.evaluate(graph), pricing.estimate(graph, prices=table))


def check_mandatory(report: PlanReport) -> None:
    """Raise if a mandatory policy failed.

    Raises:
        PolicyFailureError: Naming the failed policies' ids.
    """
    failed = report.failed_mandatory
    if failed:
        ids = ", ".join(result.policy.id for result in failed)
        raise PolicyFailureError(f"{len(failed)} mandatory policies failed: {ids}")
