"""The ``forecast`` command: the Typer app, its version flag, and the commands it offers.

Each command lives in the module of its concern (``cmd_train``: train, backtest; ``cmd_predict``:
predict, evaluate; ``cmd_data``: validate; ``cmd_ops``: batch, history; ``cmd_report``: inspect,
compare, report) and is thin: parse, build settings, call one library function, render. Every
command passes through
``exits.gated``, the one place library errors become exit codes. Heavy modules (TensorFlow,
pandas) are imported inside the commands that need them, so ``forecast --help`` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from forecast_cli import __version__
from forecast_cli.cli import cmd_data, cmd_ops, cmd_predict, cmd_report, cmd_train
from forecast_cli.cli.exits import gated, leave
from forecast_cli.cli.helpformat import Command, Group

app = typer.Typer(
    name="forecast", cls=Group, no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Trustworthy LSTM time-series forecasts from a CSV. Exit codes: 0 ok, 1 unexpected, "
         "2 usage, 65 bad data or bundle, 66 missing input, 73 cannot create output, "
         "74 write failed, 75 locked by another run (retry later).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecast {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Train LSTM forecasters on CSV files and forecast with them."""


for command in (cmd_train.train, cmd_predict.predict, cmd_data.validate, cmd_train.backtest,
                cmd_predict.evaluate, cmd_ops.batch, cmd_ops.history, cmd_report.inspect,
                cmd_report.compare, cmd_report.report):
    app.command(cls=Command)(gated(command))


def main() -> None:
    """Console-script entry point; a failed run ends at once (``exits.leave``)."""
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code:
            leave(code)
        raise
