"""End to end: generate, lock, sync, run the project's own tests, train twice (slow)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mlstart.core.new import NewProjectResult
from mlstart.core.tools import find_uv

from tests.conftest import SHARES_SYNCED_PROJECT, run, uv_env

pytestmark = pytest.mark.slow


def project_env() -> dict[str, str]:
    env = uv_env()
    env["PATH"] = f"{Path(find_uv()).parent}{os.pathsep}{os.environ['PATH']}"
    return env


def check_project(result: NewProjectResult, metric: str, *, predict: bool = True) -> None:
    project = result.path
    env = project_env()
    assert (project / "uv.lock").is_file()
    assert result.commit is not None

    tests = run([find_uv(), "run", "--locked", "pytest", "-q"], project, env=env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    # ruff itself runs in the pre-commit hooks (tests/test_ship_validators.py, and below for
    # the DVC project); here only what `make lint` would run.
    planned = run(["make", "--dry-run", "lint"], project, env=env).stdout
    assert "ruff check ." in planned and "ruff format --check ." in planned

    # Retraining gives identical files: the project's own tests check that; here `make train`
    # runs as a user runs it.
    run(["make", "train"], project, env=env)
    first_record = json.loads((project / "reports" / "metrics.json").read_bytes())

    assert first_record["git_commit"] == result.commit
    assert first_record["lock_sha256"] != "missing"
    assert metric in first_record["metrics"]
    model_hash = subprocess.run(
        ["sha256sum", "models/model.joblib"], cwd=project, capture_output=True, text=True,
        check=True,
    ).stdout.split()[0]  # fmt: skip
    assert first_record["model_sha256"] == model_hash

    if predict:
        run(["make", "predict"], project, env=env)
        assert (project / "reports" / "predictions.csv").is_file()
    changed = run(["git", "status", "--porcelain"], project).stdout.splitlines()
    assert all(line.split()[-1].startswith("reports/") or line.endswith("dvc.lock")
               for line in changed), changed  # fmt: skip


@SHARES_SYNCED_PROJECT
def test_default_project_end_to_end(synced_project: NewProjectResult) -> None:
    check_project(synced_project, "roc_auc")


@SHARES_SYNCED_PROJECT
def test_changed_data_stops_training(synced_project: NewProjectResult) -> None:
    """On the shared project: the raw data is not committed, and is removed afterwards."""
    project = synced_project.path
    raw = project / "data" / "raw" / "diabetes.csv"
    env = project_env()
    run(["make", "data"], project, env=env)
    try:
        with raw.open("a") as stream:
            stream.write("50,1,25.0,90,180,100.0,50,4,4.5,90,150\n")
        failed = subprocess.run(
            ["make", "train"], cwd=project, capture_output=True, text=True,
            env={**os.environ, **env}, check=False,
        )  # fmt: skip
    finally:
        raw.unlink()  # the next `make data` or `make train` exports it intact again
    assert failed.returncode != 0
    assert "differs from data/manifest.json" in failed.stderr
