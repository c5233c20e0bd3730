"""``mlstart down``: decommission a project's cloud resources safely.

Order of work: show what will be destroyed and what is kept, get confirmation, write an
archive record into the project (``decommission/<date>/``) and commit it, destroy, and list
whatever is left. Resources created with ``protect=True`` (storage, registry, workspace:
the data) are kept unless ``include_data`` is set and confirmed a second time.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstart.core.git import git, is_repository
from mlstart.core.stack import (
    StackResource,
    infra_dir,
    last_error_line,
    open_stack,
    project_root,
    require_pulumi_cli,
    stack_config_file,
    stack_resources,
)
from mlstart.errors import MlstartError

#: Pulumi marks secret values in exported state with this signature key.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
REDACTED = "[secret]"


class DecommissionCancelled(MlstartError):
    """The user did not confirm; nothing was destroyed."""


@dataclass(frozen=True)
class DecommissionPlan:
    """What ``down`` is about to do, for the confirmation prompt."""

    project_name: str
    stack: str
    to_destroy: list[StackResource]
    kept: list[StackResource]
    include_data: bool


@dataclass
class DownResult:
    """What ``down`` did."""

    archive: Path
    archive_commit: str | None
    destroyed: int
    left: list[StackResource]
    stack_removed: bool
    warnings: list[str] = field(default_factory=list)


def plan_decommission(
    project: Path | str, *, stack: str = "dev", include_data: bool = False
) -> DecommissionPlan:
    """Work out what would be destroyed and kept, without changing anything."""
    infra = infra_dir(project)
    return _plan(open_stack(infra, stack, create=False), project_root(infra), stack, include_data)


def _plan(pulumi_stack: Any, root: Path, stack: str, include_data: bool) -> DecommissionPlan:
    resources = [r for r in stack_resources(pulumi_stack) if not r.is_provider]
    kept = [] if include_data else [r for r in resources if r.protect]
    return DecommissionPlan(
        project_name=_project_name(root),
        stack=stack,
        to_destroy=[r for r in resources if r not in kept],
        kept=kept,
        include_data=include_data,
    )


def decommission(
    project: Path | str,
    *,
    stack: str = "dev",
    include_data: bool = False,
    remove_stack: bool = False,
    confirm: Callable[[DecommissionPlan], bool],
    confirm_data: Callable[[list[StackResource]], bool] | None = None,
    on_output: Callable[[str], None] | None = None,
    today: dt.date | None = None,
) -> DownResult:
    """Decommission the project's stack.

    Args:
        project: The generated project (or its ``infra/`` folder).
        stack: The Pulumi stack to decommission.
        include_data: Also destroy protected resources (after ``confirm_data``).
        remove_stack: Remove the stack and its history once nothing is left in it.
        confirm: Shown the plan; returns True to go ahead.
        confirm_data: Shown the protected resources; must return True for ``include_data``.
        on_output: Receives Pulumi's output line by line.
        today: The date used for the archive folder.

    Returns:
        The archive folder, its commit, how many resources were destroyed and what is left.

    Raises:
        DecommissionCancelled: If a confirmation was refused.
        MlstartError: If Pulumi fails.
    """
    pulumi = require_pulumi_cli()
    infra = infra_dir(project)
    root = project_root(infra)
    pulumi_stack = open_stack(infra, stack, create=False)
    plan = _plan(pulumi_stack, root, stack, include_data)
    if not confirm(plan):
        raise DecommissionCancelled("decommission cancelled; nothing was destroyed")
    protected = [r for r in plan.to_destroy if r.protect]
    if include_data and protected and not (confirm_data and confirm_data(protected)):
        raise DecommissionCancelled("decommission cancelled; nothing was destroyed")

    result = DownResult(
        archive=write_archive(root, infra, pulumi_stack, stack, plan, today or dt.date.today()),
        archive_commit=None,
        destroyed=0,
        left=[],
        stack_removed=False,
    )
    try:
        result.archive_commit = commit_archive(root, result.archive, stack)
    except MlstartError as error:
        result.warnings.append(f"the archive record was written but not committed: {error}")

    from pulumi import automation as auto

    try:
        if include_data and protected:
            _unprotect_all(pulumi, infra, stack)
        pulumi_stack.destroy(exclude_protected=not include_data, on_output=on_output)
    except auto.CommandError as error:
        raise MlstartError(f"pulumi destroy failed: {last_error_line(error)}") from error

    left = [r for r in stack_resources(pulumi_stack) if not r.is_provider]
    result.destroyed = len(plan.to_destroy) - len([r for r in left if r in plan.to_destroy])
    result.left = left
    if remove_stack:
        if left:
            result.warnings.append(f"stack '{stack}' kept: {len(left)} resource(s) remain in it")
        else:
            pulumi_stack.workspace.remove_stack(stack)
            result.stack_removed = True
    return result


def write_archive(
    root: Path,
    infra: Path,
    pulumi_stack: Any,
    stack: str,
    plan: DecommissionPlan,
    today: dt.date,
) -> Path:
    """Write ``decommission/<date>/``: state, config, outputs, answers, metrics and a summary."""
    archive = root / "decommission" / today.isoformat()
    archive.mkdir(parents=True, exist_ok=True)
    exported = pulumi_stack.export_stack()
    state = {"version": exported.version, "deployment": redact(exported.deployment)}
    _write_json(archive / f"stack-{stack}.json", state)
    outputs = {
        key: REDACTED if value.secret else value.value
        for key, value in pulumi_stack.outputs().items()
    }
    _write_json(archive / f"outputs-{stack}.json", outputs)
    config = stack_config_file(infra, stack)
    if config.is_file():
        shutil.copy2(config, archive / config.name)
    for source, name in (
        (root / ".copier-answers.yml", "copier-answers.yml"),
        (root / "reports" / "metrics.json", "final-metrics.json"),
    ):
        if source.is_file():
            shutil.copy2(source, archive / name)
    (archive / "README.md").write_text(_summary(plan, today), encoding="utf-8")
    return archive


def commit_archive(root: Path, archive: Path, stack: str) -> str | None:
    """Commit only the archive folder; return the commit, or None outside a git repository."""
    if not is_repository(root):
        return None
    relative = archive.relative_to(root).as_posix()
    git(root, "add", "--", relative)
    git(
        root,
        "-c", "commit.gpgsign=false",
        "commit", "--quiet", "--no-verify",
        "-m", f"Decommission record for stack {stack} ({archive.name})",
        "--", relative,
    )  # fmt: skip
    return git(root, "rev-parse", "HEAD").strip()


def redact(value: Any) -> Any:
    """Replace every secret in exported Pulumi state with a marker."""
    if isinstance(value, dict):
        if SECRET_SIGNATURE in value:
            return REDACTED
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _unprotect_all(pulumi: str, infra: Path, stack: str) -> None:
    result = subprocess.run(
        [pulumi, "state", "unprotect", "--all", "--yes", "--stack", stack],
        cwd=infra,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MlstartError(f"pulumi state unprotect failed: {last_error_line(result.stderr)}")


def _summary(plan: DecommissionPlan, today: dt.date) -> str:
    destroyed = "\n".join(f"- {r.type} `{r.name}`" for r in plan.to_destroy) or "- nothing"
    kept = "\n".join(f"- {r.type} `{r.name}` (protected)" for r in plan.kept) or "- nothing"
    return (
        f"# Decommission record: {plan.project_name}, stack {plan.stack}\n\n"
        f"Date: {today.isoformat()}\n\n## Destroyed\n\n{destroyed}\n\n## Kept\n\n{kept}\n\n"
        "The files beside this one hold the stack's last state (secrets redacted), its\n"
        "configuration and outputs, the template answers and the final metrics.\n"
    )


def _project_name(root: Path) -> str:
    import yaml

    answers = root / ".copier-answers.yml"
    if answers.is_file():
        content = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
        if name := content.get("project_name"):
            return str(name)
    return root.name


def _write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
