"""The project's Azure infrastructure, composed from the stack config (Pulumi.<stack>.yaml).

`pulumi up` creates it; `mlstart plan` shows offline what it would create, what it costs
and which policies it breaks. The components live in ./components.
"""

import pulumi
from components import (
    ContainerAppServing,
    ContainerAppServingArgs,
    CostGuard,
    CostGuardArgs,
    GpuWorkstation,
    GpuWorkstationArgs,
    MlWorkspace,
    MlWorkspaceArgs,
    OnlineEndpointServing,
    OnlineEndpointServingArgs,
    TrainingCluster,
    TrainingClusterArgs,
    name_suffix,
    ssh_public_key_for_program,
    standard_tags,
)
from pulumi_azure_native import resources

config = pulumi.Config()
project, stack = pulumi.get_project(), pulumi.get_stack()
location = pulumi.Config("azure-native").require("location")
suffix = config.get("nameSuffix") or name_suffix(project, stack)
email = config.require("notificationEmail")
tags = standard_tags(
    project=project,
    owner=config.require("owner"),
    environment=config.get("environment") or stack,
    decommission_by=config.require("decommissionBy"),
)

group = resources.ResourceGroup(
    "resource-group", resource_group_name=f"rg-{project}-{stack}", location=location, tags=tags
)
workspace = MlWorkspace(
    "workspace",
    MlWorkspaceArgs(
        resource_group_name=group.name,
        location=location,
        base_name=project,
        name_suffix=suffix,
        tags=tags,
    ),
)
pulumi.export("resource_group", group.name)
pulumi.export("workspace", workspace.workspace.name)
pulumi.export("registry", workspace.registry.login_server)
pulumi.export("storage_account", workspace.storage_account.name)
pulumi.export("mlflow_tracking_uri", workspace.workspace.ml_flow_tracking_uri)

if config.get_bool("gpuWorkstation"):
    workstation = GpuWorkstation(
        "workstation",
        GpuWorkstationArgs(
            resource_group_name=group.name,
            location=location,
            vm_name=f"vm-{project}"[:64],
            vm_size=config.require("vmSize"),
            ssh_public_key=ssh_public_key_for_program(config.require("sshPublicKey")),
            shutdown_time=config.get("shutdownTime") or "19:00",
            time_zone=config.get("timeZone") or "UTC",
            notification_email=email,
            notification_webhook_url=config.get("notificationWebhookUrl"),
            notice_minutes=config.get_int("shutdownNoticeMinutes") or 30,
            public_ip=config.get_bool("publicIp") or False,
            ssh_allowed_cidr=config.get("sshAllowedCidr"),
            tags=tags,
        ),
    )
    pulumi.export("workstation_vm", workstation.vm.name)
    pulumi.export("workstation_private_ip", workstation.private_ip)

if config.get_bool("trainingCluster"):
    cluster = TrainingCluster(
        "training-cluster",
        TrainingClusterArgs(
            resource_group_name=group.name,
            location=location,
            workspace_name=workspace.workspace.name,
            compute_name=config.get("clusterName") or "train-cluster",
            vm_size=config.require("clusterVmSize"),
            max_nodes=config.get_int("clusterMaxNodes") or 2,
            idle_minutes=config.get_int("clusterIdleMinutes") or 2,
            low_priority=config.get_bool("clusterLowPriority") or False,
            tags=tags,
        ),
    )
    pulumi.export("training_cluster", cluster.compute.name)

serving = config.get("serving") or "container-apps"
if serving == "container-apps":
    serving_image = config.get("servingImage")
    app = ContainerAppServing(
        "serving",
        ContainerAppServingArgs(
            resource_group_name=group.name,
            location=location,
            app_name=f"ca-{project}"[:32].rstrip("-"),
            log_analytics_workspace_name=workspace.log_analytics.name,
            log_analytics_customer_id=workspace.log_analytics.customer_id,
            registry_login_server=workspace.registry.login_server,
            registry_id=workspace.registry.id,
            image=serving_image or "mcr.microsoft.com/k8se/quickstart:latest",
            # The project's image (Dockerfile) listens on 8000; the placeholder on 80.
            target_port=config.get_int("servingPort") or (8000 if serving_image else 80),
            aad_client_id=config.get("servingAadClientId"),
            tags=tags,
        ),
    )
    pulumi.export("serving_url", app.url)
elif serving == "aml-endpoint":
    endpoint = OnlineEndpointServing(
        "serving",
        OnlineEndpointServingArgs(
            resource_group_name=group.name,
            location=location,
            workspace_name=workspace.workspace.name,
            endpoint_name=f"ep-{project}-{suffix}"[:32].rstrip("-"),
            model_id=config.get("servingModelId") or f"azureml:{project}:1",
            instance_type=config.get("servingInstanceType") or "Standard_DS3_v2",
            instance_count=config.get_int("servingInstanceCount") or 1,
            tags=tags,
        ),
    )
    pulumi.export("serving_endpoint", endpoint.endpoint.name)

CostGuard(
    "cost-guard",
    CostGuardArgs(
        scope=group.id,
        budget_name=f"budget-{project}-{stack}",
        amount=float(config.require("budgetAmount")),
        contact_emails=[email],
        start_date=config.get("budgetStartDate"),
        end_date=config.get("decommissionBy"),
    ),
)
