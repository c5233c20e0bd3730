"""The Azure roles the identity that runs ``pulumi up`` needs, read from the offline plan.

The design asks for as few roles as possible (docs/ci-identity.md explains each):

- ``Contributor`` creates and deletes every resource the program declares. The program
  creates its own resource group, so the first ``pulumi up`` needs it on the subscription;
  once the group exists, Contributor on the group is enough.
- The CI identity the program creates (``components/ci_identity.py``) gets AzureML Data
  Scientist, AcrPush and Container Apps Contributor on the resources CI uses: more role
  assignments for the deployer to write, and roles for the condition below to allow.
- ``Contributor`` cannot write role assignments (``Microsoft.Authorization/*/Write`` is in its
  NotActions). An ``authorization:RoleAssignment`` in the plan (AcrPull for the serving app's
  identity on the registry; Contributor on the workspace for a compute instance's identity,
  without which its idle shutdown does not work) needs ``Role Based Access Control
  Administrator``, best with a condition that lets it assign those roles only; ``User Access
  Administrator`` or ``Owner`` would also do, with far more power.
- A custom role definition (``authorization:RoleDefinition``: the GPU workstation's
  idle-shutdown role, read and deallocate that VM only) needs
  ``Microsoft.Authorization/roleDefinitions/write``, which Role Based Access Control
  Administrator does not hold: ``User Access Administrator`` (``Microsoft.Authorization/*``)
  or ``Owner`` does, and covers the role assignments too.
- A budget (``Microsoft.Consumption/budgets/write``) is covered by Contributor at the
  budget's scope; where the budget's scope is outside the resource group, ``Cost
  Management Contributor`` at that scope is the narrowest role.

Source: https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
Pure standard library: the graph is read by type tokens only, so tests and ``doctor`` use
it without Pulumi.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from mlstart_infra.components.catalog import (
    ACR_PUSH_ROLE,
    AZUREML_DATA_SCIENTIST_ROLE,
    BUDGET,
    CONTAINER_APPS_CONTRIBUTOR_ROLE,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
)

BUILT_IN_ROLES_DOC = (
    "https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles"
)
#: The AcrPull built-in role's id (what the RoleAssignment grants; the ABAC condition names it).
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
#: The Contributor built-in role's id (a compute instance's identity gets it on the workspace).
CONTRIBUTOR_ROLE_ID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
#: The AzureML Registry User built-in role's id (read and write a registry's assets).
ML_REGISTRY_USER_ROLE_ID = "1823dd4f-9b8c-4ab6-ab4e-7397a3684615"
#: Built-in role id -> what the programs mlstart generates assign it for.
ASSIGNED_ROLES = {
    ML_REGISTRY_USER_ROLE_ID: (
        "AzureML Registry User to the workspace's identity on the shared model registry"
    ),
    ACR_PULL_ROLE_ID: "AcrPull to the serving app's identity on the registry",
    CONTRIBUTOR_ROLE_ID: (
        "Contributor to the compute instance's identity on the workspace (idle shutdown needs it)"
    ),
    AZUREML_DATA_SCIENTIST_ROLE: "AzureML Data Scientist to the CI identity on the workspace",
    ACR_PUSH_ROLE: "AcrPush to the CI identity on the registry",
    CONTAINER_APPS_CONTRIBUTOR_ROLE: "Container Apps Contributor to the CI identity on the app",
}

SUBSCRIPTION = "subscription"
RESOURCE_GROUP_SCOPE = "resource group"


class _Resource(Protocol):
    type: str
    custom: bool
    azure_name: str
    id: str | None
    inputs: Any


@dataclass(frozen=True)
class RequiredRole:
    """One Azure role the deploying identity needs.

    Attributes:
        role: The built-in role's name, as ``az role assignment list`` shows it.
        scope: ``subscription`` or ``resource group``.
        resource_group: The resource group's name where ``scope`` is the group.
        reason: Why the program needs it, one line.
        also_enough: Broader built-in roles that would also do.
        actions: The Azure actions it is needed for.
        first_up_scope: A wider scope needed only while the resource group does not exist.
    """

    role: str
    scope: str
    resource_group: str | None
    reason: str
    also_enough: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    first_up_scope: str | None = None

    @property
    def accepted(self) -> tuple[str, ...]:
        """The role and every broader role that grants the same actions."""
        return (self.role, *self.also_enough)

    def where(self) -> str:
        """The scope in words, e.g. ``resource group rg-demo-dev``."""
        where = f"{self.scope} {self.resource_group}" if self.resource_group else self.scope
        if self.first_up_scope:
            where += f" ({self.first_up_scope} for the first `pulumi up`, which creates it)"
        return where


def required_roles(graph: Iterable[_Resource]) -> list[RequiredRole]:
    """The roles the identity running ``pulumi up`` needs for this plan, fewest first.

    Args:
        graph: The offline plan's resources (a ``ResourceGraph`` or any iterable of them).

    Returns:
        Contributor (always), then User Access Administrator when the plan defines a custom
        role, else Role Based Access Control Administrator when it assigns roles, then Cost
        Management Contributor when a budget lies outside the resource group.
    """
    resources = [r for r in graph if r.custom]
    groups = [r for r in resources if r.type == RESOURCE_GROUP]
    group = groups[0].azure_name if groups else None
    scope = RESOURCE_GROUP_SCOPE if group else SUBSCRIPTION
    roles = [
        RequiredRole(
            role="Contributor",
            scope=scope,
            resource_group=group,
            reason="creates, updates and deletes the resources the program declares",
            also_enough=("Owner",),
            actions=("*",),
            first_up_scope=SUBSCRIPTION if group else None,
        )
    ]
    if any(r.type == ROLE_DEFINITION for r in resources):
        roles.append(
            RequiredRole(
                role="User Access Administrator",
                scope=scope,
                resource_group=group,
                reason=(
                    "the program defines a custom role (read and deallocate the workstation, "
                    "for its idle-shutdown agent) and assigns roles; Role Based Access Control "
                    "Administrator may assign roles but not define them"
                ),
                also_enough=("Owner",),
                actions=(
                    "Microsoft.Authorization/roleDefinitions/write",
                    "Microsoft.Authorization/roleDefinitions/delete",
                    "Microsoft.Authorization/roleAssignments/write",
                    "Microsoft.Authorization/roleAssignments/delete",
                ),
            )
        )
    elif assignments := [r for r in resources if r.type == ROLE_ASSIGNMENT]:
        roles.append(
            RequiredRole(
                role="Role Based Access Control Administrator",
                scope=scope,
                resource_group=group,
                reason=(
                    f"the program assigns {_assigned(assignments)}; Contributor may not write "
                    "role assignments (constrain this role with a condition to those roles)"
                ),
                also_enough=("User Access Administrator", "Owner"),
                actions=(
                    "Microsoft.Authorization/roleAssignments/write",
                    "Microsoft.Authorization/roleAssignments/delete",
                ),
            )
        )
    ids = {(r.id or "").lower() for r in groups}
    # Contributor on the subscription (no group in the plan) covers any budget already.
    outside = [r for r in resources if r.type == BUDGET and str(_scope_of(r)).lower() not in ids]
    if groups and outside:
        roles.append(
            RequiredRole(
                role="Cost Management Contributor",
                scope=SUBSCRIPTION,
                resource_group=None,
                reason="the budget watches a scope outside the resource group",
                also_enough=("Contributor", "Owner"),
                actions=("Microsoft.Consumption/budgets/write",),
            )
        )
    return roles


def _assigned(assignments: list[_Resource]) -> str:
    """What the plan's role assignments grant, in words, each kind once."""
    grants = []
    for assignment in assignments:
        inputs = assignment.inputs
        definition = str(inputs.get("roleDefinitionId", "") if hasattr(inputs, "get") else "")
        role_id = definition.rstrip("/").rsplit("/", 1)[-1].lower()
        grants.append(ASSIGNED_ROLES.get(role_id, f"role {role_id or '(unknown)'}"))
    return " and ".join(dict.fromkeys(grants))


def _scope_of(resource: _Resource) -> Any:
    inputs = resource.inputs
    return inputs.get("scope") if hasattr(inputs, "get") else None
