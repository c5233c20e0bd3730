"""`mlstart doctor`: essentials decide the exit code; optional tools get a fix hint."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from mlstart.cli import app
from mlstart.core import doctor
from mlstart.core.tools import find_uv
from typer.testing import CliRunner

from tests.standin import (  # noqa: F401
    SUBSCRIPTION,
    StandinAz,
    StandinPulumi,
    standin_az,
    standin_pulumi,
)

runner = CliRunner()


def test_doctor_finds_the_stand_in_pulumi_cli(standin_pulumi: StandinPulumi) -> None:  # noqa: F811
    check = doctor.check_pulumi_cli()
    assert check.ok
    assert check.detail == "v3.272.0"


def test_doctor_without_optional_tools_still_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bin_dir / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "optional  Pulumi CLI (up, status, down)  not found" in result.output
    assert "fix: install it from https://www.pulumi.com/docs/install/" in result.output
    assert "fix: install the Azure CLI" in result.output


def test_doctor_fails_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "MISSING  git" in result.output
    assert "fix: install git" in result.output
    assert doctor.essentials_ok(doctor.run_checks()) is False
    assert os.environ["PATH"] == str(tmp_path)


def test_doctor_outside_a_project_checks_no_roles(tmp_path: Path) -> None:
    assert doctor.role_checks(tmp_path) == []


def test_doctor_lists_the_roles_and_says_what_to_check_by_hand_without_az(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path, monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    checks = doctor.role_checks(project)
    assert [check.name for check in checks] == [
        "Azure role Contributor",
        "Azure role Role Based Access Control Administrator",
        "Azure role assignments",
    ]
    assert all(check.ok is None and not check.essential for check in checks)
    assert checks[0].detail.startswith("on resource group rg-roles-dev (subscription for the first")
    assert checks[-1].detail == "not checked: az not found"
    assert checks[-1].hint.startswith("check by hand: az role assignment list --assignee")


def test_doctor_checks_roles_with_az(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    standin_az: StandinAz,  # noqa: F811
) -> None:
    project = write_project(tmp_path, monkeypatch)
    group = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-roles-dev"
    standin_az.login("dev@example.com")
    standin_az.assign("dev@example.com", "Contributor", f"/subscriptions/{SUBSCRIPTION}")
    standin_az.assign("someone@example.com", "Role Based Access Control Administrator", group)
    result = runner.invoke(app, ["doctor", str(project)])
    assert result.exit_code == 0, result.output
    assert "      ok  Azure role Contributor" in result.output
    assert "optional  Azure role Role Based Access Control Administrator" in result.output
    assert "fix: ask an Owner to assign it to dev@example.com" in result.output

    standin_az.assign("dev@example.com", "Owner", group)  # Owner may assign roles too
    assert all(check.ok for check in doctor.role_checks(project))

    (standin_az.home / "account.json").unlink()
    checks = doctor.role_checks(project)
    assert checks[-1].detail == "not checked: not logged in to the Azure CLI: az login"


def write_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Pulumi project whose program creates a group, a registry role assignment, a budget."""
    pytest.importorskip("pulumi_azure_native")
    infra = tmp_path / "roles" / "infra"
    infra.mkdir(parents=True)
    (infra / "Pulumi.yaml").write_text("name: roles\nruntime: python\n")
    (infra / "Pulumi.dev.yaml").write_text("config:\n  azure-native:location: westeurope\n")
    (infra / "__main__.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    return infra.parent


PROGRAM = """
from pulumi_azure_native import authorization, consumption, resources

group = resources.ResourceGroup("group", resource_group_name="rg-roles-dev")
authorization.RoleAssignment(
    "acr-pull", principal_id="p", principal_type="ServicePrincipal",
    role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/7f951dda",
    scope=group.id,
)
consumption.Budget(
    "budget", budget_name="b", scope=group.id, amount=10, category="Cost",
    time_grain="Monthly",
    time_period=consumption.BudgetTimePeriodArgs(start_date="2026-11-01T00:00:00Z"),
)
"""


def plain_path() -> str:
    """A PATH like a new shell's: the system folders, no virtualenv (so no uv here)."""
    path = "/usr/bin:/bin"
    assert shutil.which("uv", path=path) is None, "this machine has uv in /usr/bin"
    return path


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_doctor_in_a_project_checks_the_uv_make_calls(
    generate: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = generate("Doctored")
    recorded = (project / ".mlstart-uv").read_text().strip()
    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", plain_path())
    check = doctor.check_uv(project / "src")
    assert check.ok, check
    assert check.name == "uv (what `make` calls here)"
    assert check.detail.startswith("uv ") and check.detail.endswith(f" at {recorded}")

    (project / ".mlstart-uv").unlink()
    result = runner.invoke(app, ["doctor", str(project)])
    assert result.exit_code == 1
    assert "MISSING  uv (what `make` calls here)" in result.output
    assert "`make setup` fails" in result.output
    assert "fix: pipx install uv" in result.output


def test_doctor_outside_a_project_says_whether_uv_is_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", plain_path())
    check = doctor.check_uv(tmp_path)
    assert check.ok and check.name == "uv"
    assert "not on PATH: `mlstart new` records it in the project's .mlstart-uv" in check.detail

    on_path = tmp_path / "uv-bin"
    on_path.mkdir()
    (on_path / "uv").symlink_to(find_uv())
    monkeypatch.setenv("PATH", f"{on_path}:{plain_path()}")
    check = doctor.check_uv(tmp_path)
    assert check.ok and check.detail.endswith(f"on PATH ({on_path / 'uv'})")


def test_doctor_without_any_uv_says_make_setup_would_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlstart.core import tools
    from mlstart.errors import ToolMissingError

    def no_uv() -> str:
        raise ToolMissingError("uv is not installed")

    monkeypatch.setattr(tools, "find_uv", no_uv)
    monkeypatch.setenv("PATH", plain_path())
    check = doctor.check_uv(tmp_path)
    assert check.ok is False and check.essential
    assert check.detail == "not found: `make setup` in a generated project would fail"


# ---------------------------------------------------------------- the CI identity (issue 13)

LOGIN = """\
jobs:
  train:
    runs-on: ubuntu-latest
    environment: {environment}
    steps:
      - uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5
        with:
          client-id: ${{{{ vars.{client} }}}}
          tenant-id: ${{{{ vars.AZURE_TENANT_ID }}}}
          subscription-id: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
"""
EXPORTS = "\n".join(
    f'pulumi.export("{o}", x)' for o in ("ci_client_id", "ci_tenant_id", "ci_subscription_id")
)


def ci_project(
    tmp_path: Path,
    *,
    repository: str = "contoso/credit-risk",
    origin: str | None = None,
    environment: str = "dev",
    client: str = "AZURE_CLIENT_ID",
    exports: str = EXPORTS,
) -> Path:
    """A project with a stack config, a program's exports, a train workflow and a remote."""
    import subprocess

    root = tmp_path / "credit-risk"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "Pulumi.yaml").write_text("name: credit-risk\nruntime: python\n")
    (root / "infra" / "Pulumi.dev.yaml").write_text(
        "config:\n  credit-risk:ciProvider: github\n"
        + (f"  credit-risk:ciRepository: {repository}\n" if repository else "")
    )
    (root / "infra" / "__main__.py").write_text(exports)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "train.yml").write_text(
        LOGIN.format(environment=environment, client=client)
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(root), "remote", "add", "origin", origin], check=True)
    return root


@pytest.mark.parametrize(
    "origin",
    [None, "https://github.com/contoso/credit-risk.git", "git@github.com:Contoso/credit-risk.git",
     "ssh://git@github.com/contoso/credit-risk", "https://token@github.com/contoso/credit-risk/"],
)  # fmt: skip
def test_doctor_finds_the_ci_identity_consistent(tmp_path: Path, origin: str | None) -> None:
    (check,) = doctor.ci_identity_checks(ci_project(tmp_path, origin=origin))
    assert check.ok is True and "contoso/credit-risk, environment dev" in check.detail


@pytest.mark.parametrize(
    ("changes", "finding"),
    [({"repository": ""}, "infra/Pulumi.dev.yaml does not set ciRepository"),
     ({"origin": "git@github.com:someone/fork.git"},
      "ciRepository is contoso/credit-risk but git remote origin is someone/fork"),
     ({"origin": "https://gitlab.com/contoso/credit-risk.git"}, "is not a GitHub repository URL"),
     ({"environment": "production"}, "job train runs in environment production, but the CI "
      "identity of stack dev trusts environment dev only"),
     ({"client": "ARM_CLIENT_ID"}, "logs in with client-id not from vars.AZURE_CLIENT_ID"),
     ({"exports": ""}, "does not export ci_client_id, ci_tenant_id, ci_subscription_id")],
)  # fmt: skip
def test_doctor_names_each_ci_identity_mismatch_in_one_line(
    tmp_path: Path, changes: dict[str, str], finding: str
) -> None:
    checks = doctor.ci_identity_checks(ci_project(tmp_path, **changes))
    assert [c.ok for c in checks] == [False]
    assert finding in checks[0].detail and "\n" not in checks[0].detail


def test_azure_devops_remotes_name_the_organization_and_project() -> None:
    from mlstart.core.ci_identity_check import remote_repository

    for url in (
        "https://dev.azure.com/contoso/credit-risk/_git/repo",
        "https://me@dev.azure.com/contoso/credit-risk/_git/repo",
        "git@ssh.dev.azure.com:v3/contoso/credit-risk/repo",
        "https://contoso.visualstudio.com/credit-risk/_git/repo",
    ):
        assert remote_repository(url, "azure-devops") == "contoso/credit-risk", url
    assert remote_repository("https://github.com/contoso/credit-risk", "azure-devops") is None
