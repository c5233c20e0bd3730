"""The wheel ships the template and its history: `new` and `update` work installed (slow)."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from mlstart import __version__
from mlstart.core.template import TEMPLATE_REPOSITORY
from mlstart.core.template_history import bundle_versions, read_releases
from mlstart.core.tools import find_uv

from tests.conftest import REPO_ROOT, run

pytestmark = pytest.mark.slow


def test_installed_wheel_generates_an_updatable_project(tmp_path: Path) -> None:
    uv = find_uv()
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    # The sdist, then the wheel built from it (no git history there: the sdist's bundle).
    run([uv, "build", "--out-dir", str(tmp_path / "dist"), str(REPO_ROOT)], REPO_ROOT, env=env)
    wheels = list((tmp_path / "dist").glob("mlstart-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        bundle = tmp_path / "template.bundle"
        bundle.write_bytes(wheel.read("mlstart/_template.bundle"))
    versions, current = bundle_versions(bundle)
    released = [release.version for release in read_releases(REPO_ROOT / "releases.toml")]
    assert versions[: len(released)] == released and current == versions[-1]
    assert current is not None and current.startswith(__version__)
    assert bundle.stat().st_size < 1_000_000
    venv = tmp_path / "venv"
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path, env=env)
    run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         str(wheels[0])], tmp_path, env=env)  # fmt: skip

    work = tmp_path / "work"
    work.mkdir()
    clean_env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MLSTART_TEMPLATE": "",
        "PYTHONPATH": "",  # the installed package, not a checkout on the path
    }
    result = run([str(venv / "bin" / "mlstart"), "new", "demo", "--defaults", "--no-lock"],
                 work, env=clean_env)  # fmt: skip
    assert 'Created "demo" in ./demo' in result.stderr
    answers = yaml.safe_load((work / "demo" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == TEMPLATE_REPOSITORY
    assert answers["_commit"] == f"v{current}"
    assert (work / "demo" / "src" / "demo" / "train.py").is_file()
    version = run([str(venv / "bin" / "mlstart"), "--version"], work, env=clean_env)
    assert version.stdout.strip() == f"mlstart {__version__}"
    # The installed mlstart reads the project's version from the history in its wheel.
    offline = {**clean_env, "GIT_ALLOW_PROTOCOL": "file", "HTTPS_PROXY": "http://127.0.0.1:9"}
    current_project = run([str(venv / "bin" / "mlstart"), "update", "demo"], work, env=offline)
    assert current_project.stdout == f"Already at template v{current}; nothing to update.\n"

    # A newcomer's shell: the virtualenv is not on PATH, so neither is its uv; the Next:
    # hint's `make setup` uses the uv mlstart recorded.
    plain = {
        "PATH": "/usr/bin:/bin",
        "MLSTART_TEMPLATE": "",
        "HOME": os.environ["HOME"],
        "PYTHONPATH": "",
    }
    run([str(venv / "bin" / "mlstart"), "new", "plain", "--defaults", "--no-lock"],
        work, env=plain)  # fmt: skip
    dry = run(["make", "-n", "setup"], work / "plain", env=plain)
    assert dry.stdout.splitlines()[0].startswith(f"{venv / 'bin' / 'uv'} sync")
