"""Command-line interface: parse, call one library function, render. Nothing else lives here.

Heavy modules (TensorFlow via ``training``/``forecasting``) are imported inside the commands
that need them, so ``forecast --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from forecast_cli import __version__
from forecast_cli.errors import EXIT_UNEXPECTED, ForecastError

app = typer.Typer(
    name="forecast", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Trustworthy LSTM time-series forecasts from a CSV. Exit codes: 0 ok, 1 unexpected, "
         "2 usage, 65 bad data or bundle, 66 missing input, 73 cannot create output, "
         "74 write failed.")

T = TypeVar("T")


def _run(fn: Callable[[], T]) -> T:
    """The one place where library errors become messages and exit codes."""
    from forecast_cli import render

    try:
        return fn()
    except ForecastError as exc:
        render.error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        render.error("interrupted; outputs that were already complete are kept.")
        raise typer.Exit(130) from None
    except Exception as exc:  # a bug of ours: say so, keep the traceback for FORECAST_DEBUG
        if os.environ.get("FORECAST_DEBUG"):
            traceback.print_exc()
        render.error(f"unexpected failure ({type(exc).__name__}: {exc}). "
                     "Set FORECAST_DEBUG=1 for the traceback.")
        raise typer.Exit(EXIT_UNEXPECTED) from None


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


class Scaler(StrEnum):
    standard = "standard"
    minmax = "minmax"


class Optimizer(StrEnum):
    adam = "adam"
    rmsprop = "rmsprop"


class WindowNorm(StrEnum):
    none = "none"
    last = "last"
    mean = "mean"


class Engine(StrEnum):
    auto = "auto"
    keras = "keras"
    onnx = "onnx"


class OutputFormat(StrEnum):
    csv = "csv"
    json = "json"


DataArg = Annotated[Path, typer.Argument(help="CSV file: a time column and numeric columns.",
                                         show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


@app.command()
def train(
    data: DataArg,
    config: Annotated[Path | None, typer.Option(help="TOML file of settings (same names, "
                                                "snake_case); the command line wins.")] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o", help="Where the "
                          "bundle, metrics and forecasts go. [default: forecast-output]")] = None,
    time_col: Annotated[str | None, typer.Option(help="Timestamp column. [default: the one "
                                                 "column that parses as ISO-8601]")] = None,
    target: Annotated[str | None, typer.Option(help="Column(s) to forecast, comma-separated. "
                                               "[default: the only value column]")] = None,
    sep: Annotated[str | None, typer.Option(help="Field delimiter. [default: sniffed]")] = None,
    freq: Annotated[str | None, typer.Option(help="Pandas frequency alias (h, D, MS …). "
                                             "[default: inferred]")] = None,
    season: Annotated[int | None, typer.Option(min=1, help="Seasonal period in steps for "
                      "seasonal naive and MASE. [default: from the frequency]")] = None,
    lookback: Annotated[int | None, typer.Option(min=1, help="Input steps per window. "
                        "[default: max(2·horizon, 2·season, 8)]")] = None,
    horizon: Annotated[int | None, typer.Option(min=1, help="Steps forecast. [default: one "
                                                "season]")] = None,
    train_frac: Annotated[float | None, typer.Option(help="[default: 0.7]")] = None,
    val_frac: Annotated[float | None, typer.Option(help="[default: 0.15]")] = None,
    test_frac: Annotated[float | None, typer.Option(help="[default: 0.15]")] = None,
    scaler: Annotated[Scaler | None, typer.Option(help="[default: standard]")] = None,
    lstm_units: Annotated[int | None, typer.Option(min=1, help="[default: 64]")] = None,
    lstm_layers: Annotated[int | None, typer.Option(min=1, help="[default: 1]")] = None,
    dense_units: Annotated[str | None, typer.Option(help="Hidden Dense layer sizes, "
                                                    "comma-separated. [default: none]")] = None,
    dropout: Annotated[float | None, typer.Option(min=0, max=0.95,
                                                  help="[default: 0.1]")] = None,
    window_norm: Annotated[WindowNorm | None, typer.Option(help="Per-window instance "
                           "normalisation: subtract the window's last value or mean, add it "
                           "back to the forecast. [default: last]")] = None,
    optimizer: Annotated[Optimizer | None, typer.Option(help="[default: adam]")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Maximum epochs (early stopping "
                                               "usually ends sooner). [default: 200]")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="[default: 32]")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="[default: 0.001]")] = None,
    patience: Annotated[int | None, typer.Option(min=0, help="Epochs without validation "
                                                 "improvement before stopping. "
                                                 "[default: 20]")] = None,
    clipnorm: Annotated[float | None, typer.Option(help="Gradient clipping norm. "
                                                   "[default: 1.0]")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="[default: 42]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout "
                                          "instead of the table.")] = False,
    quiet: Quiet = False,
) -> None:
    """Train an LSTM on DATA, score it against naive baselines, and save a model bundle."""
    from forecast_cli import render
    from forecast_cli.config import build_settings
    from forecast_cli.training import json_safe, metrics_report
    from forecast_cli.training import train as run_training

    cli: dict[str, Any] = {k: v for k, v in locals().items()
                           if k not in ("data", "config", "as_json", "quiet", "render",
                                        "build_settings", "run_training", "json_safe",
                                        "metrics_report")}
    settings = _run(lambda: build_settings(cli, config))
    with render.epoch_progress(settings.epochs, enabled=not quiet) as on_epoch:
        result = _run(lambda: run_training(data, settings, on_epoch=on_epoch))
    for fix in result.frame.fixes:
        render.message(f"Warning: applied fix: {fix}", quiet)
    if quiet:
        return
    if as_json:
        typer.echo(json.dumps(json_safe(metrics_report(result)), indent=2))
        return
    render.stdout().print(render.metrics_table(result))
    render.message(render.train_summary(result))


@app.command()
def predict(
    data: DataArg,
    model_dir: Annotated[Path, typer.Option("--model", "-m", help="Model bundle directory "
                                            "(written by `forecast train`).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here (atomically) instead "
                                             "of stdout.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="csv or json.")] =
        OutputFormat.csv,
    engine: Annotated[Engine, typer.Option(help="Inference engine: onnx (ONNX Runtime on the "
                      "bundle's export, no TensorFlow: fast start), keras, or auto (onnx when "
                      "the bundle has the export).")] = Engine.auto,
    quiet: Quiet = False,
) -> None:
    """Forecast the next horizon after the last row of DATA with a trained bundle."""
    from forecast_cli import atomic, render
    from forecast_cli.forecasting import predict as run_predict
    from forecast_cli.forecasting import render_forecast

    result = _run(lambda: run_predict(model_dir, data, engine=engine.value))
    for warning in result.warnings:
        render.message(f"Warning: {warning}", quiet)
    text = render_forecast(result, fmt.value)
    if out is None:
        sys.stdout.write(text)
        return
    _run(lambda: atomic.write_text(out, text))
    render.message(f"Forecast of {len(result.table)} steps from {result.origin} written to "
                   f"{out}", quiet)


def main() -> None:
    """Console-script entry point."""
    app()
