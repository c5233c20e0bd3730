"""The resource graph a Pulumi program would create: what policies and prices read.

Plain data with no Pulumi import, so policies and prices can be tested on hand-made graphs
and a plan can be saved as JSON and judged later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlannedResource:
    """One resource in the plan.

    Attributes:
        urn: The Pulumi URN (unique in the graph).
        type: The type token, e.g. ``azure-native:compute:VirtualMachine``.
        name: The logical Pulumi name.
        azure_name: The name the resource gets in Azure.
        custom: False for component resources (groupings), True for cloud resources.
        inputs: The inputs the provider receives (camelCase keys).
        parent: The parent's URN, or None.
        protect: Whether ``pulumi destroy`` must refuse to delete it.
        id: The (mocked) resource id, used to follow references between resources.
        ignore_changes: Input paths that ``pulumi up`` sets on create and then leaves alone
            (another owner, e.g. the deploy workflow, changes them).
        owner: Who creates it: ``pulumi`` (the program) or ``ci`` (the deploy workflow,
            from a file in the project such as ``aml/online-deployment.yml``).
        dependencies: URNs of the resources it depends on.
    """

    urn: str
    type: str
    name: str
    azure_name: str
    custom: bool
    inputs: Mapping[str, Any]
    parent: str | None = None
    protect: bool = False
    id: str | None = None
    ignore_changes: tuple[str, ...] = ()
    owner: str = "pulumi"
    dependencies: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The type's module, e.g. ``compute`` for ``azure-native:compute:VirtualMachine``."""
        parts = self.type.split(":")
        return parts[1] if len(parts) > 2 else ""

    def get(self, path: str, default: Any = None) -> Any:
        """Read a nested input by a dotted path, e.g. ``osProfile.linuxConfiguration``."""
        return dig(self.inputs, path, default)


def dig(data: Any, path: str, default: Any = None) -> Any:
    """Follow a dotted path through nested mappings; ``default`` where it breaks off."""
    current = data
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return default
        current = current[key]
    return current


@dataclass
class ResourceGraph:
    """Everything a program would create, with its component structure.

    Attributes:
        project: The Pulumi project name.
        stack: The stack name.
        resources: Every resource except the stack and providers.
        warnings: Warnings the program logged while it ran.
        config: The stack config the program ran with (secrets hidden).
    """

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[PlannedResource]:
        return iter(self.resources)

    @property
    def cloud_resources(self) -> list[PlannedResource]:
        """The resources that exist in the cloud (components left out)."""
        return [r for r in self.resources if r.custom]

    def of_type(self, *types: str) -> list[PlannedResource]:
        """The cloud resources whose type token is one of ``types``."""
        return [r for r in self.resources if r.custom and r.type in types]

    def by_id(self, resource_id: Any) -> PlannedResource | None:
        """The resource with this id (ids are compared case-insensitively, as in Azure)."""
        if not isinstance(resource_id, str):
            return None
        wanted = resource_id.lower()
        return next((r for r in self.resources if (r.id or "").lower() == wanted), None)

    def by_urn(self, urn: str | None) -> PlannedResource | None:
        """The resource with this URN."""
        return next((r for r in self.resources if r.urn == urn), None) if urn else None

    def component_of(self, resource: PlannedResource) -> PlannedResource | None:
        """The nearest component resource above ``resource`` (None at top level)."""
        parent = self.by_urn(resource.parent)
        while parent is not None and parent.custom:
            parent = self.by_urn(parent.parent)
        return parent

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the graph."""
        return {
            "project": self.project,
            "stack": self.stack,
            "warnings": list(self.warnings),
            "resources": [
                {**asdict(r), "inputs": dict(r.inputs), "component": _urn_name(self, r)}
                for r in self.resources
            ],
        }


def _urn_name(graph: ResourceGraph, resource: PlannedResource) -> str | None:
    component = graph.component_of(resource)
    return component.name if component else None
