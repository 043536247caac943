"""``forecast predict`` and ``forecast evaluate``: the commands that use a trained bundle.

New data is read as the bundle's training data was; reading options given on the command line
replace those for this file (``loadoptions.given_over``). ``predict`` of a plain file loads neither
pandas nor TensorFlow (``pipeline.quickpredict``): nothing heavy is imported here.
"""

# No `from __future__ import annotations`: Typer reads these signatures at every start, and
# annotations evaluated once, here, save it evaluating them as strings (~10 ms of --help).

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from forecast_cli.cli.options import (
    OUTPUT_PANEL,
    READING_OVER_BUNDLE,
    DataArg,
    Given,
    ModelDir,
    PlotOpt,
    PrecisionOpt,
    Quiet,
    ScorePrecisionOpt,
    check_plot,
    draw_plot,
    joined,
    json_flag,
    shared,
    with_default,
)
from forecast_cli.cli.options_partitions import PredictCluster, PredictWorkers
from forecast_cli.errors import ConfigError
from forecast_cli.settings import Engine, OutputFormat, reading_given


def check_binary_stdout() -> None:
    """ConfigError (exit 2) when standard output is a terminal: Parquet is binary, and bytes
    a terminal would garble (or act on) are not a forecast anyone can read there."""
    if sys.stdout.isatty():
        raise ConfigError("`--format parquet` writes binary Parquet to standard output, which "
                          "is a terminal here. Pipe it into a program (`| duckdb`, `> f.parquet`)"
                          " or name a file: `-o next.parquet`.")


@shared(READING_OVER_BUNDLE, "reading")
def predict(
    data: DataArg,
    model_dir: ModelDir,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help=with_default(
            "Write here (atomically), in the format of the extension: .csv, .json or "
            ".parquet; - is standard output.", "standard output"),
        metavar="PATH",
        rich_help_panel=OUTPUT_PANEL, show_default=False)] = None,
    as_json: Annotated[bool, json_flag("Write JSON instead of CSV (same as --format json).")]
        = False,
    fmt: Annotated[OutputFormat | None, typer.Option(
        "--format", help=with_default("What to write to standard output; parquet only into "
                                      "a pipe or file, never a terminal.",
                                      "csv, or what the --out extension says"),
        rich_help_panel=OUTPUT_PANEL, show_default=False)] = None,
    precision: PrecisionOpt = None,
    series: Annotated[list[str] | None, typer.Option(help=with_default(
                                               "Only these series (comma-separated or "
                                               "repeated), for a model trained with "
                                               "--id-col.", "all"),
                                               metavar="IDS", show_default=False)] = None,
    plot: PlotOpt = None,
    engine: Annotated[Engine, typer.Option(help="Inference engine: onnx (ONNX Runtime on the "
                      "bundle's export, no TensorFlow: fast start), keras, or auto (onnx when "
                      "the bundle has the export).")] = "auto",
    cluster: PredictCluster = None,
    workers: PredictWorkers = None,
    quiet: Quiet = False,
    *,
    reading: Given,
) -> None:
    """Forecast the next horizon after the last row of DATA with a trained bundle.

    A partitioned model (train --partitions) forecasts each series with its partition's
    bundle, on a Dask cluster with --cluster/--workers, into one output; --format parquet with
    an -o DIR that has no extension writes a Parquet dataset directory (docs/scaling.md).

    With intervals in the bundle, columns TARGET_lower_LEVEL and TARGET_upper_LEVEL follow.
    Timestamps are in the data's zone with their offset (--tz), Z for UTC, naive for naive data.
    DATA is read as the training data was; the reading options given here replace those.

    Example: forecast predict -m runs/co2/model sample_data/co2_monthly.csv -o next.csv
    """
    from forecast_cli.cli import render
    from forecast_cli.io import atomic
    from forecast_cli.io.forecast_output import STDOUT, output_format
    from forecast_cli.pipeline.quickpredict import predict_output

    if out is not None and str(out) == STDOUT:
        out = None
    from forecast_cli.pipeline.partition_index import is_partitioned

    chosen = tuple(x.strip() for x in joined(series).split(",") if x.strip()) if series else None
    if is_partitioned(model_dir):
        from forecast_cli.cli.render_partitions import predict_partitioned

        dataset = out is not None and fmt == "parquet" and out.suffix == ""
        if out is not None and not dataset:
            atomic.check_output(out, (data,))
        chosen_format = "parquet" if dataset else output_format(out, "json" if as_json else fmt)
        if out is None and chosen_format == "parquet":
            check_binary_stdout()
        if plot is not None:
            raise ConfigError("`--plot` draws one bundle's forecast; a partitioned model has "
                              "one per partition.")
        predict_partitioned(model_dir, data, out, chosen_format, cluster, workers,
                            reading=reading_given(reading), series=chosen,
                            precision=precision, engine=engine, quiet=quiet)
        return
    from forecast_cli.cli.options_partitions import target

    target(cluster, workers, partitioned=False)  # --cluster for a plain model: refused
    # before any work: a regular file that is not the data itself (73), then the formats (2)
    if out is not None:
        atomic.check_output(out, (data,))
    chosen_format = output_format(out, "json" if as_json else fmt)
    if out is None and chosen_format == "parquet":
        check_binary_stdout()
    check_plot(plot, data)
    result = predict_output(model_dir, data, chosen, engine=engine, fmt=chosen_format,
                            keep=plot is not None, reading=reading_given(reading),
                            precision=precision)
    for warning in result.warnings:
        render.message(f"Warning: {warning}", quiet)
    draw_plot(plot, "plot_forecast", result.forecast, data, quiet=quiet)
    if out is None and result.binary is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(result.binary)
        return
    if out is None:
        sys.stdout.write(result.text)
        return
    atomic.write_bytes(out, result.content)
    render.message(f"Forecast of {result.summary} written to {out}",
                   quiet)


@shared(READING_OVER_BUNDLE, "reading")
def evaluate(
    data: DataArg,
    model_dir: ModelDir,
    as_json: Annotated[bool, json_flag("Print the report as JSON.")] = False,
    precision: ScorePrecisionOpt = None,
    quiet: Quiet = False,
    *,
    reading: Given,
) -> None:
    """Score a bundle on the windows of DATA whose targets it has not seen (after training).

    DATA is read as the training data was; the reading options given here replace those.

    Example: forecast evaluate -m runs/co2/model new_data.csv
    """
    from forecast_cli.cli import render
    from forecast_cli.pipeline.partition_info import refuse
    from forecast_cli.pipeline.publish import json_safe
    from forecast_cli.pipeline.scoring import score_bundle

    refuse(model_dir, "evaluate")
    result = score_bundle(model_dir, data, reading_given(reading))
    if as_json:  # the result asked for: --quiet silences only the tables and messages
        typer.echo(json.dumps(json_safe(result.to_json(precision)), indent=2))
        return
    if quiet:
        return
    if result.short:
        render.message(f"{len(result.short)} series have a short history: scored on padded "
                       "windows (short_history in --json).", quiet)
    render.stdout().print(render.scores_table(
        f"{model_dir} on {len(result.origins)} unseen windows of {data}",
        result.evaluation.scores))
    if result.interval_scores:
        render.stdout().print(render.coverage_table(result.interval_scores, None))
