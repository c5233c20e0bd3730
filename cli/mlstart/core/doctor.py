"""``mlstart doctor``: check the tools mlstart and generated projects rely on."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlstart_infra.roles import RequiredRole

MINIMUM_PYTHON = (3, 11)
#: What to run by hand when ``az`` cannot say which roles the signed-in identity has.
ROLES_BY_HAND = (
    "check by hand: az role assignment list --assignee <your user or app id> --all "
    "--include-inherited --include-groups --output table (see docs/ci-identity.md)"
)


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes:
        name: What was checked.
        ok: Whether it passed; None where it could not be checked here.
        essential: Whether mlstart's core (``new``, ``update``, ``plan``) needs it.
        detail: What was found (a version, an account) or what is wrong.
        hint: One line on how to fix it; empty when ``ok``.
    """

    name: str
    ok: bool | None
    essential: bool
    detail: str
    hint: str = ""


def run_checks(project: Path | str | None = None, *, stack: str = "dev") -> list[Check]:
    """Run every check, essentials first.

    Args:
        project: A generated project; when given, check the uv its Makefile calls and (if
            it holds a Pulumi project) list the Azure roles its ``pulumi up`` needs and check
            them with ``az``.
        stack: The stack whose config the offline plan uses for the role check.
    """
    checks: list[Callable[[], Check]] = [
        check_python,
        check_git,
        lambda: check_uv(project),
        check_pulumi_sdk,
        check_pulumi_cli,
        check_azure_login,
    ]
    found = [check() for check in checks]
    if project is not None:
        found += role_checks(project, stack=stack)
        found += ci_identity_checks(project, stack=stack)
    return found


def essentials_ok(checks: list[Check]) -> bool:
    """Whether every essential check passed."""
    return all(check.ok for check in checks if check.essential)


@dataclass
class RoleReport:
    """The Azure roles a plan needs and what ``az`` says the signed-in identity has.

    Attributes:
        roles: The roles needed, with whether each is assigned (None: not checked).
        identity: Who ``az`` is signed in as, or None.
        unchecked: Why the assignments could not be listed, or "" when they were.
    """

    roles: list[tuple[RequiredRole, bool | None]] = field(default_factory=list)
    identity: str | None = None
    unchecked: str = ""

    @property
    def ok(self) -> bool:
        """Whether every role was confirmed."""
        return all(assigned for _, assigned in self.roles)

    @property
    def lines(self) -> list[str]:
        """One line per role, and one saying what to check by hand if ``az`` could not."""
        lines = []
        for role, assigned in self.roles:
            state = {True: "assigned", False: "NOT assigned", None: "needed"}[assigned]
            who = f" to {self.identity}" if assigned is not None and self.identity else ""
            lines.append(f"Azure role {role.role} on {role.where()}: {state}{who}")
        if self.unchecked:
            lines.append(f"roles not checked ({self.unchecked}): {ROLES_BY_HAND}")
        return lines


def check_roles(graph: Iterable[Any]) -> RoleReport:
    """List the roles the plan needs and, where ``az`` is signed in, check they are assigned.

    Args:
        graph: The offline plan's resources.
    """
    from mlstart_infra.roles import required_roles

    needed = required_roles(graph)
    report = RoleReport()
    listed = _role_assignments()
    if isinstance(listed, str):
        report.unchecked = listed
        report.roles = [(role, None) for role in needed]
        return report
    identity, subscription, assignments = listed
    report.identity = identity
    report.roles = [(role, _assigned(role, subscription, assignments)) for role in needed]
    return report


def role_checks(project: Path | str, *, stack: str = "dev") -> list[Check]:
    """The role check as doctor lines; none when ``project`` holds no Pulumi project."""
    from mlstart_infra.project import ProjectError, find_project

    try:
        pulumi_project = find_project(project, python_program=False)
    except ProjectError:
        return []
    try:
        graph = _offline_graph(pulumi_project.root, stack)
    except (ImportError, ValueError, RuntimeError) as error:
        return [
            Check(
                "Azure roles for pulumi up",
                None,
                essential=False,
                detail=f"not worked out: {error}",
                hint=ROLES_BY_HAND,
            )
        ]
    report = check_roles(graph)
    checks = [
        Check(
            f"Azure role {role.role}",
            assigned,
            essential=False,
            detail=f"on {role.where()}: {role.reason}",
            hint=""
            if assigned is not False
            else f"ask an Owner to assign it to {report.identity} (see docs/ci-identity.md)",
        )
        for role, assigned in report.roles
    ]
    if report.unchecked:
        checks.append(
            Check(
                "Azure role assignments",
                None,
                essential=False,
                detail=f"not checked: {report.unchecked}",
                hint=ROLES_BY_HAND,
            )
        )
    return checks


def ci_identity_checks(project: Path | str, *, stack: str = "dev") -> list[Check]:
    """Whether the stack's CI identity, the git remote and the CI files agree.

    One failed check per disagreement (see :mod:`mlstart.core.ci_identity_check`), one
    passed check when they agree, none when ``project`` holds no Pulumi project or stack.
    """
    from mlstart_infra.project import ProjectError, find_project, read_stack_config

    from mlstart.core.ci_identity_check import ci_identity_findings

    try:
        pulumi_project = find_project(project, python_program=False)
        config = read_stack_config(pulumi_project, stack)
    except ProjectError:
        return []
    findings = ci_identity_findings(pulumi_project.root, config, stack)
    if not findings:
        provider = config.get("ciProvider") or "none"
        detail = (
            "no CI provider: no CI identity" if provider == "none"
            else f"{config.get('ciRepository')}, environment {stack}: the stack, the remote "
            "and the CI files agree"
        )  # fmt: skip
        return [Check("CI identity", True, essential=False, detail=detail)]
    return [
        Check("CI identity", False, essential=False, detail=finding, hint="see docs/ci-identity.md")
        for finding in findings
    ]


def _offline_graph(root: Path, stack: str) -> Iterable[Any]:
    """The offline plan's resources (the program under mocks; no policies or prices).

    Raises:
        ImportError: If Pulumi (the ``azure`` extra) is not installed.
        ValueError: If the project or its config cannot be read.
        RuntimeError: If the program fails under the mocks.
    """
    if importlib.util.find_spec("pulumi_azure_native") is None:
        raise ImportError("Pulumi is not installed: pip install 'mlstart[azure]'")
    from mlstart_infra.offline.plan import plan_project

    return plan_project(root, stack=stack)


def _role_assignments() -> tuple[str, str, list[dict[str, Any]]] | str:
    """Who ``az`` is signed in as, the subscription, and its role assignments; or why not."""
    if shutil.which("az") is None:
        return "az not found"
    account = _run(["az", "account", "show", "--output", "json"])
    if account is None or account.returncode != 0:
        return "not logged in to the Azure CLI: az login"
    try:
        details = json.loads(account.stdout)
        identity = str(details["user"]["name"])
        subscription = str(details["id"])
    except (ValueError, KeyError, TypeError):
        return "`az account show` gave no signed-in identity"
    listed = _run(
        ["az", "role", "assignment", "list", "--assignee", identity, "--all",
         "--include-inherited", "--include-groups", "--output", "json"]
    )  # fmt: skip
    if listed is None or listed.returncode != 0:
        why = (listed.stderr.strip().splitlines() or ["failed"])[-1] if listed else "failed"
        return f"`az role assignment list` failed: {why}"
    try:
        assignments = json.loads(listed.stdout)
    except ValueError:
        return "`az role assignment list` did not answer JSON"
    if not isinstance(assignments, list):
        return "`az role assignment list` did not answer a list"
    return identity, subscription, [a for a in assignments if isinstance(a, dict)]


def _assigned(role: RequiredRole, subscription: str, assignments: list[dict[str, Any]]) -> bool:
    """Whether an assignment of the role (or a broader one) covers the role's scope."""
    from mlstart_infra.roles import SUBSCRIPTION

    wanted = f"/subscriptions/{subscription}"
    if role.scope != SUBSCRIPTION and role.resource_group:
        wanted += f"/resourceGroups/{role.resource_group}"
    accepted = {name.lower() for name in role.accepted}
    return any(
        str(a.get("roleDefinitionName", "")).lower() in accepted
        and _covers(str(a.get("scope", "")), wanted)
        for a in assignments
    )


def _covers(scope: str, wanted: str) -> bool:
    """Whether an assignment at ``scope`` applies at ``wanted`` (a child scope or itself)."""
    scope, wanted = scope.rstrip("/").lower(), wanted.lower()
    if scope in ("", "/") or scope.startswith("/providers/microsoft.management/"):
        return True  # the root or a management group: above every subscription we can see
    return wanted == scope or wanted.startswith(scope + "/")


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


def check_uv(project: Path | str | None = None) -> Check:
    """The uv a generated project's ``make`` calls (not the one inside mlstart's virtualenv).

    In a generated project, ``make`` itself is asked which uv its Makefile resolves. Outside
    one, the check says whether ``uv`` is on PATH, and what a new project's ``make`` will do.

    Args:
        project: A folder; when it (or a folder above it) is a generated project, its
            Makefile is asked.
    """
    root = generated_project(project) if project is not None else None
    if root is not None:
        return _check_project_uv(root)
    on_path = shutil.which("uv")
    if on_path and (version := _version_of([on_path, "--version"])):
        return Check("uv", True, essential=True, detail=f"{version} on PATH ({on_path})")
    from mlstart.core.tools import find_uv
    from mlstart.errors import ToolMissingError

    try:
        bundled = find_uv()
    except ToolMissingError:
        bundled = None
    if bundled and (version := _version_of([bundled, "--version"])):
        return Check(
            "uv",
            True,
            essential=True,
            detail=f"{version} at {bundled}, not on PATH: `mlstart new` records it in the "
            "project's .mlstart-uv, which the project's `make` uses",
        )
    return Check(
        "uv",
        False,
        essential=True,
        detail="not found: `make setup` in a generated project would fail",
        hint=UV_HINT,
    )


#: How to install uv.
UV_HINT = (
    "pipx install uv (or pip install uv; https://docs.astral.sh/uv/getting-started/installation/)"
)
#: A target ``doctor`` adds to a project's Makefile with ``--eval`` to learn its uv.
_PRINT_UV = "mlstart-doctor-uv: ; @echo $(UV)"


def generated_project(folder: Path | str) -> Path | None:
    """The generated project ``folder`` is in (it holds a Makefile and copier's answers)."""
    start = Path(folder).expanduser().absolute()
    for candidate in (start, *start.parents):
        if (candidate / "Makefile").is_file() and (candidate / ".copier-answers.yml").is_file():
            return candidate
    return None


def _check_project_uv(root: Path) -> Check:
    """Ask the project's ``make`` which uv it calls, and check that uv runs."""
    name = "uv (what `make` calls here)"
    makefile = (root / "Makefile").read_text(encoding="utf-8", errors="replace")
    if "$(UV)" not in makefile:  # made by an older mlstart: the recipes call `uv` from PATH
        uv = shutil.which("uv")
    else:
        make = shutil.which("make")
        if make is None:
            return Check(name, False, essential=True, detail="make not found", hint="install make")
        asked = _run([make, "-s", "--no-print-directory", "-C", str(root), "--eval", _PRINT_UV,
                      "mlstart-doctor-uv"])  # fmt: skip
        if asked is None or asked.returncode != 0:
            return Check(
                name,
                False,
                essential=True,
                detail="none: uv is not on PATH and .mlstart-uv names no uv that runs, so "
                "`make setup` fails",
                hint=UV_HINT,
            )
        uv = asked.stdout.strip() or None
    version = _version_of([uv, "--version"]) if uv else None
    if version is None:
        return Check(
            name,
            False,
            essential=True,
            detail=f"{uv} does not run" if uv else "not on PATH: `make setup` fails",
            hint=UV_HINT,
        )
    return Check(name, True, essential=True, detail=f"{version} at {uv}")


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
