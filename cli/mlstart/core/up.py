"""``mlstart up``: preflight checks, then ``pulumi up`` through the Automation API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstart.core.plan import check_mandatory, plan_project
from mlstart.core.stack import (
    config_value,
    infra_dir,
    last_error_line,
    open_stack,
    project_root,
    read_stack_config,
    require_pulumi_cli,
)
from mlstart.errors import MlstartError, UsageError

REFERENCE_STACK = "dev"


@dataclass
class UpResult:
    """What ``pulumi up`` did.

    Attributes:
        stack: The stack that was updated.
        outputs: The stack outputs (secret values masked).
        changes: Resource changes by kind, e.g. ``{"create": 12}``.
        checks: The preflight checks that passed, one line each.
    """

    stack: str
    outputs: dict[str, Any]
    changes: dict[str, int]
    checks: list[str] = field(default_factory=list)


def preflight(project: Path | str, *, stack: str = REFERENCE_STACK) -> list[str]:
    """Check everything ``pulumi up`` needs before it runs.

    Returns:
        One line for each check that passed.

    Raises:
        ToolMissingError: If the Pulumi CLI (or SDK) is missing.
        UsageError: If the stack's config is missing or incomplete.
        PolicyFailureError: If a mandatory policy fails on the offline plan.
    """
    passed = [f"Pulumi CLI found at {require_pulumi_cli()}"]
    infra = infra_dir(project)
    config = read_stack_config(infra, stack)
    missing = [key for key in _reference_keys(infra) if config_value(config, key) in (None, "")]
    if missing:
        raise UsageError(
            f"Pulumi.{stack}.yaml does not set {', '.join(missing)}: "
            "set them with `pulumi config set KEY VALUE`"
        )
    passed.append(f"Pulumi.{stack}.yaml sets every required value")
    _check_ssh_key(config)
    report = plan_project(project_root(infra), stack=stack)
    check_mandatory(report)
    passed.append(f"offline plan passes all {len(report.policies)} policies that are mandatory")
    return passed


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
    report("Preflight: Pulumi CLI, stack config and the offline policy check")
    checks = preflight(project, stack=stack)
    infra = infra_dir(project)
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
    return UpResult(stack=stack, outputs=outputs, changes=changes, checks=checks)


def _reference_keys(infra: Path) -> list[str]:
    """The keys the template's reference stack sets; every stack must set them too."""
    reference = infra / f"Pulumi.{REFERENCE_STACK}.yaml"
    if not reference.is_file():
        return []
    content = yaml.safe_load(reference.read_text(encoding="utf-8")) or {}
    return [str(key) for key in (content.get("config") or {})]


def _check_ssh_key(config: dict[str, Any]) -> None:
    if str(config_value(config, "gpuWorkstation")).lower() != "true":
        return
    key = str(config_value(config, "sshPublicKey") or "")
    if key.startswith(("ssh-", "ecdsa-", "sk-")):
        return
    path = Path(key).expanduser()
    if not path.is_file():
        raise UsageError(
            f"sshPublicKey points at {key}, which does not exist: create a key with "
            "`ssh-keygen -t ed25519` or set the key text with `pulumi config set sshPublicKey`"
        )
