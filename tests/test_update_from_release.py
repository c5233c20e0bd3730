"""A project made by 0.1.0, edited by its team, updated offline: its tests and plan pass (slow)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mlstart.core.template import InstalledHistory
from mlstart.core.tools import find_uv

from tests.conftest import REPO_ROOT, run, uv_env
from tests.ship_helpers import completed
from tests.test_update import (
    check_team_edits_kept,
    commit_all,
    conflict_sides,
    make_release_project,
    make_team_edits,
)

pytestmark = pytest.mark.slow

#: Nothing outside this machine can be reached: git may use local paths and files only, and
#: any HTTP(S) client goes to a closed local port.
OFFLINE = {
    "GIT_ALLOW_PROTOCOL": "file",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "all_proxy": "http://127.0.0.1:9",
    "no_proxy": "",
}


def keep_our_side(path: Path) -> None:
    """Resolve every conflict in ``path`` as a team that prefers its own lines would."""
    text = path.read_text(encoding="utf-8")
    ours, theirs = conflict_sides(text)
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<< before updating"):
            continue
        if line.startswith(("|||||||", "=======")):
            skipping = True
        elif line.startswith(">>>>>>> after updating"):
            skipping = False
        elif not skipping:
            kept.append(line)
    path.write_text("".join(kept), encoding="utf-8")
    assert ours and theirs not in path.read_text(encoding="utf-8")


def test_0_1_0_project_updates_offline_and_passes_its_tests_and_plan(
    release_history: InstalledHistory,
    key_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = make_release_project(release_history, "0.1.0", tmp_path)
    make_team_edits(project)

    # The command a user runs, in its own process, with the network out of reach.
    env = {**OFFLINE, "HOME": str(key_home), "PYTHONPATH": os.pathsep.join(sys.path)}
    result = completed(
        [sys.executable, "-m", "mlstart", "update", str(project)], REPO_ROOT, env=env
    )
    assert result.returncode == 1, result.stderr  # one conflict to resolve
    listed = [line.split() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert [name for mark, name in listed if mark == "conflict"] == ["README.md"]
    assert "1 file(s) have conflicts" in result.stderr
    check_team_edits_kept(project)

    keep_our_side(project / "README.md")
    commit_all(project, "update to the new template; our README description kept")

    uv = find_uv()
    project_env = {**uv_env(), "VIRTUAL_ENV": "", "PYTHONDONTWRITEBYTECODE": ""}
    run([uv, "lock", "--quiet"], project, env=project_env)
    run([uv, "sync", "--locked", "--all-groups", "--quiet"], project, env=project_env)
    tests = run([uv, "run", "--frozen", "pytest", "-q", "-rA", "-p", "no:cacheprovider"],
                project, env=project_env)  # fmt: skip
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    assert "PASSED tests/test_features.py::test_ratio" in tests.stdout  # the team's own test

    pytest.importorskip("pulumi_azure_native")
    from mlstart.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["plan", str(project)])
    out = capsys.readouterr().out
    assert exited.value.code == 0, out
    assert "x 0-4 nodes" in out  # the team's clusterMaxNodes
    assert "Azure rules: every resource conforms" in out
