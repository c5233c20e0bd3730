"""`mlstart plan --diff` on a generated project: text, JSON and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Generate
from tests.infra.test_plan_command import run_plan


def planned_then_changed(
    generate: Generate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    """A project with a 2-node cluster, its plan saved, then its cluster raised to 4 nodes."""
    project = generate("Diff Demo", cluster_max_nodes=2)
    code, out, err = run_plan([str(project), "--json"], capsys)
    assert code == 0, err
    base = tmp_path / "base.json"
    base.write_text(out, encoding="utf-8")
    config = project / "infra" / "Pulumi.dev.yaml"
    text = config.read_text(encoding="utf-8")
    assert 'clusterMaxNodes: "2"' in text
    config.write_text(text.replace('clusterMaxNodes: "2"', 'clusterMaxNodes: "4"'), "utf-8")
    return project, base


def test_more_cluster_nodes_change_only_the_clusters_always_on_cost(
    generate: Generate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One test, three plans (each takes seconds): the base, then the diff as JSON and text."""
    project, base = planned_then_changed(generate, tmp_path, capsys)
    code, out, err = run_plan([str(project), "--diff", str(base), "--json"], capsys)
    assert code == 0, err
    diff = json.loads(out)
    assert diff["project"] == "diff-demo" and diff["policies"] == []
    [cluster] = diff["resources"]
    assert cluster["type"] == "azure-native:machinelearningservices:Compute"
    assert cluster["change"] == "changed"
    assert cluster["after_always_on"] == pytest.approx(2 * cluster["before_always_on"], abs=0.02)
    assert cluster["delta_always_on"] > 0 and cluster["delta_scheduled"] == 0  # scales to zero
    assert diff["total"]["delta_always_on"] == pytest.approx(cluster["delta_always_on"], abs=0.02)
    assert diff["total"]["delta_scheduled"] == 0

    code, out, err = run_plan([str(project), "--diff", str(base)], capsys)
    assert code == 0, err
    assert out.startswith("Plan diff for diff-demo, stack dev (monthly, USD)")
    assert f"changed  {cluster['resource']}" in out
    assert f"+{cluster['delta_always_on']:,.2f}" in out
    assert "Policies: no verdict changed" in out
    # A base from another project is refused by the core (tests/infra/test_plan_diff.py).


@pytest.mark.parametrize(
    ("content", "message"),
    [("{broken", "is not JSON"), ('{"project": "other"}', "not a plan")],
)
def test_a_bad_base_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    base = tmp_path / "base.json"
    base.write_text(content, encoding="utf-8")
    # The base is read first: a bad one fails before any project is planned.
    code, out, err = run_plan([str(tmp_path / "nowhere"), "--diff", str(base)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
