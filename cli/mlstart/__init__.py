"""mlstart: start, run and decommission reproducible machine-learning projects.

The command line is a thin layer over functions that can be called from Python:

    >>> from mlstart import new_project  # doctest: +SKIP
    >>> new_project("Credit Risk", defaults=True)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.5.0"

__all__ = ["__version__", "new_project"]

if TYPE_CHECKING:
    from mlstart.core.new import new_project


def __getattr__(name: str) -> Any:
    # Keep `import mlstart` (and so `mlstart --help`) free of copier imports.
    if name == "new_project":
        from mlstart.core.new import new_project

        return new_project
    raise AttributeError(f"module 'mlstart' has no attribute {name!r}")
