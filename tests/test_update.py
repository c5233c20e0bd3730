"""`mlstart update`: projects made by a release, by a checkout and from a fork, kept edits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy
from mlstart.core.migrations import upgrade_answers
from mlstart.core.new import new_project
from mlstart.core.template import TEMPLATE_REPOSITORY, InstalledHistory
from mlstart.core.update import update_project
from mlstart.errors import TemplateError, UsageError

from tests.conftest import REPO_ROOT, TEST_KEY, run

#: The edit to a README line the template rewrote after 0.1.0: both sides changed it.
OUR_DESCRIPTION = "a scikit-learn Pipeline (classification) that scores credit applications"
#: A section of our own, where the template changed nothing since 0.1.0.
OUR_NOTES = "## Team notes\n\nWe retrain on the first Monday of each month.\n\n"


def commit_all(repo: Path, message: str, tag: str | None = None) -> None:
    run(["git", "add", "--all"], repo)
    run(["git", "commit", "--quiet", "-m", message], repo)
    if tag:
        run(["git", "tag", tag], repo)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def make_release_project(history: InstalledHistory, version: str, parent: Path) -> Path:
    """The project the mlstart of release ``version`` made: "Credit Risk", every default.

    Rendered from that release's state in the bundled history, its answers file pointing at
    mlstart's public repository at ``v<version>`` (what a wheel records), and committed.
    0.1.0 recorded the workstation's key as the path of the .pub file.
    """
    project = parent / "credit-risk"
    run_copy(
        str(history.repository),
        project,
        vcs_ref=f"v{version}",
        data={"project_name": "Credit Risk", "ssh_public_key": "~/.ssh/id_ed25519.pub"},
        defaults=True,
        quiet=True,
        unsafe=False,
    )
    answers_file = project / ".copier-answers.yml"
    header, _, body = answers_file.read_text(encoding="utf-8").partition("\n")
    answers = yaml.safe_load(body)
    assert answers["_commit"] == f"v{version}"
    answers["_src_path"] = TEMPLATE_REPOSITORY
    answers_file.write_text(f"{header}\n{yaml.safe_dump(answers)}", encoding="utf-8")
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    commit_all(project, f"Initial commit from mlstart {version}")
    return project


def make_team_edits(project: Path) -> None:
    """A team's usual edits to a 0.1.0 project, committed."""
    replace_once(project / "params.yaml", "  C: 1.0\n", "  C: 2.0\n")
    readme = project / "README.md"
    replace_once(readme, "## Metrics\n", f"{OUR_NOTES}## Metrics\n")
    replace_once(
        readme,
        "a scikit-learn Pipeline (classification) trained on a dataset bundled with scikit-learn",
        OUR_DESCRIPTION,
    )
    workflow = project / ".github" / "workflows" / "train.yml"
    replace_once(workflow, "timeout-minutes: 180", "timeout-minutes: 240")
    replace_once(
        project / "infra" / "Pulumi.dev.yaml",
        'credit-risk:clusterMaxNodes: "2"',
        'credit-risk:clusterMaxNodes: "4"',
    )
    (project / "src" / "credit_risk" / "features.py").write_text(
        '"""Features of our own."""\n\n\ndef ratio(a: float, b: float) -> float:\n'
        '    """a over b; 0 when b is 0."""\n    return a / b if b else 0.0\n'
    )
    (project / "tests" / "test_features.py").write_text(
        "from credit_risk.features import ratio\n\n\ndef test_ratio() -> None:\n"
        "    assert ratio(1.0, 2.0) == 0.5\n    assert ratio(1.0, 0.0) == 0.0\n"
    )
    commit_all(project, "our edits")


def check_team_edits_kept(project: Path) -> None:
    """Every edit of :func:`make_team_edits` is in the updated project."""
    assert "  C: 2.0\n" in (project / "params.yaml").read_text()
    assert "sweep:" in (project / "params.yaml").read_text()  # the template's new section
    readme = (project / "README.md").read_text()
    assert f"{OUR_NOTES}## Metrics\n" in readme
    ours, theirs = conflict_sides(readme)
    assert OUR_DESCRIPTION in ours and OUR_DESCRIPTION not in theirs
    workflow = (project / ".github" / "workflows" / "train.yml").read_text()
    assert "timeout-minutes: 240" in workflow and "uv sync --locked" in workflow
    config = (project / "infra" / "Pulumi.dev.yaml").read_text()
    assert 'credit-risk:clusterMaxNodes: "4"' in config and "credit-risk:nameSuffix:" in config
    assert "def ratio" in (project / "src" / "credit_risk" / "features.py").read_text()
    assert (project / "tests" / "test_features.py").is_file()


def conflict_sides(text: str) -> tuple[str, str]:
    """The project's side and the template's side of every conflict in ``text``."""
    ours: list[str] = []
    theirs: list[str] = []
    side: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<< before updating"):
            side = ours
        elif line.startswith("|||||||"):
            side = None
        elif line.startswith("=======") and side is not theirs:
            side = theirs
        elif line.startswith(">>>>>>> after updating"):
            side = None
        elif side is not None:
            side.append(line)
    return "".join(ours), "".join(theirs)


def test_release_project_updates_offline_keeping_edits(
    release_history: InstalledHistory, key_home: Path, tmp_path: Path
) -> None:
    """The first real update: a 0.1.0 project to the template of this mlstart."""
    project = make_release_project(release_history, "0.1.0", tmp_path)
    # 0.2.0 moved the infra tests' harness to infra/tests/mocks.py; this team had changed it.
    harness = project / "infra" / "components" / "mocks.py"
    harness.write_text(f"{harness.read_text()}\n# our fix\n")
    make_team_edits(project)

    result = update_project(project)

    assert result.old_version == "v0.1.0"
    assert result.new_version == f"v{release_history.current}"
    assert result.conflicts == ["README.md"]  # the only lines both sides changed
    check_team_edits_kept(project)
    assert harness.read_text().endswith("# our fix\n")  # kept, not removed
    assert (project / "infra" / "tests" / "mocks.py").is_file()
    assert result.removed == []
    kept = "no longer has infra/components/mocks.py; your changed copy is kept"
    assert len(result.warnings) == 2
    assert any(kept in warning for warning in result.warnings)
    assert any(w.startswith("idle_shutdown_minutes is new in 0.4.0") for w in result.warnings)
    assert {"params.yaml", "aml/sweep-job.yml", ".copier-answers.yml"} <= set(result.changed)
    answers = answers_of(project)
    assert answers["_src_path"] == TEMPLATE_REPOSITORY  # the project stays portable
    assert answers["workload"] == "sklearn"  # new question, old behaviour
    assert answers["cluster_vm_size"] == "Standard_NC4as_T4_v3"  # recorded, kept
    assert answers["ssh_public_key"] == TEST_KEY  # 0.1.0's path, read into the key's text
    assert (
        f'credit-risk:sshPublicKey: "{TEST_KEY}"' in (project / "infra/Pulumi.dev.yaml").read_text()
    )


@pytest.fixture
def fake_project(tmp_path: Path) -> Any:
    """A clean repository holding only an answers file (enough for the checks before copier)."""

    def _make(**answers: Any) -> Path:
        project = tmp_path / "fake"
        project.mkdir()
        (project / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
        run(["git", "init", "--quiet", "--initial-branch=main"], project)
        commit_all(project, "answers")
        return project

    return _make


def test_project_already_current_says_so_in_one_line(
    fake_project: Any, release_history: InstalledHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlstart.cli import main

    current = f"v{release_history.current}"
    project = fake_project(_src_path=TEMPLATE_REPOSITORY, _commit=current)
    with pytest.raises(SystemExit) as exited:
        main(["update", str(project)])
    assert exited.value.code == 0
    captured = capsys.readouterr()
    assert captured.out == f"Already at template {current}; nothing to update.\n"
    assert captured.err == ""


def test_a_moved_checkout_can_be_pointed_at_the_history_mlstart_carries(
    fake_project: Any, release_history: InstalledHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlstart.cli import main

    current = f"v{release_history.current}"
    project = fake_project(_src_path="/nowhere/mlstart", _commit=current)
    with pytest.raises(SystemExit) as exited:
        main(["update", str(project)])
    assert exited.value.code == 1
    assert "error: the template /nowhere/mlstart recorded in" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["update", str(project), "--template", "gh:mlstart/mlstart"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"Already at template {current}; nothing to update.\n"


@pytest.mark.parametrize(
    ("commit", "version", "message"),
    [
        ("v99.0.0", None, r"on template v99\.0\.0, newer than this mlstart's \(v"),
        ("v0.0.7", None, r"template version v0\.0\.7 is unknown: .* has v0\.1\.0, v0\.2\.0"),
        ("a1b2c3d", None, r"template version a1b2c3d is unknown"),
        ("v0.2.0", "v0.1.0", r"on template v0\.2\.0, newer than v0\.1\.0: updates only go"),
        ("v0.1.0", "v0.0.3", r"template version v0\.0\.3 is unknown"),
    ],
)
def test_versions_the_history_cannot_serve_are_one_line(
    fake_project: Any,
    capsys: pytest.CaptureFixture[str],
    commit: str,
    version: str | None,
    message: str,
) -> None:
    from mlstart.cli import main

    project = fake_project(_src_path=TEMPLATE_REPOSITORY, _commit=commit)
    with pytest.raises(SystemExit) as exited:
        main(["update", str(project), *(["--version", version] if version else [])])
    assert exited.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert re.search(message, lines[0]), lines[0]


def test_project_from_the_previous_commit_of_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made from an editable checkout one commit ago (a local path and a commit hash)."""
    previous = run(["git", "rev-parse", "--short", "HEAD~1"], REPO_ROOT).stdout.strip()
    monkeypatch.setenv("MLSTART_TEMPLATE", str(REPO_ROOT))
    monkeypatch.setenv("MLSTART_TEMPLATE_REF", previous)
    made = new_project("Checkout Made", output_dir=tmp_path, defaults=True, lock=False)
    monkeypatch.delenv("MLSTART_TEMPLATE")
    monkeypatch.delenv("MLSTART_TEMPLATE_REF")
    project = made.path
    assert answers_of(project)["_src_path"] == str(REPO_ROOT)
    replace_once(project / "params.yaml", "seed: 42", "seed: 7")
    commit_all(project, "our seed")

    result = update_project(project)

    assert result.old_version is not None and result.old_version.startswith(previous)
    assert result.new_version != result.old_version
    assert result.conflicts == []
    assert ".copier-answers.yml" in result.changed
    assert "seed: 7" in (project / "params.yaml").read_text()
    assert answers_of(project)["_src_path"] == str(REPO_ROOT)


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    """A team's fork of the template: a git repository of its own, tagged v1.0.0."""
    repo = tmp_path / "fork"
    repo.mkdir()
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", repo / "template")
    run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    commit_all(repo, "our template", tag="v1.0.0")
    return repo


def release_fork(repo: Path) -> None:
    """The fork's v1.1.0: a new file, one removed, a Makefile line and a new license text."""
    (repo / "template" / "CONTRIBUTING.md").write_text("# Contributing\n\nOpen a pull request.\n")
    (repo / "template" / ".dockerignore").unlink()
    makefile = repo / "template" / "Makefile.jinja"
    replace_once(
        makefile, "$(UV) sync --compile-bytecode\n", "$(UV) sync --compile-bytecode --frozen\n"
    )
    license_file = repo / "template" / "LICENSE.jinja"
    license_file.write_text(f"{license_file.read_text()}\nReleased by the platform team.\n")
    commit_all(repo, "our template, better", tag="v1.1.0")


@pytest.fixture
def fork_project(fork: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLSTART_TEMPLATE", str(fork))
    monkeypatch.setenv("MLSTART_TEMPLATE_REF", "v1.0.0")
    result = new_project("Forked", output_dir=tmp_path / "work", defaults=True, lock=False)
    monkeypatch.delenv("MLSTART_TEMPLATE")
    monkeypatch.delenv("MLSTART_TEMPLATE_REF")
    assert answers_of(result.path)["_src_path"] == str(fork)
    return result.path


def test_fork_project_updates_from_its_fork(
    fork: Path, fork_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fork's own tags, read where it is now; the license the team owns is not touched."""
    from mlstart.cli import main

    licence = fork_project / "LICENSE"
    licence.write_text("Proprietary. All rights reserved by our company.\n")
    makefile = fork_project / "Makefile"
    replace_once(
        makefile, "$(UV) sync --compile-bytecode\n", "$(UV) sync --compile-bytecode --all-groups\n"
    )
    commit_all(fork_project, "our license and Makefile")
    release_fork(fork)
    moved = fork.rename(tmp_path / "fork-moved")
    with pytest.raises(TemplateError, match=r"the template .*fork recorded in .* does not exist"):
        update_project(fork_project)

    with pytest.raises(SystemExit) as exited:
        main(["update", str(fork_project), "--template", str(moved)])

    assert exited.value.code == 1  # a conflict to resolve
    captured = capsys.readouterr()
    assert "Updated from template v1.0.0 to v1.1.0." in captured.out
    assert "  changed  CONTRIBUTING.md" in captured.out
    assert "  removed  .dockerignore" in captured.out
    assert "  conflict Makefile" in captured.out
    assert "1 file(s) have conflicts" in captured.err
    assert licence.read_text() == "Proprietary. All rights reserved by our company.\n"
    assert "<<<<<<< before updating" in makefile.read_text()
    assert answers_of(fork_project)["_src_path"] == str(moved)


def test_unknown_commit_of_a_local_template_is_one_line(fork: Path, fake_project: Any) -> None:
    project = fake_project(_src_path=str(fork), _commit="v0.9.9")
    with pytest.raises(TemplateError, match=r"template version v0\.9\.9 is unknown: .* no such"):
        update_project(project)


def test_update_refuses_a_dirty_tree(fake_project: Any) -> None:
    project = fake_project(_src_path=TEMPLATE_REPOSITORY, _commit="v0.1.0")
    (project / "notes.txt").write_text("uncommitted")
    with pytest.raises(UsageError, match=r"uncommitted changes \(notes\.txt\)"):
        update_project(project)


def test_update_refuses_a_folder_that_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"has no \.copier-answers\.yml"):
        update_project(tmp_path)


BROKEN_ANSWERS = [
    ("_commit: v0.0.1\nproject_name: x\n", "does not say where its template lives (_src_path)"),
    ("_src_path: null\n_commit: v0.0.1\n", "does not say where its template lives (_src_path)"),
    ("_src_path: [unclosed\n  - : :\n", "is not valid YAML: expected ',' or ']', but got ':'"),
    ("just a line\n", "does not hold copier answers"),
    (f"_src_path: {TEMPLATE_REPOSITORY}\n", "does not say which template version"),
]


@pytest.mark.parametrize(("content", "message"), BROKEN_ANSWERS)
def test_broken_answers_file_is_one_line(
    fake_project: Any, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    from mlstart.cli import main

    project = fake_project()
    (project / ".copier-answers.yml").write_text(content)
    commit_all(project, "break the answers")
    with pytest.raises(SystemExit) as exited:
        main(["update", str(project)])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [lines[-1]] and lines[-1].startswith(
        f"error: {project / '.copier-answers.yml'} "
    )
    assert message in lines[-1]


def test_binary_answers_file_is_one_line(fake_project: Any) -> None:
    project = fake_project()
    (project / ".copier-answers.yml").write_bytes(b"\xff\xfe\x00binary")
    commit_all(project, "corrupt the answers")
    with pytest.raises(UsageError, match=r"\.copier-answers\.yml is not UTF-8 text"):
        update_project(project)


#: Answers of a project whose template already asked idle_shutdown_minutes (0.4.0 on).
IDLE_ANSWERED = {"idle_shutdown_minutes": 60}


def test_key_path_of_0_1_0_becomes_the_key_text(key_home: Path) -> None:
    answers, warnings = upgrade_answers(
        {"ssh_public_key": "~/.ssh/id_ed25519.pub", **IDLE_ANSWERED}
    )
    assert (answers, warnings) == ({"ssh_public_key": TEST_KEY}, [])
    assert upgrade_answers({"ssh_public_key": TEST_KEY, **IDLE_ANSWERED}) == ({}, [])
    assert upgrade_answers({"gpu_workstation": False}) == ({}, [])


def test_a_workstation_from_before_idle_shutdown_keeps_it_off() -> None:
    answers, warnings = upgrade_answers({"gpu_workstation": True})
    assert answers == {"idle_shutdown_minutes": 0}
    assert len(warnings) == 1 and "pulumi config set idleShutdownMinutes 60" in warnings[0]
    assert upgrade_answers({"gpu_workstation": True, "idle_shutdown_minutes": 0}) == ({}, [])


def test_key_path_that_cannot_be_read_is_emptied_with_a_warning(key_home: Path) -> None:
    answers, warnings = upgrade_answers({"ssh_public_key": "~/.ssh/missing.pub", **IDLE_ANSWERED})
    assert answers == {"ssh_public_key": ""}
    assert len(warnings) == 1 and "pulumi config set sshPublicKey" in warnings[0]


def test_a_conflict_is_a_marker_line_not_a_mention_of_one(tmp_path: Path) -> None:
    from mlstart.core.update import _has_conflict

    prose = tmp_path / "README.md"
    prose.write_text("Conflicts hold `<<<<<<< before updating` lines.\n")
    conflict = tmp_path / "params.yaml"
    conflict.write_text(
        "<<<<<<< before updating\nseed: 7\n=======\nseed: 42\n>>>>>>> after updating\n"
    )
    assert not _has_conflict(prose)
    assert _has_conflict(conflict)
