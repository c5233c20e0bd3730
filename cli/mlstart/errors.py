"""The errors mlstart raises: one root, a subclass per kind of failure.

The command line catches :class:`MlstartError` in one place, prints its message
as a single line and exits non-zero; callers from Python catch the same classes.
"""

from __future__ import annotations


class MlstartError(Exception):
    """Root of every error mlstart raises on purpose."""

    exit_code = 1


class InvalidAnswerError(MlstartError):
    """An answer to a template question is not acceptable."""

    exit_code = 2


class UsageError(MlstartError):
    """A command-line option or argument cannot be used as given."""

    exit_code = 2


class DestinationError(MlstartError):
    """The destination directory cannot be written (exists, not empty, not writable).

    A bad ``--output-dir`` or project name, so a usage error: exit status 2.
    """

    exit_code = 2


class TemplateError(MlstartError):
    """The template cannot be found or rendered."""


class ToolMissingError(MlstartError):
    """An external program that a step needs is not installed."""


class PlanError(MlstartError):
    """The infrastructure program cannot be planned (bad project, config or program)."""


class PolicyFailureError(MlstartError):
    """The planned infrastructure breaks at least one mandatory policy."""

    exit_code = 3


class PricesError(MlstartError):
    """The Azure Retail Prices API cannot be asked, its answer used, or the cache written."""
