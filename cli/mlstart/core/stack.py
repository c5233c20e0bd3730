"""The Pulumi stack of a generated project, driven through Pulumi's Automation API.

The Automation API runs the Pulumi CLI underneath, so every function here first checks
that the CLI is installed and otherwise says how to get it (and that ``mlstart plan``
works without it).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

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
    """One resource in a stack's state."""

    type: str
    name: str
    urn: str
    protect: bool

    @property
    def is_provider(self) -> bool:
        """Whether this is a provider or the stack itself rather than a cloud resource."""
        return self.type == STACK_RESOURCE or self.type.startswith("pulumi:providers:")


def require_pulumi_cli() -> str:
    """Return the Pulumi CLI's path.

    Raises:
        ToolMissingError: If it is not on PATH.
    """
    found = shutil.which("pulumi")
    if found is None:
        raise ToolMissingError(PULUMI_INSTALL_HINT)
    return found


def infra_dir(project: Path | str) -> Path:
    """The project's Pulumi project folder (``infra/`` holding ``Pulumi.yaml``).

    Raises:
        UsageError: If there is none.
    """
    root = Path(project).expanduser().resolve()
    for candidate in (root / "infra", root):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise UsageError(f"{root} has no infra/Pulumi.yaml; run this in a project made by mlstart")


def project_root(infra: Path) -> Path:
    """The generated project that holds ``infra``."""
    return infra.parent if infra.name == "infra" else infra


def stack_config_file(infra: Path, stack: str) -> Path:
    """``Pulumi.<stack>.yaml``."""
    return infra / f"Pulumi.{stack}.yaml"


def read_stack_config(infra: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of ``Pulumi.<stack>.yaml`` (keys as written, e.g. ``ns:key``).

    Raises:
        UsageError: If the file is missing or not valid YAML.
    """
    path = stack_config_file(infra, stack)
    if not path.is_file():
        raise UsageError(
            f"{path.name} is missing: copy Pulumi.dev.yaml to it and adjust the values"
        )
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UsageError(f"{path.name} is not valid YAML: {error}") from error
    return dict(content.get("config") or {})


def config_value(config: dict[str, Any], key: str) -> Any:
    """Look ``key`` up with or without its ``namespace:`` prefix."""
    for name, value in config.items():
        if name == key or name.split(":", 1)[-1] == key:
            return value
    return None


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
    """The resources in the stack's current state (``pulumi stack export``)."""
    deployment = stack.export_stack().deployment or {}
    return [
        StackResource(
            type=str(item.get("type", "")),
            name=str(item.get("urn", "")).rsplit("::", 1)[-1],
            urn=str(item.get("urn", "")),
            protect=bool(item.get("protect", False)),
        )
        for item in deployment.get("resources") or []
    ]


def last_error_line(error: BaseException | str) -> str:
    """The most useful single line of a Pulumi CLI failure (an exception or its output)."""
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        found = re.search(r"\berror:\s*(.+)", line)
        if found:
            return found.group(1).strip()
    return lines[-1] if lines else type(error).__name__
