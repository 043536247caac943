"""The options several commands share, each declared once, and how a command takes a group of them.

Each alias carries its help text once; the parameter names are the ``settings.Settings`` names,
and the choices are the library's ``Literal`` types, so a flag, a ``--config`` key and what the
library accepts cannot drift apart. Two groups are added to a command whole by ``@shared``:
``READING`` (every field of ``loadoptions.LoadOptions``: validate, train, backtest, predict,
evaluate) and ``MODEL`` (the windows, network and fit: train, backtest).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from forecast_cli.loadoptions import Dedupe, DstGap, Fill, TimeUnit
from forecast_cli.settings import OptimizerKind, ScalerKind, WindowNorm

Command = Callable[..., None]
Given = dict[str, Any]  # setting name → value from the command line; None: not given

DataArg = Annotated[Path, typer.Argument(help="CSV file: a time column and numeric columns.",
                                         show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option(help="TOML file of settings (same names, "
                                                "snake_case); the command line wins.")]
ModelDir = Annotated[Path, typer.Option("--model", "-m", help="Model bundle directory "
                                        "(written by `forecast train`).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Also draw a PNG figure here.",
                                              show_default=False)]
FEATURES_HELP = "Extra numeric input columns (past covariates), comma-separated."
Features = Annotated[str | None, typer.Option(help=FEATURES_HELP)]


def draw_plot(path: Path | None, kind: str, *args: Any, quiet: bool) -> None:
    """Draw figure ``kind`` (a function of forecast_cli.cli.plots) when --plot was given."""
    if path is None:
        return
    from forecast_cli.cli import plots, render

    getattr(plots, kind)(*args, path)
    render.message(f"Plot written to {path}", quiet)


def _reading(*decls: str, **kw: Any) -> Any:
    return typer.Option(*decls, rich_help_panel="Reading the data", **kw)


READING: Mapping[str, Any] = {
    "time_col": Annotated[str | None, _reading(help="Timestamp column. [default: the one column "
                                               "that parses as ISO-8601]")],
    "id_col": Annotated[str | None, _reading(help="Series id column of a long-format file of "
                                             "many series.")],
    "sep": Annotated[str | None, _reading(help="Field delimiter. [default: sniffed from the "
                                          "header]")],
    "decimal": Annotated[str | None, _reading(help="Decimal mark, e.g. ','. [default: .]")],
    "thousands": Annotated[str | None, _reading(help="Thousands separator to remove, e.g. ','. "
                                                "[default: none; such cells are refused]")],
    "encoding": Annotated[str | None, _reading(help="Text encoding. [default: utf-8]")],
    "time_format": Annotated[str | None, _reading(help="strftime format of the timestamps, e.g. "
                                                  "'%d.%m.%Y %H:%M'. [default: ISO-8601 only]")],
    "dayfirst": Annotated[bool | None, _reading("--dayfirst", help="Read DD/MM/YYYY dates.",
                                                show_default=False)],
    "time_unit": Annotated[TimeUnit | None, _reading(help="The time column holds epoch numbers "
                                                     "in this unit.")],
    "tz": Annotated[str | None, _reading(help="IANA zone of naive local timestamps, e.g. "
                                         "Europe/Berlin (kept as UTC internally).")],
    "dst_gap": Annotated[DstGap | None, _reading(help="Nonexistent local times at a DST change. "
                                                 "[default: raise]")],
    "freq": Annotated[str | None, _reading(help="Pandas frequency alias (h, D, MS …). "
                                           "[default: inferred]")],
    "fill": Annotated[Fill | None, _reading(
        help="Gaps and missing values: interpolate or ffill fill runs of up to --fill-limit "
        "steps; drop keeps the rows on the time grid but out of every window (any run length). "
        "All refuse a series more than 20% missing. [default: none, i.e. refuse them]")],
    "fill_limit": Annotated[int | None, _reading(
        min=1, help="Longest run of missing steps --fill interpolate/ffill may fill (drop "
        "invents nothing and ignores it). [default: 3]")],
    "dedupe": Annotated[Dedupe | None, _reading(help="Merge duplicate timestamps with different "
                                                "values. [default: none, i.e. refuse them]")],
    "allow_missing": Annotated[bool | None, _reading(
        "--allow-missing", show_default=False, help="Count absent trailing fields as missing "
        "values instead of refusing.")],
    "strict": Annotated[bool | None, _reading("--strict", show_default=False,
                                              help="Treat warnings as errors.")],
    "max_rows": Annotated[int | None, _reading(min=1, help="Refuse files with more data rows. "
                                               "[default: 20000000]")],
}


def _model(*decls: str, **kw: Any) -> Any:
    return typer.Option(*decls, rich_help_panel="Model and training", **kw)


MODEL: Mapping[str, Any] = {
    "target": Annotated[str | None, _model(help="Column(s) to forecast, comma-separated. "
                                           "[default: the only value column]")],
    "features": Annotated[str | None, _model(help=FEATURES_HELP)],
    "calendar": Annotated[bool | None, _model(
        "--calendar", show_default=False, help="Add sin/cos time-of-day/week/year inputs, known "
        "for the future.")],
    "season": Annotated[int | None, _model(min=1, help="Seasonal period in steps for seasonal "
                                           "naive and MASE. [default: from the frequency]")],
    "lookback": Annotated[int | None, _model(min=1, help="Input steps per window. "
                                             "[default: max(2·horizon, min(2·season, 336), 8)]")],
    "horizon": Annotated[int | None, _model(min=1, help="Steps forecast. [default: one season, "
                                            "at most 96]")],
    "train_frac": Annotated[float | None, _model(help="[default: 0.7]")],
    "val_frac": Annotated[float | None, _model(help="[default: 0.15]")],
    "test_frac": Annotated[float | None, _model(help="[default: 0.15]")],
    "scaler": Annotated[ScalerKind | None, _model(help="[default: standard]")],
    "lstm_units": Annotated[int | None, _model(min=1, help="[default: 64]")],
    "lstm_layers": Annotated[int | None, _model(min=1, help="[default: 1]")],
    "dense_units": Annotated[str | None, _model(help="Hidden Dense layer sizes, comma-separated. "
                                                "[default: none]")],
    "dropout": Annotated[float | None, _model(min=0, max=0.95, help="[default: 0.1]")],
    "window_norm": Annotated[WindowNorm | None, _model(
        help="Per-window instance normalisation: subtract the window's last value or mean, add "
        "it back to the forecast. [default: last]")],
    "channel_independence": Annotated[bool | None, _model(
        "--channel-independence/--no-channel-independence", show_default=False,
        help="One shared network over each column as its own univariate series (for many "
        "targets). [default: off]")],
    "patch_len": Annotated[int | None, _model(
        min=1, help="Input rows per LSTM step: the lookback is cut into segments of this length, "
        "which makes long lookbacks affordable. [default: 1]")],
    "levels": Annotated[list[str] | None, _model(
        "--level", show_default=False, help="Prediction interval level in %, repeatable or "
        "comma-separated. [default: 80,95]")],
    "optimizer": Annotated[OptimizerKind | None, _model(help="[default: adam]")],
    "epochs": Annotated[int | None, _model(min=1, help="Maximum epochs (early stopping usually "
                                           "ends sooner). [default: 200]")],
    "batch_size": Annotated[int | None, _model(min=1, help="[default: 32]")],
    "learning_rate": Annotated[float | None, _model(help="[default: 0.001]")],
    "patience": Annotated[int | None, _model(min=0, help="Epochs without validation improvement "
                                             "before stopping. [default: 20]")],
    "clipnorm": Annotated[float | None, _model(help="Gradient clipping norm. [default: 1.0]")],
    "seed": Annotated[int | None, _model(min=0, help="[default: 42]")],
}


def shared(group: Mapping[str, Any], into: str) -> Callable[[Command], Command]:
    """Add every option of ``group`` to a command; it receives them as the dict ``into``.

    The command declares ``into`` as a keyword-only ``Given`` parameter; Typer sees the
    group's options in its place (keyword-only, default None = not given), so ``--help``, the
    parsing and the choices are Typer's own. Decorators stack (one per group).
    """
    def add(command: Command) -> Command:
        own = inspect.signature(command, eval_str=True)
        if into not in own.parameters:
            raise TypeError(f"{command.__name__} takes no `{into}` for its shared options")
        params = [p for name, p in own.parameters.items() if name != into]
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=kind) for name, kind in group.items()]

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> None:
            values = {name: kwargs.pop(name) for name in group}
            command(*args, **kwargs, **{into: values})

        with_group.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        return with_group

    return add
