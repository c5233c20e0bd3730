"""The documentation site builds with `mkdocs build --strict` (broken links fail)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run


def test_docs_build_strictly(tmp_path: Path) -> None:
    result = run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        REPO_ROOT,
    )
    assert (tmp_path / "site" / "index.html").is_file(), result.stderr
    for page in ("getting-started", "commands", "questions", "architecture"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page


def test_docs_list_every_policy() -> None:
    policies = pytest.importorskip("mlstart_infra.policies")
    text = (REPO_ROOT / "docs" / "infrastructure.md").read_text(encoding="utf-8")
    missing = [policy.id for policy in policies.POLICIES if f"| {policy.id} |" not in text]
    assert missing == []


def test_docs_list_every_conformance_check() -> None:
    conformance = pytest.importorskip("mlstart_infra.conformance")
    text = (REPO_ROOT / "docs" / "deployability.md").read_text(encoding="utf-8")
    missing = [check[0] for check in conformance.CHECKS if f"| {check[0]} |" not in text]
    assert missing == []
