"""The generated docs' infrastructure diagram shows exactly the program's components.

docs/infrastructure.md is drawn by Jinja from the answers, the plan by running the Pulumi
program: for every answer set the boxes marked ``:::component`` must be the component
resources of the offline plan, so the picture cannot drift from the program.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.infra.conftest import SHARES_ANSWER_SET_PLANS, PlannedProject

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("pulumi_azure_native") is None,
        reason="planning needs pulumi-azure-native (the `azure` extra)",
    ),
    SHARES_ANSWER_SET_PLANS,
]

#: A component box: ``Id["label"]:::component`` on a line of its own.
COMPONENT_BOX = re.compile(r'^\s*(\w+)\["[^"]*"\]:::component\s*$', re.MULTILINE)
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def diagram_components(markdown: str) -> list[str]:
    """The component boxes of the page's one Mermaid diagram, in the order drawn."""
    blocks = MERMAID_BLOCK.findall(markdown)
    assert len(blocks) == 1, f"expected one mermaid diagram, found {len(blocks)}"
    return COMPONENT_BOX.findall(blocks[0])


def planned_components(project: PlannedProject) -> list[str]:
    """The class names of the plan's component resources (``mlstart:azure:MlWorkspace``)."""
    return [r.type.rsplit(":", 1)[-1] for r in project.graph.resources if not r.custom]


def test_diagram_boxes_are_the_planned_components(
    planned_answer_sets: dict[str, PlannedProject],
) -> None:
    for label, project in planned_answer_sets.items():
        page = (project.path / "docs" / "infrastructure.md").read_text(encoding="utf-8")
        drawn = diagram_components(page)
        assert len(drawn) == len(set(drawn)), (label, drawn)
        assert sorted(drawn) == sorted(planned_components(project)), label
        # The table under the diagram names the same components.
        rows = re.findall(r"^\| (\w+) \|", page, re.MULTILINE)
        assert sorted(rows[1:]) == sorted(drawn), label  # rows[0] is the header


def test_a_missing_box_is_found() -> None:
    """The parser sees boxes only inside the diagram, and only those marked as components."""
    page = (
        '# Infrastructure\n\nA["outside"]:::component\n\n```mermaid\nflowchart LR\n'
        '  you(["You"])\n  MlWorkspace["MlWorkspace: workspace<br/>storage"]:::component\n'
        '  CostGuard["CostGuard: budget"]:::component\n```\n'
    )
    assert diagram_components(page) == ["MlWorkspace", "CostGuard"]
