"""Facts about Azure resource types that the components, policies, prices and mocks share.

One place for the Pulumi type tokens the components create, the tag keys every resource
carries, the types Azure does not let you tag, and the markers a plan uses for values it
cannot know offline. Pure standard library: importable without Pulumi, so the offline
policies, prices and tests read the same facts as the program ``pulumi up`` runs.
"""

from __future__ import annotations

# ---------------------------------------------------------------- type tokens
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
NSG = "azure-native:network:NetworkSecurityGroup"
NSG_RULE = "azure-native:network:SecurityRule"
NIC = "azure-native:network:NetworkInterface"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
NAT_GATEWAY = "azure-native:network:NatGateway"
BASTION = "azure-native:network:BastionHost"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
VM = "azure-native:compute:VirtualMachine"
VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
SCHEDULE = "azure-native:devtestlab:GlobalSchedule"
STORAGE = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
VAULT = "azure-native:keyvault:Vault"
LOG_ANALYTICS = "azure-native:operationalinsights:Workspace"
APP_INSIGHTS = "azure-native:applicationinsights:Component"
REGISTRY = "azure-native:containerregistry:Registry"
ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
ML_MODEL_CONTAINER = "azure-native:machinelearningservices:ModelContainer"
ML_MODEL_VERSION = "azure-native:machinelearningservices:ModelVersion"
#: The Azure ML registry the environments' workspaces share (models are promoted through it).
ML_REGISTRY = "azure-native:machinelearningservices:Registry"
CONTAINER_ENV = "azure-native:app:ManagedEnvironment"
CONTAINER_APP = "azure-native:app:ContainerApp"
AUTH_CONFIG = "azure-native:app:ContainerAppsAuthConfig"
BUDGET = "azure-native:consumption:Budget"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
USER_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"

#: Azure ML compute types (``properties.computeType``) that run nodes.
AML_CLUSTER = "AmlCompute"
AML_INSTANCE = "ComputeInstance"

#: The input that holds each type's Azure name (the rest use ``name``).
NAME_INPUTS: dict[str, str] = {
    RESOURCE_GROUP: "resourceGroupName",
    VNET: "virtualNetworkName",
    SUBNET: "subnetName",
    NSG: "networkSecurityGroupName",
    NIC: "networkInterfaceName",
    PUBLIC_IP: "publicIpAddressName",
    VM: "vmName",
    VM_EXTENSION: "vmExtensionName",
    STORAGE: "accountName",
    VAULT: "vaultName",
    LOG_ANALYTICS: "workspaceName",
    APP_INSIGHTS: "resourceName",
    REGISTRY: "registryName",
    ML_REGISTRY: "registryName",
    ML_WORKSPACE: "workspaceName",
    ML_COMPUTE: "computeName",
    ENDPOINT: "endpointName",
    DEPLOYMENT: "deploymentName",
    CONTAINER_ENV: "environmentName",
    CONTAINER_APP: "containerAppName",
    AUTH_CONFIG: "authConfigName",
    BUDGET: "budgetName",
    ROLE_ASSIGNMENT: "roleAssignmentName",
    ROLE_DEFINITION: "roleDefinitionId",
    NAT_GATEWAY: "natGatewayName",
    BASTION: "bastionHostName",
    PRIVATE_ENDPOINT: "privateEndpointName",
    BLOB_CONTAINER: "containerName",
    BLOB_SERVICE: "blobServicesName",
    VMSS: "vmScaleSetName",
    USER_IDENTITY: "resourceName",
    FEDERATED_CREDENTIAL: "federatedIdentityCredentialResourceName",
}

# ---------------------------------------------------------------- built-in roles
# Ids of Azure's built-in roles, the same in every tenant:
# https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMINISTRATOR_ROLE = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR_ROLE = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
#: What the CI identity holds (components/ci_identity.py says where and why).
AZUREML_DATA_SCIENTIST_ROLE = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
ACR_PUSH_ROLE = "8311e382-0749-4cb8-b61a-304f252e45ec"
CONTAINER_APPS_CONTRIBUTOR_ROLE = "358470bc-b998-42bd-ab17-a7e34c199c0f"
#: Roles that change what others may do, or do anything: never the CI identity's.
PRIVILEGED_ROLES = {
    OWNER_ROLE: "Owner",
    CONTRIBUTOR_ROLE: "Contributor",
    USER_ACCESS_ADMINISTRATOR_ROLE: "User Access Administrator",
    RBAC_ADMINISTRATOR_ROLE: "Role Based Access Control Administrator",
}

# ---------------------------------------------------------------- tags
#: Tag keys the cost-guard policy requires on every resource that accepts tags.
REQUIRED_TAG_KEYS = ("project", "owner", "environment", "decommission-by")

#: Types that take no ``tags`` input (sub-resources, RBAC, budgets, auth configs).
UNTAGGABLE_TYPES = frozenset(
    {
        SUBNET,
        NSG_RULE,
        BLOB_SERVICE,
        BLOB_CONTAINER,
        BUDGET,
        ROLE_ASSIGNMENT,
        ROLE_DEFINITION,
        AUTH_CONFIG,
        ML_MODEL_CONTAINER,
        ML_MODEL_VERSION,
        FEDERATED_CREDENTIAL,
    }
)

# ---------------------------------------------------------------- markers
#: Key data used in previews when the SSH key file does not exist; policies recognise it.
MISSING_KEY_MARKER = "MISSING-SSH-PUBLIC-KEY"
#: Shown instead of secret values (``secure:`` config, secret outputs), which stay hidden.
SECRET_PLACEHOLDER = "[secret]"


def short_type(type_token: str) -> str:
    """``azure-native:compute:VirtualMachine`` -> ``compute:VirtualMachine``."""
    return type_token.removeprefix("azure-native:")


# Pseudo-type for the OS disk a VM creates (``storageProfile.osDisk.name``): its name follows
# the Microsoft.Compute/disks rule, so naming keeps a rule under this real azure-native token.
DISK = "azure-native:compute:Disk"
