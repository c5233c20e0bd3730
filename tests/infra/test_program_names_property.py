"""Property: for any project, stack and region mlstart accepts, every planned name is valid.

The generated program runs under the mocks with the stack config the template renders (one
render per answer combination, cached), re-keyed to a random project slug, stack, region and
name suffix. Every resource name must meet Azure's rule for its type, and names Azure needs
unique in a region or across Azure must differ between two stacks of one project and between
two projects that share a long prefix.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlstart_infra import conformance
from mlstart_infra.components import naming
from mlstart_infra.offline.plan import ci_owned_deployments, plan_project

from tests.conftest import REPO_ROOT
from tests.infra.conftest import TEST_KEY

pytestmark = pytest.mark.slow

REGIONS = ("westeurope", "eastus", "uksouth", "swedencentral", "australiaeast")
#: Answer combinations that change which resources exist.
COMBINATIONS = st.fixed_dictionaries(
    {
        "gpu_workstation": st.booleans(),
        "workstation_kind": st.sampled_from(["vm", "compute-instance"]),
        "workstation_public_ip": st.booleans(),
        "training_cluster": st.booleans(),
        "serving": st.sampled_from(["container-apps", "aml-endpoint", "none"]),
        "data_versioning": st.sampled_from(["manifest", "dvc"]),
    }
)
#: Slugs as mlstart accepts them: a letter first (the package name), hyphen-separated, <= 100.
SLUGS = st.from_regex(r"[a-z][a-z0-9]{0,15}(-[a-z0-9]{1,15}){0,8}", fullmatch=True).filter(
    lambda slug: len(slug) <= 100
)
STACKS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True)
SUFFIXES = st.from_regex(r"[a-z0-9]{6}", fullmatch=True)


@cache
def rendered(root: Path, combination: tuple[tuple[str, Any], ...]) -> Path:
    """A project rendered for one answer combination (no lock, no git)."""
    from mlstart.core.new import new_project

    answers = dict(combination)
    if answers["workstation_public_ip"]:
        answers["ssh_allowed_cidr"] = "203.0.113.7/32"
    answers["ssh_public_key"] = TEST_KEY
    name = "-".join("1" if v is True else "0" if v is False else str(v) for v in answers.values())
    return new_project(
        f"p {name}"[:60], output_dir=root, data=answers, defaults=True, git=False, lock=False
    ).path


def copier_default(question: str, **answers: str) -> str:
    """Render a question's default from copier.yml with these answers."""
    import jinja2

    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return jinja2.Environment().from_string(spec[question]["default"]).render(**answers)


def plan_as(project: Path, tmp: Path, slug: str, stack: str, region: str, suffix: str) -> Any:
    """Plan ``project``'s program as if its slug, stack, region and suffix were these."""
    infra = project / "infra"
    config = yaml.safe_load((infra / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"]
    old = yaml.safe_load((infra / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    values = {
        (f"{slug}:{key.split(':', 1)[1]}" if key.startswith(f"{old}:") else key): value
        for key, value in config.items()
    }
    values["azure-native:location"] = region
    values[f"{slug}:nameSuffix"] = suffix
    # Names copier derives once (copier.yml's own expressions, rendered for this slug).
    for key, question in (
        ("endpointName", "aml_endpoint_name"),
        ("clusterName", "aml_cluster_name"),
    ):
        if f"{slug}:{key}" in values:
            values[f"{slug}:{key}"] = copier_default(
                question, project_slug=slug, name_suffix=suffix
            )
    folder = tmp / f"{slug}-{stack}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(
        f"name: {slug}\nruntime: python\nmain: {infra}\n", encoding="utf-8"
    )
    (folder / f"Pulumi.{stack}.yaml").write_text(
        yaml.safe_dump({"config": values}), encoding="utf-8"
    )
    graph = plan_project(folder, stack=stack)
    graph.resources.extend(ci_owned_deployments(project, graph.resources))
    return graph


def unique_names(graph: Any) -> dict[str, str]:
    """Type -> name, for the resources whose names Azure needs unique across a region or more."""
    names = {}
    for resource in graph.cloud_resources:
        rule = naming.RULES.get(resource.type)
        if rule is not None and rule.scope in ("global", "region") and resource.owner == "pulumi":
            names[resource.type] = resource.azure_name
    return names


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    combination=COMBINATIONS,
    slug=SLUGS,
    stacks=st.lists(STACKS, min_size=2, max_size=2, unique=True),
    suffixes=st.lists(SUFFIXES, min_size=2, max_size=2, unique=True),
    region=st.sampled_from(REGIONS),
)
def test_every_planned_name_is_valid_and_unique_names_differ(
    tmp_path_factory: pytest.TempPathFactory,
    combination: dict[str, Any],
    slug: str,
    stacks: list[str],
    suffixes: list[str],
    region: str,
) -> None:
    root = tmp_path_factory.getbasetemp() / "property-projects"
    project = rendered(root, tuple(sorted(combination.items())))
    scratch = tmp_path_factory.mktemp("plan")
    first = plan_as(project, scratch, slug, stacks[0], region, suffixes[0])
    findings = [f for f in conformance.check(first) if f.id == "AZ-NAME"]
    assert findings == [], findings

    second_stack = plan_as(project, scratch, slug, stacks[1], region, suffixes[1])
    # A second project whose slug shares everything but its end with the first one's.
    other_slug = (slug + "-" + "x" * 40)[:100].rstrip("-") if len(slug) < 60 else slug[:-1] + "q"
    other = plan_as(project, scratch, other_slug, stacks[0], region, suffixes[1])
    mine = unique_names(first)
    assert mine, "every plan has globally unique names (storage, key vault, registry)"
    for graph in (second_stack, other):
        theirs = unique_names(graph)
        clashes = {t: n for t, n in mine.items() if theirs.get(t) == n}
        assert clashes == {}
