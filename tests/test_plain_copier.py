"""The repository is a plain copier template: `copier copy` works without mlstart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from mlstart.core.environments import render_stack_config

from tests.conftest import REPO_ROOT


def test_copier_copy_of_the_repository(tmp_path: Path) -> None:
    copier = Path(sys.executable).with_name("copier")
    command = [str(copier)] if copier.exists() else [sys.executable, "-m", "copier"]
    source = tmp_path / "template-repo"
    source.mkdir()
    shutil.copy2(REPO_ROOT / "copier.yml", source / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", source / "template")
    result = subprocess.run(
        [*command, "copy", "--trust", "--defaults", "--data", "project_name=Plain Copy",
         "--data", "environments=dev,prod", str(source), str(tmp_path / "plain")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = tmp_path / "plain"
    assert (project / "src" / "plain_copy" / "train.py").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "plain-copy"
    assert answers["_src_path"] == str(source)
    # One stack config per environment, the bytes `mlstart env add` writes.
    prod = (project / "infra" / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    assert prod == render_stack_config(answers, ["dev", "prod"], "prod", template=source)
    assert (project / "infra" / "Pulumi.dev.yaml").is_file()


def test_copier_validators_match_mlstart(tmp_path: Path) -> None:
    copier = Path(sys.executable).with_name("copier")
    result = subprocess.run(
        [str(copier), "copy", "--trust", "--defaults", "--data", "project_name=json",
         str(REPO_ROOT), str(tmp_path / "json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "would shadow the standard-library module" in result.stderr
    assert not (tmp_path / "json").exists()
