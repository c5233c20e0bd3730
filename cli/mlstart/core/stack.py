"""The Pulumi stack of a generated project, driven through Pulumi's Automation API.

The Automation API runs the Pulumi CLI underneath, so every function here first checks
that the CLI is installed and otherwise says how to get it (and that ``mlstart plan``
works without it).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstart_infra.project import (
    ProjectError,
    PulumiProject,
    StackConfig,
    find_project,
    read_stack_config,
    set_stack_config,
)

from mlstart.errors import MlstartError, ToolMissingError, UsageError

if TYPE_CHECKING:
    from pulumi import automation

PULUMI_INSTALL_HINT = (
    "the Pulumi CLI is not installed: install it from https://www.pulumi.com/docs/install/ "
    "(`mlstart plan` shows offline what would be created, without it)"
)
STACK_RESOURCE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class StackResource:
    """One resource in a stack's state (an entry of ``pulumi stack export``).

    Attributes:
        type: The type token.
        name: The logical name (the URN's last part).
        urn: The URN.
        protect: Whether it is protected.
        custom: False for components and the stack itself.
        parent: The parent's URN, or "".
        dependencies: URNs of the resources it depends on (``dependencies`` and every
            ``propertyDependencies`` list).
        provider: The URN of its provider (the reference without ``::<id>``), or "".
        deleted_with: The URN in ``deletedWith``, or "".
        inputs: Its inputs as recorded in the state.
        outputs: Its outputs as recorded in the state.
        id: The provider's id of the resource (for Azure, its resource id), or "".
        created: When Pulumi first added it to the state (RFC 3339), or "" for states
            written before Pulumi recorded it (``created`` of ResourceV3 in
            https://github.com/pulumi/pulumi/blob/master/sdk/go/common/apitype/core.go).
    """

    type: str
    name: str
    urn: str
    protect: bool
    custom: bool = True
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    provider: str = ""
    deleted_with: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    outputs: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    id: str = ""
    created: str = ""

    @property
    def is_provider(self) -> bool:
        """Whether this is a provider or the stack itself rather than a cloud resource."""
        return self.type == STACK_RESOURCE or self.type.startswith("pulumi:providers:")

    @property
    def depends_on(self) -> list[str]:
        """Every URN it needs to exist: parent, dependencies, provider and ``deletedWith``."""
        return [u for u in (self.parent, *self.dependencies, self.provider, self.deleted_with) if u]

    @property
    def azure_name(self) -> str:
        """The resource's name in Azure (its ``name`` output), else its logical name."""
        name = self.outputs.get("name")
        return name if isinstance(name, str) and name else self.name

    @classmethod
    def from_state(cls, item: Mapping[str, Any]) -> StackResource:
        """Read one resource of a ``pulumi stack export`` deployment."""
        urn = str(item.get("urn", ""))
        dependencies = [str(u) for u in item.get("dependencies") or []]
        for urns in (item.get("propertyDependencies") or {}).values():
            dependencies += [str(u) for u in urns or [] if str(u) not in dependencies]
        inputs, outputs = item.get("inputs"), item.get("outputs")
        return cls(
            type=str(item.get("type", "")),
            name=urn.rsplit("::", 1)[-1],
            urn=urn,
            protect=bool(item.get("protect", False)),
            custom=bool(item.get("custom", True)),
            parent=str(item.get("parent") or ""),
            dependencies=tuple(dict.fromkeys(dependencies)),
            # A provider reference is "<provider URN>::<provider id>".
            provider=str(item.get("provider") or "").rsplit("::", 1)[0],
            deleted_with=str(item.get("deletedWith") or ""),
            inputs=inputs if isinstance(inputs, dict) else {},
            outputs=outputs if isinstance(outputs, dict) else {},
            id=str(item.get("id") or ""),
            created=str(item.get("created") or ""),
        )


def require_pulumi_cli() -> str:
    """Return the Pulumi CLI's path.

    Raises:
        ToolMissingError: If it is not on PATH.
    """
    found = shutil.which("pulumi")
    if found is None:
        raise ToolMissingError(PULUMI_INSTALL_HINT)
    return found


def load_project(path: Path | str) -> PulumiProject:
    """The Pulumi project in ``path`` or its ``infra/`` folder (the program need not run).

    Raises:
        UsageError: If there is none, or ``Pulumi.yaml`` cannot be read.
    """
    try:
        return find_project(path, python_program=False)
    except ProjectError as error:
        raise UsageError(str(error)) from error


def load_stack_config(project: PulumiProject, stack: str) -> StackConfig:
    """``Pulumi.<stack>.yaml`` over the defaults of ``Pulumi.yaml``, secrets masked.

    Raises:
        UsageError: If the file is missing or malformed.
    """
    try:
        return read_stack_config(project, stack)
    except ProjectError as error:
        raise UsageError(str(error)) from error


def save_stack_config(project: PulumiProject, stack: str, key: str, value: str) -> Path:
    """Set ``key`` in ``Pulumi.<stack>.yaml``, keeping the file's comments and order.

    Raises:
        MlstartError: If the file cannot be changed.
    """
    try:
        return set_stack_config(project, stack, key, value)
    except ProjectError as error:
        raise MlstartError(str(error)) from error


def open_stack(infra: Path, stack: str, *, create: bool) -> automation.Stack:
    """Select (or, with ``create``, create) the stack through the Automation API.

    Raises:
        ToolMissingError: If the Pulumi CLI or the Pulumi SDK is missing.
        UsageError: If the stack does not exist and ``create`` is False.
    """
    require_pulumi_cli()
    try:
        from pulumi import automation as auto
    except ImportError as error:
        raise ToolMissingError(
            "the Pulumi SDK is not installed: pip install 'mlstart[azure]'"
        ) from error
    try:
        if create:
            return auto.create_or_select_stack(stack_name=stack, work_dir=str(infra))
        return auto.select_stack(stack_name=stack, work_dir=str(infra))
    except auto.StackNotFoundError as error:
        raise UsageError(f"stack '{stack}' does not exist; create it with `mlstart up`") from error
    except auto.CommandError as error:
        raise MlstartError(f"pulumi failed: {last_error_line(error)}") from error


def stack_resources(stack: automation.Stack) -> list[StackResource]:
    """Every resource in the stack's current state (``pulumi stack export``), in state order."""
    deployment = stack.export_stack().deployment or {}
    return [StackResource.from_state(item) for item in deployment.get("resources") or []]


def last_error_line(error: BaseException | str) -> str:
    """The most useful single line of a Pulumi CLI failure (an exception or its output)."""
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        found = re.search(r"\berror:\s*(.+)", line)
        if found:
            return found.group(1).strip()
    return lines[-1] if lines else type(error).__name__
