"""Property tests: every project name is valid for its type, and unique names stay apart."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import given, settings
from hypothesis import strategies as st
from mlstart_infra.components import naming

#: Slugs mlstart accepts: ^[a-z0-9]+(-[a-z0-9]+)*$, any length up to 200.
SLUGS = st.from_regex(r"[a-z0-9]{1,40}(-[a-z0-9]{1,40}){0,6}", fullmatch=True).map(
    lambda s: s[:200].rstrip("-")
)
#: Pulumi stack names.
STACKS = st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True)
SUFFIXES = st.from_regex(r"[a-z0-9]{6}", fullmatch=True)
#: Names that must differ between stacks and projects (scope global or region).
UNIQUE = [
    f for f, t in naming.PROJECT_NAME_TYPES.items() if naming.RULES[t].scope in ("global", "region")
]
FAST = settings(max_examples=200, deadline=None)


@FAST
@given(project=SLUGS, stack=STACKS, suffix=SUFFIXES)
def test_every_project_name_is_valid(project: str, stack: str, suffix: str) -> None:
    names = naming.project_names(project, stack, suffix)
    for field, value in asdict(names).items():
        assert naming.name_problem(naming.PROJECT_NAME_TYPES[field], value) is None, (field, value)
    for field in UNIQUE:
        assert getattr(names, field).endswith(suffix), field
    # Compute names are unique across the region's computes, clusters and instances alike.
    assert names.compute_instance.lower() != names.cluster.lower()


@FAST
@given(project=SLUGS, stack=STACKS, other=STACKS)
def test_two_stacks_get_different_unique_names(project: str, stack: str, other: str) -> None:
    if stack == other:
        return
    one = naming.project_names(project, stack, naming.name_suffix(project, stack))
    two = naming.project_names(project, other, naming.name_suffix(project, other))
    for field in [*UNIQUE, "resource_group"]:
        assert getattr(one, field) != getattr(two, field), field


@FAST
@given(
    prefix=st.text("abcdefghij-", min_size=60, max_size=150),
    ends=st.tuples(SLUGS, SLUGS),
    stack=STACKS,
)
def test_projects_sharing_a_long_prefix_stay_apart(
    prefix: str, ends: tuple[str, str], stack: str
) -> None:
    base = "-".join(part for part in prefix.split("-") if part) or "p"
    first, second = (f"{base}-{end}"[:200].rstrip("-") for end in ends)
    if first == second:
        return
    one = naming.project_names(first, stack, naming.name_suffix(first, stack))
    two = naming.project_names(second, stack, naming.name_suffix(second, stack))
    for field in [*UNIQUE, "resource_group"]:
        assert getattr(one, field) != getattr(two, field), field


def test_long_slug_is_covered() -> None:
    """The slug strategy reaches the lengths where names must be shortened."""
    long_slug = "-".join(["a" * 40] * 5)[:200]
    assert len(long_slug) == 200
    names = naming.project_names(long_slug, "dev", "abc123")
    assert len(names.storage_account) == 24
