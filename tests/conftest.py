"""Fixtures shared by the tool's tests: generating projects from the template."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mlstart.core.new import NewProjectResult, new_project
from mlstart.core.template import InstalledHistory, installed_history
from mlstart.core.tools import find_uv

from tests.ship_helpers import completed

REPO_ROOT = Path(__file__).resolve().parents[1]
#: A public key used where a test needs a real-looking one (not a key anybody holds).
TEST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlc3Rz test@example"

Generate = Callable[..., Path]


@pytest.fixture(autouse=True)
def _isolated_git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """Give git a known identity so defaults do not depend on the machine."""
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = test.author@example.com\n", encoding="utf-8"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("MLSTART_TEMPLATE", raising=False)


@pytest.fixture(autouse=True)
def _isolated_price_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """Give each test its own empty price cache and Microsoft's Retail Prices API address."""
    monkeypatch.setenv("MLSTART_CACHE_DIR", str(tmp_path_factory.mktemp("price-cache")))
    monkeypatch.delenv("MLSTART_PRICES_URL", raising=False)


def render_project(parent: Path, name: str, **answers: Any) -> Path:
    """Render a project quickly (no lock, no git) into ``parent`` and return its path.

    Keyword arguments are answers. The workstation gets :data:`TEST_KEY` unless
    ``ssh_public_key`` is given (this HOME has no ~/.ssh, and the stack config must hold a
    key for a plan to run).
    """
    answers.setdefault("ssh_public_key", TEST_KEY)
    result = new_project(name, output_dir=parent, data=answers, defaults=True, git=False,
                         lock=False)  # fmt: skip
    return result.path


@pytest.fixture
def generate(tmp_path: Path) -> Generate:
    """Render a project quickly: ``generate("Name", task="regression", ...)`` (see
    :func:`render_project`)."""

    def _generate(name: str = "Demo Project", **answers: Any) -> Path:
        return render_project(tmp_path / "out", name, **answers)

    return _generate


@pytest.fixture
def from_plain_template(plain_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render from a plain copy of the template (no git clone per render)."""
    monkeypatch.setenv("MLSTART_TEMPLATE", str(plain_template))


def run(
    args: list[str], cwd: Path, *, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output if it exits non-zero."""
    result = completed(args, cwd, env=env, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def uv_env() -> dict[str, str]:
    """Environment for running uv inside a generated project."""
    # This machine sets PYTHONDONTWRITEBYTECODE; cleared (empty), the first process to import
    # a module caches its bytecode for the ones that follow, and the sync need not compile
    # every installed package up front (`make setup` does, for users).
    env = {"UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": ""}
    return env


def make_synced_project(parent: Path, name: str, **answers: Any) -> NewProjectResult:
    """Generate a locked, committed project and `uv sync` it (slow: installs packages)."""
    result = new_project(name, output_dir=parent, data=answers, defaults=True)
    assert result.locked, result.warnings
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment.update(uv_env())
    subprocess.run(
        [find_uv(), "sync", "--locked", "--all-groups"],
        cwd=result.path,
        env=environment,
        check=True,
        capture_output=True,
        timeout=900,
    )
    return result


#: Mark on every test that uses :func:`synced_project`: ``--dist loadgroup`` (pyproject) runs
#: them on one xdist worker, so the project is installed once, not once per worker.
SHARES_SYNCED_PROJECT = pytest.mark.xdist_group("synced_project")


@pytest.fixture(scope="session")
def synced_project(tmp_path_factory: pytest.TempPathFactory) -> NewProjectResult:
    """A default project, locked and synced once per session; read-only for tests that share it."""
    return make_synced_project(tmp_path_factory.mktemp("synced"), "Synced Demo")


@pytest.fixture(scope="session")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template outside git, so each render skips copier's git clone."""
    folder = tmp_path_factory.mktemp("template")
    shutil.copy2(REPO_ROOT / "copier.yml", folder / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", folder / "template")
    return folder


@pytest.fixture(scope="session")
def release_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledHistory]:
    """The template history this mlstart carries (built from the checkout's git history)."""
    with installed_history(tmp_path_factory.mktemp("history")) as history:
        yield history


@pytest.fixture
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME whose ~/.ssh holds a public key, as on the machine that made the project."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519.pub").write_text(f"{TEST_KEY}\n", encoding="utf-8")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = test.author@example.com\n", encoding="utf-8"
    )
    monkeypatch.setenv("HOME", str(home))
    return home
