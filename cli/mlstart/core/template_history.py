"""The template's released states as a small git history that ships with mlstart.

copier updates a project by rendering the template at the version the project records
(``_commit``) and at the new one, so it needs a git repository holding both. mlstart's own
repository has no tags and cannot be reached from every machine; instead each release carries
a git bundle whose history holds only what copier reads, one commit per released version:

* ``releases.toml`` (at the repository root) lists the released versions and their commits;
* for each, a commit whose tree is that commit's ``copier.yml``, template folder and the files
  the template's symlinks point at (copier follows symlinks), tagged ``v<version>``;
* last, the state being built (the working tree: the files the wheel ships), tagged with the
  template version of this build (:func:`build_history`).

The wheel's build hook (``hatch_build.py``) calls :func:`build_history` and ships the bundle as
``mlstart/_template.bundle``; an editable checkout builds the same history when it needs it.
This module uses the standard library only (and ``packaging``, which hatchling and copier both
depend on): the build hook loads it by path, before mlstart or its dependencies exist.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

#: The file at the repository root that lists the released versions.
RELEASES_FILE = "releases.toml"
#: Where the bundle lives inside the installed package (next to ``_template``).
PACKAGED_BUNDLE = "_template.bundle"
#: Where an sdist carries the bundle, for the wheel built from it (no git history there).
SDIST_BUNDLE = "template-history.bundle"
#: The branch of the bundle's history that points at the newest state.
BRANCH = "main"
#: The synthetic commits' author and committer (a reserved, unreachable domain).
_IDENTITY = ("mlstart releases", "releases@mlstart.invalid")
#: A release's version: plain ``X.Y.Z`` (pre-releases and dev builds are never released).
_RELEASE_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SUBDIRECTORY = re.compile(r"^_subdirectory:\s*[\"']?([^\"'\s#]+)", re.MULTILINE)
_SYMLINK_MODE = "120000"


class HistoryError(Exception):
    """The template's history cannot be read or built (one line, fit for a user)."""


@dataclass(frozen=True)
class Release:
    """One released version of the template.

    Attributes:
        version: The version, ``X.Y.Z``.
        commit: The full hash of the commit released as that version.
    """

    version: str
    commit: str

    @property
    def tag(self) -> str:
        """The tag of this release in the bundled history, ``v<version>``."""
        return f"v{self.version}"


@dataclass(frozen=True)
class History:
    """What :func:`build_history` wrote.

    Attributes:
        bundle: The git bundle file.
        tags: Its tags, oldest first (``v0.1.0``, ..., then the current state's).
        current: The template version of the state being built (its tag without ``v``).
        uncommitted: Whether the working tree's template differs from ``HEAD``'s.
    """

    bundle: Path
    tags: tuple[str, ...]
    current: str
    uncommitted: bool = False


def read_releases(path: Path) -> list[Release]:
    """Read ``releases.toml``: a ``[releases]`` table of ``"X.Y.Z" = "<full commit hash>"``.

    Returns:
        The releases, oldest first.

    Raises:
        HistoryError: If the file is missing or malformed.
    """
    try:
        content = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise HistoryError(f"{path} is not valid TOML: {error}") from error
    table = content.get("releases")
    if not isinstance(table, dict) or not table:
        raise HistoryError(f'{path} has no [releases] table of "X.Y.Z" = "<commit>"')
    releases = []
    for version, commit in table.items():
        if not _RELEASE_VERSION.match(version):
            raise HistoryError(f"{path}: release {version!r} is not a version like 1.2.3")
        if not isinstance(commit, str) or not _FULL_SHA.match(commit):
            raise HistoryError(f"{path}: release {version} needs a full 40-digit commit hash")
        releases.append(Release(version, commit))
    return sorted(releases, key=lambda release: Version(release.version))


def build_history(
    repo: Path, destination: Path, *, version: str, releases: Iterable[Release]
) -> History:
    """Write the bundle of the template's released states and of the working tree's.

    The state being built is tagged ``v<version>`` when ``version`` is not released yet, or
    when the working tree's template is exactly the released one. A working tree whose template
    changed since ``version`` was released is a development build: its tag is
    ``v<version>.post0.dev<N>`` (N commits after the release), so a project it renders never
    claims a release whose template differs from its own.

    Args:
        repo: The root of a git work tree of mlstart (full history: the released commits).
        destination: The bundle file to write.
        version: mlstart's version (``mlstart.__version__``).
        releases: The released versions (:func:`read_releases`).

    Returns:
        The bundle, its tags and the current state's template version.

    Raises:
        HistoryError: If git is missing, a released commit is not in the history (a shallow
            clone), or ``version`` is older than the newest release.
    """
    releases = sorted(releases, key=lambda release: Version(release.version))
    try:
        current = Version(version)
    except InvalidVersion as error:
        raise HistoryError(f"mlstart's version {version!r} is not a PEP 440 version") from error
    if releases and Version(releases[-1].version) > current:
        raise HistoryError(
            f"mlstart's version {version} is older than its newest release "
            f"{releases[-1].version} ({RELEASES_FILE}); bump it"
        )
    with tempfile.TemporaryDirectory(prefix="mlstart-history-") as scratch:
        store = _Store.create(repo, Path(scratch))
        trees = [(release, store.release_tree(release.commit)) for release in releases]
        worktree = store.worktree_tree()
        released_now = next((pair for pair in trees if pair[0].version == version), None)
        if released_now is None:
            current_tag = f"v{version}"
        elif released_now[1] == worktree:
            current_tag = None  # the working tree is that release
        else:
            distance = store.count_commits(released_now[0].commit)
            current_tag = f"v{version}.post0.dev{distance}"
        parent = None
        tags: list[str] = []
        for release, tree in trees:
            parent = store.commit(tree, parent, release.tag, origin=release.commit)
            store.tag(release.tag, parent)
            tags.append(release.tag)
        if current_tag is not None:
            parent = store.commit(worktree, parent, current_tag, origin=None)
            store.tag(current_tag, parent)
            tags.append(current_tag)
        assert parent is not None  # at least the working tree's commit
        store.bundle(parent, destination)
        head = _git(repo, "rev-parse", "HEAD").strip()
        uncommitted = worktree != store.release_tree(head)
    return History(
        bundle=destination,
        tags=tuple(tags),
        current=tags[-1].removeprefix("v"),
        uncommitted=uncommitted,
    )


def is_work_tree_root(path: Path) -> bool:
    """Whether ``path`` is the top of a git work tree (a checkout with history to read)."""
    try:
        top = _git(path, "rev-parse", "--show-toplevel").strip()
    except HistoryError:
        return False
    return Path(top).resolve() == path.resolve()


def bundle_refs(bundle: Path) -> dict[str, str]:
    """The references a git bundle holds (``refs/tags/v0.1.0``, ``HEAD``, ...) and their hashes.

    Reads the bundle's text header (git's bundle format v2 or v3), so git is not needed.

    Raises:
        HistoryError: If the file is not a git bundle.
    """
    refs: dict[str, str] = {}
    try:
        with bundle.open("rb") as stream:
            signature = stream.readline()
            if signature not in (b"# v2 git bundle\n", b"# v3 git bundle\n"):
                raise HistoryError(f"{bundle} is not a git bundle")
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if not line:
                    break
                if line.startswith(("-", "@")):  # prerequisites, capabilities
                    continue
                sha, _, name = line.partition(" ")
                refs[name] = sha
    except OSError as error:
        raise HistoryError(f"cannot read {bundle}: {error.strerror}") from error
    return refs


def bundle_versions(bundle: Path) -> tuple[list[str], str | None]:
    """The template versions a bundle holds (oldest first) and the one its HEAD is.

    Raises:
        HistoryError: If the file is not a git bundle.
    """
    refs = bundle_refs(bundle)
    versions = []
    for name in refs:
        if name.startswith("refs/tags/v"):
            tag = name.removeprefix("refs/tags/v")
            try:
                Version(tag)
            except InvalidVersion:
                continue
            versions.append(tag)
    versions.sort(key=Version)
    head = refs.get("HEAD") or refs.get(f"refs/heads/{BRANCH}")
    current = next((v for v in reversed(versions) if refs[f"refs/tags/v{v}"] == head), None)
    return versions, current


@contextmanager
def cloned(bundle: Path, parent: Path) -> Iterator[Path]:
    """Clone ``bundle`` into a new folder under ``parent`` (a repository copier can read).

    Raises:
        HistoryError: If git cannot clone it.
    """
    target = Path(tempfile.mkdtemp(prefix="template-", dir=parent))
    try:
        _git(target, "clone", "--quiet", "--no-checkout", "--", str(bundle), str(target))
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)


class _Store:
    """A scratch repository that borrows the source's objects and holds the new ones."""

    def __init__(self, source: Path, git_dir: Path) -> None:
        self.source = source
        self.git_dir = git_dir

    @classmethod
    def create(cls, source: Path, scratch: Path) -> _Store:
        objects = _git(source, "rev-parse", "--git-path", "objects").strip()
        objects_dir = (source / objects).resolve()
        if not objects_dir.is_dir():
            raise HistoryError(f"{source} is not a git work tree with history")
        git_dir = scratch / "history.git"
        _git(scratch, "init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(git_dir))
        # The scratch repository reads the source's objects through git's alternates
        # (https://git-scm.com/docs/gitrepository-layout#Documentation/gitrepository-layout.txt-objectsinfoalternates):
        # nothing is written into the source repository.
        (git_dir / "objects" / "info" / "alternates").write_text(f"{objects_dir}\n")
        return cls(source, git_dir)

    def run(self, *args: str, env: Mapping[str, str] | None = None, stdin: str = "") -> str:
        return _git(self.source, f"--git-dir={self.git_dir}", *args, env=env, stdin=stdin)

    def release_tree(self, commit: str) -> str:
        """The template's tree at a released commit (copier.yml, template, symlink targets)."""
        if not self._exists(f"{commit}^{{commit}}"):
            raise HistoryError(
                f"commit {commit[:12]} is not in {self.source}'s history "
                "(a shallow clone? fetch the full history: git fetch --unshallow)"
            )
        config = self.run("cat-file", "blob", f"{commit}:copier.yml")
        entries = self._ls_tree(commit, ["copier.yml", _subdirectory(config)])
        seen: set[str] = set()
        while links := [e for e in entries.values() if e[0] == _SYMLINK_MODE and e[2] not in seen]:
            for _mode, sha, path in links:
                seen.add(path)
                target = _link_target(path, self.run("cat-file", "blob", sha))
                if target is not None and not _covered(target, entries):
                    entries.update(self._ls_tree(commit, [target]))
        return self._write_tree(f"{mode} {sha}\t{path}" for mode, sha, path in entries.values())

    def worktree_tree(self) -> str:
        """The same selection from the working tree: the files a wheel built now ships."""
        config = (self.source / "copier.yml").read_text(encoding="utf-8")
        paths = ["copier.yml", _subdirectory(config)]
        with tempfile.TemporaryDirectory(prefix="index-") as folder:
            env = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            worktree = ("-c", "core.bare=false", f"--work-tree={self.source}")
            pending = list(paths)
            seen: set[str] = set()
            while pending:
                self.run(*worktree, "add", "--all", "--", *pending, env=env)
                pending = []
                listing = self.run(*worktree, "ls-files", "--stage", "-z", env=env)
                for line in filter(None, listing.split("\0")):
                    meta, path = line.split("\t", 1)
                    if meta.split()[0] != _SYMLINK_MODE or path in seen:
                        continue
                    seen.add(path)
                    target = _link_target(path, os.readlink(self.source / path))
                    if target is not None and (self.source / target).exists():
                        pending.append(target)
            return self.run("write-tree", env=env).strip()

    def count_commits(self, since: str) -> int:
        return int(_git(self.source, "rev-list", "--count", f"{since}..HEAD").strip() or 0)

    def commit(self, tree: str, parent: str | None, tag: str, *, origin: str | None) -> str:
        source = f"commit {origin}" if origin else "the working tree"
        message = f"mlstart template {tag}\n\nThe template's files from {source}.\n"
        # Dates from the source commits (or SOURCE_DATE_EPOCH, the reproducible-builds
        # convention: https://reproducible-builds.org/specs/source-date-epoch/) make the same
        # sources give the same hashes.
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        date = (
            f"@{epoch}"
            if epoch.isdigit()
            else _git(self.source, "show", "-s", "--format=%cI", origin or "HEAD").strip()
        )
        name, email = _IDENTITY
        env = {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
        }  # fmt: skip
        parents = ("-p", parent) if parent else ()
        return self.run("commit-tree", tree, *parents, "-m", message, env=env).strip()

    def tag(self, tag: str, commit: str) -> None:
        self.run("update-ref", f"refs/tags/{tag}", commit)

    def bundle(self, head: str, destination: Path) -> None:
        self.run("update-ref", f"refs/heads/{BRANCH}", head)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".partial")
        self.run("bundle", "create", "--quiet", str(partial), "HEAD", BRANCH, "--tags")
        os.replace(partial, destination)

    def _exists(self, revision: str) -> bool:
        try:
            self.run("cat-file", "-e", revision)
        except HistoryError:
            return False
        return True

    def _ls_tree(self, commit: str, paths: list[str]) -> dict[str, tuple[str, str, str]]:
        listing = self.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
        entries = {}
        for line in filter(None, listing.split("\0")):
            meta, path = line.split("\t", 1)
            mode, _kind, sha = meta.split()
            entries[path] = (mode, sha, path)
        return entries

    def _write_tree(self, lines: Iterable[str]) -> str:
        with tempfile.TemporaryDirectory(prefix="index-") as folder:
            env = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            self.run("update-index", "-z", "--index-info", env=env, stdin="\0".join(lines) + "\0")
            return self.run("write-tree", env=env).strip()


def _subdirectory(copier_yml: str) -> str:
    """The template's folder (``_subdirectory`` in copier.yml)."""
    match = _SUBDIRECTORY.search(copier_yml)
    if match is None:
        raise HistoryError("copier.yml names no _subdirectory: cannot tell the template's files")
    return match.group(1).strip("/")


def _link_target(link: str, target: str) -> str | None:
    """A symlink's target as a path from the repository root, or None if it leaves the root."""
    if target.startswith("/"):
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    return None if resolved == ".." or resolved.startswith("../") else resolved


def _covered(path: str, entries: Mapping[str, object]) -> bool:
    return path in entries or any(name.startswith(f"{path}/") for name in entries)


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str = "") -> str:
    executable = shutil.which("git")
    if executable is None:
        raise HistoryError("git is not installed: the template's history needs it")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"}
    }
    environment.update(env or {})
    result = subprocess.run(
        [executable, *args], cwd=cwd, env=environment, input=stdin, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {result.returncode}"
        raise HistoryError(f"git {_subcommand(args)} failed: {reason}")
    return result.stdout


def _subcommand(args: tuple[str, ...]) -> str:
    """The git subcommand in ``args``, skipping options and ``-c key=value`` pairs."""
    options = iter(args)
    for arg in options:
        if arg == "-c":
            next(options, None)
        elif not arg.startswith("-"):
            return arg
    return "command"
