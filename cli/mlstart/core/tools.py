"""The external programs mlstart drives after rendering: uv (locking) and git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mlstart.errors import MlstartError, ToolMissingError

LOCK_TIMEOUT_S = 600


def find_uv() -> str:
    """Return the uv executable: on PATH, else the one installed with mlstart.

    Raises:
        ToolMissingError: If uv cannot be found.
    """
    if found := shutil.which("uv"):
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError) as error:
        raise ToolMissingError("uv is not installed (pip install uv)") from error


def uv_lock(project: Path) -> None:
    """Run ``uv lock`` in ``project`` without letting uv download interpreters.

    Raises:
        ToolMissingError: If uv is missing.
        MlstartError: If locking fails; the message is uv's last line of output.
    """
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    try:
        result = subprocess.run(
            [find_uv(), "lock", "--quiet"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise MlstartError(f"uv lock took longer than {LOCK_TIMEOUT_S} s") from error
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise MlstartError(lines[-1].strip() if lines else f"uv lock exited {result.returncode}")


def git_initial_commit(project: Path, *, author_name: str, author_email: str, message: str) -> str:
    """Create a repository on branch ``main`` with one commit of every file.

    Returns:
        The commit's sha.

    Raises:
        ToolMissingError: If git is not installed.
        MlstartError: If a git command fails.
    """
    git = shutil.which("git")
    if git is None:
        raise ToolMissingError("git is not installed")
    identity = [
        "-c", f"user.name={author_name}",
        "-c", f"user.email={author_email}",
        "-c", "commit.gpgsign=false",
        "-c", "core.hooksPath=/dev/null",
    ]  # fmt: skip
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        [*identity, "commit", "--quiet", "--no-verify", "--message", message],
    ):
        result = subprocess.run(
            [git, *args], cwd=project, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            step = "commit" if "commit" in args else args[0]
            reason = detail[-1] if detail else f"exit code {result.returncode}"
            raise MlstartError(f"git {step} failed: {reason}")
    head = subprocess.run(
        [git, "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    )
    return head.stdout.strip()
