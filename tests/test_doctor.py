"""`mlstart doctor`: essentials decide the exit code; optional tools get a fix hint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from mlstart.cli import app
from mlstart.core import doctor
from typer.testing import CliRunner

from tests.standin import StandinPulumi, standin_pulumi  # noqa: F401

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
