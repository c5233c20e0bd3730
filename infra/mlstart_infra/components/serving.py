"""Serving the model: Container Apps that scale to zero, or an Azure ML online endpoint.

The managed online endpoint comes with a ``blue`` deployment. Both require authenticated
callers and run with a system-assigned managed identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import app, authorization, operationalinsights
from pulumi_azure_native import machinelearningservices as ml

#: The built-in AcrPull role: lets the app's identity pull images without registry keys.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
#: A public sample image that answers on port 80, used until CI deploys the model's image.
PLACEHOLDER_IMAGE = "mcr.microsoft.com/k8se/quickstart:latest"
#: Curated Azure ML environment for scikit-learn models.
SKLEARN_ENVIRONMENT = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"


@dataclass
class ContainerAppServingArgs:
    """What Container Apps serving needs.

    Attributes:
        resource_group_name: The resource group.
        location: The Azure region.
        app_name: The container app's name (2-32 lower-case letters, digits, hyphens).
        log_analytics_workspace_name: Log Analytics workspace that receives the app's logs.
        log_analytics_customer_id: That workspace's customer id.
        registry_login_server: The registry the app pulls from with its identity.
        registry_id: That registry's resource id (for the AcrPull role assignment).
        image: The image to run; CI replaces the placeholder with the model's image.
        target_port: The port the container listens on.
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
    log_analytics_workspace_name: pulumi.Input[str]
    log_analytics_customer_id: pulumi.Input[str]
    registry_login_server: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    image: str = PLACEHOLDER_IMAGE
    target_port: int = 80
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
            environment_name=f"cae-{args.app_name}"[:60],
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
                    target_port=args.target_port,
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
                        image=args.image,
                        resources=app.ContainerResourcesArgs(cpu=args.cpu, memory=args.memory),
                    )
                ],
                scale=app.ScaleArgs(min_replicas=args.min_replicas, max_replicas=args.max_replicas),
            ),
            tags=tags,
            opts=child,
        )
        principal_id = self.container_app.identity.apply(
            lambda identity: identity.principal_id if identity else ""
        )
        authorization.RoleAssignment(
            f"{name}-acr-pull",
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
        instance_type: VM size of the deployment's instances.
        instance_count: How many instances serve (managed endpoints cannot scale to zero).
        auth_mode: ``AADToken`` (Entra ID tokens), ``AMLToken`` or ``Key``.
        model_id: The registered model to serve, e.g. ``azureml:credit-risk-model:1``.
        environment_id: The environment the scoring code runs in.
        code_id: A code asset holding the scoring script (optional for MLflow models).
        scoring_script: The scoring script inside the code asset.
        tags: Tags for every resource.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    workspace_name: pulumi.Input[str]
    endpoint_name: str
    model_id: str
    instance_type: str = "Standard_DS3_v2"
    instance_count: int = 1
    auth_mode: str = "AADToken"
    environment_id: str = SKLEARN_ENVIRONMENT
    code_id: str | None = None
    scoring_script: str = "score.py"
    tags: Mapping[str, str] = field(default_factory=dict)


class OnlineEndpointServing(pulumi.ComponentResource):
    """A managed online endpoint (auth required, managed identity) and its blue deployment."""

    endpoint: ml.OnlineEndpoint
    deployment: ml.OnlineDeployment

    def __init__(
        self,
        name: str,
        args: OnlineEndpointServingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the endpoint and the ``blue`` deployment; traffic is routed by the deploy job."""
        super().__init__("mlstart:azure:OnlineEndpointServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, loc, tags = args.resource_group_name, args.location, args.tags
        self.endpoint = ml.OnlineEndpoint(
            f"{name}-endpoint",
            endpoint_name=args.endpoint_name,
            workspace_name=args.workspace_name,
            resource_group_name=rg,
            location=loc,
            kind="Managed",
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=args.auth_mode, public_network_access="Enabled"
            ),
            tags=tags,
            opts=child,
        )
        code = (
            ml.CodeConfigurationArgs(code_id=args.code_id, scoring_script=args.scoring_script)
            if args.code_id
            else None
        )
        self.deployment = ml.OnlineDeployment(
            f"{name}-blue",
            deployment_name="blue",
            endpoint_name=self.endpoint.name,
            workspace_name=args.workspace_name,
            resource_group_name=rg,
            location=loc,
            kind="Managed",
            sku=ml.SkuArgs(name="Default", capacity=args.instance_count),
            properties=ml.ManagedOnlineDeploymentArgs(
                endpoint_compute_type="Managed",
                instance_type=args.instance_type,
                model=args.model_id,
                environment_id=args.environment_id,
                code_configuration=code,
                app_insights_enabled=True,
                scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
            ),
            tags=tags,
            opts=child,
        )
        self.register_outputs(
            {"endpoint_name": self.endpoint.name, "deployment_name": self.deployment.name}
        )
