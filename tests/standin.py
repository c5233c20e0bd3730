"""Put the stand-in Pulumi CLI (tests/standin_pulumi.py) on PATH for a test."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STANDIN = Path(__file__).with_name("standin_pulumi.py")


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
