"""The wheel ships the template: `mlstart new` works from an installed package (slow)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from mlstart import __version__
from mlstart.core.template import TEMPLATE_REPOSITORY
from mlstart.core.tools import find_uv

from tests.conftest import REPO_ROOT, run

pytestmark = pytest.mark.slow


def test_installed_wheel_generates_an_updatable_project(tmp_path: Path) -> None:
    uv = find_uv()
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    run([uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(REPO_ROOT)],
        REPO_ROOT, env=env)  # fmt: skip
    wheels = list((tmp_path / "dist").glob("mlstart-*.whl"))
    assert len(wheels) == 1
    venv = tmp_path / "venv"
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path, env=env)
    run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         str(wheels[0])], tmp_path, env=env)  # fmt: skip

    work = tmp_path / "work"
    work.mkdir()
    clean_env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "MLSTART_TEMPLATE": ""}
    result = run([str(venv / "bin" / "mlstart"), "new", "demo", "--defaults", "--no-lock"],
                 work, env=clean_env)  # fmt: skip
    assert 'Created "demo" in ./demo' in result.stderr
    answers = yaml.safe_load((work / "demo" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == TEMPLATE_REPOSITORY
    assert answers["_commit"] == f"v{__version__}"
    assert (work / "demo" / "src" / "demo" / "train.py").is_file()
    version = run([str(venv / "bin" / "mlstart"), "--version"], work, env=clean_env)
    assert version.stdout.strip() == f"mlstart {__version__}"

    # A newcomer's shell: the virtualenv is not on PATH, so neither is its uv; the Next:
    # hint's `make setup` uses the uv mlstart recorded.
    plain = {"PATH": "/usr/bin:/bin", "MLSTART_TEMPLATE": "", "HOME": os.environ["HOME"]}
    run([str(venv / "bin" / "mlstart"), "new", "plain", "--defaults", "--no-lock"],
        work, env=plain)  # fmt: skip
    dry = run(["make", "-n", "setup"], work / "plain", env=plain)
    assert dry.stdout.splitlines()[0].startswith(f"{venv / 'bin' / 'uv'} sync")
