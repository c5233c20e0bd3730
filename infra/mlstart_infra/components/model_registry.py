"""The Azure ML registry the environments' workspaces share: models are promoted through it.

A project with more than one environment (copier's ``environments``) gets one registry, in
the stack of its second environment (``modelRegistry`` in that stack's config): appending
environments with ``mlstart env add`` never moves it, and ``mlstart down`` of any other
stack leaves it alone. It holds the models every environment deploys, so it is created with
``protect=True``: ``pulumi destroy`` of its own stack refuses to delete it until it is
unprotected, and ``mlstart down`` keeps it unless told to take the data too.

Creating a registry provisions a storage account per region and one Azure Container
Registry in a managed resource group
(https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-registries). The
owning stack's workspace identity gets the built-in ``AzureML Registry User`` role on the
registry only (read, write and delete its assets; not the registry itself:
https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles/ai-machine-learning#azureml-registry-user).
``machinelearningservices.Registry`` uses Azure REST API version 2025-12-01 in
pulumi-azure-native 3.x.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native import machinelearningservices as ml

#: The AzureML Registry User built-in role (``Microsoft.MachineLearningServices/registries/
#: read`` and ``registries/assets/*``).
REGISTRY_USER_ROLE = "1823dd4f-9b8c-4ab6-ab4e-7397a3684615"
#: The registry's container registry tier: the how-to's examples create a Premium one.
ACR_SKU = "Premium"
#: The registry's storage account: locally redundant, no hierarchical namespace, private.
STORAGE_TYPE = "Standard_LRS"


@dataclass
class ModelRegistryArgs:
    """What the shared registry needs.

    Attributes:
        resource_group_name: The owning stack's resource group.
        location: The Azure region (the registry's only region).
        registry_name: The registry's name (``ml_registry_name`` in copier.yml; 3-33
            letters, digits, hyphens and underscores).
        workspace_principal_id: The owning stack's workspace identity, which gets
            AzureML Registry User on the registry.
        tags: Tags for the registry.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    registry_name: str
    workspace_principal_id: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)


class ModelRegistry(pulumi.ComponentResource):
    """An Azure ML registry in one region, protected, with its user role for the workspace."""

    registry: ml.Registry

    def __init__(
        self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the registry and the workspace identity's role on it."""
        super().__init__("mlstart:azure:ModelRegistry", name, None, opts)
        self.registry = ml.Registry(
            f"{name}-registry",
            registry_name=args.registry_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            public_network_access="Enabled",
            region_details=[
                ml.RegistryRegionArmDetailsArgs(
                    location=args.location,
                    acr_details=[
                        ml.AcrDetailsArgs(
                            system_created_acr_account=ml.SystemCreatedAcrAccountArgs(
                                acr_account_sku=ACR_SKU
                            )
                        )
                    ],
                    storage_account_details=[
                        ml.StorageAccountDetailsArgs(
                            system_created_storage_account=ml.SystemCreatedStorageAccountArgs(
                                storage_account_type=STORAGE_TYPE,
                                storage_account_hns_enabled=False,
                                allow_blob_public_access=False,
                            )
                        )
                    ],
                )
            ],
            tags=args.tags,
            # Every environment's models: never deleted by a destroy of this stack alone.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        client = authorization.get_client_config_output()
        authorization.RoleAssignment(
            f"{name}-registry-user",
            # Stable across runs and unique per registry and role (see serving.py).
            role_assignment_name=str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{args.registry_name}/registry-user/workspace")
            ),
            principal_id=args.workspace_principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=client.subscription_id.apply(
                lambda sub: (
                    f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
                    f"roleDefinitions/{REGISTRY_USER_ROLE}"
                )
            ),
            scope=self.registry.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"registry_name": self.registry.name})
