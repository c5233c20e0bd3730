"""Helpers for the infrastructure tests: generated projects and hand-written programs."""

from __future__ import annotations

import importlib.util
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mlstart_infra.offline.graph import ResourceGraph

from tests.conftest import TEST_KEY

__all__ = [
    "ANSWER_SETS",
    "SHARES_ANSWER_SET_PLANS",
    "TEST_KEY",
    "PlannedProject",
    "by_type",
    "write_program",
]

#: Without the `azure` extra only the pure-Python tests (prices) can run.
NEEDS_PULUMI = [
    "test_components.py",
    "test_compute_instance.py",
    "test_generated_infra.py",
    "test_plan_command.py",
    "test_plan_diff_command.py",
    "test_policies.py",
    "test_prices_command.py",
    "test_policy_pack.py",
    "test_environments.py",
]
collect_ignore = [] if importlib.util.find_spec("pulumi_azure_native") else NEEDS_PULUMI


def write_program(
    folder: Path, body: str, *, name: str = "handmade", config: dict[str, str] | None = None
) -> Path:
    """Write a Pulumi project whose ``__main__.py`` is ``body``; return its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n", encoding="utf-8")
    lines = ["config:", "  azure-native:location: westeurope"]
    lines += [f"  {name}:{key}: {value!r}" for key, value in (config or {}).items()]
    (folder / "Pulumi.dev.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "__main__.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


def by_type(graph: ResourceGraph, short: str) -> list[Any]:
    """Cloud resources whose type token ends with ``:short`` (e.g. ``compute:VirtualMachine``)."""
    return [r for r in graph.cloud_resources if r.type == f"azure-native:{short}"]


#: Copier answers of generated projects that several modules judge (checkov on the ARM
#: export, the policy pack): rendered and planned once per session.
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {"ssh_public_key": TEST_KEY},
    # The workstation here is the compute instance (the other sets have the VM).
    "aml-endpoint": {"serving": "aml-endpoint", "workstation_kind": "compute-instance"},
    "container-apps-public-ip": {
        "serving": "container-apps",
        "workstation_public_ip": True,
        "ssh_allowed_cidr": "203.0.113.7/32",
        "ssh_public_key": TEST_KEY,
        "cluster_low_priority": True,
        "data_versioning": "dvc",
    },
    "bare": {"gpu_workstation": False, "training_cluster": False, "serving": "none"},
    # Two environments: the prod stack gets production defaults and owns the model registry.
    "environments": {"environments": "dev,prod", "ssh_public_key": TEST_KEY},
}


@dataclass(frozen=True)
class PlannedProject:
    """A generated project and its offline plan."""

    path: Path
    graph: ResourceGraph


#: Mark on the modules that use :func:`planned_answer_sets`: ``--dist loadgroup`` runs them on
#: one xdist worker, so the answer sets are planned once, not once per worker.
SHARES_ANSWER_SET_PLANS = pytest.mark.xdist_group("answer_set_plans")


@pytest.fixture(scope="session")
def planned_answer_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PlannedProject]:
    """Each of :data:`ANSWER_SETS` rendered (no lock, no git) and planned; read-only."""
    from mlstart.core.new import new_project
    from mlstart_infra.offline.plan import plan_project

    out = tmp_path_factory.mktemp("answer-set-projects")
    home = tmp_path_factory.mktemp("answer-set-home")
    (home / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = t@example.com\n")
    planned = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.delenv("MLSTART_TEMPLATE", raising=False)
        for label, answers in ANSWER_SETS.items():
            project = new_project(
                f"Arm {label}", output_dir=out, data=answers, defaults=True, git=False, lock=False
            )
            planned[label] = PlannedProject(project.path, plan_project(project.path))
    return planned
