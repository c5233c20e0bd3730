"""The diff of two plans (``mlstart plan --diff``) on hand-built plan documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from mlstart.core.plan_diff import diff_plans, load_plan
from mlstart.errors import UsageError


def line(resource: str, always_on: float | None, scheduled: float | None, **extra: Any) -> Any:
    return {
        "resource": resource,
        "type": extra.pop("type", "azure-native:compute:VirtualMachine"),
        "component": extra.pop("component", "workstation"),
        "basis": "compute",
        "description": extra.pop("description", "Standard_NC4as_T4_v3"),
        "always_on": always_on,
        "scheduled": scheduled,
        **extra,
    }


def policy(pid: str, status: str, severity: str = "high", mandatory: bool = True) -> Any:
    return {"id": pid, "title": f"{pid} title", "severity": severity, "mandatory": mandatory,
            "status": status}  # fmt: skip


def plan(lines: list[Any], policies: list[Any], project: str = "demo") -> dict[str, Any]:
    return {
        "project": project,
        "stack": "dev",
        "passed": all(p["status"] != "fail" or not p["mandatory"] for p in policies),
        "policies": policies,
        "cost": {
            "currency": "USD",
            "total_always_on": round(sum(x["always_on"] or 0 for x in lines), 2),
            "total_scheduled": round(sum(x["scheduled"] or 0 for x in lines), 2),
            "lines": lines,
        },
    }


BASE = plan(
    [
        line("vm-demo", 380.0, 120.0),
        line("vm-demo", 10.0, 10.0, description="OS disk"),  # same resource: summed
        line("kv-demo", 0.0, 0.0, type="azure-native:keyvault:Vault", component="workspace"),
        line("old-demo", 5.0, 5.0, type="azure-native:containerregistry:Registry"),
    ],
    [policy("P-1", "pass"), policy("P-2", "fail", mandatory=False), policy("P-3", "pass"),
     policy("P-4", "fail", "low", mandatory=False), policy("P-5", "not-applicable")],
)  # fmt: skip


def test_identical_plans_have_no_changes() -> None:
    diff = diff_plans(BASE, copy.deepcopy(BASE))
    assert diff.unchanged and diff.costs == [] and diff.policies == []
    assert diff.delta_always_on == 0 and diff.delta_scheduled == 0


def test_added_removed_and_changed_resources_and_verdicts() -> None:
    head = plan(
        [
            line("vm-demo", 760.0, 240.0),
            line("vm-demo", 10.0, 10.0, description="OS disk"),
            line("kv-demo", 0.0, 0.0, type="azure-native:keyvault:Vault", component="workspace"),
            line("new-demo", None, None, type="azure-native:app:ContainerApp"),
        ],
        [policy("P-1", "fail"), policy("P-2", "pass", mandatory=False), policy("P-3", "pass"),
         policy("P-4", "fail", "high", mandatory=False), policy("P-5", "pass"),
         policy("P-6", "fail")],
    )  # fmt: skip
    diff = diff_plans(BASE, head)
    changes = {c.resource: c for c in diff.costs}
    assert set(changes) == {"vm-demo", "new-demo", "old-demo"}  # kv-demo is unchanged
    vm = changes["vm-demo"]
    assert vm.change == "changed"
    assert (vm.before_always_on, vm.after_always_on, vm.delta_always_on) == (390.0, 770.0, 380.0)
    assert (vm.before_scheduled, vm.after_scheduled, vm.delta_scheduled) == (130.0, 250.0, 120.0)
    assert changes["new-demo"].change == "added" and changes["new-demo"].before_always_on is None
    assert changes["new-demo"].delta_always_on == 0  # unpriced counts as 0
    assert changes["old-demo"].change == "removed" and changes["old-demo"].delta_always_on == -5
    assert diff.delta_always_on == pytest.approx(375.0)
    assert diff.delta_scheduled == pytest.approx(115.0)
    verdicts = {p.id: p.change for p in diff.policies}
    assert verdicts == {
        "P-1": "new failure",
        "P-2": "fixed",
        "P-4": "severity changed",
        "P-5": "status changed",
        "P-6": "new failure",  # a policy the base did not check
    }
    assert diff.before_passed and not diff.after_passed
    document = json.loads(json.dumps(diff.to_dict()))
    assert document["total"]["delta_always_on"] == pytest.approx(375.0)
    vm_json = next(r for r in document["resources"] if r["resource"] == "vm-demo")
    assert vm_json["delta_scheduled"] == 120.0 and vm_json["component"] == "workstation"


def test_plans_of_another_project_or_currency_are_refused() -> None:
    with pytest.raises(UsageError, match="project 'other'"):
        diff_plans(plan([], [], project="other"), BASE)
    euros = copy.deepcopy(BASE)
    euros["cost"]["currency"] = "EUR"
    with pytest.raises(UsageError, match="EUR"):
        diff_plans(euros, BASE)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"project": "demo"}', "no 'stack'"),
        (json.dumps({**BASE, "cost": {**BASE["cost"], "total_always_on": "x"}}).encode(),
         "cost.total_always_on"),
        (json.dumps({**BASE, "policies": [{"status": "pass"}]}).encode(), "without an id"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_plan_is_one_usage_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "base.json"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as raised:
        load_plan(path)
    assert raised.value.exit_code == 2 and "\n" not in str(raised.value)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the base plan"):
        load_plan(tmp_path / "absent.json")


def test_a_saved_plan_loads(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    assert load_plan(path) == BASE
