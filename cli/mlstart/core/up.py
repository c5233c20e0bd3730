"""``mlstart up``: preflight checks, then ``pulumi up`` through the Automation API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstart.core.doctor import ROLES_BY_HAND, check_roles
from mlstart.core.plan import check_mandatory, plan_project
from mlstart.core.stack import (
    last_error_line,
    load_project,
    load_stack_config,
    open_stack,
    require_pulumi_cli,
)
from mlstart.errors import MlstartError, UsageError

if TYPE_CHECKING:
    from mlstart_infra.project import StackConfig

REFERENCE_STACK = "dev"


@dataclass
class UpResult:
    """What ``pulumi up`` did.

    Attributes:
        stack: The stack that was updated.
        outputs: The stack outputs (secret values masked).
        changes: Resource changes by kind, e.g. ``{"create": 12}``.
        checks: The preflight checks that passed, one line each.
        warnings: What the preflight could not confirm (e.g. the deploying identity's
            Azure roles), one line each.
    """

    stack: str
    outputs: dict[str, Any]
    changes: dict[str, int]
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Preflight:
    """What the preflight found.

    Attributes:
        passed: One line for each check that passed.
        warnings: One line for each thing it could not confirm (not a failure).
    """

    passed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def preflight(project: Path | str, *, stack: str = REFERENCE_STACK) -> Preflight:
    """Check everything ``pulumi up`` needs before it runs.

    Returns:
        The checks that passed, and warnings for what could not be confirmed (the Azure
        roles the deploying identity needs, when ``az`` cannot tell).

    Raises:
        ToolMissingError: If the Pulumi CLI (or SDK) is missing.
        UsageError: If the stack's config is missing or incomplete.
        PolicyFailureError: If a mandatory policy fails on the offline plan.
    """
    result = Preflight(passed=[f"Pulumi CLI found at {require_pulumi_cli()}"])
    pulumi_project = load_project(project)
    config = load_stack_config(pulumi_project, stack)
    reference = pulumi_project.stack_file(REFERENCE_STACK)
    required = (
        load_stack_config(pulumi_project, REFERENCE_STACK).written if reference.is_file() else []
    )
    missing = [key for key in required if config.get(key) in (None, "")]
    if missing:
        raise UsageError(
            f"Pulumi.{stack}.yaml does not set {', '.join(missing)}: "
            "set them with `pulumi config set KEY VALUE`"
        )
    result.passed.append(f"Pulumi.{stack}.yaml sets every required value")
    _check_ssh_key(config)
    report = plan_project(pulumi_project.root, stack=stack)
    check_mandatory(report)
    result.passed.append(
        f"offline plan passes all {len(report.policies)} policies that are mandatory"
    )
    roles = check_roles(report.graph)
    if roles.unchecked:
        needed = "; ".join(f"{role.role} on {role.where()}" for role, _ in roles.roles)
        result.warnings.append(
            f"Azure roles not checked ({roles.unchecked}); the deploying identity needs "
            f"{needed}; {ROLES_BY_HAND}"
        )
    for role, assigned in roles.roles if not roles.unchecked else []:
        line = f"Azure role {role.role} on {role.where()}"
        if assigned:
            result.passed.append(f"{line} is assigned to {roles.identity}")
        else:
            result.warnings.append(
                f"{line} is not assigned to {roles.identity}: {role.reason}; "
                "pulumi up may fail part-way (see docs/ci-identity.md)"
            )
    return result


def provision(
    project: Path | str,
    *,
    stack: str = REFERENCE_STACK,
    on_output: Callable[[str], None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> UpResult:
    """Run the preflight checks, select or create the stack, and run ``pulumi up``.

    Args:
        project: The generated project (or its ``infra/`` folder).
        stack: The stack to update; created if it does not exist.
        on_output: Receives Pulumi's output line by line, as it runs.
        progress: Called with a short message before each step.

    Returns:
        The outputs and the resource changes.

    Raises:
        MlstartError: If a check fails or Pulumi fails.
    """
    report = progress or (lambda _message: None)
    report("Preflight: Pulumi CLI, stack config, the offline policy check and Azure roles")
    checks = preflight(project, stack=stack)
    for warning in checks.warnings:
        report(f"Warning: {warning}")
    infra = load_project(project).folder
    report(f"Selecting stack '{stack}' (created if it does not exist)")
    pulumi_stack = open_stack(infra, stack, create=True)
    report("Running pulumi up")

    from pulumi import automation as auto

    try:
        result = pulumi_stack.up(on_output=on_output)
    except auto.CommandError as error:
        raise MlstartError(f"pulumi up failed: {last_error_line(error)}") from error
    outputs = {
        key: "[secret]" if value.secret else value.value for key, value in result.outputs.items()
    }
    changes = {
        str(getattr(kind, "value", kind)): count
        for kind, count in (result.summary.resource_changes or {}).items()
    }
    return UpResult(
        stack=stack,
        outputs=outputs,
        changes=changes,
        checks=checks.passed,
        warnings=checks.warnings,
    )


def _check_ssh_key(config: StackConfig) -> None:
    if str(config.get("gpuWorkstation")).lower() != "true" or config.is_secret("sshPublicKey"):
        return
    # Stacks written before the compute instance kind have no workstationKind: a VM.
    if str(config.get("workstationKind") or "vm") != "vm":
        return
    key = str(config.get("sshPublicKey") or "")
    if key.startswith(("ssh-", "ecdsa-", "sk-")):
        return
    path = Path(key).expanduser()
    if not path.is_file():
        raise UsageError(
            f"sshPublicKey points at {key}, which does not exist: create a key with "
            "`ssh-keygen -t ed25519` or set the key text with `pulumi config set sshPublicKey`"
        )
