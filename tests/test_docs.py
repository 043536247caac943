"""Every command has help, and README.md mentions every command and every option (after
sqlite-utils' tests/test_docs.py). An option counts as mentioned by its flag (``--fill``) or,
for a setting, by its name in backticks (``lookback``: the README's settings table), since a
flag and a ``--config`` key are the same name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from forecast_cli.cli.app import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]


def _options(command: str) -> list[tuple[str, str, str | None]]:
    """(parameter name, long flag, help) of each option of ``command``, --help aside."""
    cmd = GROUP.commands[command]  # type: ignore[attr-defined]
    return [(p.name, next(o for o in p.opts if o.startswith("--")), p.help)
            for p in cmd.params if p.opts[0].startswith("-") and p.name != "help"]


def test_the_commands_are_the_documented_ten() -> None:
    assert COMMANDS == ["backtest", "batch", "compare", "evaluate", "history", "inspect",
                        "predict", "report", "train", "validate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    cmd = GROUP.commands[command]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"`forecast {command}` has no help"
    assert [name for name, _, text in _options(command) if not (text or "").strip()] == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_and_option_is_in_the_readme(command: str) -> None:
    assert f"forecast {command}" in README
    missing = [flag for name, flag, _ in _options(command)
               if not re.search(re.escape(flag) + r"(?![\w-])", README)
               and f"`{name}`" not in README]
    assert missing == [], f"README.md does not mention {', '.join(missing)} of {command}"
