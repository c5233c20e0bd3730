"""The project's Azure infrastructure, composed from the stack config (Pulumi.<stack>.yaml).

`pulumi up` creates it; `mlstart plan` shows offline what it would create, what it costs
and which policies and Azure rules it breaks. The components live in ./components; every
Azure name comes from components/naming.py and every setting from components/settings.py.
"""

import pulumi
from components import (
    CiIdentity,
    CiIdentityArgs,
    ComputeInstanceWorkstation,
    ComputeInstanceWorkstationArgs,
    ContainerAppServing,
    ContainerAppServingArgs,
    CostGuard,
    CostGuardArgs,
    GpuWorkstation,
    GpuWorkstationArgs,
    IdleShutdown,
    MlWorkspace,
    MlWorkspaceArgs,
    ModelRegistry,
    ModelRegistryArgs,
    OnlineEndpointServing,
    OnlineEndpointServingArgs,
    TrainingCluster,
    TrainingClusterArgs,
    load_settings,
    project_names,
    ssh_public_key_for_program,
    standard_tags,
)
from pulumi_azure_native import resources

settings = load_settings()
names = project_names(
    settings.project, settings.stack, settings.name_suffix, stack_in_names=settings.stack_in_names
)
tags = standard_tags(
    project=settings.project,
    owner=settings.owner,
    environment=settings.environment,
    decommission_by=settings.decommission_by,
)

group = resources.ResourceGroup(
    "resource-group",
    resource_group_name=names.resource_group,
    location=settings.location,
    tags=tags,
)
workspace = MlWorkspace(
    "workspace",
    MlWorkspaceArgs(
        resource_group_name=group.name,
        location=settings.location,
        names=names,
        friendly_name=settings.project,
        dvc_container=settings.data_versioning == "dvc",
        tags=tags,
    ),
)
pulumi.export("resource_group", group.name)
pulumi.export("workspace", workspace.workspace.name)
pulumi.export("registry", workspace.registry.login_server)
pulumi.export("storage_account", workspace.storage_account.name)
pulumi.export("mlflow_tracking_uri", workspace.workspace.ml_flow_tracking_uri)

if settings.workstation_kind == "vm":
    workstation = GpuWorkstation(
        "workstation",
        GpuWorkstationArgs(
            resource_group_name=group.name,
            location=settings.location,
            names=names,
            vm_size=settings.vm_size,
            ssh_public_key=ssh_public_key_for_program(settings.ssh_public_key),
            shutdown_time=settings.shutdown_time,
            time_zone=settings.time_zone,
            notification_email=settings.notification_email,
            notification_webhook_url=settings.notification_webhook_url,
            notice_minutes=settings.shutdown_notice_minutes,
            public_ip=settings.public_ip,
            ssh_allowed_cidr=settings.ssh_allowed_cidr,
            idle_shutdown=(
                IdleShutdown(
                    minutes=settings.idle_shutdown_minutes,
                    cpu_percent=settings.idle_cpu_percent,
                    gpu_percent=settings.idle_gpu_percent,
                )
                if settings.idle_shutdown_minutes
                else None
            ),
            tags=tags,
        ),
    )
    pulumi.export("workstation_vm", workstation.vm.name)
    pulumi.export("workstation_private_ip", workstation.private_ip)
    pulumi.export("workstation_connect", workstation.connect)
elif settings.workstation_kind == "compute-instance":
    instance = ComputeInstanceWorkstation(
        "workstation",
        ComputeInstanceWorkstationArgs(
            resource_group_name=group.name,
            location=settings.location,
            workspace_name=workspace.workspace.name,
            workspace_id=workspace.workspace.id,
            compute_name=names.compute_instance,
            vm_size=settings.vm_size,
            shutdown_time=settings.shutdown_time,
            time_zone=settings.time_zone,
            idle_shutdown_minutes=settings.idle_shutdown_minutes,
            assigned_user_object_id=settings.instance_user_object_id,
            tags=tags,
        ),
    )
    pulumi.export("workstation_compute_instance", instance.compute.name)
    pulumi.export("workstation_connect", instance.connect)

if settings.training_cluster:
    cluster = TrainingCluster(
        "training-cluster",
        TrainingClusterArgs(
            resource_group_name=group.name,
            location=settings.location,
            workspace_name=workspace.workspace.name,
            compute_name=settings.cluster_name,
            vm_size=settings.cluster_vm_size,
            max_nodes=settings.cluster_max_nodes,
            idle_minutes=settings.cluster_idle_minutes,
            low_priority=settings.cluster_low_priority,
            tags=tags,
        ),
    )
    pulumi.export("training_cluster", cluster.compute.name)

serving_app = None
if settings.serving == "container-apps":
    app = ContainerAppServing(
        "serving",
        ContainerAppServingArgs(
            resource_group_name=group.name,
            location=settings.location,
            app_name=names.container_app,
            environment_name=names.container_env,
            log_analytics_workspace_name=workspace.log_analytics.name,
            log_analytics_customer_id=workspace.log_analytics.customer_id,
            registry_login_server=workspace.registry.login_server,
            registry_id=workspace.registry.id,
            image=settings.serving_image,
            aad_client_id=settings.serving_aad_client_id,
            min_replicas=settings.serving_min_replicas,
            max_replicas=max(3, settings.serving_min_replicas),
            tags=tags,
        ),
    )
    serving_app = app.container_app
    pulumi.export("container_app", app.container_app.name)
    pulumi.export("serving_url", app.url)
elif settings.serving == "aml-endpoint":
    endpoint = OnlineEndpointServing(
        "serving",
        OnlineEndpointServingArgs(
            resource_group_name=group.name,
            location=settings.location,
            workspace_name=workspace.workspace.name,
            endpoint_name=settings.endpoint_name,
            tags=tags,
        ),
    )
    pulumi.export("serving_endpoint", endpoint.endpoint.name)

if settings.ci_provider != "none":
    # The identity CI logs in as (no app registration, no secret): it trusts this stack's
    # environment of settings.ci_repository and holds only the roles the workflows use.
    ci = CiIdentity(
        "ci-identity",
        CiIdentityArgs(
            resource_group_name=group.name,
            location=settings.location,
            identity_name=names.ci_identity,
            provider=settings.ci_provider,
            repository=str(settings.ci_repository),
            environment=settings.stack,
            project=settings.project,
            workspace_id=workspace.workspace.id,
            registry_id=workspace.registry.id if settings.serving != "none" else None,
            container_app_id=serving_app.id if serving_app is not None else None,
            ado_organization_id=settings.ado_organization_id,
            ado_issuer=settings.ado_issuer,
            ado_subject=settings.ado_subject,
            tags=tags,
        ),
    )
    # What CI must be told: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID.
    pulumi.export("ci_client_id", ci.client_id)
    pulumi.export("ci_tenant_id", ci.tenant_id)
    pulumi.export("ci_subscription_id", ci.subscription_id)

if settings.model_registry:
    # The registry the environments' workspaces share (this stack owns it; see
    # components/model_registry.py): models are promoted through it.
    model_registry = ModelRegistry(
        "model-registry",
        ModelRegistryArgs(
            resource_group_name=group.name,
            location=settings.location,
            registry_name=settings.model_registry,
            workspace_principal_id=workspace.workspace.identity.apply(
                lambda identity: identity.principal_id if identity else ""
            ),
            tags=tags,
        ),
    )
    pulumi.export("model_registry", model_registry.registry.name)

CostGuard(
    "cost-guard",
    CostGuardArgs(
        scope=group.id,
        budget_name=names.budget,
        amount=settings.budget_amount,
        contact_emails=[settings.notification_email],
        end_date=settings.decommission_by,
    ),
)
