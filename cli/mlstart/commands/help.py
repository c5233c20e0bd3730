"""How arguments read in ``--help``: ``NAME``, as in every man page.

typer 0.29 writes a required argument as ``{NAME}`` in the usage line and adds its Python
type (``NAME <str>``) in the argument list, which reads like a template that was never
filled in. Commands made with :class:`PlainArgumentsCommand` show ``NAME`` (``[PATH]`` when
optional) and no type.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand


class PlainArgument(TyperArgument):
    """A typer argument shown as ``NAME`` / ``[NAME]``, without its Python type."""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        """The argument's name, in brackets when it may be left out."""
        name = self.display_name_raw.upper()
        return [name if self.required else f"[{name}]"]

    def display_type_rich(self, ctx: Any) -> str | None:
        """No type after the name in the argument list."""
        return None

    @property
    def display_name_raw(self) -> str:
        """The metavar, else the parameter's name, upper-case."""
        return (self.metavar or self.name or "").upper()


class PlainArgumentsCommand(TyperCommand):
    """A typer command whose arguments are :class:`PlainArgument` in its help."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters, its arguments shown plainly."""
        params: list[Any] = super().get_params(ctx)
        for param in params:
            if type(param) is TyperArgument:
                param.__class__ = PlainArgument
        return params
