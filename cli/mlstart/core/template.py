"""Find the copier template and describe where its tagged history lives.

mlstart renders from one of three places:

* ``$MLSTART_TEMPLATE`` (a path or git URL, optionally at ``$MLSTART_TEMPLATE_REF``);
* the template shipped inside the installed wheel (a plain folder, no git history);
* the source checkout mlstart runs from (a git repository, rendered at ``HEAD``).

A project rendered from the wheel's plain folder could never be updated, because copier
would record a folder with no history. Its answers file is therefore pointed at the
template's public repository, at the tag of the template version that rendered it; the
wheel carries that history itself (:func:`installed_history`), so updates need no network.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlstart import __version__
from mlstart.core import template_history
from mlstart.core.scratch import scratch_folder
from mlstart.errors import InvalidAnswerError, TemplateError
from mlstart.naming import normalize_distribution
from mlstart.signals import Interrupted

#: Where the template's tagged history is published.
TEMPLATE_REPOSITORY = "https://github.com/mlstart/mlstart.git"
TEMPLATE_ENV_VAR = "MLSTART_TEMPLATE"
TEMPLATE_REF_ENV_VAR = "MLSTART_TEMPLATE_REF"

_PACKAGED = Path(__file__).resolve().parents[1] / "_template"
_PACKAGED_BUNDLE = Path(__file__).resolve().parents[1] / template_history.PACKAGED_BUNDLE
_CHECKOUT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class TemplateSource:
    """Where to render from, and what the answers file should record for updates.

    Attributes:
        src_path: The copier source (a folder or a git URL).
        vcs_ref: The git reference to render, or None for copier's default.
        record_src_path: If set, replaces ``_src_path`` in the generated answers file.
        record_commit: If set, replaces ``_commit`` in the generated answers file.
    """

    src_path: str
    vcs_ref: str | None = None
    record_src_path: str | None = None
    record_commit: str | None = None

    @property
    def copier_yml(self) -> Path | None:
        """The questions file, when the source is a local folder."""
        path = Path(self.src_path) / "copier.yml"
        return path if path.is_file() else None


def locate_template() -> TemplateSource:
    """Return the template source mlstart should render from.

    Raises:
        TemplateError: If no template can be found.
    """
    if override := os.environ.get(TEMPLATE_ENV_VAR):
        return TemplateSource(override, vcs_ref=os.environ.get(TEMPLATE_REF_ENV_VAR) or None)
    if (_PACKAGED / "copier.yml").is_file():
        return _released(_PACKAGED)
    if (_CHECKOUT / "copier.yml").is_file() and (_CHECKOUT / "template").is_dir():
        if (_CHECKOUT / ".git").exists():
            return TemplateSource(str(_CHECKOUT), vcs_ref="HEAD")
        return _released(_CHECKOUT)
    raise TemplateError(
        f"the mlstart template is missing from {_PACKAGED}; reinstall mlstart "
        f"or set {TEMPLATE_ENV_VAR} to a template path or git URL"
    )


def _released(folder: Path) -> TemplateSource:
    return TemplateSource(
        str(folder),
        record_src_path=TEMPLATE_REPOSITORY,
        record_commit=f"v{shipped_template_version()}",
    )


def is_running_checkout(path: Path) -> bool:
    """Whether ``path`` is the source checkout this mlstart runs from (an editable install)."""
    return path.resolve() == _CHECKOUT and (_CHECKOUT / ".git").exists()


def is_official(src_path: str) -> bool:
    """Whether a ``_src_path`` names mlstart's public repository, in any of git's spellings.

    ``https://github.com/mlstart/mlstart(.git)``, ``git@github.com:mlstart/mlstart.git`` and
    copier's ``gh:mlstart/mlstart`` all do.
    """
    return _repository_path(src_path) == _repository_path(TEMPLATE_REPOSITORY)


def _repository_path(url: str) -> str | None:
    """``owner/name`` of a GitHub repository URL, lower-case; None for anything else."""
    text = url.strip().rstrip("/").removesuffix(".git").lower()
    for prefix in ("https://github.com/", "http://github.com/", "git@github.com:", "gh:",
                   "ssh://git@github.com/", "git+https://github.com/"):  # fmt: skip
        if text.startswith(prefix):
            return text.removeprefix(prefix).strip("/")
    return None


def _shipped_bundle() -> Path | None:
    """The bundle of the template's history shipped with this mlstart (wheel or sdist)."""
    for bundle in (_PACKAGED_BUNDLE, _CHECKOUT / template_history.SDIST_BUNDLE):
        if bundle.is_file():
            return bundle
    return None


def shipped_template_version() -> str:
    """The template version the shipped template folder is (``__version__`` for a release).

    It is the bundle's newest state; a development build's is ``X.Y.Z.post0.devN``
    (see :func:`mlstart.core.template_history.build_history`).
    """
    bundle = _shipped_bundle()
    if bundle is not None:
        try:
            _versions, current = template_history.bundle_versions(bundle)
        except template_history.HistoryError:
            current = None
        if current:
            return current
    return __version__


@dataclass(frozen=True)
class InstalledHistory:
    """The template history this mlstart carries, cloned where copier can read it.

    Attributes:
        repository: A git repository whose tags are the template versions (``v0.1.0``, ...).
        versions: Those versions, oldest first.
        current: The version this mlstart renders (the newest).
    """

    repository: Path
    versions: tuple[str, ...]
    current: str


@contextmanager
def installed_history(parent: Path) -> Iterator[InstalledHistory]:
    """Clone the template's released history into ``parent`` (removed afterwards).

    An installed mlstart reads the bundle in its wheel; an editable checkout builds the same
    history from its own git history and ``releases.toml``. Neither reaches the network.

    Raises:
        TemplateError: If this mlstart carries no history, or git cannot read it.
    """
    try:
        bundle = _shipped_bundle()
        if bundle is None:
            if not (_CHECKOUT / ".git").exists():
                raise TemplateError(
                    f"this mlstart carries no template history ({_PACKAGED_BUNDLE.name} is "
                    "missing); reinstall mlstart"
                )
            releases = template_history.read_releases(_CHECKOUT / template_history.RELEASES_FILE)
            built = template_history.build_history(
                _CHECKOUT, parent / "history.bundle", version=__version__, releases=releases
            )
            bundle = built.bundle
        versions, current = template_history.bundle_versions(bundle)
        if current is None:
            raise TemplateError(f"{bundle} names no current template version; reinstall mlstart")
        with template_history.cloned(bundle, parent) as repository:
            yield InstalledHistory(repository, tuple(versions), current)
    except template_history.HistoryError as error:
        raise TemplateError(f"cannot read the template's history: {error}") from error


#: libyaml's loader when PyYAML has it (parsing copier.yml in pure Python takes ~0.1 s).
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    return config


def copier_config(path: Path) -> dict[str, Any]:
    """The parsed copier.yml at ``path`` (shared: do not change it), read once per process."""
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


def question_names(source: TemplateSource) -> list[str] | None:
    """List the questions the template asks (None when the source is not a local folder)."""
    if source.copier_yml is None:
        return None
    config = copier_config(source.copier_yml)
    return [
        name
        for name, spec in config.items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]


def question_types(source: TemplateSource) -> dict[str, str]:
    """Each question's copier type (``str`` when copier.yml gives none); empty if not local."""
    if source.copier_yml is None:
        return {}
    config = copier_config(source.copier_yml)
    return {
        name: str(spec.get("type", "str"))
        for name, spec in config.items()
        if not name.startswith("_") and isinstance(spec, dict)
    }


#: A dependency on its own line of the template's pyproject.toml: ``"scikit-learn>=1.5",``.
_DEPENDENCY_LINE = re.compile(r'^\s*"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*[<>=!~;",]')


def dependency_names(source: TemplateSource) -> frozenset[str]:
    """The generated project's dependencies (every group, every choice), PEP 503-normalized.

    Read from the template's ``pyproject.toml.jinja``; empty when the source is not a local
    folder. A project named like one of them cannot be locked: it would depend on itself.
    """
    if source.copier_yml is None:
        return frozenset()
    config = copier_config(source.copier_yml)
    folder = Path(source.src_path) / str(config.get("_subdirectory") or ".")
    try:
        text = (folder / "pyproject.toml.jinja").read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    return frozenset(
        normalize_distribution(match.group(1))
        for line in text.splitlines()
        if (match := _DEPENDENCY_LINE.match(line))
    )


@contextmanager
def without_git_index_sync() -> Iterator[None]:
    """Skip copier's per-file git index check while it renders a new project.

    After writing each file copier runs ``git config`` (and ``git ls-files``) in the
    destination, to carry a tracked file's executable bit into the git index. mlstart renders
    into a fresh staging folder whose files no index tracks yet, so every one of those ``git``
    processes (one per file) finds nothing to do; mlstart's own initial commit records the
    modes. Updates (``run_update``) keep the check: there the files are tracked.
    """
    import copier._main as copier_main

    original = getattr(copier_main, "is_git_available", None)
    if original is None:  # another copier layout: render as copier does
        yield
        return
    copier_main.is_git_available = lambda: False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        copier_main.is_git_available = original  # type: ignore[attr-defined]


@contextmanager
def copier_errors(action: str) -> Iterator[None]:
    """Run copier quietly and turn its failures into one-line mlstart errors.

    Copier's warnings (dirty template checkouts, deprecated helpers) are hidden: the user
    of mlstart can act on neither. Ctrl-C, including copier's CopierAnswersInterrupt, is
    re-raised as a plain KeyboardInterrupt (SIGTERM and SIGHUP as they came). Copier's
    temporary folders (the template's clone, the renders an update compares) are made in a
    private folder that is removed afterwards, whatever happened.

    Args:
        action: What failed, for the message, e.g. ``"cannot render the template"``.

    Raises:
        InvalidAnswerError: If an answer fails a validator or a choice.
        TemplateError: For any other copier error.
    """
    from copier.errors import CopierError

    try:
        with private_tempdir(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except Interrupted:
        raise
    except KeyboardInterrupt as error:
        raise KeyboardInterrupt from error
    except ValueError as error:
        raise InvalidAnswerError(one_line(str(error))) from error
    except CopierError as error:
        message = getattr(error, "message", None) or str(error)
        raise TemplateError(f"{action}: {one_line(message)}") from error


@contextmanager
def private_tempdir() -> Iterator[Path]:
    """Point :mod:`tempfile` at a new private folder, and remove that folder on the way out.

    copier removes its clone of the template only when its own cleanup runs to the end; a
    signal during the clone, or a ``git`` child still writing, can leave it behind in TMPDIR.
    """
    previous = tempfile.tempdir
    with scratch_folder(Path(tempfile.gettempdir()), "mlstart-") as folder:
        tempfile.tempdir = str(folder)
        try:
            yield folder
        finally:
            tempfile.tempdir = previous


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace to single spaces and cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
