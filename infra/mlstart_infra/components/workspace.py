"""The Azure ML workspace and what it stands on: storage, key vault, monitoring, registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    containerregistry,
    keyvault,
    machinelearningservices,
    operationalinsights,
    storage,
)

from .naming import key_vault_name, registry_name, storage_account_name


@dataclass
class MlWorkspaceArgs:
    """What the workspace needs.

    Attributes:
        resource_group_name: The resource group to create everything in.
        location: The Azure region.
        base_name: The project's slug; Azure names derive from it.
        name_suffix: A short suffix that makes global names unique (storage, vault, registry).
        registry_sku: Container registry tier (Basic, Standard or Premium).
        log_retention_days: How long Log Analytics keeps logs.
        tags: Tags for every resource.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    base_name: str
    name_suffix: str
    registry_sku: str = "Basic"
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)


class MlWorkspace(pulumi.ComponentResource):
    """An Azure ML workspace with a system-assigned identity and its dependent resources.

    Storage, registry and workspace hold data and history: they are created with
    ``protect=True``, so ``pulumi destroy`` refuses to delete them until unprotected.
    """

    workspace: machinelearningservices.Workspace
    registry: containerregistry.Registry
    storage_account: storage.StorageAccount
    data_container: storage.BlobContainer
    key_vault: keyvault.Vault
    log_analytics: operationalinsights.Workspace

    def __init__(
        self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create storage, key vault, Log Analytics, App Insights, registry and workspace."""
        super().__init__("mlstart:azure:MlWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        rg, loc, tags = args.resource_group_name, args.location, args.tags
        tenant_id = authorization.get_client_config_output().tenant_id

        self.storage_account = storage.StorageAccount(
            f"{name}-storage",
            account_name=storage_account_name(args.base_name, args.name_suffix),
            resource_group_name=rg,
            location=loc,
            kind="StorageV2",
            sku=storage.SkuArgs(name="Standard_LRS"),
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            tags=tags,
            opts=keep,
        )
        # Where the project's DVC remote "azure" keeps data and models (private, protected).
        self.data_container = storage.BlobContainer(
            f"{name}-dvc-container",
            container_name="dvc",
            account_name=self.storage_account.name,
            resource_group_name=rg,
            public_access=storage.PublicAccess.NONE,
            opts=keep,
        )
        self.key_vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=key_vault_name(args.base_name, args.name_suffix),
            resource_group_name=rg,
            location=loc,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90,
                enable_purge_protection=True,
            ),
            tags=tags,
            opts=child,
        )
        self.log_analytics = operationalinsights.Workspace(
            f"{name}-logs",
            workspace_name=f"log-{args.base_name}",
            resource_group_name=rg,
            location=loc,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        insights = applicationinsights.Component(
            f"{name}-insights",
            resource_name_=f"appi-{args.base_name}",
            resource_group_name=rg,
            location=loc,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.log_analytics.id,
            tags=tags,
            opts=child,
        )
        self.registry = containerregistry.Registry(
            f"{name}-registry",
            registry_name=registry_name(args.base_name, args.name_suffix),
            resource_group_name=rg,
            location=loc,
            sku=containerregistry.SkuArgs(name=args.registry_sku),
            admin_user_enabled=False,
            tags=tags,
            opts=keep,
        )
        self.workspace = machinelearningservices.Workspace(
            f"{name}-workspace",
            workspace_name=f"mlw-{args.base_name}",
            resource_group_name=rg,
            location=loc,
            friendly_name=args.base_name,
            identity=machinelearningservices.ManagedServiceIdentityArgs(type="SystemAssigned"),
            sku=machinelearningservices.SkuArgs(
                name="Basic", tier=machinelearningservices.SkuTier.BASIC
            ),
            storage_account=self.storage_account.id,
            key_vault=self.key_vault.id,
            application_insights=insights.id,
            container_registry=self.registry.id,
            # Compute without public IPs lives in the workspace's managed network.
            managed_network=machinelearningservices.ManagedNetworkSettingsArgs(
                isolation_mode="AllowInternetOutbound"
            ),
            tags=tags,
            opts=keep,
        )
        self.register_outputs(
            {
                "workspace_name": self.workspace.name,
                "workspace_id": self.workspace.id,
                "registry_login_server": self.registry.login_server,
                "storage_account_name": self.storage_account.name,
                "data_container_name": self.data_container.name,
                "mlflow_tracking_uri": self.workspace.ml_flow_tracking_uri,
                "key_vault_name": self.key_vault.name,
            }
        )
