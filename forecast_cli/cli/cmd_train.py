"""``forecast train`` and ``forecast backtest``: the commands that fit networks on a CSV.

Both take the reading and the model options (``options.READING``, ``options_model.MODEL``) and build
one ``Settings`` from them, a ``--config`` file and the defaults. TensorFlow is imported by the
library functions they call, never at import time.
"""

# No `from __future__ import annotations`: Typer reads these signatures at every start, and
# annotations evaluated once, here, save it evaluating them as strings (~10 ms of --help).

import json
from pathlib import Path
from typing import Annotated

import typer

from forecast_cli.cli.options import (
    BACKTEST_PANEL,
    OUTPUT_PANEL,
    READING,
    ConfigOpt,
    DataArg,
    Given,
    PlotOpt,
    PrecisionOpt,
    Quiet,
    ScorePrecisionOpt,
    check_plot,
    draw_plot,
    json_flag,
    setting_option,
    shared,
)
from forecast_cli.cli.options_figures import PlotSeriesOpt, plot_series
from forecast_cli.cli.options_model import MODEL
from forecast_cli.cli.options_partitions import PartitionCol, Partitions, TrainCluster, TrainWorkers
from forecast_cli.settings import TrainWindow

OutputDir = Annotated[Path | None, setting_option(
    "output_dir", OUTPUT_PANEL, "Where the bundle, metrics and forecasts go (--out as on "
    "predict).", "--output-dir", "--out", "-o", metavar="DIR")]
KeepRuns = Annotated[int | None, setting_option(
    "keep_runs", OUTPUT_PANEL, "Runs kept in OUT/runs, the latest included; older ones are "
    "deleted once a new run is published.", min=1, metavar="N")]


@shared(MODEL, "model")
@shared(READING, "reading")
def train(
    data: DataArg,
    config: ConfigOpt = None,
    output_dir: OutputDir = None,
    keep_runs: KeepRuns = None,
    as_json: Annotated[bool, json_flag("Print metrics.json to stdout instead of the table.")]
        = False,
    plot: PlotOpt = None,
    plot_series_ids: PlotSeriesOpt = None,
    precision: PrecisionOpt = None,
    partitions: Partitions = None,
    partition_col: PartitionCol = None,
    cluster: TrainCluster = None,
    workers: TrainWorkers = None,
    quiet: Quiet = False,
    *,
    reading: Given,
    model: Given,
) -> None:
    """Train an LSTM on DATA, score it against naive baselines, and save a model bundle.

    Each run is kept in OUT/runs/NNNN; OUT/model, OUT/metrics.json, OUT/test_forecasts.csv and
    OUT/history.csv show the latest, all switched together when a run is complete. With
    --partitions K or --partition-col COL, one model per partition (OUT/model holds them all;
    docs/scaling.md), on a Dask cluster with --cluster/--workers.

    Example: forecast train sample_data/co2_monthly.csv -o runs/co2
    """
    from forecast_cli.cli import render
    from forecast_cli.pipeline.publish import json_safe, metrics_report
    from forecast_cli.pipeline.runs import train as run_training
    from forecast_cli.settings import build_settings

    check_plot(plot, data)
    settings = build_settings({**reading, **model, "output_dir": output_dir,
                               "precision": precision, "keep_runs": keep_runs,
                               "partitions": partitions, "partition_col": partition_col},
                              config)
    if settings.partitions is not None or settings.partition_col is not None:
        from forecast_cli.cli.render_partitions import train_partitioned

        train_partitioned(data, settings, cluster, workers, plot, as_json, quiet)
        return
    from forecast_cli.cli.options_partitions import target

    target(cluster, workers, partitioned=False)  # --cluster without partitions: refused
    with render.epoch_progress(settings.epochs, enabled=not quiet) as on_epoch:
        result = run_training(data, settings, on_epoch=on_epoch)
    if result.cleaned:
        render.message(f"Removed leftovers of a killed run in {result.output_dir}: "
                       f"{', '.join(result.cleaned)}", quiet)
    for fix in result.frame.fixes:
        render.message(f"Warning: applied fix: {fix}", quiet)
    for warning in (*result.frame.warnings, *result.warnings):
        render.message(f"Warning: {warning}", quiet)
    draw_plot(plot, "plot_train", result, quiet=quiet, series=plot_series(plot_series_ids))
    if as_json:  # the result asked for: --quiet silences only the tables and messages
        typer.echo(json.dumps(json_safe(metrics_report(result)), indent=2))
        return
    if quiet:
        return
    render.stdout().print(render.metrics_table(result))
    if result.series_scores is not None:
        from forecast_cli.cli.render_panel import worst_series_table

        render.stdout().print(worst_series_table(result))
    if result.interval_scores:
        render.stdout().print(render.coverage_table(
            result.interval_scores, result.intervals.n_calibration if result.intervals else None))
    render.message(render.train_summary(result))


@shared(MODEL, "model")
@shared(READING, "reading")
def backtest(
    data: DataArg,
    config: ConfigOpt = None,
    folds: Annotated[int | None, setting_option(
        "folds", BACKTEST_PANEL, "Number of forecast origins.", min=1, metavar="N")] = None,
    fold_step: Annotated[int | None, setting_option(
        "fold_step", BACKTEST_PANEL, "Rows between origins.", default="the horizon", min=1,
        metavar="N")] = None,
    train_window: Annotated[TrainWindow | None, setting_option(
        "train_window", BACKTEST_PANEL, "expanding: train on all rows before the origin; "
        "sliding: on a fixed-length window.")] = None,
    refit_every: Annotated[int | None, setting_option(
        "refit_every", BACKTEST_PANEL, "Fit a new network every k folds; folds in between "
        "reuse it.", min=1, metavar="K")] = None,
    as_json: Annotated[bool, json_flag("Print the full report as JSON.")] = False,
    plot: PlotOpt = None,
    precision: ScorePrecisionOpt = None,
    plot_series_ids: PlotSeriesOpt = None,
    quiet: Quiet = False,
    *,
    reading: Given,
    model: Given,
) -> None:
    """Rolling-origin backtest: LSTM vs naive and seasonal naive on identical windows.

    Example: forecast backtest sample_data/co2_monthly.csv --folds 4
    """
    from forecast_cli.cli import render
    from forecast_cli.pipeline.backtest import backtest as run_backtest
    from forecast_cli.pipeline.publish import json_safe
    from forecast_cli.settings import build_settings

    check_plot(plot, data)
    own = {"folds": folds, "fold_step": fold_step, "train_window": train_window,
           "refit_every": refit_every, "precision": precision}
    from forecast_cli.cli.progress import fold_note, steps

    settings = build_settings({**reading, **model, **own}, config)
    from forecast_cli.pipeline.partition_info import refuse_settings

    refuse_settings(settings, "backtest")
    with steps("fold", settings.folds, enabled=not quiet) as advance:
        result = run_backtest(data, settings, on_fold=None if advance is None else
                              lambda done, total, fold: advance(done, total, fold_note(fold)))
    draw_plot(plot, "plot_backtest", result, quiet=quiet, series=plot_series(plot_series_ids))
    if as_json:  # the result asked for: --quiet silences only the tables and messages
        typer.echo(json.dumps(json_safe(result.to_json(settings.precision)), indent=2))
        return
    if quiet:
        return
    render.stdout().print(render.backtest_table(result))
    if result.intervals:
        render.stdout().print(render.backtest_intervals_table(result))
    render.stdout().print(render.by_step_table(result.by_step))
