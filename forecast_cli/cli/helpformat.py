"""How ``--help`` reads: the command and group classes every ``forecast`` command is built with.

Typer 0.29 renders three things badly that no option declaration can change: a required
argument as ``{DATA}`` in the usage line (``TyperArgument._usage_display_name``), a flag without
an explicit metavar (``--help`` itself, ``--version``) with a ``<bool>`` type, and a docstring's
single line breaks after the first paragraph kept as hard breaks, so that rich's wrapping at 80
columns leaves a stub line wherever the source wrapped. Fixed here once, for every command and
flag, instead of per declaration.
"""

from __future__ import annotations

from typing import Any

import typer.core


def reflowed(text: str | None) -> str | None:
    """``text`` with each paragraph's single line breaks turned into spaces, so the terminal
    wraps it; a paragraph that starts with ``\\b`` (click's "keep as written") is left alone."""
    if not text:
        return text
    paragraphs = text.split("\n\n")
    return "\n\n".join(p if p.lstrip().startswith("\b")
                       else " ".join(line.strip() for line in p.splitlines())
                       for p in paragraphs)


def _no_bool_metavar(params: list[Any]) -> None:
    """Flags take no value: show none (Typer would print ``<bool>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Help:
    """What both classes share; mixed in before Typer's own class."""

    help: str | None
    params: list[Any]

    def _tidy(self) -> None:
        import inspect

        self.help = reflowed(inspect.cleandoc(self.help)) if self.help else self.help
        _no_bool_metavar(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            _no_bool_metavar([option])
        return option

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line as POSIX and click write it: ``DATA`` required, ``[NAME]`` optional."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if isinstance(param, typer.core.TyperArgument):
                name = param.display_name_raw
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    options_metavar: str | None


class Command(_Help, typer.core.TyperCommand):
    """A ``forecast`` command (``app.command(cls=Command)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tidy()


class Group(_Help, typer.core.TyperGroup):
    """The ``forecast`` group (``typer.Typer(cls=Group)``); its usage keeps ``COMMAND [ARGS]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tidy()

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return typer.core.TyperGroup.collect_usage_pieces(self, ctx)
