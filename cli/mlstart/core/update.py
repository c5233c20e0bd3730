"""``mlstart update``: bring a project up to a newer template, keeping its own edits.

copier replays the project's answers on the old and the new template and merges the
difference into the project (a three-way merge): files the team changed keep their
changes; where both sides changed the same lines, copier writes inline conflict markers.

Where the old and new templates come from:

* a project made by an mlstart release records mlstart's public repository and its release
  (``_commit: v0.1.0``); both states come from the history this mlstart carries
  (:func:`mlstart.core.template.installed_history`), so nothing is fetched;
* any other recorded source (a fork, a team's copy, a local checkout) is read where it is
  recorded, or where ``template`` says it is now.

copier reads the template from the ``_src_path`` in the project's answers file, and the project
must be clean. So the update runs in a scratch clone of the project that borrows its objects,
where the answers point at the real source; what copier changed there (answers file restored)
is applied to the project in one step. An update that fails or is interrupted leaves the
project as it was.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstart.core.answers import ANSWERS_FILE, yaml_problem
from mlstart.core.git import dirty_paths, git, is_repository
from mlstart.core.migrations import upgrade_answers
from mlstart.core.template import (
    TEMPLATE_REF_ENV_VAR,
    TEMPLATE_REPOSITORY,
    copier_errors,
    installed_history,
    is_official,
    is_running_checkout,
    private_tempdir,
)
from mlstart.errors import MlstartError, TemplateError, UsageError

CONFLICT_MARKER = "<<<<<<< before updating"

Progress = Callable[[str], None]


@dataclass
class UpdateResult:
    """What ``update_project`` changed.

    Attributes:
        old_version: The template version the project was on.
        new_version: The template version it is on now.
        changed: Files the update added, changed or removed.
        removed: Those it removed (the template no longer has them).
        conflicts: Files where the project's edits and the template's changes collide;
            each holds inline conflict markers to resolve by hand.
        warnings: One line for each answer that could not be carried over as it was.
    """

    old_version: str | None
    new_version: str | None
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def current(self) -> bool:
        """Whether the project already was on the version asked for (nothing was done)."""
        return self.old_version == self.new_version and not self.changed


@dataclass(frozen=True)
class _Source:
    """Where copier reads the template for one update.

    Attributes:
        location: The repository copier reads (a path or URL).
        ref: The version to update to (a git tag or revision), or None for copier's latest tag.
        record: What the project's ``_src_path`` says afterwards.
    """

    location: str
    ref: str | None
    record: str


def update_project(
    project: Path | str = ".",
    *,
    version: str | None = None,
    template: str | None = None,
    progress: Progress | None = None,
) -> UpdateResult:
    """Update a generated project to a newer version of its template.

    Args:
        project: The project directory (holding ``.copier-answers.yml``).
        version: The template version (git tag, e.g. ``v0.4.0``) to update to. By default:
            for a project made by an mlstart release, the template of the installed mlstart;
            otherwise the latest tag of the template the project came from (``HEAD`` of a
            local mlstart checkout).
        template: Where the project's template is now (a fork, a team's copy, a moved
            checkout: path or git URL), instead of the ``_src_path`` it records; the project
            records it afterwards.
        progress: Called with a short message before each long step.

    Returns:
        The versions before and after, the changed files and the files with conflicts.
        A project already on the version asked for is left as it was (``result.current``).

    Raises:
        UsageError: If the project is not a clean git repository with an answers file.
        TemplateError: If the template or one of the versions cannot be found, the project's
            version is newer than the one asked for, or copier cannot update.
    """
    report = progress or (lambda _message: None)
    root = Path(project).expanduser().resolve()
    answers_path = root / ANSWERS_FILE
    if not answers_path.is_file():
        raise UsageError(f"{root} has no {ANSWERS_FILE}; it was not generated by mlstart")
    if not is_repository(root):
        raise UsageError(f"{root} is not a git repository; updates need its history")
    if dirty := dirty_paths(root):
        raise UsageError(
            f"{root} has uncommitted changes ({', '.join(dirty[:3])}"
            f"{', ...' if len(dirty) > 3 else ''}); commit or stash them before updating"
        )
    before = _recorded(answers_path)
    old = _as_str(before.get("_commit"))
    if not old:
        raise UsageError(
            f"{answers_path} does not say which template version the project is on (_commit): "
            "set it to the version that made it (e.g. v0.1.0) and commit"
        )
    overrides, warnings = upgrade_answers(before)
    target = version or os.environ.get(TEMPLATE_REF_ENV_VAR) or None
    with (
        private_tempdir() as scratch,
        _template_source(
            str(before["_src_path"]), old, target, template, scratch, report
        ) as source,
    ):
        if source is None:  # already there
            return UpdateResult(old_version=old, new_version=old)
        report(f"Updating {root} from template {old} to {source.ref or 'its latest version'}")
        kept = _update_in_clone(root, source, old, before, overrides, scratch)
    warnings += [
        f"the template no longer has {path}; your changed copy is kept: move your changes "
        "where they belong now (see the CHANGELOG), then delete it"
        for path in kept
    ]
    after = _recorded(answers_path)
    changed = dirty_paths(root)
    return UpdateResult(
        old_version=old,
        new_version=_as_str(after.get("_commit")),
        changed=changed,
        removed=[path for path in changed if not (root / path).exists()],
        conflicts=[path for path in changed if _has_conflict(root / path)],
        warnings=warnings,
    )


@contextmanager
def _template_source(
    recorded: str,
    old: str,
    target: str | None,
    template: str | None,
    scratch: Path,
    report: Progress,
) -> Iterator[_Source | None]:
    """Find the template for this update; None when the project is already on ``target``."""
    if is_official(template or recorded):
        report("Reading the template history this mlstart carries")
        with installed_history(scratch) as history:
            wanted = target or f"v{history.current}"
            if not wanted.startswith("v") and wanted in history.versions:
                wanted = f"v{wanted}"  # --version 0.2.0 names the release v0.2.0
            _check_versions(old, wanted, history.versions, history.current)
            if old == wanted:
                yield None
            else:
                yield _Source(str(history.repository), wanted, TEMPLATE_REPOSITORY)
        return
    location = _located(template or recorded, given=template is not None)
    if _is_local(location):
        _check_known_revision(location, old)
        if target is None and is_running_checkout(Path(location)):
            target = "HEAD"  # the checkout mlstart runs from, uncommitted changes included
    yield _Source(location, target, location if template is not None else recorded)


def _check_versions(old: str, wanted: str, versions: tuple[str, ...], current: str) -> None:
    """One line for a version the history lacks, or an update that would go backwards."""
    from packaging.version import InvalidVersion, Version

    tags = [f"v{version}" for version in versions]
    known = ", ".join(tags)
    try:
        old_version: Version | None = Version(old.removeprefix("v"))
    except InvalidVersion:
        old_version = None
    if old not in tags:
        if old_version is not None and old_version > Version(current):
            raise TemplateError(
                f"the project is on template {old}, newer than this mlstart's (v{current}): "
                "upgrade mlstart (pip install --upgrade mlstart), then update"
            )
        raise TemplateError(
            f"template version {old} is unknown: this mlstart's template history has {known} "
            "(a project made by a development build records a version no release has: set "
            "_commit in .copier-answers.yml to the release it started from, and commit)"
        )
    if wanted not in tags:
        raise TemplateError(f"template version {wanted} is unknown: the history has {known}")
    if old_version is not None and old_version > Version(wanted.removeprefix("v")):
        raise TemplateError(
            f"the project is on template {old}, newer than {wanted}: updates only go forward"
        )


def _located(source: str, *, given: bool) -> str:
    """A template source as copier should read it: an absolute path, or the URL as given."""
    if not _is_local(source):
        return source
    path = Path(source).expanduser()
    if not path.exists():
        where = "given" if given else f"recorded in {ANSWERS_FILE} (_src_path)"
        raise TemplateError(
            f"the template {source} {where} does not exist here: pass --template PATH|URL "
            f"where it is now ({TEMPLATE_REPOSITORY} for a project made by an mlstart release: "
            "the history mlstart carries)"
        )
    return str(path.resolve())


def _is_local(source: str) -> bool:
    """Whether a template source is a path on this machine (not a URL or ``user@host:``)."""
    if "://" in source or source.startswith(("gh:", "gl:", "git+")):
        return False
    head = source.split("/", 1)[0]
    return not (":" in head and "@" in head)


def _check_known_revision(location: str, revision: str) -> None:
    """Fail in one line when a local git template lacks the project's recorded version."""
    folder = Path(location)
    if not folder.is_dir():
        return  # a bundle file: copier reads it
    if not is_repository(folder):
        raise TemplateError(f"the template {location} is not a git repository: updates need its "
                            "history")  # fmt: skip
    try:
        git(folder, "cat-file", "-e", f"{revision}^{{commit}}")
    except MlstartError as error:
        raise TemplateError(
            f"template version {revision} is unknown: {location} has no such tag or commit"
        ) from error


def _update_in_clone(
    root: Path,
    source: _Source,
    old: str,
    recorded: Mapping[str, Any],
    overrides: Mapping[str, Any],
    scratch: Path,
) -> list[str]:
    """Run copier's update in a scratch clone of the project, then apply its changes here.

    Returns:
        The files the template removed (or moved) that the project had changed: they are
        kept, for the team to carry its changes over.
    """
    head = git(root, "rev-parse", "HEAD").strip()
    clone = scratch / "project"
    # --shared: the clone reads the project's objects where they are (nothing is copied).
    git(scratch, "clone", "--quiet", "--shared", "--no-checkout", "--", str(root), str(clone))
    # Files kept in Git LFS stay pointers here (an update never touches them): checking them
    # out would download them. GIT_LFS_SKIP_SMUDGE, https://man.archlinux.org/man/git-lfs-smudge.1.en
    _run_bytes(clone, "checkout", "--quiet", "--detach", head, env={"GIT_LFS_SKIP_SMUDGE": "1"})
    answers = clone / ANSWERS_FILE
    if _set_source(answers, source.location):
        git(clone, *_IDENTITY, "commit", "--quiet", "--no-verify", "--all",
            "--message", "mlstart update: read the template from where it is")  # fmt: skip

    from copier import run_update

    with copier_errors("cannot update"):
        run_update(
            clone,
            vcs_ref=source.ref,
            data=dict(overrides),
            defaults=True,
            overwrite=True,
            skip_answered=True,
            conflict="inline",
            quiet=True,
            unsafe=False,
        )
    kept = _keep_changed_files_the_template_removed(clone, source, old, recorded, scratch)
    _set_source(answers, source.record)
    git(clone, "add", "--all")
    patch = _run_bytes(clone, "diff", "--cached", "--binary", "--no-renames", head)
    if patch:
        _run_bytes(root, "apply", "--binary", "--whitespace=nowarn", stdin=patch)
    return kept


def _keep_changed_files_the_template_removed(
    clone: Path, source: _Source, old: str, recorded: Mapping[str, Any], scratch: Path
) -> list[str]:
    """Restore the files the update removed that the project had changed.

    copier removes every file the new template no longer renders (a removed or moved file),
    edited or not. A file is compared with the old template's own render of it (the project's
    answers, at ``old``): if the project's differs, the team changed it, and it stays.
    """
    status = git(clone, "status", "--porcelain", "--no-renames").splitlines()
    removed = [line[3:] for line in status if line[:2] == " D"]
    if not removed:
        return []
    from copier import run_copy

    rendered = scratch / "old-render"
    answers = {key: value for key, value in recorded.items() if not key.startswith("_")}
    with copier_errors("cannot render the project's template version"):
        run_copy(source.location, rendered, data=answers, vcs_ref=old, defaults=True,
                 overwrite=True, quiet=True, unsafe=False)  # fmt: skip
    kept = []
    for path in removed:
        ours = _run_bytes(clone, "show", f"HEAD:{path}")
        template_file = rendered / path
        if not template_file.is_file() or template_file.read_bytes() != ours:
            git(clone, "checkout", "HEAD", "--", path)
            kept.append(path)
    return kept


#: Identity and settings for the scratch clone's one commit (never seen outside it).
_IDENTITY = (
    "-c", "user.name=mlstart",
    "-c", "user.email=mlstart@localhost",
    "-c", "commit.gpgsign=false",
    "-c", "core.hooksPath=/dev/null",
)  # fmt: skip


def _set_source(answers: Path, source: str) -> bool:
    """Make the answers file's ``_src_path`` ``source``; whether the file changed."""
    header, _, body = answers.read_text(encoding="utf-8").partition("\n")
    content = yaml.safe_load(body) or {}
    if content.get("_src_path") == source:
        return False
    content["_src_path"] = source
    answers.write_text(
        f"{header}\n{yaml.safe_dump(content, sort_keys=False, allow_unicode=True)}",
        encoding="utf-8",
    )
    return True


def _run_bytes(
    cwd: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """Run git with bytes in and out (patches hold file contents in any encoding)."""
    result = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                            env={**os.environ, **(env or {})}, check=False)  # fmt: skip
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MlstartError(
            f"git {args[0]} failed: {reason[-1] if reason else f'exit code {result.returncode}'}"
        )
    return result.stdout


def _recorded(answers_path: Path) -> dict[str, Any]:
    """The answers file's content, checked enough for copier to update from it.

    Raises:
        UsageError: If it is not a YAML mapping or does not say where the template lives.
    """
    try:
        content = yaml.safe_load(answers_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise UsageError(f"{answers_path} is not UTF-8 text") from error
    except yaml.YAMLError as error:
        raise UsageError(f"{answers_path} is not valid YAML: {yaml_problem(error)}") from error
    if not isinstance(content, dict):
        raise UsageError(f"{answers_path} does not hold copier answers")
    source = content.get("_src_path")
    if not isinstance(source, str) or not source.strip():
        raise UsageError(
            f"{answers_path} does not say where its template lives (_src_path): set it to "
            f"the template's git URL (mlstart's is {TEMPLATE_REPOSITORY}) and commit"
        )
    return content


def _has_conflict(path: Path) -> bool:
    """Whether a file holds a conflict: a line that is copier's marker, as copier checks."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as lines:
            return any(line.rstrip() in _MARKER_LINES for line in lines)
    except OSError:
        return False


_MARKER_LINES = {CONFLICT_MARKER.encode(), b">>>>>>> after updating"}


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)
