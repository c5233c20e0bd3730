"""Serving the model: Container Apps that scale to zero, or an Azure ML online endpoint.

Each part has one owner. Pulumi owns the Container Apps environment and app, but the image
and port belong to the deploy workflow (``az containerapp update``): Pulumi sets them when
it creates the app and ignores them afterwards, so a later ``pulumi up`` does not put the
placeholder back. For an online endpoint Pulumi owns the endpoint only; its deployment
needs a registered model, which cannot exist in a workspace the same ``pulumi up``
creates, so the deploy workflow creates it from ``aml/online-deployment.yml`` (and the
plan prices it from that file). Both require authenticated callers and run with a
system-assigned managed identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import app, authorization, operationalinsights
from pulumi_azure_native import machinelearningservices as ml

#: The built-in AcrPull role: lets the app's identity pull images without registry keys.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
#: A public sample image that answers on port 80, used until CI deploys the model's image.
PLACEHOLDER_IMAGE = "mcr.microsoft.com/k8se/quickstart:latest"
#: The port the placeholder listens on, and the port of the project's own image.
PLACEHOLDER_PORT = 80
PROJECT_IMAGE_PORT = 8000
#: What the deploy workflow changes with ``az containerapp update``; Pulumi leaves them alone.
CI_OWNED_PATHS = ("template.containers[0].image", "configuration.ingress.targetPort")


@dataclass
class ContainerAppServingArgs:
    """What Container Apps serving needs.

    Attributes:
        resource_group_name: The resource group.
        location: The Azure region.
        app_name: The container app's name (2-32 lower-case letters, digits, hyphens).
        environment_name: The Container Apps environment's name.
        log_analytics_workspace_name: Log Analytics workspace that receives the app's logs.
        log_analytics_customer_id: That workspace's customer id.
        registry_login_server: The registry the app pulls from with its identity.
        registry_id: That registry's resource id (for the AcrPull role assignment).
        image: The model's image when one exists (it listens on 8000); None starts the
            app on a public placeholder (port 80) until the deploy workflow rolls out the
            model. Either way Pulumi sets image and port only when it creates the app.
        cpu: vCPUs per replica.
        memory: Memory per replica, e.g. ``1Gi`` (Container Apps pairs it with ``cpu``).
        min_replicas: 0 scales to zero when there is no traffic.
        max_replicas: The most replicas under load.
        aad_client_id: Entra ID app (client) id that callers get tokens for; without it
            every request is answered 401 (authentication is on, no provider is set up).
        tags: Tags for every resource.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    app_name: str
    environment_name: str
    log_analytics_workspace_name: pulumi.Input[str]
    log_analytics_customer_id: pulumi.Input[str]
    registry_login_server: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    image: str | None = None
    cpu: float = 0.5
    memory: str = "1Gi"
    min_replicas: int = 0
    max_replicas: int = 3
    aad_client_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class ContainerAppServing(pulumi.ComponentResource):
    """A Container Apps environment and app: scale to zero, managed identity, auth required."""

    container_app: app.ContainerApp
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ContainerAppServingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the environment, the app, its AcrPull role and its authentication."""
        super().__init__("mlstart:azure:ContainerAppServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, loc, tags = args.resource_group_name, args.location, args.tags
        client = authorization.get_client_config_output()
        shared_key = operationalinsights.get_shared_keys_output(
            resource_group_name=rg, workspace_name=args.log_analytics_workspace_name
        ).primary_shared_key
        environment = app.ManagedEnvironment(
            f"{name}-environment",
            environment_name=args.environment_name,
            resource_group_name=rg,
            location=loc,
            app_logs_configuration=app.AppLogsConfigurationArgs(
                destination="log-analytics",
                log_analytics_configuration=app.LogAnalyticsConfigurationArgs(
                    customer_id=args.log_analytics_customer_id,
                    shared_key=pulumi.Output.secret(shared_key).apply(lambda key: key or ""),
                ),
            ),
            tags=tags,
            opts=child,
        )
        image = args.image or PLACEHOLDER_IMAGE
        port = PROJECT_IMAGE_PORT if args.image else PLACEHOLDER_PORT
        self.container_app = app.ContainerApp(
            f"{name}-app",
            container_app_name=args.app_name,
            resource_group_name=rg,
            location=loc,
            managed_environment_id=environment.id,
            identity=app.ManagedServiceIdentityArgs(type="SystemAssigned"),
            configuration=app.ConfigurationArgs(
                active_revisions_mode="Single",
                ingress=app.IngressArgs(
                    external=True,
                    target_port=port,
                    allow_insecure=False,
                    transport="auto",
                ),
                registries=[
                    app.RegistryCredentialsArgs(
                        server=args.registry_login_server, identity="system"
                    )
                ],
            ),
            template=app.TemplateArgs(
                containers=[
                    app.ContainerArgs(
                        name="model",
                        image=image,
                        resources=app.ContainerResourcesArgs(cpu=args.cpu, memory=args.memory),
                    )
                ],
                scale=app.ScaleArgs(min_replicas=args.min_replicas, max_replicas=args.max_replicas),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=list(CI_OWNED_PATHS)),
        )
        principal_id = self.container_app.identity.apply(
            lambda identity: identity.principal_id if identity else ""
        )
        authorization.RoleAssignment(
            f"{name}-acr-pull",
            # A role assignment is named by a GUID that must be unique (Azure refuses the same
            # GUID at another scope). Derived from the registry's id (which carries the
            # stack's suffix) and the app, it is stable across runs and differs per stack.
            role_assignment_name=pulumi.Output.from_input(args.registry_id).apply(
                lambda registry: str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"{registry}/{args.app_name}/acr-pull")
                )
            ),
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=client.subscription_id.apply(
                lambda sub: (
                    f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
                    f"roleDefinitions/{ACR_PULL_ROLE}"
                )
            ),
            scope=args.registry_id,
            opts=child,
        )
        providers = None
        if args.aad_client_id:
            providers = app.IdentityProvidersArgs(
                azure_active_directory=app.AzureActiveDirectoryArgs(
                    enabled=True,
                    registration=app.AzureActiveDirectoryRegistrationArgs(
                        client_id=args.aad_client_id,
                        open_id_issuer=client.tenant_id.apply(
                            lambda tenant: f"https://login.microsoftonline.com/{tenant}/v2.0"
                        ),
                    ),
                )
            )
        else:
            pulumi.log.warn(
                "servingAadClientId is not set: the serving app answers 401 to every request "
                "until an Entra ID app registration's client id is configured",
                resource=self,
            )
        app.ContainerAppsAuthConfig(
            f"{name}-auth",
            auth_config_name="current",
            container_app_name=self.container_app.name,
            resource_group_name=rg,
            platform=app.AuthPlatformArgs(enabled=True),
            global_validation=app.GlobalValidationArgs(
                unauthenticated_client_action=app.UnauthenticatedClientActionV2.RETURN401,
                excluded_paths=["/health"],
            ),
            identity_providers=providers,
            opts=child,
        )
        self.url = self.container_app.latest_revision_fqdn.apply(
            lambda fqdn: f"https://{fqdn}" if fqdn else ""
        )
        self.register_outputs({"app_name": self.container_app.name, "url": self.url})


@dataclass
class OnlineEndpointServingArgs:
    """What an Azure ML managed online endpoint needs.

    Attributes:
        resource_group_name: The workspace's resource group.
        location: The Azure region.
        workspace_name: The Azure ML workspace.
        endpoint_name: The endpoint's name (3-32 characters, unique in the region).
        auth_mode: ``AADToken`` (Entra ID tokens), ``AMLToken`` or ``Key``.
        tags: Tags for the endpoint.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    endpoint_name: str
    auth_mode: str = "AADToken"
    tags: Mapping[str, str] = field(default_factory=dict)


class OnlineEndpointServing(pulumi.ComponentResource):
    """A managed online endpoint: auth required, managed identity, no deployment of its own.

    The deploy workflow owns the deployment (``aml/online-deployment.yml``) and the
    endpoint's traffic split, so Pulumi ignores ``traffic`` after it creates the endpoint.
    """

    endpoint: ml.OnlineEndpoint

    def __init__(
        self,
        name: str,
        args: OnlineEndpointServingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the endpoint."""
        super().__init__("mlstart:azure:OnlineEndpointServing", name, None, opts)
        self.endpoint = ml.OnlineEndpoint(
            f"{name}-endpoint",
            endpoint_name=args.endpoint_name,
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Managed",
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=args.auth_mode, public_network_access="Enabled"
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["properties.traffic", "properties.mirrorTraffic"]
            ),
        )
        self.register_outputs({"endpoint_name": self.endpoint.name})
