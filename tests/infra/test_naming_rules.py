"""Azure naming rules: known good and bad names per type, and names built to fit them."""

from __future__ import annotations

import pytest
from mlstart_infra.components import catalog, naming
from mlstart_infra.components.naming import RULES, fit_name, name_problem

#: type -> (valid names, invalid names), from the cited rules' wording and examples.
EXAMPLES = {
    catalog.RESOURCE_GROUP: (
        ["rg-credit-risk-dev", "My_Group(1).x", "a"],
        ["rg.", "a" * 91, "rg/x"],
    ),
    catalog.VNET: (["vnet-1", "v_", "a.b"], ["v", "-vnet", "vnet-", "vnet.", "a" * 65]),
    catalog.SUBNET: (["workstation", "s"], ["_s", "s-", "s s"]),
    catalog.NSG: (["nsg-x"], ["nsg-", "nsg#x"]),
    catalog.NIC: (["nic-x_"], [".nic"]),
    catalog.PUBLIC_IP: (["pip-x"], ["pip x"]),
    catalog.BASTION: (["bas-x"], ["bas-"]),
    catalog.NAT_GATEWAY: (["ng-x"], ["ng-"]),
    catalog.PRIVATE_ENDPOINT: (["pe"], ["p", "pe-"]),
    catalog.VM: (["vm-credit-risk", "a" * 64], ["vm.", "vm-", "vm_x", "vm x", "a" * 65]),
    catalog.VM_EXTENSION: (["NvidiaGpuDriverLinux"], ["a/b", ""]),
    catalog.DISK: (["osdisk-vm_1"], ["osdisk.vm", "a" * 81]),
    catalog.SCHEDULE: (["shutdown-computevm-vm-1"], ["autoshutdown-vm", "shutdown-computevm-vm-"]),
    catalog.STORAGE: (["stcreditrisk01", "abc"], ["st-credit", "StCredit", "ab", "a" * 25]),
    catalog.BLOB_SERVICE: (["default"], ["blob"]),
    catalog.BLOB_CONTAINER: (["dvc", "my-data-1"], ["dv", "My", "a--b", "-ab", "ab-"]),
    catalog.VAULT: (["kv-credit-a01290", "Kv1"], ["1kv", "kv--x", "kv-", "kv", "a" * 25]),
    catalog.LOG_ANALYTICS: (["log-x"], ["log", "-log", "log-"]),
    catalog.APP_INSIGHTS: (["appi-x (1)"], ["appi.", "appi ", "a/b", "a%b"]),
    catalog.REGISTRY: (["crcredit01"], ["cr-credit", "crab", "a" * 51]),
    catalog.ML_WORKSPACE: (["mlw-x_1", "1ws"], ["ws", "-ws", "w.s", "a" * 34]),
    catalog.ML_COMPUTE: (
        ["train-cluster", "cpu1", "gpu-a1", "ci-credit-risk-a1b2c3"],
        # "cpu-cluster-1": Azure's own example of a refused compute instance name.
        ["cl", "1cpu", "train-1", "train-", "a" * 25, "cpu-cluster-1", "ci-credit-risk-123456"],
    ),
    catalog.ENDPOINT: (["ep-credit-risk", "my-endpoint"], ["ep", "1ep", "ep-", "ep_x", "a" * 33]),
    catalog.DEPLOYMENT: (["blue"], ["b1", "blue-", "blue_1"]),
    catalog.CONTAINER_ENV: (["cae-x"], ["Cae", "cae--x", "cae-", "a" * 61]),
    catalog.CONTAINER_APP: (["ca-credit-risk"], ["1ca", "ca--x", "ca-", "Ca", "a" * 33]),
    catalog.BUDGET: (["budget-x_1"], ["budget x", "a" * 64]),
    catalog.ROLE_ASSIGNMENT: (["7f951dda-4ed3-4680-a7ca-43fe172d538d"], ["not-a-guid"]),
    catalog.ROLE_DEFINITION: (["90ed4c1c-4ad2-5427-bd66-52c9cc55523c"], ["idle-role", ""]),
}

#: Every type the components create must have a rule.
CREATED_TYPES = set(EXAMPLES) - {catalog.DISK}


def test_every_created_type_has_a_cited_rule() -> None:
    assert set(RULES) >= CREATED_TYPES
    for rule in RULES.values():
        assert rule.source.startswith("https://"), rule.type
        assert rule.note and rule.arm_type.startswith("Microsoft."), rule.type
        assert 1 <= rule.min_length <= rule.max_length, rule.type


@pytest.mark.parametrize("type_token", sorted(EXAMPLES))
def test_known_names(type_token: str) -> None:
    good, bad = EXAMPLES[type_token]
    for name in good:
        assert name_problem(type_token, name) is None, name
    for name in bad:
        problem = name_problem(type_token, name)
        assert problem is not None and "\n" not in problem, name


def test_types_without_a_rule_pass() -> None:
    assert name_problem("azure-native:web:WebApp", "any thing/at all") is None


def test_workspace_rule_is_the_rest_api_pattern() -> None:
    assert RULES[catalog.ML_WORKSPACE].pattern == r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}"


NOT_BUILT = {
    catalog.BLOB_SERVICE,
    catalog.ROLE_ASSIGNMENT,
    catalog.ROLE_DEFINITION,
    catalog.SCHEDULE,
}


@pytest.mark.parametrize("type_token", sorted(RULES.keys() - NOT_BUILT))
def test_fit_name_keeps_the_unique_part_and_fits(type_token: str) -> None:
    rule = RULES[type_token]
    name = fit_name(type_token, "Prefix", "a-very-long-project-name-" * 12, unique="u1x9z7")
    assert name_problem(type_token, name) is None
    assert name.endswith("u1x9z7") and len(name) <= rule.max_length


def test_fit_name_cleans_parts_to_the_type_characters() -> None:
    assert fit_name(catalog.STORAGE, "st", "Credit Risk!", unique="a01290") == "stcreditriska01290"
    assert fit_name(catalog.VAULT, "kv", "Credit Risk!", unique="a01290") == "kv-credit-risk-a01290"


def test_fit_name_keeps_long_stems_apart() -> None:
    one = fit_name(catalog.LOG_ANALYTICS, "log", "x" * 80 + "one")
    two = fit_name(catalog.LOG_ANALYTICS, "log", "x" * 80 + "two")
    assert one != two and len(one) == len(two) == 63


def test_fit_name_drops_hyphens_when_the_rule_needs_it() -> None:
    # A compute name's hyphen must be followed by a letter: an all-digit suffix cannot follow one.
    name = fit_name(catalog.ML_COMPUTE, "train", "credit-risk", unique="123456")
    assert name == "traincreditrisk123456"


def test_fit_name_refuses_what_cannot_fit() -> None:
    with pytest.raises(ValueError, match="cannot build"):
        fit_name(catalog.STORAGE, unique="ab")
    with pytest.raises(ValueError, match="cannot build"):
        fit_name(catalog.STORAGE, "st", unique="x" * 30)
    with pytest.raises(ValueError, match="no naming rule"):
        fit_name("azure-native:web:WebApp", "x")


def test_a_60_character_project_gets_valid_names() -> None:
    project = "credit-risk-scoring-for-small-business-loans-in-europe-2026x"
    assert len(project) == 60
    names = naming.project_names(project, "dev", naming.name_suffix(project, "dev"))
    for field, type_token in naming.PROJECT_NAME_TYPES.items():
        assert name_problem(type_token, getattr(names, field)) is None, field
    assert names.resource_group.startswith("rg-credit-risk") and names.resource_group.endswith(
        "-dev"
    )
    assert names.schedule == f"shutdown-computevm-{names.vm}"
    suffix = naming.name_suffix(project, "dev")
    for unique in (
        names.storage_account,
        names.key_vault,
        names.registry,
        names.endpoint,
        names.workspace,
    ):
        assert unique.endswith(suffix)


def test_short_project_names_read_well() -> None:
    names = naming.project_names("credit-risk", "dev", "a01290")
    assert names.resource_group == "rg-credit-risk-dev"
    assert names.storage_account == "stcreditriska01290"
    assert names.key_vault == "kv-credit-risk-a01290"
    assert names.vm == "vm-credit-risk" and names.subnet == "workstation"
    assert names.blob_container_dvc == "dvc"


def test_suffixes() -> None:
    assert (
        naming.name_suffix("p", "dev")
        == naming.name_suffix("p", "dev")
        != naming.name_suffix("p", "prod")
    )
    assert len(naming.name_suffix("p", "dev")) == 6
    made = {naming.new_suffix() for _ in range(20)}
    assert len(made) > 1 and all(len(s) == 6 and s.isalnum() and s == s.lower() for s in made)
    with pytest.raises(ValueError, match="suffix"):
        naming.project_names("p", "dev", "ABC")
