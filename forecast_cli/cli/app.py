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
from forecast_cli.cli.options import (
    AllowMissing,
    ConfigOpt,
    DayFirst,
    Decimal,
    DedupeOpt,
    DstGapOpt,
    Encoding,
    Features,
    FillLimit,
    FillOpt,
    Freq,
    IdCol,
    MaxRows,
    Sep,
    Strict,
    Target,
    Thousands,
    TimeCol,
    TimeFormat,
    TimeUnitOpt,
    Tz,
)
from forecast_cli.errors import EXIT_UNEXPECTED, ForecastError

app = typer.Typer(
    name="forecast", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Trustworthy LSTM time-series forecasts from a CSV. Exit codes: 0 ok, 1 unexpected, "
         "2 usage, 65 bad data or bundle, 66 missing input, 73 cannot create output, "
         "74 write failed, 75 locked by another run (retry later).")

T = TypeVar("T")


def _run(fn: Callable[[], T]) -> T:
    """The one place where library errors become messages and exit codes."""
    from forecast_cli.cli import render

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
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Also draw a PNG figure here.",
                                              show_default=False)]


def _plot(path: Path | None, kind: str, *args: Any, quiet: bool) -> None:
    """Draw figure ``kind`` (a function of forecast_cli.cli.plots) when --plot was given."""
    if path is None:
        return
    from forecast_cli.cli import plots, render

    _run(lambda: getattr(plots, kind)(*args, path))
    render.message(f"Plot written to {path}", quiet)


@app.command()
def train(
    data: DataArg,
    config: Annotated[Path | None, typer.Option(help="TOML file of settings (same names, "
                                                "snake_case); the command line wins.")] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o", help="Where the "
                          "bundle, metrics and forecasts go. [default: forecast-output]")] = None,
    time_col: TimeCol = None,
    target: Target = None,
    features: Features = None,
    calendar: Annotated[bool | None, typer.Option("--calendar", show_default=False,
                        help="Add sin/cos time-of-day/week/year inputs, known for the future."
                        )] = None,
    id_col: IdCol = None,
    sep: Sep = None,
    decimal: Decimal = None,
    thousands: Thousands = None,
    encoding: Encoding = None,
    time_format: TimeFormat = None,
    dayfirst: DayFirst = None,
    time_unit: TimeUnitOpt = None,
    tz: Tz = None,
    dst_gap: DstGapOpt = None,
    freq: Freq = None,
    fill: FillOpt = None,
    fill_limit: FillLimit = None,
    dedupe: DedupeOpt = None,
    allow_missing: AllowMissing = None,
    strict: Strict = None,
    max_rows: MaxRows = None,
    season: Annotated[int | None, typer.Option(min=1, help="Seasonal period in steps for "
                      "seasonal naive and MASE. [default: from the frequency]")] = None,
    lookback: Annotated[int | None, typer.Option(min=1, help="Input steps per window. "
                        "[default: max(2·horizon, min(2·season, 336), 8)]")] = None,
    horizon: Annotated[int | None, typer.Option(min=1, help="Steps forecast. [default: one "
                                                "season, at most 96]")] = None,
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
    channel_independence: Annotated[bool | None, typer.Option(
        "--channel-independence/--no-channel-independence", help="One shared network over "
        "each column as its own univariate series (for many targets). [default: off]",
        show_default=False)] = None,
    patch_len: Annotated[int | None, typer.Option(min=1, help="Input rows per LSTM step: "
                         "the lookback is cut into segments of this length, which makes long "
                         "lookbacks affordable. [default: 1]")] = None,
    levels: Annotated[list[str] | None, typer.Option("--level", help="Prediction interval "
                      "level in %, repeatable or comma-separated. [default: 80,95]",
                      show_default=False)] = None,
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
    plot: PlotOpt = None,
    quiet: Quiet = False,
) -> None:
    """Train an LSTM on DATA, score it against naive baselines, and save a model bundle."""
    # Every parameter except these five is a setting of the same name (config.Settings).
    cli: dict[str, Any] = {k: v for k, v in locals().items()
                           if k not in ("data", "config", "as_json", "quiet", "plot")}
    from forecast_cli.cli import render
    from forecast_cli.pipeline.publish import json_safe, metrics_report
    from forecast_cli.pipeline.training import train as run_training
    from forecast_cli.settings import build_settings

    settings = _run(lambda: build_settings(cli, config))
    with render.epoch_progress(settings.epochs, enabled=not quiet) as on_epoch:
        result = _run(lambda: run_training(data, settings, on_epoch=on_epoch))
    for fix in result.frame.fixes:
        render.message(f"Warning: applied fix: {fix}", quiet)
    for warning in (*result.frame.warnings, *result.warnings):
        render.message(f"Warning: {warning}", quiet)
    _plot(plot, "plot_train", result, quiet=quiet)
    if quiet:
        return
    if as_json:
        typer.echo(json.dumps(json_safe(metrics_report(result)), indent=2))
        return
    render.stdout().print(render.metrics_table(result))
    if result.series_scores is not None:
        from forecast_cli.cli.render_panel import worst_series_table

        render.stdout().print(worst_series_table(result))
    if result.interval_scores:
        render.stdout().print(render.coverage_table(
            result.interval_scores, result.intervals.n_calibration if result.intervals else None))
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
    series: Annotated[str | None, typer.Option(help="Only these series (comma-separated), for "
                                               "a model trained with --id-col.")] = None,
    plot: PlotOpt = None,
    engine: Annotated[Engine, typer.Option(help="Inference engine: onnx (ONNX Runtime on the "
                      "bundle's export, no TensorFlow: fast start), keras, or auto (onnx when "
                      "the bundle has the export).")] = Engine.auto,
    quiet: Quiet = False,
) -> None:
    """Forecast the next horizon after the last row of DATA with a trained bundle.

    With intervals in the bundle, columns TARGET_lower_LEVEL and TARGET_upper_LEVEL follow.
    """
    from forecast_cli.cli import render
    from forecast_cli.io import atomic
    from forecast_cli.pipeline.quickpredict import predict_output

    chosen = tuple(x.strip() for x in series.split(",") if x.strip()) if series else None
    result = _run(lambda: predict_output(model_dir, data, chosen, engine=engine.value,
                                         fmt=fmt.value, keep=plot is not None))
    for warning in result.warnings:
        render.message(f"Warning: {warning}", quiet)
    _plot(plot, "plot_forecast", result.forecast, data, quiet=quiet)
    if out is None:
        sys.stdout.write(result.text)
        return
    _run(lambda: atomic.write_text(out, result.text))
    render.message(f"Forecast of {result.rows} steps from {result.origin} written to {out}",
                   quiet)


@app.command()
def validate(
    data: DataArg,
    config: ConfigOpt = None,
    time_col: TimeCol = None,
    target: Annotated[str | None, typer.Option(help="Value column(s) to check, "
                                               "comma-separated. [default: all]")] = None,
    features: Features = None,
    id_col: IdCol = None,
    sep: Sep = None,
    decimal: Decimal = None,
    thousands: Thousands = None,
    encoding: Encoding = None,
    time_format: TimeFormat = None,
    dayfirst: DayFirst = None,
    time_unit: TimeUnitOpt = None,
    tz: Tz = None,
    dst_gap: DstGapOpt = None,
    freq: Freq = None,
    fill: FillOpt = None,
    fill_limit: FillLimit = None,
    dedupe: DedupeOpt = None,
    allow_missing: AllowMissing = None,
    strict: Strict = None,
    max_rows: MaxRows = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Check DATA as `train` and `predict` would, without training: exit 0 usable, 65 not."""
    cli: dict[str, Any] = {k: v for k, v in locals().items()
                           if k not in ("data", "config", "as_json", "quiet")}
    from forecast_cli.cli import render_validation
    from forecast_cli.data.frame import validate as run_validate
    from forecast_cli.errors import EXIT_DATA
    from forecast_cli.settings import build_settings

    settings = _run(lambda: build_settings(cli, config))
    report = _run(lambda: run_validate(data, settings))
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    elif not quiet:
        render_validation.print_report(report)
    render_validation.write_problems(report, quiet)
    if not report.usable:
        raise typer.Exit(EXIT_DATA)


class TrainWindow(StrEnum):
    expanding = "expanding"
    sliding = "sliding"


@app.command()
def backtest(
    data: DataArg,
    config: Annotated[Path | None, typer.Option(help="TOML file of settings (same names as "
                                                "`train`); the command line wins.")] = None,
    folds: Annotated[int | None, typer.Option(min=1, help="Number of forecast origins. "
                                              "[default: 5]")] = None,
    fold_step: Annotated[int | None, typer.Option(min=1, help="Rows between origins. "
                                                  "[default: the horizon]")] = None,
    train_window: Annotated[TrainWindow | None, typer.Option(help="expanding: train on all "
                            "rows before the origin; sliding: on a fixed-length window. "
                            "[default: expanding]")] = None,
    refit_every: Annotated[int | None, typer.Option(min=1, help="Fit a new network every k "
                           "folds; folds in between reuse it. [default: 1]")] = None,
    time_col: Annotated[str | None, typer.Option(help="Timestamp column.")] = None,
    target: Annotated[str | None, typer.Option(help="Column(s) to forecast.")] = None,
    season: Annotated[int | None, typer.Option(min=1, help="Seasonal period.")] = None,
    lookback: Annotated[int | None, typer.Option(min=1, help="Input steps per window.")] = None,
    horizon: Annotated[int | None, typer.Option(min=1, help="Steps forecast.")] = None,
    lstm_units: Annotated[int | None, typer.Option(min=1, help="[default: 64]")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="[default: 200]")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="[default: 32]")] = None,
    patience: Annotated[int | None, typer.Option(min=0, help="[default: 20]")] = None,
    window_norm: Annotated[WindowNorm | None, typer.Option(help="[default: last]")] = None,
    channel_independence: Annotated[bool | None, typer.Option(
        "--channel-independence/--no-channel-independence", show_default=False)] = None,
    patch_len: Annotated[int | None, typer.Option(min=1, help="[default: 1]")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="[default: 42]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")]
        = False,
    plot: PlotOpt = None,
    quiet: Quiet = False,
) -> None:
    """Rolling-origin backtest: LSTM vs naive and seasonal naive on identical windows."""
    cli: dict[str, Any] = {k: v for k, v in locals().items()
                           if k not in ("data", "config", "as_json", "quiet", "plot")}
    from forecast_cli.cli import render
    from forecast_cli.pipeline.backtest import backtest as run_backtest
    from forecast_cli.pipeline.publish import json_safe
    from forecast_cli.settings import build_settings

    settings = _run(lambda: build_settings(cli, config))
    result = _run(lambda: run_backtest(data, settings))
    _plot(plot, "plot_backtest", result, quiet=quiet)
    if quiet:
        return
    if as_json:
        typer.echo(json.dumps(json_safe(result.to_json()), indent=2))
        return
    render.stdout().print(render.backtest_table(result))
    if result.intervals:
        render.stdout().print(render.backtest_intervals_table(result))
    render.stdout().print(render.by_step_table(result.by_step))


@app.command("evaluate")
def evaluate_cmd(
    data: DataArg,
    model_dir: Annotated[Path, typer.Option("--model", "-m", help="Model bundle directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Score a bundle on the windows of DATA whose targets it has not seen (after training)."""
    from forecast_cli.cli import render
    from forecast_cli.pipeline.publish import json_safe
    from forecast_cli.pipeline.scoring import score_bundle

    result = _run(lambda: score_bundle(model_dir, data))
    if quiet:
        return
    if as_json:
        typer.echo(json.dumps(json_safe(result.to_json()), indent=2))
        return
    render.stdout().print(render.scores_table(
        f"{model_dir} on {len(result.origins)} unseen windows of {data}",
        result.evaluation.scores))
    if result.interval_scores:
        render.stdout().print(render.coverage_table(result.interval_scores, None))


def main() -> None:
    """Console-script entry point."""
    app()


StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Where the run history, "
                     "batch.log, locks and training backups live. [default: "
                     "$FORECAST_STATE_DIR, else the batch file's state_dir, else "
                     ".forecast-state beside it]")]


@app.command()
def batch(
    jobs_file: Annotated[Path, typer.Argument(help="TOML batch file: one table per job.",
                                              show_default=False)],
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for a lock held by "
                                        "another run before giving up (exit 75).")] = 0.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say what each job "
                                          "does on stderr.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary per job "
                                          "to stdout.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Run every job of JOBS_FILE unattended (cron): retrain per policy, forecast, score.

    Silent on success. Exit codes: 0 every job succeeded, 1 a job failed (one stderr line each), 75 another run holds the lock, 2/66 the batch file is invalid/missing. See docs/scheduling.md.
    """  # noqa: E501 (one line: the help keeps line breaks)
    from forecast_cli.cli import render
    from forecast_cli.cli.render_batch import failure_lines
    from forecast_cli.ops.batch import run_batch, summary_json

    result = _run(lambda: run_batch(jobs_file, wait, state_dir,
                                    log=render.message if verbose else None))
    for line in failure_lines(result):
        render.error(line)
    if as_json:
        sys.stdout.write(summary_json(result))
    raise typer.Exit(result.exit_code)


@app.command()
def history(
    jobs_file: Annotated[Path | None, typer.Argument(help="Batch file whose history to show.",
                                                     show_default=False)] = None,
    job: Annotated[str | None, typer.Option(help="Only this job.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Runs shown per job.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
        = False,
    state_dir: StateDir = None,
) -> None:
    """Show the last batch runs per job and the realised accuracy of earlier forecasts."""
    from forecast_cli.cli import render
    from forecast_cli.cli.render_batch import accuracy_table, runs_table
    from forecast_cli.ops.history import report
    from forecast_cli.ops.jobs import state_dir_for

    data = _run(lambda: report(state_dir_for(state_dir, jobs_file), job, limit))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    render.stdout().print(runs_table(data["runs"]))
    render.stdout().print(accuracy_table(data["accuracy"]))
