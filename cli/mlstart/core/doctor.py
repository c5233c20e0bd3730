"""``mlstart doctor``: check the tools mlstart and generated projects rely on."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

MINIMUM_PYTHON = (3, 11)


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes:
        name: What was checked.
        ok: Whether it passed.
        essential: Whether mlstart's core (``new``, ``update``, ``plan``) needs it.
        detail: What was found (a version, an account) or what is wrong.
        hint: One line on how to fix it; empty when ``ok``.
    """

    name: str
    ok: bool
    essential: bool
    detail: str
    hint: str = ""


def run_checks() -> list[Check]:
    """Run every check, essentials first."""
    checks: list[Callable[[], Check]] = [
        check_python,
        check_git,
        check_uv,
        check_pulumi_sdk,
        check_pulumi_cli,
        check_azure_login,
    ]
    return [check() for check in checks]


def essentials_ok(checks: list[Check]) -> bool:
    """Whether every essential check passed."""
    return all(check.ok for check in checks if check.essential)


def check_python() -> Check:
    """The interpreter running mlstart (generated projects default to it)."""
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] >= MINIMUM_PYTHON
    wanted = ".".join(map(str, MINIMUM_PYTHON))
    return Check(
        "Python",
        ok,
        essential=True,
        detail=f"{version} at {sys.executable}",
        hint="" if ok else f"install Python {wanted} or newer and reinstall mlstart with it",
    )


def check_git() -> Check:
    """git, for the initial commit, updates and the decommission record."""
    return _tool_check(
        "git",
        ["git", "--version"],
        essential=True,
        hint="install git (e.g. apt-get install git) and set user.name/email",
    )


def check_uv() -> Check:
    """uv, which locks and syncs generated projects."""
    from mlstart.core.tools import find_uv
    from mlstart.errors import ToolMissingError

    try:
        uv = find_uv()
    except ToolMissingError:
        uv = None
    return _tool_check(
        "uv", [uv, "--version"] if uv else None, essential=True, hint="pip install uv"
    )


def check_pulumi_sdk() -> Check:
    """The Pulumi Python SDK and azure-native provider, for ``mlstart plan``."""
    missing = [
        name for name in ("pulumi", "pulumi_azure_native") if importlib.util.find_spec(name) is None
    ]
    return Check(
        "Pulumi SDK (mlstart plan)",
        not missing,
        essential=False,
        detail="installed" if not missing else f"missing: {', '.join(missing)}",
        hint="" if not missing else "pip install 'mlstart[azure]'",
    )


def check_pulumi_cli() -> Check:
    """The Pulumi CLI, which ``mlstart up``, ``status`` and ``down`` drive."""
    return _tool_check(
        "Pulumi CLI (up, status, down)",
        ["pulumi", "version"],
        essential=False,
        hint="install it from https://www.pulumi.com/docs/install/ (`mlstart plan` works without)",
    )


def check_azure_login() -> Check:
    """The Azure CLI and a logged-in account, which Pulumi's azure-native provider uses."""
    if shutil.which("az") is None:
        return Check(
            "Azure CLI login",
            False,
            essential=False,
            detail="az not found",
            hint="install the Azure CLI (https://aka.ms/azcli), then run `az login`",
        )
    result = _run(["az", "account", "show", "--query", "name", "--output", "tsv"])
    if result is None or result.returncode != 0:
        return Check(
            "Azure CLI login", False, essential=False, detail="not logged in", hint="az login"
        )
    return Check("Azure CLI login", True, essential=False, detail=result.stdout.strip())


def _tool_check(name: str, command: list[str] | None, *, essential: bool, hint: str) -> Check:
    """Pass if ``command`` (a version query) runs; its first line of output is the detail."""
    found = _version_of(command) if command else None
    return Check(
        name,
        found is not None,
        essential=essential,
        detail=found or "not found",
        hint="" if found else hint,
    )


def _run(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _version_of(command: list[str]) -> str | None:
    result = _run(command)
    if result is None or result.returncode != 0:
        return None
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else "found"
