"""The command line: version, help, `new`, and how errors are reported."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from mlstart import __version__
from mlstart.cli import app, main
from mlstart.core import new as new_module
from mlstart.core import tools
from mlstart.core.template import dependency_names, locate_template
from mlstart.errors import ToolMissingError
from mlstart.naming import normalize_distribution
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


def test_shell_completion_is_offered_and_completes_commands() -> None:
    def output_of(args: list[str], **env: str) -> str:
        # Started by bash, as a user's shell starts it: --show-completion detects the shell
        # from its parent processes, and completion reads the environment.
        # Two commands, so bash stays the parent instead of exec-ing the only one.
        command = shlex.join([sys.executable, "-m", "mlstart", *args]) + '; exit "$?"'
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                env={**os.environ, **env}, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    script = output_of(["--show-completion"])
    assert "_MLSTART_COMPLETE=complete_bash" in script and "complete " in script
    completed = output_of([], _MLSTART_COMPLETE="complete_bash", COMP_WORDS="mlstart pl",
                          COMP_CWORD="1")  # fmt: skip
    assert completed.split() == ["plan"]


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
    assert f'Created "Credit Risk" in {project}' in result.output
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
    (["dvc"], 2, "project name 'dvc' is also the name of one of the project's dependencies"),
    (["mlflow"], 2, "(mlflow): the project would depend on itself"),
    (["scikit learn"], 2, "(scikit-learn): the project would depend on itself"),
    (["Pandas"], 2, "(pandas)"),
    (["fastapi"], 2, "(fastapi)"),
    (["ok", "-d", "project_slug=pre-commit-hooks"], 2, "(pre-commit-hooks)"),
    (["ok", "-o", "/proc"], 2, "cannot create the project in /proc"),
    (["ok", "-o", "/dev/null"], 2, "/dev/null is not a folder"),
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
    where = [] if "-o" in args else ["-o", str(out)]
    exit_code, err = run_main(["new", *args, "--defaults", "--no-lock", *where], capsys)
    assert exit_code == code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err  # no terminal: no progress
    assert message in lines[0]
    assert "Traceback" not in err
    assert list(out.iterdir()) == []


def test_existing_non_empty_destination_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "taken"
    existing.mkdir()
    (existing / "notes.txt").write_text("keep me")
    exit_code, err = run_main(["new", "Taken", "--defaults", "-o", str(tmp_path)], capsys)
    assert exit_code == 2
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


def test_missing_uv_fails_new_unless_no_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_uv() -> str:
        raise ToolMissingError("uv is not installed (pip install uv)")

    monkeypatch.setattr(tools, "find_uv", no_uv)
    exit_code, err = run_main(["new", "No Uv", "--defaults", "-o", str(tmp_path)], capsys)
    assert exit_code == 1
    assert err.strip().splitlines()[-1] == (
        "error: uv lock failed: uv is not installed (pip install uv); nothing was created "
        "(--no-lock creates the project without uv.lock)"
    )
    assert list(tmp_path.iterdir()) == []

    result = runner.invoke(app, ["new", "No Uv", "--defaults", "--no-lock", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: uv was not found: install it (pipx install uv)" in result.output
    assert not (tmp_path / "no-uv" / ".mlstart-uv").exists()


def test_missing_git_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = tools.shutil.which
    monkeypatch.setattr(
        tools.shutil, "which", lambda cmd: None if cmd == "git" else real_which(cmd)
    )
    result = runner.invoke(app, ["new", "No Git", "--defaults", "--no-lock", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: git is not installed" in result.output
    assert not (tmp_path / "no-git" / ".git").exists()


def test_failed_lock_fails_new_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(_project: Path) -> None:
        raise tools.MlstartError("No solution found when resolving dependencies")

    monkeypatch.setattr(new_module, "uv_lock", failing)
    exit_code, err = run_main(["new", "Unlocked", "--defaults", "-o", str(tmp_path)], capsys)
    assert exit_code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: uv lock failed: No solution found when resolving")
    assert [line for line in lines if line.startswith(("error", "warning"))] == [lines[-1]]
    assert list(tmp_path.iterdir()) == []


def test_the_default_project_locks(tmp_path: Path) -> None:
    """The default answers lock (against the package index this machine reaches)."""
    result = new_module.new_project("Locks", output_dir=tmp_path, defaults=True, git=False)
    assert result.locked
    assert (result.path / "uv.lock").is_file()


ANSWERS_FILES = [
    (b"\xcd\xff\x00binary" * 100, "is not UTF-8 text"),
    (b"task: regression\x00\n", "is not a text file"),
    (b"task: [unclosed\n  - x: : :\n", "is not valid YAML: expected ',' or ']'"),
    (b"- a list\n", "must hold a mapping of question: answer"),
    (b"task: " + b"x" * 2_000_000, "is larger than 1 MB"),
]


@pytest.mark.parametrize(("content", "message"), ANSWERS_FILES, ids=lambda v: str(v)[:12])
def test_bad_answers_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_bytes(content)
    out = tmp_path / "out"
    exit_code, err = run_main(
        ["new", "ok", "-a", str(answers), "--defaults", "--no-lock", "-o", str(out)], capsys
    )
    assert exit_code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: answers file {answers} "), err
    assert message in lines[0]
    assert not out.exists()


def test_large_answers_file_is_not_read_whole(tmp_path: Path) -> None:
    from mlstart.core.answers import MAX_ANSWERS_FILE_BYTES, load_answers_file
    from mlstart.errors import UsageError

    answers = tmp_path / "answers.yml"
    with answers.open("wb") as stream:  # sparse: 10 GB on paper, nothing on disk
        stream.truncate(10 * 1024**3)
    started = time.monotonic()
    with pytest.raises(UsageError, match="larger than 1 MB"):
        load_answers_file(answers)
    assert time.monotonic() - started < 5, "read more than the limit"
    assert MAX_ANSWERS_FILE_BYTES == 1_000_000


def test_no_terminal_and_no_answers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    exit_code, err = run_main(["new", "Quiet", "--no-lock", "-o", str(tmp_path)], capsys)
    assert exit_code == 2
    assert err.strip().splitlines() == [
        "error: no terminal to ask the template's questions on: pass --defaults to accept "
        "every default, -d KEY=VALUE to answer one, or --answers-file FILE"
    ]
    assert list(tmp_path.iterdir()) == []
    exit_code, err = run_main(
        ["new", "Quiet", "-d", "task=regression", "--no-lock", "--no-git", "-o", str(tmp_path)],
        capsys,
    )
    assert exit_code == 0, err
    assert (tmp_path / "quiet" / "pyproject.toml").is_file()


def test_created_line_and_next_hint_name_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    exit_code, err = run_main(["new", "Demo", "--defaults", "--no-lock", "--no-git"], capsys)
    assert exit_code == 0, err
    lines = err.strip().splitlines()
    assert lines[-2:] == [
        'Created "Demo" in ./demo',
        "Next: cd ./demo && make setup && make train && make test",
    ]


def test_new_help_names_the_argument_plainly() -> None:
    result = runner.invoke(app, ["new", "--help"])
    assert result.exit_code == 0
    assert "Usage: mlstart new [OPTIONS] NAME\n" in result.stdout
    assert "{NAME}" not in result.stdout and "<str>" not in result.stdout
    assert "  NAME  Project name" in result.stdout


def test_dependency_names_cover_the_rendered_pyproject(generate: Callable[..., Path]) -> None:
    """Every dependency a rendered project declares is refused as a project name."""
    names = dependency_names(locate_template())
    for number, answers in enumerate(({}, {"data_versioning": "dvc"})):
        project = generate(f"Deps {number}", **answers)
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        declared = list(pyproject["project"]["dependencies"])
        for group in pyproject["dependency-groups"].values():
            declared += group
        for requirement in declared:
            name = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert name and normalize_distribution(name.group()) in names, requirement


def test_new_records_the_uv_it_used(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", "Recorded", "--defaults", "--no-lock", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "recorded"
    assert (project / ".mlstart-uv").read_text() == os.path.abspath(tools.find_uv()) + "\n"
    ignored = subprocess.run(
        ["git", "check-ignore", ".mlstart-uv"], cwd=project, capture_output=True, check=False
    )
    assert ignored.returncode == 0


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile_finds_uv_off_path(generate: Callable[..., Path], tmp_path: Path) -> None:
    """A new shell with the default PATH (no virtualenv) still finds a uv, or says why not."""
    project = generate("Off Path")
    plain = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV")}
    plain["PATH"] = "/usr/bin:/bin"
    assert shutil.which("uv", path=plain["PATH"]) is None, "this machine has uv on /usr/bin"
    recorded = (project / ".mlstart-uv").read_text().strip()

    def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-n", *args], cwd=project, env={**plain, **env},
                              capture_output=True, text=True, check=False)  # fmt: skip

    dry = make("setup", "train")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0].startswith(f"{recorded} sync")
    assert f"{recorded} run python -m off_path train" in dry.stdout
    assert "\tuv " not in (project / "Makefile").read_text()

    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "uv").symlink_to(recorded)
    assert make("setup", PATH=f"{on_path}:/usr/bin:/bin").stdout.startswith(
        f"{on_path / 'uv'} sync"
    )
    assert make("setup", UV="/opt/uv").stdout.startswith("/opt/uv sync")

    (project / ".mlstart-uv").write_text("/nonexistent/uv\n")
    missing = make("setup")
    assert missing.returncode == 2
    assert "uv not found: install it with `pipx install uv`" in missing.stderr
    assert make("help").returncode == 0, "targets that need no uv still work"
