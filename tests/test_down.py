"""`mlstart down` against the stand-in Pulumi CLI (the real one cannot be installed here)."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlstart.cli import app, main
from mlstart.core.down import (
    REDACTED,
    SECRET_SIGNATURE,
    DecommissionCancelled,
    kept_by_exclude_protected,
    redact,
    soft_deleted_notes,
)
from mlstart.core.new import new_project
from mlstart.core.stack import StackResource
from mlstart_infra.components import catalog as c
from typer.testing import CliRunner

from tests.standin import StandinPulumi, standin_pulumi  # noqa: F401

runner = CliRunner()


def res(type_: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "name": name, **extra}


RG = ["resource-group"]
#: A stack as the generated program leaves it, with the parents and dependencies Pulumi
#: records: the protected workspace needs the vault, insights (which needs the logs) and
#: registry; the protected budget watches the resource group.
RESOURCES = [
    res(c.RESOURCE_GROUP, "resource-group", outputs={"name": "rg-ending-soon-dev"}),
    res("mlstart:azure:MlWorkspace", "workspace", custom=False),
    res(c.STORAGE, "workspace-storage", parent="workspace", protect=True, dependsOn=RG),
    res(c.VAULT, "workspace-vault", parent="workspace", protect=True, dependsOn=RG,
        inputs={"properties": {"softDeleteRetentionInDays": 30, "enablePurgeProtection": True}},
        outputs={"name": "kv-ending-soon-a1b2c3"}),
    res(c.LOG_ANALYTICS, "workspace-logs", parent="workspace", dependsOn=RG,
        outputs={"name": "log-ending-soon"}),
    res(c.APP_INSIGHTS, "workspace-insights", parent="workspace", dependsOn=RG,
        propertyDependencies={"workspaceResourceId": ["workspace-logs"]}),
    res(c.REGISTRY, "workspace-registry", parent="workspace", protect=True, dependsOn=RG),
    res(c.ML_WORKSPACE, "workspace-workspace", parent="workspace", protect=True,
        dependsOn=[*RG, "workspace-storage", "workspace-vault", "workspace-registry"],
        propertyDependencies={"applicationInsights": ["workspace-insights"]},
        outputs={"name": "mlw-ending-soon"}),
    res("mlstart:azure:GpuWorkstation", "workstation", custom=False),
    res(c.VNET, "workstation-vnet", parent="workstation", dependsOn=RG),
    res(c.VM, "workstation-vm", parent="workstation", dependsOn=[*RG, "workstation-vnet"]),
    res(c.SCHEDULE, "workstation-shutdown", parent="workstation", dependsOn=["workstation-vm"]),
    res("mlstart:azure:CostGuard", "cost-guard", custom=False),
    res(c.BUDGET, "cost-guard-budget", parent="cost-guard", protect=True,
        propertyDependencies={"scope": RG}),
]  # fmt: skip
PROTECTED = {r["name"] for r in RESOURCES if r.get("protect")}
#: What `pulumi destroy --exclude-protected` keeps: the protected resources, their parents
#: and what they depend on (the workspace needs insights, insights needs the logs).
KEPT = PROTECTED | {
    "resource-group", "workspace", "workspace-insights", "workspace-logs", "cost-guard",
}  # fmt: skip
DESTROYED = {"workstation", "workstation-vnet", "workstation-vm", "workstation-shutdown"}


@pytest.fixture
def deployed(tmp_path: Path, standin_pulumi: StandinPulumi) -> Path:  # noqa: F811
    """A generated project whose dev stack holds RESOURCES."""
    project = new_project("Ending Soon", output_dir=tmp_path, defaults=True, lock=False).path
    infra = project / "infra"
    assert (infra / "Pulumi.yaml").is_file()
    (project / "reports").mkdir(exist_ok=True)
    (project / "reports" / "metrics.json").write_text('{"metrics": {"roc_auc": 0.83}}\n')
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "metrics"], cwd=project, check=True)
    standin_pulumi.program(RESOURCES, {"workspaceName": "mlw-ending-soon"})
    for args in (["stack", "init", "dev"], ["up", "--yes", "--stack", "dev"]):
        subprocess.run(["pulumi", *args], cwd=infra, check=True, capture_output=True)
    return project


def resource_names(standin: StandinPulumi) -> set[str]:
    return {r["name"] for r in standin.state()["resources"] if not r["type"].startswith("pulumi:")}


def test_down_keeps_protected_data_and_archives(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed), "--yes"])
    assert result.exit_code == 0, result.output
    assert resource_names(standin_pulumi) == KEPT
    destroy = [call for call in standin_pulumi.calls() if call[0] == "destroy"]
    assert len(destroy) == 1 and "--exclude-protected" in destroy[0]
    assert "destroy  azure-native:compute:VirtualMachine  workstation-vm" in result.output
    assert (
        "keep     azure-native:storage:StorageAccount  workspace-storage  (protected data)"
        in result.output
    )
    assert "Still in the stack:" in result.output
    assert "Destroyed 4 resource(s)." in result.output
    assert "Soft-deleted" not in result.output and "New name suffix" not in result.output

    archives = list((deployed / "decommission").iterdir())
    assert len(archives) == 1
    files = {path.name for path in archives[0].iterdir()}
    assert files == {
        "README.md", "stack-dev.json", "outputs-dev.json", "Pulumi.dev.yaml",
        "copier-answers.yml", "final-metrics.json",
    }  # fmt: skip
    log = subprocess.run(
        ["git", "log", "-1", "--format=%s", "--name-only"], cwd=deployed,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert log.startswith("Decommission record for stack dev")
    assert "decommission/" in log
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=deployed, capture_output=True, text=True, check=True
    ).stdout
    assert status == ""


def test_down_asks_for_the_project_name(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed)], input="wrong name\n")
    assert isinstance(result.exception, DecommissionCancelled)
    assert resource_names(standin_pulumi) == {r["name"] for r in RESOURCES}
    assert not (deployed / "decommission").exists()

    result = runner.invoke(app, ["down", str(deployed)], input="Ending Soon\n")
    assert result.exit_code == 0, result.output
    assert resource_names(standin_pulumi) == KEPT


def test_include_data_needs_a_second_confirmation(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    refused = runner.invoke(
        app, ["down", str(deployed), "--include-data"], input="Ending Soon\nn\n"
    )
    assert isinstance(refused.exception, DecommissionCancelled)
    assert "workspace-storage" in resource_names(standin_pulumi)

    result = runner.invoke(
        app, ["down", str(deployed), "--include-data", "--remove-stack"], input="Ending Soon\ny\n"
    )
    assert result.exit_code == 0, result.output
    assert ["state", "unprotect", "--all", "--yes", "--stack", "dev"] in standin_pulumi.calls()
    assert not (standin_pulumi.home / "stacks" / "dev.json").exists()
    assert "Nothing is left in the stack." in result.output
    assert "Stack 'dev' removed (its Pulumi.dev.yaml is kept)." in result.output
    assert ["stack", "rm", "--yes", "--preserve-config", "dev"] in standin_pulumi.calls()


def test_remove_stack_is_refused_while_data_remains(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed), "--yes", "--remove-stack"])
    assert result.exit_code == 0, result.output
    assert f"stack 'dev' kept: {len(KEPT)} resource(s) remain" in result.output
    assert (standin_pulumi.home / "stacks" / "dev.json").exists()


def test_unknown_stack_is_a_one_line_error(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["down", str(deployed), "--stack", "prod", "--yes"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: stack 'prod' does not exist; create it with `mlstart up`"
    )


def test_missing_pulumi_cli_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = new_project("No Cli", output_dir=tmp_path, defaults=True, lock=False).path
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SystemExit) as exited:
        main(["down", str(project), "--yes"])
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: the Pulumi CLI is not installed: install it from")
    assert "mlstart plan" in err


def test_secrets_are_redacted_from_the_archive() -> None:
    state = {"outputs": {"key": {SECRET_SIGNATURE: "1b47061264138c4ac30d75fd1eb44270",
                                 "plaintext": '"hunter2"'}, "name": "x"}}  # fmt: skip
    assert redact(state) == {"outputs": {"key": REDACTED, "name": "x"}}
    assert "hunter2" not in yaml.safe_dump(redact(state))


def stack_state(resources: list[dict[str, Any]], protected: set[str]) -> list[StackResource]:
    """StackResources as `pulumi stack export` gives them, for a chain of dicts."""

    def urn(name: str) -> str:
        return f"urn:pulumi:dev::p::t::{name}"

    provider = "urn:pulumi:dev::p::pulumi:providers:azure-native::default"
    state = [
        StackResource(type="pulumi:pulumi:Stack", name="p-dev", urn=urn("p-dev"), protect=False,
                      custom=False),
        StackResource(type="pulumi:providers:azure-native", name="default", urn=provider,
                      protect=False, parent=urn("p-dev")),
    ]  # fmt: skip
    for r in resources:
        state.append(
            StackResource.from_state(
                {
                    "urn": urn(r["name"]),
                    "type": r["type"],
                    "protect": r["name"] in protected,
                    "custom": r.get("custom", True),
                    "parent": urn(r["parent"]) if r.get("parent") else urn("p-dev"),
                    "dependencies": [urn(n) for n in r.get("dependsOn", [])],
                    "propertyDependencies": {
                        k: [urn(n) for n in v] for k, v in r.get("propertyDependencies", {}).items()
                    },
                    "provider": f"{provider}::1234" if r.get("custom", True) else "",
                }
            )
        )
    return state


def test_kept_closure_follows_parents_dependencies_and_the_provider() -> None:
    state = stack_state(RESOURCES, PROTECTED)
    kept = kept_by_exclude_protected(state)
    names = {r.name for r in state if r.urn in kept}
    assert names == KEPT | {"p-dev", "default"}
    insights = next(r for r in state if r.name == "workspace-insights")
    assert kept[insights.urn] == "workspace-workspace (protected) needs it"
    budget = next(r for r in state if r.name == "cost-guard-budget")
    assert "keeps watching what still bills" in kept[budget.urn]
    # Children of a protected resource are not kept; a kept resource's dependents are not.
    only_vault = kept_by_exclude_protected(stack_state(RESOURCES, {"workspace-vault"}))
    assert {r.name for r in state if r.urn in only_vault} == {
        "p-dev",
        "default",
        "workspace",
        "workspace-vault",
        "resource-group",
    }
    assert kept_by_exclude_protected(stack_state(RESOURCES, set())) == {}


def test_budget_is_listed_as_kept_with_its_reason(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed), "--yes"])
    assert result.exit_code == 0, result.output
    assert (
        "keep     azure-native:consumption:Budget  cost-guard-budget  (protected: the budget "
        "keeps watching what still bills; it goes with --include-data)" in result.output
    )
    assert "keep     azure-native:operationalinsights:Workspace  workspace-logs" in result.output
    # The plan's "destroy" lines are exactly what the (stand-in) Pulumi destroyed.
    planned = set(re.findall(r"^  destroy  \S+  (\S+)$", result.output, re.MULTILINE))
    assert planned == DESTROYED
    summary = next((deployed / "decommission").iterdir()) / "README.md"
    assert "`cost-guard-budget`: protected: the budget keeps watching" in summary.read_text()


def test_include_data_rotates_the_suffix_and_says_what_stays_soft_deleted(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    config = deployed / "infra" / "Pulumi.dev.yaml"
    before = yaml.safe_load(config.read_text())["config"]["ending-soon:nameSuffix"]
    result = runner.invoke(
        app, ["down", str(deployed), "--include-data", "--remove-stack", "--yes"], input="y\n"
    )
    assert result.exit_code == 0, result.output
    text = config.read_text()
    after = yaml.safe_load(text)["config"]["ending-soon:nameSuffix"]
    assert re.fullmatch(r"[a-z0-9]{6}", after) and after != before
    assert text.startswith('# Stack "dev"')  # comments kept
    assert f"New name suffix for stack 'dev': {after}" in result.output
    assert (
        "key vault kv-ending-soon-a1b2c3 stays soft-deleted for 30 days "
        "(softDeleteRetentionInDays, until " in result.output
    )
    assert "purge protection is on, so it cannot be purged before then" in result.output
    assert "Azure ML workspace mlw-ending-soon stays soft-deleted for 14 days" in result.output
    assert "concept-soft-delete" in result.output
    summary = (next((deployed / "decommission").iterdir()) / "README.md").read_text()
    assert "## After the destroy" in summary and f"`nameSuffix` is now `{after}`" in summary
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=deployed, capture_output=True, text=True, check=True
    ).stdout
    assert status == ""


def test_soft_deleted_notes_read_retention_from_the_state() -> None:
    day = dt.date(2026, 11, 24)
    vault = StackResource(
        type=c.VAULT, name="v", urn="u", protect=False, outputs={"name": "kv-x"},
        inputs={"properties": {"enablePurgeProtection": False}},
    )  # fmt: skip
    workspace = StackResource(type=c.ML_WORKSPACE, name="w", urn="w", protect=False)
    vm = StackResource(type=c.VM, name="vm", urn="vm", protect=False)
    notes = soft_deleted_notes([vault, workspace, vm], day)
    assert notes[0] == (
        "key vault kv-x stays soft-deleted for 90 days (softDeleteRetentionInDays, until "
        "2027-02-22): purge it sooner with `az keyvault purge --name kv-x`; its name stays taken"
    )
    assert notes[1].startswith(
        "Azure ML workspace w stays soft-deleted for 14 days (until 2026-12-08)"
    )
    assert len(notes) == 2


def git_out(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_without_a_terminal_down_asks_for_yes(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exited:
        main(["down", str(deployed)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: no terminal to confirm on: pass --yes to decommission without typing the "
        "project name; nothing was destroyed"
    )
    assert resource_names(standin_pulumi) == {r["name"] for r in RESOURCES}
    assert not (deployed / "decommission").exists()


def test_include_data_without_a_terminal_is_refused_even_with_yes(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exited:
        main(["down", str(deployed), "--yes", "--include-data"])
    assert exited.value.code == 2
    assert "destroying the data must be confirmed at a terminal" in capsys.readouterr().err
    assert resource_names(standin_pulumi) == {r["name"] for r in RESOURCES}


def test_failed_destroy_commits_no_record(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = git_out(deployed, "rev-parse", "HEAD")
    monkeypatch.setenv("STANDIN_PULUMI_FAIL", "destroy")
    with pytest.raises(SystemExit) as exited:
        main(["down", str(deployed), "--yes"])
    assert exited.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: pulumi destroy failed: ")
    assert last.endswith(
        "no decommission record was kept (see `pulumi stack history`; run `mlstart down` "
        "again once fixed)"
    )
    assert git_out(deployed, "rev-parse", "HEAD") == head
    assert git_out(deployed, "status", "--porcelain") == ""
    assert not (deployed / "decommission").exists()

    monkeypatch.delenv("STANDIN_PULUMI_FAIL")
    result = runner.invoke(app, ["down", str(deployed), "--yes"])
    assert result.exit_code == 0, result.output
    assert git_out(deployed, "log", "-1", "--format=%s").startswith("Decommission record")


def test_unwritable_archive_folder_is_one_line_and_destroys_nothing(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    (deployed / "decommission").write_text("a file where the records go\n")
    with pytest.raises(SystemExit) as exited:
        main(["down", str(deployed), "--yes"])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == (
        f"error: cannot create {deployed / 'decommission'} for the decommission record: "
        "File exists; nothing was destroyed"
    )
    assert not any(call[0] == "destroy" for call in standin_pulumi.calls())
    assert resource_names(standin_pulumi) == {r["name"] for r in RESOURCES}


def test_a_second_record_on_the_same_day_keeps_the_first(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    first = runner.invoke(app, ["down", str(deployed), "--yes"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["down", str(deployed), "--yes", "--include-data"], input="y\n")
    assert second.exit_code == 0, second.output
    folders = sorted(path.name for path in (deployed / "decommission").iterdir())
    assert len(folders) == 2 and folders[1] == f"{folders[0]}-2"
    assert git_out(deployed, "status", "--porcelain") == ""
