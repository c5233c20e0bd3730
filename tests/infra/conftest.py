"""Helpers for the infrastructure tests: generated projects and hand-written programs."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from typing import Any

from mlstart_infra.offline.graph import ResourceGraph

from tests.conftest import TEST_KEY

__all__ = ["TEST_KEY", "by_type", "write_program"]

#: Without the `azure` extra only the pure-Python tests (prices) can run.
NEEDS_PULUMI = [
    "test_components.py",
    "test_compute_instance.py",
    "test_generated_infra.py",
    "test_plan_command.py",
    "test_plan_diff_command.py",
    "test_policies.py",
    "test_prices_command.py",
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
