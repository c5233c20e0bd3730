"""Environments: one stack per name in `environments`, from copier or `mlstart env add`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mlstart.cli import main
from mlstart.core.environments import add_environment, default_stack, list_environments
from mlstart.errors import UsageError
from mlstart_infra.components.catalog import (
    CONTAINER_APP,
    ML_COMPUTE,
    ML_REGISTRY,
    RESOURCE_GROUP,
    VM,
)
from mlstart_infra.components.naming import PROJECT_NAME_TYPES, RULES, project_names

from tests.conftest import REPO_ROOT
from tests.infra.conftest import SHARES_ANSWER_SET_PLANS, PlannedProject

pytestmark = SHARES_ANSWER_SET_PLANS


@pytest.fixture(scope="module")
def two_stacks(planned_answer_sets: dict[str, PlannedProject]) -> PlannedProject:
    """A project rendered with environments dev,prod, and its dev plan (read-only)."""
    return planned_answer_sets["environments"]


@pytest.fixture
def dev_only(two_stacks: PlannedProject, tmp_path: Path) -> Path:
    """That project as it was before prod: no Pulumi.prod.yaml, environments dev."""
    project = shutil.copytree(two_stacks.path, tmp_path / "project", symlinks=True)
    (project / "infra" / "Pulumi.prod.yaml").unlink()
    answers = project / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    answers.write_text(text.replace("environments: dev,prod\n", "environments: dev\n"))
    return project


def _stack_file(project: Path, stack: str) -> str:
    return (project / "infra" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")


def test_env_add_writes_the_bytes_copier_renders(
    two_stacks: PlannedProject, dev_only: Path
) -> None:
    project = dev_only
    added = add_environment(project, "prod")
    assert (added.kind, added.environments, added.owns_registry) == (
        "production",
        ["dev", "prod"],
        True,
    )
    assert _stack_file(project, "prod") == _stack_file(two_stacks.path, "prod")
    copier_answers = (two_stacks.path / ".copier-answers.yml").read_text(encoding="utf-8")
    assert (project / ".copier-answers.yml").read_text(encoding="utf-8") == copier_answers
    assert [env.name for env in list_environments(project)] == ["dev", "prod"]


def test_env_add_says_when_ci_does_not_promote_yet(
    dev_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project made with one environment has no promotion workflow: `env add` says so."""
    promote = dev_only / ".github" / "workflows" / "promote.yml"
    assert promote.is_file()  # made with dev,prod
    promote.unlink()
    with pytest.raises(SystemExit) as ended:
        main(["env", "add", "prod", "--path", str(dev_only)])
    assert ended.value.code == 0
    assert "CI does not promote to 'prod' yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Prod", "must be 2-10 lower-case letters"),
        ("dev", "exists already"),
        ("qa", "infra/Pulumi.qa.yaml exists already"),
    ],
)
def test_env_add_refuses_in_one_line(
    dev_only: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    project = dev_only
    (project / "infra" / "Pulumi.qa.yaml").write_text("config: {}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as ended:
        main(["env", "add", name, "--path", str(project)])
    assert ended.value.code == UsageError.exit_code
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert (project / "infra" / "Pulumi.qa.yaml").read_text(encoding="utf-8") == "config: {}\n"


def test_commands_default_to_the_first_environment(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / ".copier-answers.yml").write_text("environments: main,prod\n", encoding="utf-8")
    assert default_stack(tmp_path) == default_stack(tmp_path / "infra") == "main"
    (tmp_path / ".copier-answers.yml").write_text("project_slug: old\n", encoding="utf-8")
    assert default_stack(tmp_path) == "dev"  # a project from before environments
    assert default_stack(tmp_path / "elsewhere") == "dev"


@pytest.mark.parametrize(
    ("environments", "message"),
    [
        ("dev", ""),
        ("dev,staging,prod,qa2", ""),
        ("dev,Prod", "environment 'Prod' must be 2-10 lower-case letters"),
        ("dev, prod", "environment ' prod' must be"),
        ("dev,", "environment '' must be"),
        ("dev,prod,dev", "environments must have different names"),
        ("dev,a1,b2,c3,d4", "at most 4 environments"),
    ],
)
def test_the_question_refuses_bad_environments(environments: str, message: str) -> None:
    """copier.yml's validator, rendered as copier renders it (with its Ansible filters)."""
    import jinja2
    from jinja2_ansible_filters import AnsibleCoreFiltersExtension

    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    env = jinja2.Environment(extensions=[AnsibleCoreFiltersExtension])
    said = env.from_string(spec["environments"]["validator"]).render(environments=environments)
    assert (message in said) if message else said.strip() == ""
    assert "\n" not in said.strip()


def test_every_global_or_regional_name_differs_between_stacks() -> None:
    stacks = ("dev", "staging", "prod")
    names = {
        s: project_names("credit-risk", s, "abc123", stack_in_names=s != "dev") for s in stacks
    }
    assert names["dev"] == project_names("credit-risk", "dev", "abc123")
    unique = [f for f, t in PROJECT_NAME_TYPES.items() if RULES[t].scope in ("global", "region")]
    assert "storage_account" in unique and "cluster" in unique
    for field in unique:
        values = {getattr(names[s], field) for s in stacks}
        assert len(values) == len(stacks), field


def test_both_stacks_plan_apart_with_the_production_defaults(two_stacks: PlannedProject) -> None:
    from mlstart_infra.offline.plan import plan_project
    from mlstart_infra.policies import evaluate

    dev, prod = two_stacks.graph, plan_project(two_stacks.path, stack="prod")
    unique = {r.type for r in dev.cloud_resources if RULES.get(r.type) and
              RULES[r.type].scope in ("global", "region")}  # fmt: skip
    for graph in (dev, prod):
        assert not [r for r in evaluate(graph) if r.failed_mandatory]
    dev_names = {(r.type, r.azure_name) for r in dev.cloud_resources if r.type in unique}
    prod_names = {(r.type, r.azure_name) for r in prod.cloud_resources if r.type in unique}
    assert dev_names and prod_names and not dev_names & prod_names
    assert {r.get("tags", {}).get("environment") for r in prod.of_type(RESOURCE_GROUP)} == {"prod"}
    assert dev.of_type(VM) and not prod.of_type(VM)
    assert not [
        c for c in prod.of_type(ML_COMPUTE) if c.get("properties.computeType") != "AmlCompute"
    ]
    assert [c.get("properties.properties.vmPriority") for c in prod.of_type(ML_COMPUTE)] == [
        "Dedicated"
    ]
    assert [a.get("template.scale.minReplicas") for a in prod.of_type(CONTAINER_APP)] == [1]
    assert [a.get("template.scale.minReplicas") for a in dev.of_type(CONTAINER_APP)] == [0]
    # The shared registry: in the prod stack only, protected.
    (registry,) = prod.of_type(ML_REGISTRY)
    assert registry.protect and registry.azure_name.startswith("regarmenvironments")
    assert not dev.of_type(ML_REGISTRY)
    results = {r.policy.id: r.status for r in evaluate(prod)}
    assert {results[f"MLS-PROD-00{i}"] for i in range(1, 5)} == {"pass"}
