"""The CI identity: trusted by the repository's environment only, with narrow roles."""

from __future__ import annotations

import pytest
from mlstart_infra.components import catalog, ci_identity, settings

from tests.infra.conftest import SHARES_ANSWER_SET_PLANS, PlannedProject, by_type

pytestmark = SHARES_ANSWER_SET_PLANS

BASE = {
    "owner": "o@x.io", "decommissionBy": "2030-01-01", "budgetAmount": "100",
    "notificationEmail": "o@x.io", "nameSuffix": "abc123", "gpuWorkstation": "false",
    "trainingCluster": "false", "serving": "none", "dataVersioning": "manifest",
    "ciProvider": "github", "ciRepository": "contoso/credit-risk",
}  # fmt: skip


def _load(**changes: str | None) -> settings.Settings:
    config = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    return settings.settings_from(config.get, project="p", stack="dev", location="westeurope")


def test_settings_read_the_ci_keys() -> None:
    loaded = _load()
    assert (loaded.ci_provider, loaded.ci_repository) == ("github", "contoso/credit-risk")
    assert _load(ciProvider="none", ciRepository=None).ci_repository is None
    ado = _load(
        ciProvider="azure-devops", adoOrganizationId="0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    assert ado.ado_organization_id is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"ciRepository": None}, "does not set ciRepository"),
     ({"ciRepository": "credit-risk"}, "ciRepository must be owner/repository"),
     ({"ciRepository": "a/b/c"}, "ciRepository must be owner/repository"),
     ({"ciProvider": "gitlab"}, "ciProvider must be one of github, azure-devops, none"),
     ({"ciProvider": "azure-devops", "adoOrganizationId": "contoso"}, "adoOrganizationId must be"),
     ({"ciProvider": "azure-devops", "adoIssuer": "https://x"}, "adoIssuer and adoSubject go"),
     ({"ciProvider": "azure-devops", "adoIssuer": "x", "adoSubject": "y"}, "https:// URL")],
)  # fmt: skip
def test_bad_ci_settings_say_which_key(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(settings.SettingsError, match=message):
        _load(**changes)


def _args(provider: str = "github", **changes: str | None) -> ci_identity.CiIdentityArgs:
    values = {"provider": provider, "repository": "contoso/credit-risk", **changes}
    return ci_identity.CiIdentityArgs(
        resource_group_name="rg", location="westeurope", identity_name="id-p-ci-dev",
        environment="dev", project="credit-risk", workspace_id="/w", **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_each_provider_federates_the_documented_issuer_and_subject() -> None:
    assert _args().federations() == [
        ("github-dev", "https://token.actions.githubusercontent.com",
         "repo:contoso/credit-risk:environment:dev")
    ]  # fmt: skip
    assert _args("azure-devops").federations() == []  # no organization id yet
    org = "11111111-2222-3333-4444-555555555555"
    assert _args("azure-devops", ado_organization_id=org).federations() == [
        ("azure-devops-dev", f"https://vstoken.dev.azure.com/{org}",
         "sc://contoso/credit-risk/credit-risk-dev")
    ]  # fmt: skip
    entra = _args(
        "azure-devops", ado_organization_id=org, ado_issuer="https://login.microsoftonline.com/t/v2.0",
        ado_subject="/eid1/c/pub/t/x/a/y/sc/z/w",
    )  # fmt: skip
    assert entra.federations()[0][1:] == (
        "https://login.microsoftonline.com/t/v2.0",
        "/eid1/c/pub/t/x/a/y/sc/z/w",
    )
    with pytest.raises(ValueError, match="repository must be owner/name"):
        _args(repository="nope").validate()


def _roles(project: PlannedProject) -> dict[str, str]:
    """Role id -> the name of the resource it is granted on, for the CI identity's grants."""
    (identity,) = by_type(project.graph, "managedidentity:UserAssignedIdentity")
    granted = {}
    for assignment in by_type(project.graph, "authorization:RoleAssignment"):
        if identity.urn in assignment.dependencies:
            role = str(assignment.get("roleDefinitionId")).rsplit("/", 1)[-1]
            granted[role] = str(assignment.get("scope")).rsplit("/", 1)[-1]
    return granted


def test_a_generated_stack_trusts_its_environment_with_narrow_roles(
    planned_answer_sets: dict[str, PlannedProject],
) -> None:
    project = planned_answer_sets["defaults"]  # GitHub, Container Apps serving
    (identity,) = by_type(project.graph, "managedidentity:UserAssignedIdentity")
    assert identity.azure_name.startswith("id-arm-defaults-ci-dev")
    (credential,) = by_type(project.graph, "managedidentity:FederatedIdentityCredential")
    assert credential.get("issuer") == ci_identity.GITHUB_ISSUER
    assert credential.get("subject") == "repo:test/arm-defaults:environment:dev"
    assert credential.get("audiences") == ["api://AzureADTokenExchange"]
    names = {r.type: r.azure_name for r in project.graph.cloud_resources}
    assert _roles(project) == {
        catalog.AZUREML_DATA_SCIENTIST_ROLE: names[catalog.ML_WORKSPACE],
        catalog.ACR_PUSH_ROLE: names[catalog.REGISTRY],
        catalog.CONTAINER_APPS_CONTRIBUTOR_ROLE: names[catalog.CONTAINER_APP],
    }
    bare = planned_answer_sets["bare"]  # no serving: nothing to push or roll out
    assert set(_roles(bare)) == {catalog.AZUREML_DATA_SCIENTIST_ROLE}
    config = (project.path / "infra" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    assert 'arm-defaults:ciRepository: "test/arm-defaults"' in config
