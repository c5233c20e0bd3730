"""git, run in a project: one runner, the initial commit, and questions about the tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlstart.errors import MlstartError, ToolMissingError


def git(project: Path, *args: str, check: bool = True) -> str:
    """Run ``git ARGS`` in ``project`` and return its stdout.

    Raises:
        ToolMissingError: If git is not installed.
        MlstartError: If ``check`` and git exits non-zero.
    """
    executable = shutil.which("git")
    if executable is None:
        raise ToolMissingError("git is not installed")
    result = subprocess.run(
        [executable, *args], cwd=project, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {result.returncode}"
        raise MlstartError(f"git {_subcommand(args)} failed: {reason}")
    return result.stdout


def git_initial_commit(project: Path, *, author_name: str, author_email: str, message: str) -> str:
    """Create a repository on branch ``main`` with one commit of every file.

    Returns:
        The commit's sha.

    Raises:
        ToolMissingError: If git is not installed.
        MlstartError: If a git command fails.
    """
    identity = (
        "-c", f"user.name={author_name}",
        "-c", f"user.email={author_email}",
        "-c", "commit.gpgsign=false",
        "-c", "core.hooksPath=/dev/null",
    )  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, *identity, "commit", "--quiet", "--no-verify", "--message", message)
    return git(project, "rev-parse", "HEAD").strip()


def is_repository(project: Path) -> bool:
    """Whether ``project`` is the top of a git work tree."""
    try:
        top = git(project, "rev-parse", "--show-toplevel", check=True).strip()
    except MlstartError:
        return False
    return Path(top).resolve() == project.resolve()


def dirty_paths(project: Path) -> list[str]:
    """Paths with uncommitted changes (modified, staged or untracked)."""
    lines = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    return [line[3:] for line in lines if line.strip()]


def _subcommand(args: tuple[str, ...]) -> str:
    """The git subcommand in ``args``, skipping ``-c key=value`` options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return "command"
