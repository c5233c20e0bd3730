"""The command line: version, help, `new`, and how errors are reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlstart import __version__
from mlstart.cli import app, main
from mlstart.core import new as new_module
from mlstart.core import tools
from mlstart.errors import ToolMissingError
from typer.testing import CliRunner

runner = CliRunner()


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mlstart {__version__}"


def test_help_lists_new() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "new" in result.stdout


def test_help_does_not_import_copier() -> None:
    code = (
        "import sys\n"
        "from mlstart.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'copier' not in sys.modules and 'pulumi' not in sys.modules, 'heavy import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_new_creates_project(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["new", "Credit Risk", "--defaults", "--no-lock", "--no-git", "-o", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    project = tmp_path / "credit-risk"
    assert (project / "src" / "credit_risk" / "train.py").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Credit Risk"
    assert answers["author_email"] == "test.author@example.com"
    assert answers["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "Created Credit Risk" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["credit-risk"]


def test_new_with_git_commits_as_the_author(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["new", "Gitted", "--defaults", "--no-lock", "-o", str(tmp_path),
         "-d", "author_name=Ada Lovelace", "-d", "author_email=ada@example.org"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    log = subprocess.run(
        ["git", "log", "--format=%an <%ae>|%s", "--all"],
        cwd=tmp_path / "gitted", capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert log.stdout.strip().splitlines() == [
        f"Ada Lovelace <ada@example.org>|Initial commit from mlstart {__version__}"
    ]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=tmp_path / "gitted",
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert status.stdout == ""


def test_answers_file_and_data(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text("task: regression\nlicense: Apache-2.0\nci_provider: none\n")
    result = runner.invoke(
        app,
        ["new", "From File", "--answers-file", str(answers), "-d", "ci_provider=azure-devops",
         "--no-lock", "--no-git", "-o", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((tmp_path / "out/from-file/.copier-answers.yml").read_text())
    assert recorded["task"] == "regression"
    assert recorded["license"] == "Apache-2.0"
    assert recorded["ci_provider"] == "azure-devops"


BAD_INPUTS = [
    (["!!!"], 2, "project name must contain at least one ASCII letter or digit"),
    (["123 Project"], 2, "must start with a letter"),
    (["class"], 2, "is a Python keyword"),
    (["json"], 2, "would shadow the standard-library module"),
    (["ok", "-d", "task=clustering"], 2, "task"),
    (["ok", "-d", "author_email=not-an-email"], 2, "is not an email address"),
    (["ok", "-d", "license=GPL"], 2, "license"),
    (["ok", "-d", "colour=blue"], 2, "unknown question(s): colour"),
    (["ok", "-d", "novalue"], 2, "--data expects KEY=VALUE"),
    (["ok", "-d", "shutdown_time=25:00"], 2, "must be HH:MM"),
    (["ok", "-d", "time_zone=Mars/Olympus"], 2, "is not a known time-zone id"),
    (["ok", "-d", "monthly_budget=0"], 2, "monthly budget must be a number greater than 0"),
    (["ok", "-d", "decommission_by=2001-01-01"], 2, "must be in the future"),
    (["ok", "-d", "vm_size=NC4"], 2, "must look like Standard_NC4as_T4_v3"),
    (["ok", "-d", "ssh_public_key=~/.ssh/id_ed25519"], 2, "ssh_public_key: cannot read"),
    (["ok", "-d", "ssh_public_key=/nonexistent/id.pub"], 2, "ssh-keygen -t ed25519"),
    (["ok", "-d", "name_suffix=UPPER!"], 2, "must be 6 lower-case letters or digits"),
    (["ok", "-d", "monthly_budget=nan"], 2, "monthly_budget: must be a finite number"),
    (["ok", "-d", "monthly_budget=inf"], 2, "monthly_budget: must be a finite number"),
    (["ok", "-d", "monthly_budget=-5"], 2, "monthly budget must be a number greater than 0"),
    (["ok", "-d", "decommission_by=2026-02-31"], 2, "decommission_by: '2026-02-31' is not a"),
    (
        ["ok", "-d", "workstation_public_ip=true", "-d", "ssh_allowed_cidr=999.999.999.999/32"],
        2,
        "ssh_allowed_cidr: '999.999.999.999/32' is not an IPv4",
    ),
    (["ok", "-d", "gpu_workstation=maybe"], 2, "gpu_workstation: 'maybe' is not one of true"),
    (["ok", "-d", "cluster_max_nodes=abc"], 2, "cluster_max_nodes: 'abc' is not a whole number"),
    (["ok", "-d", "project_slug=" + "a" * 101], 2, "at most 100"),
    (["ok", "--answers-file", "/nonexistent/answers.yml"], 2, "cannot read answers file"),
]


@pytest.mark.parametrize(("args", "code", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    exit_code, err = run_main(["new", *args, "--defaults", "--no-lock", "-o", str(out)], capsys)
    assert exit_code == code
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == [lines[-1]], err
    assert message in errors[0]
    assert all(line.startswith("• ") for line in lines[:-1]), err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []


def test_existing_non_empty_destination_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "taken"
    existing.mkdir()
    (existing / "notes.txt").write_text("keep me")
    exit_code, err = run_main(["new", "Taken", "--defaults", "-o", str(tmp_path)], capsys)
    assert exit_code == 1
    assert "already exists and is not empty" in err
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_existing_empty_destination_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(
        app, ["new", "Empty", "--defaults", "--no-lock", "--no-git", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "empty" / "pyproject.toml").is_file()


def test_interrupt_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(_project: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(new_module, "uv_lock", interrupted)
    out = tmp_path / "deep" / "nested"
    exit_code, err = run_main(["new", "Stopped", "--defaults", "-o", str(out)], capsys)
    assert exit_code == 130
    assert "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_failing_step_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> str:
        raise tools.MlstartError("git commit failed: disk full")

    monkeypatch.setattr(new_module, "git_initial_commit", broken)
    exit_code, err = run_main(
        ["new", "Broken", "--defaults", "--no-lock", "-o", str(tmp_path)], capsys
    )
    assert exit_code == 1
    assert err.strip().splitlines()[-1] == "error: git commit failed: disk full"
    assert list(tmp_path.iterdir()) == []


def test_missing_uv_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_uv() -> str:
        raise ToolMissingError("uv is not installed (pip install uv)")

    monkeypatch.setattr(tools, "find_uv", no_uv)
    result = runner.invoke(app, ["new", "No Uv", "--defaults", "--no-git", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: uv lock failed (uv is not installed" in result.output
    assert not (tmp_path / "no-uv" / "uv.lock").exists()
    assert (tmp_path / "no-uv" / "pyproject.toml").exists()


def test_missing_git_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = tools.shutil.which
    monkeypatch.setattr(
        tools.shutil, "which", lambda cmd: None if cmd == "git" else real_which(cmd)
    )
    result = runner.invoke(app, ["new", "No Git", "--defaults", "--no-lock", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: git is not installed" in result.output
    assert not (tmp_path / "no-git" / ".git").exists()


def test_failed_lock_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(_project: Path) -> None:
        raise tools.MlstartError("No solution found when resolving dependencies")

    monkeypatch.setattr(new_module, "uv_lock", failing)
    result = runner.invoke(app, ["new", "Unlocked", "--defaults", "--no-git", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "uv lock failed (No solution found" in result.output
    assert "will lock on its first `uv sync`" in result.output
