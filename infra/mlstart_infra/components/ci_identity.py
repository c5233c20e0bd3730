"""The identity CI logs in as: a user-assigned managed identity that trusts this repository.

No app registration and no secret: GitHub Actions (or an Azure DevOps service connection)
presents a short-lived OpenID Connect token, and Microsoft Entra ID exchanges it for an Azure
token of this identity when the token's issuer, subject and audience match one of the
identity's federated credentials. Each stack has its own identity, trusting only the runs of
its own environment (GitHub: jobs that declare ``environment: <stack>``), and holding only the
roles the generated workflows use, each on the one resource it is used on:

- **AzureML Data Scientist** on the workspace: data assets, training and sweep jobs, MLflow
  runs and the model registry (promotion), batch endpoints and online deployments. It
  cannot change the workspace itself or create or delete computes.
- **AcrPush** on the container registry, when a serving endpoint exists: the deploy workflow
  builds the serving image and pushes it.
- **Container Apps Contributor** on the container app (Container Apps serving): the deploy
  workflow rolls the new image out with ``az containerapp update``.

It never holds Owner, Contributor, User Access Administrator or Role Based Access Control
Administrator, and nothing at subscription scope (policy MLS-IAM-002): ``pulumi up`` itself
runs as a deployer identity with those roles (docs/ci-identity.md), which this program cannot
create for itself.

Sources (facts, cited where used): Microsoft Entra's page on federated credentials of a
user-assigned identity, GitHub's OpenID Connect reference, Azure DevOps' workload identity
service connections, and Azure's built-in roles.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, managedidentity

from .catalog import (
    ACR_PUSH_ROLE,
    AZUREML_DATA_SCIENTIST_ROLE,
    CONTAINER_APPS_CONTRIBUTOR_ROLE,
    FEDERATED_CREDENTIAL,
)
from .naming import fit_name

#: The audience Microsoft Entra ID expects in a federated token, for GitHub and Azure DevOps:
#: https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-create-trust-user-assigned-managed-identity
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
#: GitHub Actions' OIDC issuer; a job that declares an environment gets the subject
#: ``repo:<owner>/<repository>:environment:<environment>``:
#: https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
#: Azure DevOps' issuer for workload identity federation, per organization (its id), with
#: the subject ``sc://<organization>/<project>/<service connection>``:
#: https://learn.microsoft.com/en-us/azure/devops/pipelines/library/connect-to-azure
#: Azure DevOps also offers Microsoft Entra's issuer (and retires its own on 2027-07-01:
#: https://learn.microsoft.com/en-us/azure/devops/pipelines/release/convert-service-connections);
#: that subject holds ids only the service connection shows, so it is given as config.
AZURE_DEVOPS_ISSUER = "https://vstoken.dev.azure.com/{organization_id}"
PROVIDERS = ("github", "azure-devops")


def github_subject(repository: str, environment: str) -> str:
    """The subject of a GitHub Actions job in ``environment`` of ``owner/repository``."""
    return f"repo:{repository}:environment:{environment}"


def service_connection_name(project: str, environment: str) -> str:
    """The Azure DevOps service connection the pipelines use for ``environment``."""
    return f"{project}-{environment}"


def azure_devops_subject(repository: str, connection: str) -> str:
    """The subject of service connection ``connection`` in ``organization/project``."""
    return f"sc://{repository}/{connection}"


@dataclass
class CiIdentityArgs:
    """What the CI identity needs.

    Attributes:
        resource_group_name: The resource group.
        location: The Azure region.
        identity_name: The identity's name (ProjectNames.ci_identity).
        provider: ``github`` or ``azure-devops``.
        repository: GitHub ``owner/repository`` or Azure DevOps ``organization/project``.
        environment: The environment (stack) whose runs the identity trusts.
        project: The project's slug (names the Azure DevOps service connection).
        workspace_id: The Azure ML workspace (AzureML Data Scientist).
        registry_id: The container registry, when CI pushes images (AcrPush).
        container_app_id: The container app, when CI rolls images out to it.
        ado_organization_id: Azure DevOps' organization id (its issuer names it).
        ado_issuer: An issuer the service connection shows (Microsoft Entra's), used with
            ``ado_subject`` instead of the Azure DevOps issuer.
        ado_subject: The subject identifier the service connection shows.
        tags: Tags for the identity.
    """

    resource_group_name: pulumi.Input[str]
    location: str
    identity_name: str
    provider: str
    repository: str
    environment: str
    project: str
    workspace_id: pulumi.Input[str]
    registry_id: pulumi.Input[str] | None = None
    container_app_id: pulumi.Input[str] | None = None
    ado_organization_id: str | None = None
    ado_issuer: str | None = None
    ado_subject: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError naming the first argument CI could not log in with."""
        if self.provider not in PROVIDERS:
            raise ValueError(
                f"provider must be one of {', '.join(PROVIDERS)}, not {self.provider!r}"
            )
        owner, _, name = self.repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be owner/name, not {self.repository!r}")
        if bool(self.ado_issuer) != bool(self.ado_subject):
            raise ValueError(
                "adoIssuer and adoSubject are set together (both from the service connection)"
            )

    def federations(self) -> list[tuple[str, str, str]]:
        """(credential name, issuer, subject) of every run the identity trusts."""
        if self.provider == "github":
            subject = github_subject(self.repository, self.environment)
            return [
                (fit_name(FEDERATED_CREDENTIAL, "github", self.environment), GITHUB_ISSUER, subject)
            ]
        name = fit_name(FEDERATED_CREDENTIAL, "azure-devops", self.environment)
        if self.ado_issuer and self.ado_subject:
            return [(name, self.ado_issuer, self.ado_subject)]
        if self.ado_organization_id:
            connection = service_connection_name(self.project, self.environment)
            issuer = AZURE_DEVOPS_ISSUER.format(organization_id=self.ado_organization_id)
            return [(name, issuer, azure_devops_subject(self.repository, connection))]
        return []


class CiIdentity(pulumi.ComponentResource):
    """A user-assigned identity, its federated credentials and its narrow role assignments."""

    identity: managedidentity.UserAssignedIdentity
    client_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    subscription_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the identity, trust the repository's runs and grant the CI roles."""
        super().__init__("mlstart:azure:CiIdentity", name, None, opts)
        args.validate()
        client = authorization.get_client_config_output()
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        federations = args.federations()
        if args.provider == "azure-devops" and not federations:
            pulumi.log.warn(
                "adoOrganizationId is not set: the CI identity trusts no Azure DevOps service "
                "connection yet (see docs/ci-identity.md, section Azure DevOps)",
                resource=self,
            )
        previous: list[pulumi.Resource] = []
        for credential_name, issuer, subject in federations:
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-{credential_name}",
                federated_identity_credential_resource_name=credential_name,
                resource_name_=self.identity.name,
                resource_group_name=args.resource_group_name,
                issuer=issuer,
                subject=subject,
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                # Entra refuses concurrent writes of credentials on one identity: one at a time.
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credential]
        grants: list[tuple[str, str, pulumi.Input[str]]] = [
            ("data-scientist", AZUREML_DATA_SCIENTIST_ROLE, args.workspace_id)
        ]
        if args.registry_id is not None:
            grants.append(("acr-push", ACR_PUSH_ROLE, args.registry_id))
        if args.container_app_id is not None:
            grants.append(
                ("container-apps", CONTAINER_APPS_CONTRIBUTOR_ROLE, args.container_app_id)
            )
        for label, role, scope in grants:
            authorization.RoleAssignment(
                f"{name}-{label}",
                # A stable GUID per scope (its id carries the stack's suffix), identity and role.
                role_assignment_name=pulumi.Output.from_input(scope).apply(
                    _assignment_name(args.identity_name, label)
                ),
                principal_id=self.identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=client.subscription_id.apply(_role_definition_id(role)),
                scope=scope,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.client_id = self.identity.client_id
        self.tenant_id = self.identity.tenant_id
        self.subscription_id = client.subscription_id
        self.register_outputs(
            {"client_id": self.client_id, "principal_id": self.identity.principal_id}
        )


def _assignment_name(identity_name: str, label: str) -> Callable[[str], str]:
    """The role assignment's GUID from its scope: stable across runs, unique per grant."""
    return lambda scope: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}/{identity_name}/{label}"))


def _role_definition_id(role: str) -> Callable[[str], str]:
    """The built-in role's definition id in the subscription."""
    return lambda subscription: (
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
