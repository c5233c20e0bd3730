"""A monthly budget that emails before the money runs out."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import consumption

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass
class CostGuardArgs:
    """What the budget needs.

    Attributes:
        scope: The resource id the budget watches (the project's resource group).
        budget_name: The budget's name.
        amount: Monthly amount in the billing currency (> 0).
        contact_emails: Who gets the alerts.
        start_date: First day of the first budget month, ``YYYY-MM-01``; by default the
            current month when the budget is created (Azure refuses a start date in an
            earlier month, so a fixed date would break a later first deploy).
        end_date: Last day the budget runs (the decommission date), ``YYYY-MM-DD``.
        thresholds: Percentages of ``amount`` that send an alert.
    """

    scope: pulumi.Input[str]
    budget_name: str
    amount: float
    contact_emails: Sequence[str]
    start_date: str | None = None
    end_date: str | None = None
    thresholds: Sequence[int] = field(default_factory=lambda: (80, 100))

    def validate(self) -> None:
        """Reject a budget Azure would refuse or that would never alert.

        Raises:
            ValueError: With one line that says what to change.
        """
        if self.amount <= 0:
            raise ValueError("the monthly budget must be greater than 0")
        if not self.contact_emails:
            raise ValueError("the budget needs at least one contact email")
        start = self.start_date
        if start is not None and not (_DATE.match(start) and start.endswith("-01")):
            raise ValueError(f"budget start {start!r} must be the first day of a month")
        if self.end_date is not None and not _DATE.match(self.end_date):
            raise ValueError(f"budget end {self.end_date!r} must be a date like 2027-05-31")
        if not self.thresholds or any(not 0 < t <= 1000 for t in self.thresholds):
            raise ValueError("budget alert thresholds must be percentages between 1 and 1000")


class CostGuard(pulumi.ComponentResource):
    """A monthly consumption budget with an alert per threshold (80% and 100% by default)."""

    budget: consumption.Budget

    def __init__(
        self, name: str, args: CostGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the budget."""
        super().__init__("mlstart:azure:CostGuard", name, None, opts)
        args.validate()
        start = args.start_date or datetime.date.today().replace(day=1).isoformat()
        self.budget = consumption.Budget(
            f"{name}-budget",
            budget_name=args.budget_name,
            scope=args.scope,
            amount=args.amount,
            category="Cost",
            time_grain="Monthly",
            time_period=consumption.BudgetTimePeriodArgs(
                start_date=f"{start}T00:00:00Z",
                end_date=f"{args.end_date}T00:00:00Z" if args.end_date else None,
            ),
            notifications={
                f"actual-{threshold}-percent": consumption.NotificationArgs(
                    enabled=True,
                    operator="GreaterThanOrEqualTo",
                    threshold=threshold,
                    threshold_type="Actual",
                    contact_emails=list(args.contact_emails),
                )
                for threshold in args.thresholds
            },
            # The start is fixed when the budget is created; later runs must not move it.
            # Protected: `mlstart down` keeps the budget for as long as protected resources
            # (storage, registry, workspace) keep billing; it goes with --include-data.
            opts=pulumi.ResourceOptions(
                parent=self, protect=True, ignore_changes=["timePeriod.startDate"]
            ),
        )
        self.register_outputs({"budget_name": self.budget.name, "amount": args.amount})
