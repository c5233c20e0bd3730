"""``mlstart down``: decommission a project's cloud resources safely.

Order of work: show what will be destroyed and what is kept, get confirmation, write an
archive record into the project (``decommission/<date>/``), destroy, commit the record (a
failed destroy removes it instead), and list whatever is left. Resources created with
``protect=True`` (storage, key vault, registry, workspace: the data; the budget, which
keeps watching what still bills) are kept, with everything they need, unless
``include_data`` is set and confirmed a second time. Once nothing is left, the stack's
``nameSuffix`` is rotated so the next ``mlstart up`` does not collide with names Azure
keeps soft-deleted, and the summary says which and for how long.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstart_infra.components.catalog import (
    BLOB_CONTAINER,
    BUDGET,
    LOG_ANALYTICS,
    ML_WORKSPACE,
    REGISTRY,
    STORAGE,
    VAULT,
)
from mlstart_infra.project import PulumiProject

from mlstart.core.git import git, is_repository
from mlstart.core.stack import (
    StackResource,
    last_error_line,
    load_project,
    open_stack,
    require_pulumi_cli,
    save_stack_config,
    stack_resources,
)
from mlstart.errors import MlstartError

#: Pulumi marks secret values in exported state with this signature key.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
REDACTED = "[secret]"
#: The stack config key holding the suffix of globally unique names.
NAME_SUFFIX_KEY = "nameSuffix"
#: Days a deleted key vault stays soft-deleted when its state does not say (Azure's default).
DEFAULT_VAULT_RETENTION_DAYS = 90
#: Days a deleted Azure ML workspace stays soft-deleted; its name is taken until then.
ML_WORKSPACE_RETENTION_DAYS = 14
ML_SOFT_DELETE_DOC = "https://learn.microsoft.com/en-us/azure/machine-learning/concept-soft-delete"
#: Days a deleted Log Analytics workspace keeps its name (recoverable by creating it again).
LOG_ANALYTICS_RETENTION_DAYS = 14
LOG_ANALYTICS_DELETE_DOC = (
    "https://learn.microsoft.com/en-us/rest/api/loganalytics/workspaces/delete"
)
#: Protected types that hold the project's data and models.
DATA_TYPES = frozenset({STORAGE, BLOB_CONTAINER, VAULT, REGISTRY, ML_WORKSPACE})


class DecommissionCancelled(MlstartError):
    """The user did not confirm; nothing was destroyed."""


@dataclass(frozen=True)
class DecommissionPlan:
    """What ``down`` is about to do, for the confirmation prompt.

    Attributes:
        project_name: The project's name (typed to confirm).
        stack: The stack.
        to_destroy: What ``pulumi destroy`` will delete.
        kept: What it leaves: protected resources and everything they need.
        include_data: Whether protected resources go too.
        reasons: Why each kept resource stays, by URN.
    """

    project_name: str
    stack: str
    to_destroy: list[StackResource]
    kept: list[StackResource]
    include_data: bool
    reasons: dict[str, str] = field(default_factory=dict)

    def reason(self, resource: StackResource) -> str:
        """Why ``resource`` is kept."""
        return self.reasons.get(resource.urn, "protected")


@dataclass
class DownResult:
    """What ``down`` did."""

    archive: Path
    archive_commit: str | None
    destroyed: int
    left: list[StackResource]
    stack_removed: bool
    warnings: list[str] = field(default_factory=list)
    soft_deleted: list[str] = field(default_factory=list)
    new_name_suffix: str | None = None


def plan_decommission(
    project: Path | str, *, stack: str = "dev", include_data: bool = False
) -> DecommissionPlan:
    """Work out what would be destroyed and kept, without changing anything."""
    pulumi_project = load_project(project)
    pulumi_stack = open_stack(pulumi_project.folder, stack, create=False)
    return _plan(pulumi_stack, pulumi_project.root, stack, include_data)


def kept_by_exclude_protected(resources: list[StackResource]) -> dict[str, str]:
    """What ``pulumi destroy --exclude-protected`` leaves, by URN, with the reason for each.

    Pulumi keeps every protected resource and, transitively, everything it depends on: its
    parent, its ``dependencies``, its ``propertyDependencies``, its ``deletedWith`` and its
    provider (``getProtectedExcludes`` in pulumi/pulumi pkg/cmd/pulumi/operations/destroy.go,
    over ``DependencyGraph.TransitiveDependenciesOf`` in pkg/resource/graph/dependency_graph.go;
    the flag came with https://github.com/pulumi/pulumi/pull/8359 and is sugar over
    ``--exclude`` since https://github.com/pulumi/pulumi/pull/20120). Children of a protected
    resource are not kept. Newer Pulumi versions also keep, for a dependency that is a
    component, its children that come before the protected resource in the state; the
    programs mlstart generates list those children as dependencies anyway, and the resources
    left after the destroy are read back from the state, so the record is exact either way.

    Args:
        resources: The stack's state, providers and the stack resource included.

    Returns:
        URN to reason, for every kept resource (providers and the stack included).
    """
    by_urn = {r.urn: r for r in resources}
    kept: dict[str, str] = {}
    for resource in resources:
        if resource.protect:
            kept[resource.urn] = _protected_reason(resource)
    for resource in resources:
        if not resource.protect:
            continue
        pending = list(resource.depends_on)
        while pending:
            urn = pending.pop()
            if urn in kept or urn not in by_urn:
                continue
            kept[urn] = f"{resource.name} (protected) needs it"
            pending += by_urn[urn].depends_on
    return kept


def _protected_reason(resource: StackResource) -> str:
    if resource.type == BUDGET:
        return "protected: the budget keeps watching what still bills; it goes with --include-data"
    if resource.type in DATA_TYPES:
        return "protected data"
    return "protected"


def _plan(pulumi_stack: Any, root: Path, stack: str, include_data: bool) -> DecommissionPlan:
    state = stack_resources(pulumi_stack)
    reasons = {} if include_data else kept_by_exclude_protected(state)
    resources = [r for r in state if not r.is_provider]
    return DecommissionPlan(
        project_name=_project_name(root),
        stack=stack,
        to_destroy=[r for r in resources if r.urn not in reasons],
        kept=[r for r in resources if r.urn in reasons],
        include_data=include_data,
        reasons={r.urn: reasons[r.urn] for r in resources if r.urn in reasons},
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
    pulumi_project = load_project(project)
    infra, root = pulumi_project.folder, pulumi_project.root
    pulumi_stack = open_stack(infra, stack, create=False)
    plan = _plan(pulumi_stack, root, stack, include_data)
    if not confirm(plan):
        raise DecommissionCancelled("decommission cancelled; nothing was destroyed")
    protected = [r for r in plan.to_destroy if r.protect]
    today = today or dt.date.today()
    if include_data and protected and not (confirm_data and confirm_data(protected)):
        raise DecommissionCancelled("decommission cancelled; nothing was destroyed")

    # The snapshot is taken before the destroy (the state is gone after it), but committed
    # only once the destroy succeeded: history never holds a record of a decommission that
    # did not happen. A failed destroy removes the snapshot; Pulumi's own history
    # (`pulumi stack history`) keeps the failed attempt, and a rerun takes a new snapshot.
    archive = write_archive(root, infra, pulumi_stack, stack, plan, today)
    result = DownResult(archive=archive, archive_commit=None, destroyed=0, left=[],
                        stack_removed=False)  # fmt: skip

    from pulumi import automation as auto

    try:
        if include_data and protected:
            _unprotect_all(pulumi, infra, stack)
        pulumi_stack.destroy(exclude_protected=not include_data, on_output=on_output)
    except (auto.CommandError, MlstartError) as error:
        discard_archive(archive)
        reason = (
            f"pulumi destroy failed: {last_error_line(error)}"
            if isinstance(error, auto.CommandError)
            else str(error)
        )
        raise MlstartError(
            f"{reason}; no decommission record was kept "
            "(see `pulumi stack history`; run `mlstart down` again once fixed)"
        ) from error
    except BaseException:
        discard_archive(archive)
        raise

    left = [r for r in stack_resources(pulumi_stack) if not r.is_provider]
    left_urns = {r.urn for r in left}
    destroyed = [r for r in plan.to_destroy if r.urn not in left_urns]
    result.destroyed = len(destroyed)
    result.left = left
    result.soft_deleted = soft_deleted_notes(destroyed, today)
    if not left and destroyed:
        _rotate_suffix(pulumi_project, stack, result)
    _append_aftermath(result)
    also = [pulumi_project.stack_file(stack)] if result.new_name_suffix else []
    try:
        result.archive_commit = commit_archive(root, archive, stack, also=also)
    except MlstartError as error:
        result.warnings.append(f"the archive record was written but not committed: {error}")
    if remove_stack:
        if left:
            result.warnings.append(f"stack '{stack}' kept: {len(left)} resource(s) remain in it")
        else:
            # Keep Pulumi.<stack>.yaml: it holds the config (and the new suffix) to start again.
            pulumi_stack.workspace.remove_stack(stack, preserve_config=True)
            result.stack_removed = True
    return result


def soft_deleted_notes(destroyed: list[StackResource], today: dt.date) -> list[str]:
    """What Azure keeps soft-deleted after ``destroyed`` went, for how long, and what it blocks.

    Args:
        destroyed: The resources the destroy removed.
        today: The day they were destroyed.
    """
    notes = []
    for resource in destroyed:
        name = resource.azure_name
        if resource.type == VAULT:
            properties = resource.inputs.get("properties")
            properties = properties if isinstance(properties, dict) else {}
            days = _int(properties.get("softDeleteRetentionInDays"), DEFAULT_VAULT_RETENTION_DAYS)
            until = today + dt.timedelta(days=days)
            if properties.get("enablePurgeProtection"):
                after = "purge protection is on, so it cannot be purged before then"
            else:
                after = f"purge it sooner with `az keyvault purge --name {name}`"
            notes.append(
                f"key vault {name} stays soft-deleted for {days} days "
                f"(softDeleteRetentionInDays, until {until}): {after}; its name stays taken"
            )
        elif resource.type == ML_WORKSPACE:
            until = today + dt.timedelta(days=ML_WORKSPACE_RETENTION_DAYS)
            notes.append(
                f"Azure ML workspace {name} stays soft-deleted for {ML_WORKSPACE_RETENTION_DAYS} "
                f"days (until {until}): it can be recovered, or deleted permanently to free its "
                f"name ({ML_SOFT_DELETE_DOC})"
            )
        elif resource.type == LOG_ANALYTICS:
            until = today + dt.timedelta(days=LOG_ANALYTICS_RETENTION_DAYS)
            notes.append(
                f"Log Analytics workspace {name} keeps its name for "
                f"{LOG_ANALYTICS_RETENTION_DAYS} days (until {until}): creating it again in the "
                f"same resource group recovers it ({LOG_ANALYTICS_DELETE_DOC})"
            )
    return notes


def _rotate_suffix(project: PulumiProject, stack: str, result: DownResult) -> None:
    """Give the stack a new ``nameSuffix``, so its next ``up`` picks names Azure has free."""
    from mlstart_infra.components.naming import new_suffix

    suffix = new_suffix()
    try:
        save_stack_config(project, stack, NAME_SUFFIX_KEY, suffix)
    except MlstartError as error:
        result.warnings.append(
            f"could not rotate the name suffix ({error}): set a new one with "
            f"`pulumi config set {NAME_SUFFIX_KEY} <6 letters or digits>` before the next up"
        )
        return
    result.new_name_suffix = suffix


def _append_aftermath(result: DownResult) -> None:
    """Add what stays soft-deleted and the new suffix to the archive's summary."""
    if not result.soft_deleted and not result.new_name_suffix:
        return
    lines = ["", "## After the destroy", ""]
    lines += [f"- {note}" for note in result.soft_deleted]
    if result.new_name_suffix:
        lines.append(
            f"- `{NAME_SUFFIX_KEY}` is now `{result.new_name_suffix}`: the next `mlstart up` of "
            "this stack uses new names, free of the soft-deleted ones"
        )
    summary = result.archive / "README.md"
    summary.write_text(summary.read_text(encoding="utf-8") + "\n".join(lines) + "\n", "utf-8")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def write_archive(
    root: Path,
    infra: Path,
    pulumi_stack: Any,
    stack: str,
    plan: DecommissionPlan,
    today: dt.date,
) -> Path:
    """Write ``decommission/<date>/``: state, config, outputs, answers, metrics and a summary.

    A second decommission on the same day gets ``<date>-2`` (and so on): a record is never
    overwritten.

    Raises:
        MlstartError: If the folder cannot be written (nothing is left half-written).
    """
    archive = _new_archive_folder(root / "decommission", today)
    try:
        _write_archive_files(archive, root, infra, pulumi_stack, stack, plan, today)
    except OSError as error:
        discard_archive(archive)
        raise MlstartError(
            f"cannot write the decommission record in {error.filename or archive}: "
            f"{error.strerror}; nothing was destroyed"
        ) from error
    except BaseException:
        discard_archive(archive)
        raise
    return archive


def discard_archive(archive: Path) -> None:
    """Remove an archive folder, and ``decommission/`` too if that leaves it empty."""
    shutil.rmtree(archive, ignore_errors=True)
    with contextlib.suppress(OSError):
        archive.parent.rmdir()


def _new_archive_folder(parent: Path, today: dt.date) -> Path:
    """Create and return the first of ``<date>``, ``<date>-2``, ... that does not exist yet."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MlstartError(
            f"cannot create {parent} for the decommission record: {error.strerror}; "
            "nothing was destroyed"
        ) from error
    for number in range(1, 1000):
        folder = parent / (today.isoformat() + (f"-{number}" if number > 1 else ""))
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            raise MlstartError(
                f"cannot create {folder} for the decommission record: {error.strerror}; "
                "nothing was destroyed"
            ) from error
        return folder
    raise MlstartError(f"too many decommission records for {today} in {parent}")


def _write_archive_files(
    archive: Path,
    root: Path,
    infra: Path,
    pulumi_stack: Any,
    stack: str,
    plan: DecommissionPlan,
    today: dt.date,
) -> None:
    """Write the record's files into ``archive``."""
    exported = pulumi_stack.export_stack()
    state = {"version": exported.version, "deployment": redact(exported.deployment)}
    _write_json(archive / f"stack-{stack}.json", state)
    outputs = {
        key: REDACTED if value.secret else value.value
        for key, value in pulumi_stack.outputs().items()
    }
    _write_json(archive / f"outputs-{stack}.json", outputs)
    config = infra / f"Pulumi.{stack}.yaml"
    if config.is_file():
        shutil.copy2(config, archive / config.name)
    for source, name in (
        (root / ".copier-answers.yml", "copier-answers.yml"),
        (root / "reports" / "metrics.json", "final-metrics.json"),
    ):
        if source.is_file():
            shutil.copy2(source, archive / name)
    (archive / "README.md").write_text(_summary(plan, today), encoding="utf-8")


def commit_archive(
    root: Path, archive: Path, stack: str, *, also: list[Path] | None = None
) -> str | None:
    """Commit the archive folder (and ``also``, e.g. the stack file with its new suffix).

    Returns:
        The commit, or None outside a git repository.
    """
    if not is_repository(root):
        return None
    relative = [path.relative_to(root).as_posix() for path in (archive, *(also or []))]
    git(root, "add", "--", *relative)
    git(
        root,
        "-c", "commit.gpgsign=false",
        "commit", "--quiet", "--no-verify",
        "-m", f"Decommission record for stack {stack} ({archive.name})",
        "--", *relative,
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
    kept = "\n".join(f"- {r.type} `{r.name}`: {plan.reason(r)}" for r in plan.kept) or "- nothing"
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
