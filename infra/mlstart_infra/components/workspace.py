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

from .naming import ProjectNames

#: Days a deleted blob or container can be restored (blob soft delete).
BLOB_RETENTION_DAYS = 7
#: Days a deleted key vault stays soft-deleted (7-90); purge protection keeps it that long.
VAULT_RETENTION_DAYS = 90


@dataclass
class MlWorkspaceArgs:
    """What the workspace needs.

    Attributes:
        resource_group_name: The resource group to create everything in.
        location: The Azure region.
        names: The project's Azure names (see ``naming.project_names``).
        friendly_name: The workspace's display name.
        dvc_container: Create the private ``dvc`` blob container (projects that use DVC).
        registry_sku: Container registry tier (Basic, Standard or Premium).
        log_retention_days: How long Log Analytics keeps logs.
        tags: Tags for every resource.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    names: ProjectNames
    friendly_name: str
    dvc_container: bool = False
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
    data_container: storage.BlobContainer | None
    key_vault: keyvault.Vault
    log_analytics: operationalinsights.Workspace

    def __init__(
        self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create storage, key vault, Log Analytics, App Insights, registry and workspace.

        Storage, registry and workspace stay reachable over their public endpoints (with
        Entra ID auth; no keys are handed out): Azure ML's default network setup needs it
        unless private endpoints are added. ``publicNetworkAccess`` is set explicitly so
        the plan and its policies see the choice.
        """
        super().__init__("mlstart:azure:MlWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        rg, loc, tags, names = args.resource_group_name, args.location, args.tags, args.names
        tenant_id = authorization.get_client_config_output().tenant_id

        self.storage_account = storage.StorageAccount(
            f"{name}-storage",
            account_name=names.storage_account,
            resource_group_name=rg,
            location=loc,
            kind="StorageV2",
            sku=storage.SkuArgs(name="Standard_LRS"),
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            public_network_access="Enabled",
            # Azure's default, made explicit: trusted Azure services (Azure ML among them)
            # always get through, whatever rules are added later.
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.ALLOW, bypass="AzureServices"
            ),
            tags=tags,
            opts=keep,
        )
        # Deleted blobs and containers can be restored for a week (blob soft delete).
        blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            blob_services_name="default",
            account_name=self.storage_account.name,
            resource_group_name=rg,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=BLOB_RETENTION_DAYS
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=BLOB_RETENTION_DAYS
            ),
            opts=child,
        )
        self.data_container = None
        if args.dvc_container:
            # Where the project's DVC remote "azure" keeps data and models (private, protected).
            self.data_container = storage.BlobContainer(
                f"{name}-dvc-container",
                container_name=names.blob_container_dvc,
                account_name=self.storage_account.name,
                resource_group_name=rg,
                public_access=storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[blob_service]),
            )
        self.key_vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=names.key_vault,
            resource_group_name=rg,
            location=loc,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=VAULT_RETENTION_DAYS,
                enable_purge_protection=True,
                public_network_access="Enabled",
            ),
            tags=tags,
            # Holds the workspace's secrets; purge protection keeps it for 90 days anyway.
            opts=keep,
        )
        self.log_analytics = operationalinsights.Workspace(
            f"{name}-logs",
            workspace_name=names.log_analytics,
            resource_group_name=rg,
            location=loc,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        insights = applicationinsights.Component(
            f"{name}-insights",
            resource_name_=names.app_insights,
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
            registry_name=names.registry,
            resource_group_name=rg,
            location=loc,
            sku=containerregistry.SkuArgs(name=args.registry_sku),
            admin_user_enabled=False,
            public_network_access="Enabled",
            tags=tags,
            opts=keep,
        )
        self.workspace = machinelearningservices.Workspace(
            f"{name}-workspace",
            workspace_name=names.workspace,
            resource_group_name=rg,
            location=loc,
            friendly_name=args.friendly_name,
            identity=machinelearningservices.ManagedServiceIdentityArgs(type="SystemAssigned"),
            sku=machinelearningservices.SkuArgs(
                name="Basic", tier=machinelearningservices.SkuTier.BASIC
            ),
            storage_account=self.storage_account.id,
            key_vault=self.key_vault.id,
            application_insights=insights.id,
            container_registry=self.registry.id,
            public_network_access="Enabled",
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
                "data_container_name": self.data_container.name if self.data_container else None,
                "mlflow_tracking_uri": self.workspace.ml_flow_tracking_uri,
                "key_vault_name": self.key_vault.name,
            }
        )
