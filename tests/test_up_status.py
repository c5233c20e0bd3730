"""`mlstart up` and `mlstart status` against the stand-in Pulumi CLI (no real one here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from mlstart.cli import app, main
from mlstart.core.new import new_project
from mlstart.core.plan import plan_project
from mlstart.core.status import stack_status
from mlstart.core.up import provision
from mlstart.errors import PolicyFailureError, UsageError
from typer.testing import CliRunner

from tests.standin import (  # noqa: F401
    SUBSCRIPTION,
    StandinAz,
    StandinPulumi,
    program_from_graph,
    standin_az,
    standin_pulumi,
)

pytest.importorskip("pulumi_azure_native")
runner = CliRunner()
CONNECT = (
    "az network bastion ssh --name bas-going-up --resource-group rg-going-up-dev "
    "--target-resource-id /subscriptions/x/resourceGroups/rg-going-up-dev/providers/"
    "Microsoft.Compute/virtualMachines/vm-going-up --auth-type ssh-key --username azureuser "
    "--ssh-key ~/.ssh/id_ed25519"
)
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0c3RhcnQtdGVzdC1rZXktbm90LXJlYWwtMDAwMDAw test"


@pytest.fixture
def project(tmp_path: Path, standin_pulumi: StandinPulumi) -> Path:  # noqa: F811
    """A generated project; the stand-in's `up` creates what its offline plan records."""
    root = new_project(
        "Going Up",
        output_dir=tmp_path,
        defaults=True,
        lock=False,
        data={"ssh_public_key": SSH_KEY, "decommission_by": "2030-01-31"},
    ).path
    graph = plan_project(root).graph.to_dict()["resources"]
    standin_pulumi.program(
        program_from_graph(graph),
        {
            "resourceGroupName": "rg-going-up-dev",
            "storageKey": "not-shown",
            "workstation_connect": CONNECT,
        },
    )
    return root


def test_up_runs_preflight_then_pulumi_up(project: Path, standin_pulumi: StandinPulumi) -> None:  # noqa: F811
    lines: list[str] = []
    result = provision(project, on_output=lines.append)
    calls = standin_pulumi.calls()
    assert ["stack", "init", "dev"] in [call[:3] for call in calls]
    up = [call for call in calls if call[0] == "up"]
    assert len(up) == 1 and "--yes" in up[0] and up[0][-2:] == ["--stack", "dev"]
    assert result.changes["create"] > 10
    assert result.outputs["resourceGroupName"] == "rg-going-up-dev"
    assert any("Updating (dev)" in line for line in lines)
    assert any("policies" in check for check in result.checks)
    vm = [r for r in standin_pulumi.state()["resources"] if r["type"].endswith("VirtualMachine")]
    assert len(vm) == 1


def test_up_command_streams_output(project: Path) -> None:
    result = runner.invoke(app, ["up", str(project)])
    assert result.exit_code == 0, result.output
    assert "azure-native:devtestlab:GlobalSchedule" in result.output
    assert "Stack 'dev' is up (" in result.output


def test_up_refuses_when_a_mandatory_policy_fails(
    project: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    program = project / "infra" / "__main__.py"
    program.write_text(
        program.read_text()
        + "\nfrom pulumi_azure_native import storage\n\n"
        + "storage.StorageAccount('added-by-hand', account_name='stbyhand001',\n"
        + "    resource_group_name='rg-going-up-dev', kind='StorageV2',\n"
        + "    sku=storage.SkuArgs(name='Standard_LRS'), enable_https_traffic_only=False)\n"
    )
    with pytest.raises(PolicyFailureError, match="MLS-STO-001"):
        provision(project)
    assert not [call for call in standin_pulumi.calls() if call[0] == "up"]


def test_up_refuses_incomplete_stack_config(project: Path) -> None:
    infra = project / "infra"
    (infra / "Pulumi.prod.yaml").write_text("config:\n  azure-native:location: westeurope\n")
    with pytest.raises(UsageError, match=r"Pulumi\.prod\.yaml does not set"):
        provision(project, stack="prod")


def test_up_refuses_a_missing_ssh_key_file(project: Path) -> None:
    config = project / "infra" / "Pulumi.dev.yaml"
    config.write_text(config.read_text().replace(SSH_KEY, "~/.ssh/no-such-key.pub"))
    with pytest.raises(UsageError, match="does not exist"):
        provision(project)


def test_up_without_pulumi_cli_points_at_plan(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SystemExit) as exited:
        main(["up", str(project)])
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "the Pulumi CLI is not installed" in err and "mlstart plan" in err


def test_failed_pulumi_up_is_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANDIN_PULUMI_FAIL", "up")
    with pytest.raises(SystemExit) as exited:
        main(["up", str(project)])
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: pulumi up failed: update failed: the stand-in was told to fail"
    )


def test_status_reports_compute_shutdown_cost_and_days_left(project: Path) -> None:
    provision(project)
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    report = stack_status(project, today=dt.date(2029, 12, 31), now=now)
    labels = {compute.label for compute in report.compute}
    assert labels == {"GPU workstation", "training cluster", "container app"}
    # No Azure CLI here: each resource says so in one line; the rest of the report stands.
    for compute in report.compute:
        assert compute.problem is not None and compute.problem.startswith("state unknown: az ")
        assert compute.rate is not None and compute.month is None
    assert report.next_shutdown == dt.datetime(2026, 11, 23, 19, 0, tzinfo=dt.UTC)
    assert report.cost is not None
    assert report.cost["total_scheduled"] < report.cost["total_always_on"]
    assert report.days_left == 31
    assert report.outputs["storageKey"] == "not-shown"
    assert report.warnings == []


def test_status_warns_once_the_date_has_passed(project: Path) -> None:
    provision(project)
    report = stack_status(project, today=dt.date(2030, 2, 10))
    assert report.days_left == -10
    assert any("has passed (10 days ago)" in warning for warning in report.warnings)


def test_status_command(project: Path) -> None:
    provision(project)
    result = runner.invoke(app, ["status", str(project)])
    assert result.exit_code == 0, result.output
    assert "Next scheduled shutdown:" in result.output
    assert "Estimated monthly cost:" in result.output
    assert "Decommission by: 2030-01-31" in result.output
    assert f"Connect to the workstation: {CONNECT}" in result.output


def test_status_reports_the_connect_command_only_when_exported(
    project: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    provision(project)
    assert stack_status(project).connect == CONNECT
    program = standin_pulumi.program_file.read_text().replace('"workstation_connect"', '"x"')
    standin_pulumi.program_file.write_text(program)
    provision(project)
    assert stack_status(project).connect is None
    assert "Connect to the workstation" not in runner.invoke(app, ["status", str(project)]).output


def test_up_without_az_says_which_roles_to_check_by_hand(project: Path) -> None:
    result = provision(project)
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.startswith("Azure roles not checked (az not found)")
    assert "Contributor on resource group rg-going-up-dev" in warning
    assert "User Access Administrator" in warning  # the idle-shutdown custom role
    assert "check by hand: az role assignment list" in warning


def test_up_checks_the_deploying_identitys_roles_with_az(
    project: Path,
    standin_az: StandinAz,  # noqa: F811
) -> None:
    standin_az.login("ci-app-id", kind="servicePrincipal")
    standin_az.assign("ci-app-id", "Contributor", f"/subscriptions/{SUBSCRIPTION}")
    result = provision(project)
    assert any(
        check.startswith("Azure role Contributor on resource group rg-going-up-dev")
        and check.endswith("is assigned to ci-app-id")
        for check in result.checks
    )
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(
        "Azure role User Access Administrator on resource group rg-going-up-dev "
        "is not assigned to ci-app-id"
    )
    listed = [call for call in standin_az.calls() if call[:3] == ["role", "assignment", "list"]]
    assert listed and listed[0][3:6] == ["--assignee", "ci-app-id", "--all"]

    scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-going-up-dev"
    standin_az.assign("ci-app-id", "User Access Administrator", scope)
    assert provision(project).warnings == []


def test_status_of_a_stack_that_was_never_created(project: Path) -> None:
    with pytest.raises(UsageError, match="stack 'dev' does not exist"):
        stack_status(project)
