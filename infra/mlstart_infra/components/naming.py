"""Azure resource names: explicit, deterministic, and within each service's rules.

Pulumi's auto-naming adds random suffixes; these components set every Azure name
explicitly so that a plan shows the real names and a re-created stack gets the same ones.
Globally unique names (storage, key vault, registry) carry a short suffix derived from
the project and stack, which ``nameSuffix`` in the stack config can override.
"""

from __future__ import annotations

import hashlib
import re


def name_suffix(project: str, stack: str) -> str:
    """Return a 6-character suffix that is stable for one project and stack."""
    return hashlib.sha256(f"{project}/{stack}".encode()).hexdigest()[:6]


def alphanumeric(text: str) -> str:
    """Lower-case ``text`` and keep only ASCII letters and digits."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def hyphenated(text: str) -> str:
    """Lower-case ``text``, turning runs of other characters into single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def storage_account_name(base: str, suffix: str) -> str:
    """A storage account name: 3-24 lower-case letters and digits, globally unique."""
    return f"st{alphanumeric(base)[: 22 - len(suffix)]}{suffix}"


def key_vault_name(base: str, suffix: str) -> str:
    """A key vault name: 3-24 letters, digits and hyphens, starting with a letter."""
    stem = hyphenated(base)[: 24 - len("kv--") - len(suffix)].strip("-")
    return f"kv-{stem}-{suffix}"


def registry_name(base: str, suffix: str) -> str:
    """A container registry name: 5-50 letters and digits, globally unique."""
    return f"cr{alphanumeric(base)[: 48 - len(suffix)]}{suffix}"


def short_name(base: str, limit: int) -> str:
    """A hyphenated name cut to ``limit`` characters (e.g. 16 for an AML compute)."""
    return hyphenated(base)[:limit].strip("-")
