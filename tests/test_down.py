"""`mlstart down` against the stand-in Pulumi CLI (the real one cannot be installed here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from mlstart.cli import app, main
from mlstart.core.down import REDACTED, SECRET_SIGNATURE, DecommissionCancelled, redact
from mlstart.core.new import new_project
from typer.testing import CliRunner

from tests.standin import StandinPulumi, standin_pulumi  # noqa: F401

runner = CliRunner()

RESOURCES = [
    {"type": "azure-native:resources:ResourceGroup", "name": "rg"},
    {"type": "azure-native:storage:StorageAccount", "name": "storage", "protect": True},
    {"type": "azure-native:containerregistry:Registry", "name": "registry", "protect": True},
    {"type": "azure-native:compute:VirtualMachine", "name": "workstation"},
    {"type": "azure-native:devtestlab:GlobalSchedule", "name": "shutdown-computevm-ws"},
]


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
    return {r["name"] for r in standin.state()["resources"] if r["type"] != "pulumi:pulumi:Stack"}


def test_down_keeps_protected_data_and_archives(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed), "--yes"])
    assert result.exit_code == 0, result.output
    assert resource_names(standin_pulumi) == {"storage", "registry"}
    destroy = [call for call in standin_pulumi.calls() if call[0] == "destroy"]
    assert len(destroy) == 1 and "--exclude-protected" in destroy[0]
    assert "destroy  azure-native:compute:VirtualMachine  workstation" in result.output
    assert (
        "keep     azure-native:storage:StorageAccount  storage  (protected data)" in result.output
    )
    assert "Still in the stack:" in result.output

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
    assert resource_names(standin_pulumi) == {"storage", "registry"}


def test_include_data_needs_a_second_confirmation(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    refused = runner.invoke(
        app, ["down", str(deployed), "--include-data"], input="Ending Soon\nn\n"
    )
    assert isinstance(refused.exception, DecommissionCancelled)
    assert "storage" in resource_names(standin_pulumi)

    result = runner.invoke(
        app, ["down", str(deployed), "--include-data", "--remove-stack"], input="Ending Soon\ny\n"
    )
    assert result.exit_code == 0, result.output
    assert ["state", "unprotect", "--all", "--yes", "--stack", "dev"] in standin_pulumi.calls()
    assert not (standin_pulumi.home / "stacks" / "dev.json").exists()
    assert "Nothing is left in the stack." in result.output
    assert "Stack 'dev' removed." in result.output


def test_remove_stack_is_refused_while_data_remains(
    deployed: Path,
    standin_pulumi: StandinPulumi,  # noqa: F811
) -> None:
    result = runner.invoke(app, ["down", str(deployed), "--yes", "--remove-stack"])
    assert result.exit_code == 0, result.output
    assert "stack 'dev' kept: 2 resource(s) remain" in result.output
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
