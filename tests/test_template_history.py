"""The released versions (releases.toml, CHANGELOG) and the history bundle built from them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from mlstart import __version__
from mlstart.core.template_history import (
    HistoryError,
    Release,
    build_history,
    bundle_versions,
    read_releases,
)
from packaging.version import Version

from tests.conftest import REPO_ROOT, run

RELEASES = read_releases(REPO_ROOT / "releases.toml")


def test_releases_are_explicit_and_ordered() -> None:
    assert RELEASES[0] == Release("0.1.0", "b9b2e9fe53317b9e40bd33d35de5dea1c945c27b")
    versions = [Version(release.version) for release in RELEASES]
    assert versions == sorted(set(versions))
    assert Version(__version__) >= versions[-1]


def test_every_release_has_a_changelog_entry_for_generated_projects() -> None:
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (\S+) (.*?)(?=^## |\Z)", changelog, re.MULTILINE | re.DOTALL))
    for version in [release.version for release in RELEASES] + [__version__]:
        assert version in sections, f"CHANGELOG.md has no section for {version}"
        assert "For generated projects" in sections[version], version


def test_every_released_commit_is_in_the_history() -> None:
    shallow = run(["git", "rev-parse", "--is-shallow-repository"], REPO_ROOT).stdout.strip()
    if shallow == "true":
        pytest.skip("a shallow clone holds no released commits")
    for release in RELEASES:
        run(["git", "cat-file", "-e", f"{release.commit}^{{commit}}"], REPO_ROOT)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[releases]\n", "has no \\[releases\\] table"),
        ('[releases]\n"1.0" = "' + "a" * 40 + '"\n', "'1.0' is not a version like 1.2.3"),
        ('[releases]\n"1.0.0" = "abc1234"\n', "1.0.0 needs a full 40-digit commit hash"),
        ("[releases\n", "is not valid TOML"),
    ],
)
def test_malformed_releases_file_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "releases.toml"
    path.write_text(content)
    with pytest.raises(HistoryError, match=message):
        read_releases(path)


def commit(repo: Path, message: str) -> str:
    run(["git", "add", "--all"], repo)
    run(["git", "commit", "--quiet", "-m", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


@pytest.fixture
def small_repo(tmp_path: Path) -> tuple[Path, str]:
    """A template repository like mlstart's: a symlink out of template/ and other files."""
    repo = tmp_path / "repo"
    (repo / "template").mkdir(parents=True)
    (repo / "shared").mkdir()
    (repo / "copier.yml").write_text("_subdirectory: template\nname:\n  default: x\n")
    (repo / "template" / "README.md.jinja").write_text("# {{ name }}\n")
    (repo / "shared" / "helper.py").write_text("VALUE = 1\n")
    os.symlink("../shared", repo / "template" / "shared")
    (repo / "docs.md").write_text("not part of the template\n")
    run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    return repo, commit(repo, "first release")


def files_at(bundle: Path, tag: str, into: Path) -> set[str]:
    run(["git", "clone", "--quiet", "--branch", tag, str(bundle), str(into)], bundle.parent)
    return set(run(["git", "ls-files"], into).stdout.split())


def test_history_holds_each_release_and_the_state_being_built(
    small_repo: tuple[Path, str], tmp_path: Path
) -> None:
    repo, first = small_repo
    (repo / "shared" / "helper.py").write_text("VALUE = 2\n")  # through the symlink
    commit(repo, "second")
    history = build_history(
        repo, tmp_path / "h.bundle", version="1.1.0", releases=[Release("1.0.0", first)]
    )
    assert history.tags == ("v1.0.0", "v1.1.0") and history.current == "1.1.0"
    assert bundle_versions(history.bundle) == (["1.0.0", "1.1.0"], "1.1.0")
    files = files_at(history.bundle, "v1.0.0", tmp_path / "old")
    assert files == {
        "copier.yml",
        "template/README.md.jinja",
        "template/shared",
        "shared/helper.py",
    }
    assert (tmp_path / "old" / "template" / "shared" / "helper.py").read_text() == "VALUE = 1\n"
    files_at(history.bundle, "v1.1.0", tmp_path / "new")
    assert (tmp_path / "new" / "template" / "shared" / "helper.py").read_text() == "VALUE = 2\n"


def test_a_released_version_with_a_changed_template_is_a_dev_build(
    small_repo: tuple[Path, str], tmp_path: Path
) -> None:
    repo, first = small_repo
    releases = [Release("1.0.0", first)]
    (repo / "docs.md").write_text("changed, but not the template\n")
    commit(repo, "docs")
    same = build_history(repo, tmp_path / "same.bundle", version="1.0.0", releases=releases)
    assert same.tags == ("v1.0.0",) and not same.uncommitted

    (repo / "template" / "README.md.jinja").write_text("# {{ name }}!\n")  # not committed
    dev = build_history(repo, tmp_path / "dev.bundle", version="1.0.0", releases=releases)
    assert dev.tags == ("v1.0.0", "v1.0.0.post0.dev1") and dev.uncommitted
    assert Version(dev.current) > Version("1.0.0")


def test_history_refuses_what_it_cannot_build(small_repo: tuple[Path, str], tmp_path: Path) -> None:
    repo, first = small_repo
    with pytest.raises(HistoryError, match=r"0\.9\.0 is older than its newest release 1\.0\.0"):
        build_history(repo, tmp_path / "x", version="0.9.0", releases=[Release("1.0.0", first)])
    missing = Release("0.5.0", "0" * 40)
    with pytest.raises(HistoryError, match=r"commit 000000000000 is not in .* shallow clone"):
        build_history(repo, tmp_path / "x", version="1.0.0", releases=[missing])
    with pytest.raises(HistoryError, match="is not a git bundle"):
        bundle_versions(repo / "copier.yml")
