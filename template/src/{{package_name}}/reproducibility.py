"""One place for seeds and fingerprints: what makes two training runs comparable."""

from __future__ import annotations

import hashlib
import os
import platform
import random
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

#: Packages whose versions are recorded with every model.
TRACKED_PACKAGES = ("numpy", "pandas", "scikit-learn", "joblib")


def seed_everything(seed: int) -> None:
    """Seed every random number generator the project uses."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(root: Path) -> str:
    """Return the commit checked out in ``root``, or ``"unknown"`` outside a git repository."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def environment_fingerprint(root: Path, lock_file: Path) -> dict[str, object]:
    """Describe the code and environment a model was trained with.

    Args:
        root: The project root (for the git commit).
        lock_file: The uv lock file; its hash pins every dependency.

    Returns:
        The git commit, the lock file's sha256 (or ``"missing"``), the Python version and
        the versions of the key packages.
    """
    return {
        "git_commit": git_commit(root),
        "lock_sha256": sha256_file(lock_file) if lock_file.exists() else "missing",
        "python_version": platform.python_version(),
        "packages": {name: metadata.version(name) for name in TRACKED_PACKAGES},
    }
