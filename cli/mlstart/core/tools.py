"""uv, which mlstart drives to lock a generated project's environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mlstart.errors import MlstartError, ToolMissingError

LOCK_TIMEOUT_S = 600
#: The git-ignored file in a generated project that holds the uv ``mlstart new`` used; the
#: project's Makefile falls back to it when ``uv`` is not on PATH.
UV_RECORD = ".mlstart-uv"


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


def record_uv(project: Path) -> bool:
    """Write the absolute path of the uv mlstart uses to ``project``/:data:`UV_RECORD`.

    mlstart installed with pip into a virtualenv has uv only in that virtualenv's ``bin``:
    a new shell without the virtualenv activated has no ``uv`` on PATH. The generated
    Makefile reads this file when ``uv`` is not on PATH.

    Returns:
        Whether a uv was found and recorded.
    """
    try:
        uv = os.path.abspath(find_uv())
    except ToolMissingError:
        return False
    (project / UV_RECORD).write_text(uv + "\n", encoding="utf-8")
    return True


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
