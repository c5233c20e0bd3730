"""`mlstart update`: generate from an older tagged template, edit, update, keep the edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mlstart.core.new import new_project
from mlstart.core.update import update_project
from mlstart.errors import UsageError

from tests.conftest import REPO_ROOT, run


def commit_all(repo: Path, message: str, tag: str | None = None) -> None:
    run(["git", "add", "--all"], repo)
    run(["git", "commit", "--quiet", "-m", message], repo)
    if tag:
        run(["git", "tag", tag], repo)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A local git copy of the template, tagged v0.0.1."""
    repo = tmp_path / "template-repo"
    repo.mkdir()
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", repo / "template")
    run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    commit_all(repo, "template v0.0.1", tag="v0.0.1")
    return repo


@pytest.fixture
def old_project(template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLSTART_TEMPLATE", str(template_repo))
    monkeypatch.setenv("MLSTART_TEMPLATE_REF", "v0.0.1")
    result = new_project("Updatable", output_dir=tmp_path / "work", defaults=True, lock=False)
    monkeypatch.delenv("MLSTART_TEMPLATE_REF")
    answers = yaml.safe_load((result.path / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.0.1"
    assert answers["_src_path"] == str(template_repo)
    return result.path


def release_new_template(repo: Path) -> None:
    (repo / "template" / "CONTRIBUTING.md").write_text("# Contributing\n\nOpen a pull request.\n")
    makefile = repo / "template" / "Makefile.jinja"
    text = makefile.read_text()
    assert "$(UV) sync --compile-bytecode\n" in text
    makefile.write_text(
        text.replace(
            "$(UV) sync --compile-bytecode\n", "$(UV) sync --compile-bytecode --frozen\n", 1
        )
    )
    commit_all(repo, "template v0.0.2", tag="v0.0.2")


def test_update_keeps_edits_and_brings_new_files(template_repo: Path, old_project: Path) -> None:
    release_new_template(template_repo)
    readme = old_project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nWe retrain monthly.\n")
    params = old_project / "params.yaml"
    params.write_text(params.read_text().replace("seed: 42", "seed: 7"))
    commit_all(old_project, "our edits")

    result = update_project(old_project, version="v0.0.2")

    assert result.old_version == "v0.0.1"
    assert result.new_version == "v0.0.2"
    assert result.conflicts == []
    assert (old_project / "CONTRIBUTING.md").is_file()
    assert "$(UV) sync --compile-bytecode --frozen" in (old_project / "Makefile").read_text()
    assert "We retrain monthly." in readme.read_text()
    assert "seed: 7" in params.read_text()
    assert {"CONTRIBUTING.md", "Makefile", ".copier-answers.yml"} <= set(result.changed)


def test_update_reports_conflicts_file_by_file(template_repo: Path, old_project: Path) -> None:
    release_new_template(template_repo)
    makefile = old_project / "Makefile"
    ours = makefile.read_text().replace(
        "$(UV) sync --compile-bytecode\n", "$(UV) sync --compile-bytecode --all-groups\n", 1
    )
    makefile.write_text(ours)
    commit_all(old_project, "our Makefile")

    result = update_project(old_project, version="v0.0.2")

    assert result.conflicts == ["Makefile"]
    assert "<<<<<<< before updating" in makefile.read_text()


def test_update_refuses_a_dirty_tree(template_repo: Path, old_project: Path) -> None:
    release_new_template(template_repo)
    (old_project / "notes.txt").write_text("uncommitted")
    with pytest.raises(UsageError, match=r"uncommitted changes \(notes\.txt\)"):
        update_project(old_project, version="v0.0.2")
    assert not (old_project / "CONTRIBUTING.md").exists()


def test_update_refuses_a_folder_that_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"has no \.copier-answers\.yml"):
        update_project(tmp_path)


def test_update_command_lists_changes(
    template_repo: Path, old_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlstart.cli import main

    release_new_template(template_repo)
    with pytest.raises(SystemExit) as exited:
        main(["update", str(old_project), "--version", "v0.0.2"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "Updated from template v0.0.1 to v0.0.2." in out
    assert "changed  CONTRIBUTING.md" in out


BROKEN_ANSWERS = [
    ("_commit: v0.0.1\nproject_name: x\n", "does not say where its template lives (_src_path)"),
    ("_src_path: null\n_commit: v0.0.1\n", "does not say where its template lives (_src_path)"),
    ("_src_path: [unclosed\n  - : :\n", "is not valid YAML: expected ',' or ']', but got ':'"),
    ("just a line\n", "does not hold copier answers"),
]


@pytest.mark.parametrize(("content", "message"), BROKEN_ANSWERS)
def test_broken_answers_file_is_one_line(
    old_project: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    from mlstart.cli import main

    (old_project / ".copier-answers.yml").write_text(content)
    commit_all(old_project, "break the answers")
    with pytest.raises(SystemExit) as exited:
        main(["update", str(old_project)])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(f"error: {old_project / '.copier-answers.yml'} ")
    assert message in lines[-1]
    assert [line for line in lines if not line.startswith("• ")] == [lines[-1]]


def test_binary_answers_file_is_one_line(old_project: Path) -> None:
    (old_project / ".copier-answers.yml").write_bytes(b"\xff\xfe\x00binary")
    commit_all(old_project, "corrupt the answers")
    with pytest.raises(UsageError, match=r"\.copier-answers\.yml is not UTF-8 text"):
        update_project(old_project)
