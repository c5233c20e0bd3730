"""The MLS-PROD policies: stricter rules for stacks whose environment tag is prod."""

from __future__ import annotations

import pytest
from mlstart_infra import policies
from mlstart_infra.offline.graph import PlannedResource, ResourceGraph


def _resource(type_: str, name: str, env: str = "prod", **inputs: object) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:{name}", type=f"azure-native:{type_}", name=name, azure_name=name,
        custom=True, inputs={"tags": {"environment": env}, **inputs}, id=f"/id/{name}",
    )  # fmt: skip


def _cluster(low_priority: bool, public_ip: bool = False, env: str = "prod") -> PlannedResource:
    props = {"vmPriority": "LowPriority" if low_priority else "Dedicated",
             "enableNodePublicIp": public_ip}  # fmt: skip
    return _resource("machinelearningservices:Compute", "train", env,
                     properties={"computeType": "AmlCompute", "properties": props})  # fmt: skip


def _app(min_replicas: int, env: str = "prod") -> PlannedResource:
    scale = {"scale": {"minReplicas": min_replicas}}
    return _resource("app:ContainerApp", "ca", env, template=scale)


def _statuses(*resources: PlannedResource, group_env: str | None = "prod") -> dict[str, str]:
    group = [_resource("resources:ResourceGroup", "rg", group_env)] if group_env else []
    graph = ResourceGraph("p", "prod", [*group, *resources])
    return {r.policy.id: r.status for r in policies.evaluate(graph)}


def test_a_production_stack_with_the_production_defaults_passes() -> None:
    status = _statuses(_cluster(low_priority=False), _app(1))
    assert [status[f"MLS-PROD-00{i}"] for i in range(1, 5)] == ["pass"] * 4
    # Serving that keeps a replica is what production asks for, not a cost warning there.
    assert status["MLS-COST-007"] == "not-applicable"


@pytest.mark.parametrize(
    ("resources", "failing"),
    [
        ((_resource("compute:VirtualMachine", "vm"),), "MLS-PROD-001"),
        ((_app(0),), "MLS-PROD-002"),
        ((_resource("network:PublicIPAddress", "pip"),), "MLS-PROD-003"),
        ((_cluster(low_priority=False, public_ip=True),), "MLS-PROD-003"),
        ((_cluster(low_priority=True),), "MLS-PROD-004"),
    ],
)
def test_each_production_rule_fails_on_what_it_forbids(
    resources: tuple[PlannedResource, ...], failing: str
) -> None:
    status = _statuses(*resources)
    assert status[failing] == "fail"
    prod = {pid: s for pid, s in status.items() if pid.startswith("MLS-PROD")}
    assert [pid for pid, s in prod.items() if s == "fail"] == [failing]


def test_other_environments_are_not_judged_by_the_production_rules() -> None:
    status = _statuses(
        _resource("compute:VirtualMachine", "vm", "dev"), _app(0, "dev"),
        _cluster(low_priority=True, env="dev"), group_env="dev",
    )  # fmt: skip
    assert {s for pid, s in status.items() if pid.startswith("MLS-PROD")} == {"not-applicable"}
    assert status["MLS-COST-007"] == "pass"


def test_the_environment_comes_from_the_tags_when_there_is_no_resource_group() -> None:
    status = _statuses(_app(0), _cluster(low_priority=True), group_env=None)
    assert status["MLS-PROD-002"] == status["MLS-PROD-004"] == "fail"
    assert policies.is_production(ResourceGraph("p", "s", [_app(1, "production")]))
    assert not policies.is_production(ResourceGraph("p", "s", [_app(1, "staging")]))
