"""The one reader of a Pulumi project on disk (mlstart_infra.project) and the role list."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mlstart_infra.components import catalog as c
from mlstart_infra.offline.graph import PlannedResource
from mlstart_infra.project import (
    ProgramError,
    ProjectNotFoundError,
    StackConfigError,
    find_project,
    read_stack_config,
    set_stack_config,
)
from mlstart_infra.roles import required_roles

STACK_FILE = """\
# Stack "dev": edit with pulumi config set
config:
  azure-native:location: "westeurope"
  demo:token:
    secure: v1:AAAA
  # the owner, from the answers
  demo:owner: "me"

# end
"""


def make(tmp_path: Path, *, runtime: str = "python", main: bool = True) -> Path:
    infra = tmp_path / "demo" / "infra"
    infra.mkdir(parents=True)
    (infra / "Pulumi.yaml").write_text(
        f"name: demo\nruntime: {runtime}\nconfig:\n  demo:region:\n    default: north\n"
    )
    (infra / "Pulumi.dev.yaml").write_text(STACK_FILE)
    if main:
        (infra / "__main__.py").write_text("")
    return infra.parent


def test_lookup_order_is_the_folder_then_its_infra(tmp_path: Path) -> None:
    root = make(tmp_path)
    project = find_project(root)
    assert project.folder == root / "infra" and project.root == root
    assert find_project(root / "infra") == project
    with pytest.raises(ProjectNotFoundError, match=r"no Pulumi\.yaml in"):
        find_project(tmp_path)


def test_program_checks_are_only_for_running_it(tmp_path: Path) -> None:
    root = make(tmp_path, runtime="nodejs", main=False)
    with pytest.raises(ProgramError, match="only Python programs"):
        find_project(root)
    assert find_project(root, python_program=False).runtime == "nodejs"


def test_stack_config_has_full_keys_defaults_and_masked_secrets(tmp_path: Path) -> None:
    config = read_stack_config(find_project(make(tmp_path)), "dev")
    assert config.values == {
        "demo:region": "north",
        "azure-native:location": "westeurope",
        "demo:token": c.SECRET_PLACEHOLDER,
        "demo:owner": "me",
    }
    assert config.secrets == ["demo:token"] and config.is_secret("token")
    assert config.written == ["azure-native:location", "demo:token", "demo:owner"]
    assert config.get("owner") == config.get("demo:owner") == "me"
    assert config.get("location") == "westeurope" and config.get("missing") is None
    with pytest.raises(StackConfigError, match="no stack config"):
        read_stack_config(find_project(tmp_path / "demo"), "prod")


def test_set_keeps_comments_and_order(tmp_path: Path) -> None:
    project = find_project(make(tmp_path))
    path = set_stack_config(project, "dev", "owner", "you")
    set_stack_config(project, "dev", "nameSuffix", "ab12cd")
    set_stack_config(project, "dev", "token", "plain now")
    assert path.read_text() == STACK_FILE.replace('"me"', '"you"').replace(
        "  demo:token:\n    secure: v1:AAAA\n", '  demo:token: "plain now"\n'
    ).replace('"you"\n', '"you"\n  demo:nameSuffix: "ab12cd"\n')
    assert yaml.safe_load(path.read_text())["config"]["demo:nameSuffix"] == "ab12cd"


def test_set_adds_a_config_block_when_there_is_none(tmp_path: Path) -> None:
    project = find_project(make(tmp_path))
    project.stack_file("dev").write_text("# nothing yet\n")
    set_stack_config(project, "dev", "nameSuffix", "zz99yy")
    assert read_stack_config(project, "dev").get("nameSuffix") == "zz99yy"
    project.stack_file("dev").write_text("config: {}\n")
    with pytest.raises(StackConfigError, match="not a block mapping"):
        set_stack_config(project, "dev", "nameSuffix", "zz99yy")


def resource(type_: str, name: str, inputs: dict[str, str] | None = None) -> PlannedResource:
    return PlannedResource(
        urn=f"urn::{name}", type=type_, name=name, azure_name=name, custom=True,
        inputs=inputs or {}, id=f"/id/{name}",
    )  # fmt: skip


def test_required_roles_follow_the_graph() -> None:
    group = resource(c.RESOURCE_GROUP, "rg-demo-dev")
    roles = required_roles([group, resource(c.VM, "vm")])
    assert [(r.role, r.scope, r.resource_group) for r in roles] == [
        ("Contributor", "resource group", "rg-demo-dev")
    ]
    assert roles[0].first_up_scope == "subscription"

    assignment = resource(c.ROLE_ASSIGNMENT, "acr-pull")
    in_group = resource(c.BUDGET, "budget", inputs={"scope": "/id/rg-demo-dev"})
    roles = required_roles([group, assignment, in_group])
    assert [r.role for r in roles] == ["Contributor", "Role Based Access Control Administrator"]
    assert "Microsoft.Authorization/roleAssignments/write" in roles[1].actions
    assert roles[1].accepted == (
        "Role Based Access Control Administrator", "User Access Administrator", "Owner",
    )  # fmt: skip

    # A custom role (the workstation's idle-shutdown role) needs roleDefinitions/write,
    # which Role Based Access Control Administrator lacks: User Access Administrator has it.
    custom = resource(c.ROLE_DEFINITION, "idle-role")
    roles = required_roles([group, assignment, custom])
    assert [r.role for r in roles] == ["Contributor", "User Access Administrator"]
    assert "Microsoft.Authorization/roleDefinitions/write" in roles[1].actions
    assert roles[1].accepted == ("User Access Administrator", "Owner")

    on_subscription = resource(c.BUDGET, "budget", inputs={"scope": "/subscriptions/x"})
    roles = required_roles([group, on_subscription])
    assert [(r.role, r.scope) for r in roles][-1] == ("Cost Management Contributor", "subscription")
    assert required_roles([on_subscription])[0].scope == "subscription"
    assert len(required_roles([on_subscription])) == 1
