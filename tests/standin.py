"""Put the stand-in Pulumi CLI (tests/standin_pulumi.py) or Azure CLI (tests/standin_az.py)
on PATH for a test."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STANDIN = Path(__file__).with_name("standin_pulumi.py")
STANDIN_AZ = Path(__file__).with_name("standin_az.py")
SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de"


def program_from_graph(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stand-in's program from an offline plan's resources (``graph.to_dict()``).

    Keeps what the state records (parents, dependencies, inputs) so the stand-in's
    export looks like Pulumi's; resources the deploy workflow owns are left out.
    """
    names = {r["urn"]: r["name"] for r in resources}
    return [
        {
            "type": r["type"],
            "name": r["name"],
            "protect": r["protect"],
            "custom": r["custom"],
            "parent": names.get(r["parent"] or ""),
            "dependsOn": [names[u] for u in r.get("dependencies", ()) if u in names],
            "inputs": r["inputs"],
            "outputs": {"name": r["azure_name"]} if r["custom"] else {},
        }
        for r in resources
        if r.get("owner", "pulumi") == "pulumi"
    ]


@dataclass
class StandinPulumi:
    """Handle on the stand-in: what `up` creates, and what it was asked to do."""

    home: Path
    program_file: Path

    def program(self, resources: list[dict[str, Any]], outputs: dict[str, Any]) -> None:
        self.program_file.write_text(json.dumps({"resources": resources, "outputs": outputs}))

    def calls(self) -> list[list[str]]:
        log = self.home / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line)["args"] for line in log.read_text().splitlines()]

    def state(self, stack: str = "dev") -> dict[str, Any]:
        return dict(json.loads((self.home / "stacks" / f"{stack}.json").read_text()))


@pytest.fixture
def standin_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandinPulumi:
    bin_dir = tmp_path / "standin-bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
    executable.chmod(0o755)
    home = tmp_path / "standin-home"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_PULUMI_HOME", str(home))
    monkeypatch.setenv("STANDIN_PULUMI_PROGRAM", str(tmp_path / "standin-program.json"))
    monkeypatch.delenv("STANDIN_PULUMI_FAIL", raising=False)
    handle = StandinPulumi(home=home, program_file=tmp_path / "standin-program.json")
    handle.program([], {})
    return handle


@dataclass
class StandinAz:
    """Handle on the stand-in Azure CLI: who is signed in and which roles they hold."""

    home: Path

    def login(self, user: str = "ci@example.com", kind: str = "user") -> None:
        account = {
            "id": SUBSCRIPTION,
            "name": "Standin Subscription",
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "user": {"name": user, "type": kind},
        }
        (self.home / "account.json").write_text(json.dumps(account))

    def assign(self, user: str, role: str, scope: str) -> None:
        path = self.home / "assignments.json"
        listed = json.loads(path.read_text()) if path.exists() else []
        listed.append({"principalName": user, "roleDefinitionName": role, "scope": scope})
        path.write_text(json.dumps(listed))

    def calls(self) -> list[list[str]]:
        log = self.home / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line)["args"] for line in log.read_text().splitlines()]

    def live(self, resources: dict[str, dict[str, Any]]) -> None:
        """What Azure holds now, by resource id (see STANDIN_AZ_LIVE in standin_az.py)."""
        (self.home / "live.json").write_text(json.dumps(resources))


@pytest.fixture
def standin_az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandinAz:
    bin_dir = tmp_path / "standin-az-bin"
    bin_dir.mkdir()
    executable = bin_dir / "az"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN_AZ}" "$@"\n')
    executable.chmod(0o755)
    home = tmp_path / "standin-az-home"
    home.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_AZ_HOME", str(home))
    monkeypatch.setenv("STANDIN_AZ_ACCOUNT", str(home / "account.json"))
    monkeypatch.setenv("STANDIN_AZ_ASSIGNMENTS", str(home / "assignments.json"))
    monkeypatch.setenv("STANDIN_AZ_LIVE", str(home / "live.json"))
    (home / "assignments.json").write_text("[]")
    return StandinAz(home=home)
