"""Project names: derive the directory slug and the import package, and check them.

The same rules live in ``copier.yml`` (as Jinja) so that plain ``copier copy``
derives and validates names exactly as mlstart does.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Collection

from mlstart.errors import InvalidAnswerError

_NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")

#: The slug is the Pulumi project name, which Pulumi limits to 100 characters
#: (https://www.pulumi.com/docs/iac/concepts/projects/project-file/: "name ... maximum length
#: 100"). Azure names derived from it are shortened to each type's rule by
#: ``mlstart_infra.components.naming``, keeping their unique part whole.
MAX_SLUG_LENGTH = 100

#: Top-level standard-library modules a generated package must not shadow.
STDLIB_MODULES = frozenset(name for name in sys.stdlib_module_names if not name.startswith("_"))


def slugify(name: str) -> str:
    """Turn a human project name into a directory name.

    Args:
        name: The project name, e.g. ``"Credit Risk"``.

    Returns:
        Lower-case ASCII letters and digits joined by single hyphens, e.g.
        ``"credit-risk"``; empty if the name has no such characters.
    """
    return _NOT_SLUG_CHARS.sub("-", name.lower()).strip("-")


def package_from_slug(slug: str) -> str:
    """Derive the Python import package from a slug (``credit-risk`` -> ``credit_risk``)."""
    return slug.replace("-", "_")


def check_slug(slug: str) -> None:
    """Raise :class:`InvalidAnswerError` if ``slug`` is not a valid project slug."""
    if not slug:
        raise InvalidAnswerError(
            "project name must contain at least one ASCII letter or digit "
            "(it becomes the directory name)"
        )
    if not _SLUG.match(slug):
        raise InvalidAnswerError(
            f"project slug {slug!r} must be lower-case letters and digits separated by hyphens"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        raise InvalidAnswerError(
            f"project slug has {len(slug)} characters; at most {MAX_SLUG_LENGTH} (it is the "
            "Pulumi project name): pick a shorter project name"
        )


def check_package(package: str) -> None:
    """Raise :class:`InvalidAnswerError` if ``package`` cannot be the project's import package."""
    if not package or package[0].isdigit():
        raise InvalidAnswerError(
            f"package name {package!r} must start with a letter; "
            "pick a project name that does not start with a digit"
        )
    if not _PACKAGE.match(package):
        raise InvalidAnswerError(
            f"package name {package!r} must be lower-case letters, digits and underscores"
        )
    if keyword.iskeyword(package):
        raise InvalidAnswerError(f"package name {package!r} is a Python keyword; pick another")
    if package in STDLIB_MODULES:
        raise InvalidAnswerError(
            f"package name {package!r} would shadow the standard-library module; pick another"
        )


def normalize_distribution(name: str) -> str:
    """A distribution name as PEP 503 compares it: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_not_dependency(slug: str, dependencies: Collection[str]) -> None:
    """Refuse a slug that names one of the generated project's own dependencies.

    The slug is the project's distribution name; a project called ``mlflow`` that depends on
    ``mlflow`` depends on itself, and ``uv lock`` cannot resolve it.

    Args:
        slug: The project slug.
        dependencies: The project's dependencies, PEP 503-normalized.
    """
    if (name := normalize_distribution(slug)) in dependencies:
        raise InvalidAnswerError(
            f"project name {slug!r} is also the name of one of the project's dependencies "
            f"({name}): the project would depend on itself; pick another, e.g. '{slug}-model'"
        )
