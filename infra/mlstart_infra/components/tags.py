"""The tags every resource carries: who owns it, what it is for, and when it must go."""

from __future__ import annotations

from collections.abc import Mapping

from .catalog import REQUIRED_TAG_KEYS

__all__ = ["REQUIRED_TAG_KEYS", "standard_tags"]


def standard_tags(
    *,
    project: str,
    owner: str,
    environment: str,
    decommission_by: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the standard tag set, with ``extra`` tags added (the standard keys win).

    Args:
        project: The project's slug.
        owner: A person or team, usually an email address.
        environment: The stack, e.g. ``dev`` or ``prod``.
        decommission_by: The ISO date (YYYY-MM-DD) by which the resources are removed.
        extra: More tags, e.g. a cost centre.

    Raises:
        ValueError: If a standard tag is empty.
    """
    tags = {
        "project": project,
        "owner": owner,
        "environment": environment,
        "decommission-by": decommission_by,
    }
    empty = [key for key, value in tags.items() if not str(value).strip()]
    if empty:
        raise ValueError(f"tags must not be empty: {', '.join(empty)}")
    return {**dict(extra or {}), **tags}
