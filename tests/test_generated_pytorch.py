"""End to end: a pytorch regression project with DVC passes its own tests on this CPU (slow).

One project takes the choices the default project does not: the pytorch workload, the
regression task, the DVC pipeline and Azure DevOps (whose pre-commit hooks run here), so every
choice is taken end to end at least once without a third synced project.

uv.lock pins PyPI's torch, whose Linux build carries several GB of CUDA libraries (what the
GPU workstation, the cluster and the image need). Here the project's environment is built
from that same lock with one change: torch comes from the CPU build of the *same version*
that pip finds on these machines, and the CUDA-only packages are left out. Every other
package is the locked one, and the project's code is the code the lock serves.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from mlstart.core.new import NewProjectResult, new_project
from mlstart.core.tools import find_uv

from tests.conftest import run, uv_env
from tests.ship_helpers import uv_cache_env
from tests.test_ship_validators import run_pre_commit

pytestmark = pytest.mark.slow

#: A snapshot date whose newest torch release is 2.13.0, the version of the CPU wheel these
#: machines hold (`pip install torch==2.13.0` takes it); with today's date the lock would
#: pick a newer torch than any CPU build here.
SNAPSHOT_FOR_CPU_TORCH = "2026-08-01"
#: Packages that exist only for CUDA: never installed on this CPU machine.
CUDA_ONLY = re.compile(r"^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==", re.IGNORECASE)


def locked_version(project: Path, package: str) -> str:
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    found = re.search(rf'\nname = "{package}"\nversion = "([^"]+)"', lock)
    assert found, f"{package} is not in uv.lock"
    return found.group(1)


def cpu_torch_wheel(project: Path) -> str:
    """The CPU wheel of the locked torch version that pip finds on this machine.

    ``--no-index``: only the wheels pip's configuration points at, never PyPI's several-GB
    CUDA build. pip only resolves (``--dry-run``); uv installs the file, several times faster.
    """
    torch = f"torch=={locked_version(project, 'torch')}"
    report = run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--dry-run",
                  "--quiet", "--report", "-", torch], project).stdout  # fmt: skip
    (found,) = json.loads(report)["install"]
    url: str = found["download_info"]["url"]
    assert url.startswith("file://"), f"{torch}: pip found {url}, not a local CPU wheel"
    return url


def cpu_torch_environment(project: Path) -> dict[str, str]:
    """Build ``project/.venv`` from uv.lock with the CPU build of the locked torch."""
    uv = find_uv()
    env = {**uv_env(), **uv_cache_env()}
    exported = run(
        [uv, "export", "--frozen", "--all-groups", "--no-hashes", "--no-emit-project",
         "--no-header", "--no-annotate"],
        project, env=env,
    ).stdout  # fmt: skip
    requirements = [line for line in exported.splitlines() if not CUDA_ONLY.match(line)]
    (project / "requirements-cpu.txt").write_text("\n".join(requirements) + "\n")
    venv = {**env, "VIRTUAL_ENV": str(project / ".venv")}
    run([uv, "venv", "--quiet", "--python", sys.executable, ".venv"], project, env=env)
    run([uv, "pip", "install", "--quiet", "-r", "requirements-cpu.txt"], project, env=venv)
    run([uv, "pip", "install", "--quiet", "--no-deps", cpu_torch_wheel(project), "-e", "."],
        project, env=venv)  # fmt: skip
    (project / "requirements-cpu.txt").unlink()
    # `uv run` (the Makefile's) then uses this environment as it is, without syncing; bytecode
    # is cached as modules are first imported (uv_env), not compiled up front.
    path = f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}"
    return {**venv, "UV_NO_SYNC": "1", "PATH": path}


@pytest.fixture(scope="module")
def pytorch_project(tmp_path_factory: pytest.TempPathFactory) -> NewProjectResult:
    result = new_project(
        "Torch Demo",
        output_dir=tmp_path_factory.mktemp("pytorch"),
        # Azure DevOps: this project also shows that CI's pre-commit hooks pass there.
        data={
            "workload": "pytorch",
            "task": "regression",
            "data_versioning": "dvc",
            "snapshot_date": SNAPSHOT_FOR_CPU_TORCH,
            "ci_provider": "azure-devops",
        },
        defaults=True,
    )
    assert result.locked, result.warnings
    return result


def test_pytorch_project_passes_its_own_tests_on_the_cpu(pytorch_project: NewProjectResult) -> None:
    project = pytorch_project.path
    env = cpu_torch_environment(project)
    python = str(project / ".venv" / "bin" / "python")
    version = run([python, "-c", "import torch; print(torch.__version__)"], project).stdout
    assert version.strip().split("+")[0] == locked_version(project, "torch")

    # The project's own suite, two-process DistributedDataParallel run included.
    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env=env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    assert "test_distributed.py" not in tests.stdout  # nothing skipped or failed there
    # The hooks run ruff check and ruff format as `make lint` does, and the other checks.
    run(["git", "add", "-A"], project)  # the hooks see what a commit would hold
    run_pre_commit(project, project.parent / "pre-commit", env)

    # Training in one process (the suite's reproducibility test) and in two (its
    # tests/test_distributed.py, two torchrun runs) gives identical files. Here `make train`
    # runs once as a user runs it, and `make train-ddp` is shown to start that same torchrun.
    # `make train` reproduces the DVC pipeline (data -> train -> evaluate); a second run finds
    # nothing changed.
    run(["make", "train"], project, env=env)
    assert (project / "dvc.lock").is_file()
    again = run(["make", "train"], project, env=env)
    assert "Data and pipelines are up to date." in again.stdout
    record = json.loads((project / "reports" / "metrics.json").read_bytes())
    assert (record["device"], record["processes"]) == ("cpu", 1)
    assert set(record["metrics"]) == {"rmse", "mae", "r2"}
    assert record["packages"]["torch"].split("+")[0] == locked_version(project, "torch")
    assert "Trained on: cpu, 1 process(es)" in (project / "reports/model_card.md").read_text()
    planned = run(["make", "--dry-run", "train-ddp"], project, env=env).stdout
    package = pytorch_project.answers["package_name"]
    assert f"torchrun --standalone --nproc-per-node 2 -m {package} train" in planned
