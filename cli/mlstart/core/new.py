"""``mlstart new``: render the template into a new project, atomically.

The project is rendered into a hidden temporary folder next to its destination, locked
and committed there, and moved into place only when every step has succeeded. Any
failure, Ctrl-C, SIGTERM or SIGHUP removes the temporary folder (and copier's, see
:func:`mlstart.core.template.copier_errors`): nothing is left half-written. A failed
``uv lock`` is a failure: a project is never handed over unlocked unless ``lock=False``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstart import __version__
from mlstart.core.answer_types import check_answer_types
from mlstart.core.answers import (
    ANSWERS_FILE,
    check_known,
    load_answers_file,
    machine_defaults,
    parse_data_pairs,
    resolve_ssh_public_key,
)
from mlstart.core.git import git_initial_commit
from mlstart.core.scratch import scratch_folder
from mlstart.core.template import (
    TemplateSource,
    copier_errors,
    dependency_names,
    locate_template,
    question_names,
    question_types,
    without_git_index_sync,
)
from mlstart.core.tools import record_uv, uv_lock
from mlstart.errors import (
    DestinationError,
    InvalidAnswerError,
    MlstartError,
    ToolMissingError,
    UsageError,
)
from mlstart.naming import (
    check_not_dependency,
    check_package,
    check_slug,
    package_from_slug,
    slugify,
)

Progress = Callable[[str], None]


@dataclass
class NewProjectResult:
    """What ``new_project`` produced.

    Attributes:
        path: The project directory.
        answers: The final answers to the template's questions.
        locked: Whether ``uv.lock`` was written.
        commit: The initial commit's sha, or None without git.
        warnings: One line for each step that was skipped or failed without stopping.
    """

    path: Path
    answers: dict[str, Any]
    locked: bool = False
    commit: str | None = None
    warnings: list[str] = field(default_factory=list)


def new_project(
    name: str,
    *,
    output_dir: Path | str = ".",
    data: dict[str, Any] | Iterable[str] | None = None,
    answers_file: Path | str | None = None,
    defaults: bool = False,
    git: bool = True,
    lock: bool = True,
    progress: Progress | None = None,
) -> NewProjectResult:
    """Generate a new ML project from the mlstart template.

    Args:
        name: The human project name, e.g. ``"Credit Risk"``; the directory is its slug.
        output_dir: The folder to create the project in (created if missing).
        data: Answers to template questions, as a dict or ``KEY=VALUE`` strings; they
            override ``answers_file`` and are never asked.
        answers_file: A YAML file of answers.
        defaults: Accept the default of every question not answered; without it, questions
            are asked when standard input is a terminal. With no terminal, some answers
            (``data`` or ``answers_file``) or ``defaults`` must be given.
        git: Create a git repository with an initial commit.
        lock: Run ``uv lock`` to pin the environment.
        progress: Called with a short message before each long step.

    Returns:
        The project's location, answers and what the optional steps did.

    Raises:
        UsageError: With no terminal, no answers and no ``defaults``.
        MlstartError: On invalid answers, an unusable destination, or a failed step
            (``uv lock`` included).
    """
    report = progress or (lambda _message: None)
    interactive = not defaults and sys.stdin.isatty()
    if not defaults and not interactive and not data and answers_file is None:
        raise UsageError(
            "no terminal to ask the template's questions on: pass --defaults to accept every "
            "default, -d KEY=VALUE to answer one, or --answers-file FILE"
        )
    answers = _collect_answers(name, data, answers_file)
    source = locate_template()
    check_known(answers, question_names(source))
    answers = check_answer_types(answers, question_types(source))

    slug = str(answers.get("project_slug") or slugify(name))
    check_slug(slug)
    check_not_dependency(slug, dependency_names(source))
    check_package(str(answers.get("package_name") or package_from_slug(slug)))

    parent = Path(output_dir).expanduser().absolute()
    destination = parent / slug
    _check_destination(destination)
    created_parent = _topmost_missing(parent)
    try:
        _make_parents(parent)
        with _staging_folder(parent, slug) as staging:
            result = _build(source, staging, destination, answers, interactive, git, lock, report)
            _check_destination(destination)
            if destination.is_dir():
                destination.rmdir()
            staging.chmod(_default_directory_mode())
            os.replace(staging, destination)
    except BaseException:
        if created_parent is not None:
            shutil.rmtree(created_parent, ignore_errors=True)
        raise
    return result


def _build(
    source: TemplateSource,
    staging: Path,
    destination: Path,
    answers: dict[str, Any],
    interactive: bool,
    git: bool,
    lock: bool,
    report: Progress,
) -> NewProjectResult:
    """Render, record the uv to use, lock and commit in ``staging``."""
    report(f"Rendering the template into {destination}")
    final_answers = _render(source, staging, answers, interactive=interactive)
    result = NewProjectResult(path=destination, answers=final_answers)
    vm = final_answers.get("gpu_workstation") and final_answers.get("workstation_kind") == "vm"
    if vm and not final_answers.get("ssh_public_key"):
        result.warnings.append(
            "no SSH public key found for the workstation: before `mlstart plan`, run "
            'in infra/: pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"'
        )
    if not record_uv(staging):
        result.warnings.append("uv was not found: install it (pipx install uv) before `make setup`")
    if lock:
        report("Locking dependencies with uv (pyproject.toml -> uv.lock)")
        try:
            uv_lock(staging)
        except MlstartError as error:
            raise type(error)(
                f"uv lock failed: {error}; nothing was created (--no-lock creates the project "
                "without uv.lock)"
            ) from error
        result.locked = True
    if git:
        report("Creating the git repository and the initial commit")
        try:
            result.commit = git_initial_commit(
                staging,
                author_name=str(final_answers["author_name"]),
                author_email=str(final_answers["author_email"]),
                message=f"Initial commit from mlstart {__version__}",
            )
        except ToolMissingError as error:
            result.warnings.append(f"{error}: the project was created without git history")
    return result


@contextmanager
def _staging_folder(parent: Path, slug: str) -> Iterator[Path]:
    """The hidden folder the project is built in, next to its destination; removed on failure."""
    try:
        with scratch_folder(parent, f".{slug}.mlstart-") as staging:
            yield staging
    except OSError as error:
        if error.filename is not None and Path(error.filename).parent == parent:
            raise DestinationError(
                f"cannot create the project in {parent}: {error.strerror}"
            ) from error
        raise


def _collect_answers(
    name: str,
    data: dict[str, Any] | Iterable[str] | None,
    answers_file: Path | str | None,
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if answers_file is not None:
        answers.update(load_answers_file(Path(answers_file)))
    if isinstance(data, dict):
        answers.update(data)
    elif data is not None:
        answers.update(parse_data_pairs(data))
    if not name.strip():
        raise InvalidAnswerError("project name must not be empty")
    answers["project_name"] = name
    resolve_ssh_public_key(answers)
    return answers


def _check_destination(destination: Path) -> None:
    if destination.is_symlink() or (destination.exists() and not destination.is_dir()):
        raise DestinationError(f"{destination} already exists and is not a directory")
    if destination.is_dir() and any(destination.iterdir()):
        raise DestinationError(
            f"{destination} already exists and is not empty; "
            "choose another project name or --output-dir"
        )


def _topmost_missing(parent: Path) -> Path | None:
    """The topmost of ``parent`` and its ancestors that does not exist yet, if any."""
    missing = [folder for folder in (parent, *parent.parents) if not folder.exists()]
    return missing[-1] if missing else None


def _make_parents(parent: Path) -> None:
    """Create ``parent`` and its missing ancestors, and check it can be written."""
    if parent.exists() and not parent.is_dir():
        raise DestinationError(f"{parent} is not a folder; give --output-dir a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DestinationError(f"cannot create {parent}: {error.strerror}") from error
    if not os.access(parent, os.W_OK):
        raise DestinationError(f"{parent} is not writable")


def _render(
    source: TemplateSource, staging: Path, answers: dict[str, Any], *, interactive: bool
) -> dict[str, Any]:
    from copier import run_copy

    with copier_errors("cannot render the template"), without_git_index_sync():
        run_copy(
            source.src_path,
            staging,
            data=answers,
            user_defaults=machine_defaults(),
            vcs_ref=source.vcs_ref,
            defaults=not interactive,
            overwrite=True,
            quiet=True,
            unsafe=False,
            cleanup_on_error=False,
        )
    return _finish_answers_file(staging / ANSWERS_FILE, source)


def _finish_answers_file(path: Path, source: TemplateSource) -> dict[str, Any]:
    """Point the answers file at the template's history, so ``copier update`` works."""
    header, _, body = path.read_text(encoding="utf-8").partition("\n")
    answers: dict[str, Any] = yaml.safe_load(body) or {}
    if source.record_src_path or source.record_commit:
        if source.record_commit:
            answers["_commit"] = source.record_commit
        if source.record_src_path:
            answers["_src_path"] = source.record_src_path
        ordered = dict(sorted(answers.items()))
        path.write_text(
            f"{header}\n{yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)}",
            encoding="utf-8",
        )
    return {key: value for key, value in answers.items() if not key.startswith("_")}


def _default_directory_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask
