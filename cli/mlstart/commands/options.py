"""Options several commands share, written once so their flags and help stay the same."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def stack_option(what: str = "Pulumi stack") -> Any:
    """The ``--stack``/``-s`` option; it defaults to the project's first environment.

    Args:
        what: How the command uses the stack, the start of the help text.
    """
    return typer.Option("--stack", "-s", help=f"{what}; default: the first environment.")


#: ``--stack`` for commands that act on the stack as it is.
StackOption = Annotated[str | None, stack_option()]
