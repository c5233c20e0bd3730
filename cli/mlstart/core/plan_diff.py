"""``mlstart plan --diff``: what a change does to the monthly cost and the policy verdicts.

Pure functions over two documents that ``mlstart plan --json`` printed (a saved base and the
current head): no Pulumi, no typer. The cost is compared per resource (a resource's lines, e.g.
a VM's compute and OS disk, are summed), always on and with the shutdown schedule; the policies
by id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlstart.errors import UsageError

#: Differences below half a cent are rounding, not a change.
_EPSILON = 0.005

ResourceChange = Literal["added", "removed", "changed"]
VerdictChange = Literal["new failure", "fixed", "severity changed", "status changed"]


@dataclass(frozen=True)
class CostChange:
    """How one resource's monthly cost changes.

    Attributes:
        resource: The resource's Azure name.
        type: Its type token.
        component: The component it belongs to (the head's, else the base's).
        change: Added, removed, or changed (in cost).
        description: What is priced (the head's, else the base's).
        before_always_on: Monthly cost always on in the base (None: absent or unpriced).
        after_always_on: The same in the head.
        before_scheduled: Monthly cost with the schedule in the base.
        after_scheduled: The same in the head.
    """

    resource: str
    type: str
    component: str | None
    change: ResourceChange
    description: str
    before_always_on: float | None
    after_always_on: float | None
    before_scheduled: float | None
    after_scheduled: float | None

    @property
    def delta_always_on(self) -> float:
        """After minus before, always on (an absent or unpriced side counts as 0)."""
        return round(float(self.after_always_on or 0) - float(self.before_always_on or 0), 2)

    @property
    def delta_scheduled(self) -> float:
        """After minus before, with the schedule (an absent or unpriced side counts as 0)."""
        return round(float(self.after_scheduled or 0) - float(self.before_scheduled or 0), 2)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, with the deltas."""
        return {
            **asdict(self),
            "delta_always_on": self.delta_always_on,
            "delta_scheduled": self.delta_scheduled,
        }


@dataclass(frozen=True)
class PolicyChange:
    """A policy whose verdict differs between the base and the head.

    Attributes:
        id: The policy id, e.g. ``MLS-COST-010``.
        title: Its title (the head's, else the base's).
        change: A new failure, fixed, a changed severity, or another status change
            (e.g. from not applicable to pass).
        mandatory: Whether a failure fails the plan (the head's, else the base's).
        before_status: ``pass``, ``fail``, ``not-applicable``, or None when the base does not
            check it.
        after_status: The same in the head (None when the head does not check it).
        before_severity: Its severity in the base (None when not checked there).
        after_severity: Its severity in the head (None when not checked there).
    """

    id: str
    title: str
    change: VerdictChange
    mandatory: bool
    before_status: str | None
    after_status: str | None
    before_severity: str | None
    after_severity: str | None


@dataclass
class PlanDiff:
    """The difference between a base plan and a head plan.

    Attributes:
        project: The Pulumi project both plans are of.
        base_stack: The base plan's stack.
        head_stack: The head plan's stack.
        currency: The currency of every amount.
        before_total_always_on: The base's monthly total, always on.
        after_total_always_on: The head's monthly total, always on.
        before_total_scheduled: The base's monthly total with the schedule.
        after_total_scheduled: The head's monthly total with the schedule.
        before_passed: Whether the base plan passed.
        after_passed: Whether the head plan passed.
        costs: One entry per added, removed or changed resource.
        policies: One entry per policy whose verdict changed.
    """

    project: str
    base_stack: str
    head_stack: str
    currency: str
    before_total_always_on: float
    after_total_always_on: float
    before_total_scheduled: float
    after_total_scheduled: float
    before_passed: bool
    after_passed: bool
    costs: list[CostChange] = field(default_factory=list)
    policies: list[PolicyChange] = field(default_factory=list)

    @property
    def delta_always_on(self) -> float:
        """The change of the monthly total, always on."""
        return round(self.after_total_always_on - self.before_total_always_on, 2)

    @property
    def delta_scheduled(self) -> float:
        """The change of the monthly total with the schedule."""
        return round(self.after_total_scheduled - self.before_total_scheduled, 2)

    @property
    def unchanged(self) -> bool:
        """No resource added, removed or changed in cost, and no verdict changed."""
        return not self.costs and not self.policies and self.before_passed == self.after_passed

    def to_dict(self) -> dict[str, Any]:
        """The diff in a JSON-ready form (what ``--diff --json`` prints)."""
        return {
            "project": self.project,
            "base_stack": self.base_stack,
            "head_stack": self.head_stack,
            "currency": self.currency,
            "passed": {"before": self.before_passed, "after": self.after_passed},
            "total": {
                "before_always_on": self.before_total_always_on,
                "after_always_on": self.after_total_always_on,
                "delta_always_on": self.delta_always_on,
                "before_scheduled": self.before_total_scheduled,
                "after_scheduled": self.after_total_scheduled,
                "delta_scheduled": self.delta_scheduled,
            },
            "resources": [change.to_dict() for change in self.costs],
            "policies": [asdict(change) for change in self.policies],
        }


def load_plan(path: Path | str) -> dict[str, Any]:
    """Read a plan that ``mlstart plan --json`` wrote.

    Args:
        path: The saved plan (e.g. ``BASE.json``).

    Returns:
        The plan document.

    Raises:
        UsageError: If the file cannot be read, is not JSON, or is not a plan.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the base plan {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise UsageError(f"the base plan {path} is not UTF-8 text: {error.reason}") from error
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(
            f"the base plan {path} is not JSON ({error}); save one with "
            "`mlstart plan --json > BASE.json`"
        ) from error
    problem = _shape_problem(document)
    if problem:
        raise UsageError(f"{path} is not a plan from `mlstart plan --json`: {problem}")
    return document  # type: ignore[no-any-return]


def _shape_problem(document: Any) -> str:
    """What makes ``document`` not a plan, or "" when it is one."""
    if not isinstance(document, dict):
        return "not a JSON object"
    for key, kind in (("project", str), ("stack", str), ("policies", list), ("cost", dict)):
        if not isinstance(document.get(key), kind):
            return f"no {key!r} {kind.__name__}"
    cost = document["cost"]
    if not isinstance(cost.get("lines"), list):
        return "no 'cost.lines' list"
    for key in ("total_always_on", "total_scheduled"):
        if not _is_number(cost.get(key)):
            return f"no 'cost.{key}' number"
    for line in cost["lines"]:
        if not isinstance(line, dict) or not isinstance(line.get("resource"), str):
            return "a cost line without a resource"
        if not isinstance(line.get("type"), str):
            return f"the cost line of {line['resource']} has no type"
        for key in ("always_on", "scheduled"):
            if line.get(key) is not None and not _is_number(line[key]):
                return f"the cost line of {line['resource']} has a non-numeric {key!r}"
    for policy in document["policies"]:
        if not isinstance(policy, dict) or not isinstance(policy.get("id"), str):
            return "a policy without an id"
        if not isinstance(policy.get("status"), str):
            return f"policy {policy['id']} has no status"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Compare two plans of the same project.

    Args:
        base: The plan before the change (from :func:`load_plan` or ``PlanReport.to_dict()``).
        head: The plan after it.

    Returns:
        The changed resources (cost), the changed policy verdicts and the totals.

    Raises:
        UsageError: If either is not a plan, they are plans of different projects, or their
            amounts are in different currencies.
    """
    for name, document in (("base", base), ("head", head)):
        problem = _shape_problem(document)
        if problem:
            raise UsageError(f"the {name} is not a plan from `mlstart plan --json`: {problem}")
    if base["project"] != head["project"]:
        raise UsageError(
            f"the base plan is of project {base['project']!r}, this one of {head['project']!r}: "
            "compare plans of the same project"
        )
    before_currency = base["cost"].get("currency", "USD")
    currency = head["cost"].get("currency", "USD")
    if before_currency != currency:
        raise UsageError(
            f"the base plan's prices are in {before_currency}, this one's in {currency}: "
            "plan both with the same price table"
        )
    return PlanDiff(
        project=head["project"],
        base_stack=base["stack"],
        head_stack=head["stack"],
        currency=str(currency),
        before_total_always_on=float(base["cost"]["total_always_on"]),
        after_total_always_on=float(head["cost"]["total_always_on"]),
        before_total_scheduled=float(base["cost"]["total_scheduled"]),
        after_total_scheduled=float(head["cost"]["total_scheduled"]),
        before_passed=bool(base.get("passed", True)),
        after_passed=bool(head.get("passed", True)),
        costs=_cost_changes(base["cost"]["lines"], head["cost"]["lines"]),
        policies=_policy_changes(base["policies"], head["policies"]),
    )


@dataclass
class _Priced:
    """One resource's cost lines, summed."""

    component: str | None
    descriptions: list[str]
    always_on: float | None = None
    scheduled: float | None = None

    def add(self, line: dict[str, Any]) -> None:
        if line.get("description"):
            self.descriptions.append(str(line["description"]))
        for key in ("always_on", "scheduled"):
            value = line.get(key)
            if value is not None:
                setattr(self, key, round((getattr(self, key) or 0) + float(value), 2))


def _by_resource(lines: list[dict[str, Any]]) -> dict[tuple[str, str], _Priced]:
    resources: dict[tuple[str, str], _Priced] = {}
    for line in lines:
        key = (line["type"], line["resource"])
        priced = resources.setdefault(key, _Priced(line.get("component"), []))
        priced.add(line)
    return resources


def _cost_changes(
    base_lines: list[dict[str, Any]], head_lines: list[dict[str, Any]]
) -> list[CostChange]:
    before, after = _by_resource(base_lines), _by_resource(head_lines)
    changes = []
    for key in [*after, *(key for key in before if key not in after)]:
        old, new = before.get(key), after.get(key)
        if old and new:
            same = all(
                _same(getattr(old, attr), getattr(new, attr)) for attr in ("always_on", "scheduled")
            )
            if same:
                continue
        shown = new or old
        assert shown is not None  # every key comes from one side or the other
        changes.append(
            CostChange(
                resource=key[1],
                type=key[0],
                component=shown.component,
                change="added" if old is None else "removed" if new is None else "changed",
                description=" + ".join(shown.descriptions),
                before_always_on=old.always_on if old else None,
                after_always_on=new.always_on if new else None,
                before_scheduled=old.scheduled if old else None,
                after_scheduled=new.scheduled if new else None,
            )
        )
    return changes


def _same(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is new
    return abs(old - new) < _EPSILON


def _policy_changes(
    base_policies: list[dict[str, Any]], head_policies: list[dict[str, Any]]
) -> list[PolicyChange]:
    before = {policy["id"]: policy for policy in base_policies}
    after = {policy["id"]: policy for policy in head_policies}
    changes = []
    for policy_id in [*after, *(key for key in before if key not in after)]:
        old, new = before.get(policy_id), after.get(policy_id)
        old_status = old["status"] if old else None
        new_status = new["status"] if new else None
        old_severity = old.get("severity") if old else None
        new_severity = new.get("severity") if new else None
        change: VerdictChange
        if new_status == "fail" and old_status != "fail":
            change = "new failure"
        elif old_status == "fail" and new_status != "fail":
            change = "fixed"
        elif old and new and old_severity != new_severity:
            change = "severity changed"
        elif old and new and old_status != new_status:
            change = "status changed"
        else:
            continue
        shown = new or old
        assert shown is not None  # every id comes from one side or the other
        changes.append(
            PolicyChange(
                id=policy_id,
                title=str(shown.get("title", "")),
                change=change,
                mandatory=bool(shown.get("mandatory", False)),
                before_status=old_status,
                after_status=new_status,
                before_severity=old_severity,
                after_severity=new_severity,
            )
        )
    return changes
