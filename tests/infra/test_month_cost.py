"""This month's cost of one compute resource, on a fixed clock (pure: no Pulumi, no Azure)."""

from __future__ import annotations

import datetime as dt

import pytest
from mlstart_infra.components import catalog
from mlstart_infra.month_cost import (
    Timeline,
    UnitRate,
    month_bounds,
    month_cost,
    unit_rate,
)
from mlstart_infra.pricing import PriceTable

UTC = dt.UTC
ONE_AN_HOUR = UnitRate("machine", 1.0)
#: November has 30 days: 720 hours.
NOV = dt.datetime(2026, 11, 1, tzinfo=UTC)
TENTH = dt.datetime(2026, 11, 11, tzinfo=UTC)  # 240 hours into November


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def test_month_bounds_follow_the_calendar_in_utc() -> None:
    assert month_bounds(at(23, 12)) == (NOV, dt.datetime(2026, 12, 1, tzinfo=UTC))
    december = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert month_bounds(december)[1] == dt.datetime(2027, 1, 1, tzinfo=UTC)
    # 00:30 on 1 December in Berlin is still November in UTC.
    berlin = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert month_bounds(berlin)[0] == NOV
    with pytest.raises(ValueError, match="aware"):
        month_bounds(dt.datetime(2026, 11, 1))


def test_running_all_month_costs_every_hour_and_the_rest_if_it_stays_up() -> None:
    cost = month_cost(ONE_AN_HOUR, Timeline(((NOV, 1.0),)), TENTH)
    assert cost is not None
    assert (cost.so_far, cost.rest, cost.total, cost.complete) == (240.0, 480.0, 720.0, True)


def test_a_stopped_machine_costs_what_it_ran_and_nothing_more() -> None:
    timeline = Timeline(((NOV, 1.0), (at(3), 0.0), (at(5, 8), 1.0), (at(5, 19), 0.0)))
    cost = month_cost(ONE_AN_HOUR, timeline, TENTH)
    assert cost is not None
    assert (cost.so_far, cost.rest) == (48.0 + 11.0, 0.0)


def test_nothing_is_counted_before_the_resource_was_created() -> None:
    cost = month_cost(ONE_AN_HOUR, Timeline(((NOV, 1.0),)), TENTH, created=at(9, 12))
    assert cost is not None
    assert (cost.so_far, cost.counted_from, cost.complete) == (36.0, at(9, 12), True)
    # Created last month: the month counts from its start.
    old = month_cost(
        ONE_AN_HOUR, Timeline(((NOV, 1.0),)), TENTH, created=dt.datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert old is not None and old.so_far == 240.0


def test_an_unknown_past_is_not_counted_and_the_result_says_so() -> None:
    """Only "2 nodes since the 9th" is known: the first eight days are not counted."""
    cost = month_cost(UnitRate("node", 0.5), Timeline(((at(9), 2.0),)), TENTH)
    assert cost is not None
    assert (cost.so_far, cost.counted_from, cost.complete) == (48.0, at(9), False)
    assert cost.rest == 2 * 0.5 * 480


def test_fixed_charges_accrue_all_month_even_when_stopped() -> None:
    disk = UnitRate("machine", 1.0, fixed_monthly=30.0)
    cost = month_cost(disk, Timeline(((NOV, 0.0),)), TENTH)
    assert cost is not None
    assert (cost.so_far, cost.rest) == (10.0, 20.0)  # 10 of November's 30 days


def test_changes_after_now_are_ignored_and_unpriced_rates_give_none() -> None:
    timeline = Timeline(((NOV, 1.0), (at(20), 0.0)))
    cost = month_cost(ONE_AN_HOUR, timeline, TENTH)
    assert cost is not None and cost.rest == 480.0
    assert month_cost(UnitRate("machine", None), timeline, TENTH) is None
    assert cost.to_dict()["total"] == 720.0 and cost.to_dict()["complete"] is True


TABLE = PriceTable.load()


def test_unit_rates_follow_what_was_deployed() -> None:
    vm = unit_rate(catalog.VM, {
        "hardwareProfile": {"vmSize": "Standard_NC4as_T4_v3"},
        "storageProfile": {"osDisk": {"diskSizeGB": 128,
                                      "managedDisk": {"storageAccountType": "Premium_LRS"}}},
    }, "westeurope", TABLE)  # fmt: skip
    assert vm is not None
    assert (vm.unit, vm.hourly) == (
        "machine",
        TABLE.vm_hourly("Standard_NC4as_T4_v3", "westeurope"),
    )
    assert vm.fixed_monthly == TABLE.disk_monthly("Premium_LRS", 128, "westeurope")

    def ml(kind: str, **props: object) -> UnitRate | None:
        inputs = {
            "properties": {
                "computeType": kind,
                "properties": {"vmSize": "Standard_DS3_v2", **props},
            }
        }
        return unit_rate(catalog.ML_COMPUTE, inputs, "eastus", TABLE)

    node, machine = ml("AmlCompute"), ml("ComputeInstance")
    assert node is not None and machine is not None
    assert (node.unit, machine.unit) == ("node", "machine")
    assert node.hourly == machine.hourly == TABLE.vm_hourly("Standard_DS3_v2", "eastus")
    low = ml("AmlCompute", vmPriority="LowPriority")
    assert low is not None and low.hourly is None and "no recorded price" in low.note

    deployment = unit_rate(catalog.DEPLOYMENT, {"properties": {"instanceType": "Standard_DS3_v2"}},
                           "eastus", TABLE)  # fmt: skip
    assert deployment is not None and deployment.unit == "instance"
    app = unit_rate(catalog.CONTAINER_APP, {"template": {"containers": [
        {"resources": {"cpu": 0.5, "memory": "1Gi"}}]}}, "westeurope", TABLE)  # fmt: skip
    vcpu = TABLE.quote("container_apps", "vcpu_second", "westeurope")
    gib = TABLE.quote("container_apps", "gib_second", "westeurope")
    assert app is not None and app.unit == "replica" and vcpu and gib
    assert app.hourly == pytest.approx((0.5 * vcpu.value + gib.value) * 3600)
    assert unit_rate(catalog.ENDPOINT, {}, "westeurope", TABLE) is None


def test_sizes_missing_from_the_table_are_unpriced_not_guessed() -> None:
    rate = unit_rate(catalog.VM, {"hardwareProfile": {"vmSize": "Standard_Z9"}}, "mars", TABLE)
    assert rate is not None and rate.hourly is None
    assert rate.note == "no recorded price for Standard_Z9 in mars"
