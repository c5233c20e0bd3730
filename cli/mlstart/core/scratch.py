"""Scratch folders that are removed whatever happens, Ctrl-C and SIGTERM included."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """Create ``parent/<prefix><random>`` and remove it (if still there) on the way out.

    The folder's name is chosen before it is created and the creation happens inside the
    ``try``: an interrupt that lands right after the ``mkdir`` (where :func:`tempfile.mkdtemp`
    has not yet returned the name) still finds the folder to remove. A block that moves the
    folder elsewhere (``os.replace``) keeps it.

    Args:
        parent: Where to create the folder.
        prefix: The start of its name; 12 random hex digits follow.
    """
    folder = parent / f"{prefix}{secrets.token_hex(6)}"
    try:
        folder.mkdir(mode=0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
