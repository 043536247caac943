"""``forecast train --partitions`` and ``forecast predict`` of a partitioned model: the calls
into ``ops.partitions`` and what they show (a table per partition; messages on stderr)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from forecast_cli.cli import render
from forecast_cli.cli.options_partitions import target
from forecast_cli.errors import ConfigError
from forecast_cli.settings import Settings


def _score(scores: dict[str, Any], method: str) -> str:
    value = (scores.get(method) or {}).get("mase")
    return "n/a" if value is None else f"{value:.4g}"


def partitions_table(metrics: dict[str, Any]) -> Any:
    """One row per partition: its value, series, epochs, test MASE against the baselines."""
    from rich.table import Table

    scheme = metrics["scheme"]
    by = (f"hash of {metrics['id_col']} into {scheme['partitions']}" if scheme["kind"] == "hash"
          else f"column {scheme['column']!r}")
    table = Table(title=f"{metrics['partition_count']} partitions ({by}), "
                        f"{metrics['series_count']} series: test MASE")
    for name in ("partition", "value", "series", "epochs", "model", "naive", "seasonal naive",
                 "ran on"):
        table.add_column(name, justify="left" if name in ("partition", "value", "ran on")
                         else "right")
    for name, m in metrics["partitions"].items():
        test = m["test"]
        table.add_row(name, str(m.get("value", "")), str(m["series_count"]),
                      str(m["training"]["epochs_run"]), _score(test, "model"),
                      _score(test, "naive"), _score(test, "seasonal_naive"),
                      str(m.get("ran_on") or "here"))
    return table


def train_partitioned(data: Path, settings: Settings, cluster: str | None,
                      workers: int | None, plot: Path | None, as_json: bool,
                      quiet: bool) -> None:
    """Train one model per partition (``ops.partitions.train``) and say how it went."""
    from forecast_cli.cli.progress import steps
    from forecast_cli.ops import partitions

    if plot is not None:
        raise ConfigError("`--plot` draws one model's forecasts; a partitioned training has "
                          "one per partition: plot a partition's run with `forecast report`.")
    where = target(cluster, workers, partitioned=True)
    with steps("partition", None, enabled=not quiet) as advance:
        run = partitions.train(data, settings, where, log=lambda t: render.message(t, True),
                               on_done=None if advance is None else
                               lambda done, total, name: advance(done, total, name))
    if run.cleaned:
        render.message(f"Removed leftovers of a killed run in {run.output_dir}: "
                       f"{', '.join(run.cleaned)}", quiet)
    for warning in run.warnings:
        render.message(f"Warning: {warning}", quiet)
    if as_json:
        typer.echo(json.dumps(run.metrics, indent=2))
        return
    if quiet:
        return
    render.stdout().print(partitions_table(run.metrics))
    render.message(f"Partitioned model written to {run.output_dir / 'model'} (run {run.run}); "
                   f"metrics: {run.output_dir / 'metrics.json'}")


def predict_partitioned(model_dir: Path, data: Path, out: Path | None, fmt: str,
                        cluster: str | None, workers: int | None, *, reading: dict[str, Any],
                        series: tuple[str, ...] | None, precision: int | None, engine: str,
                        quiet: bool) -> None:
    """Forecast with a partitioned model (``ops.partitions.predict``) and write the output:
    ``-o DIR`` without an extension and ``--format parquet``: a Parquet dataset directory."""
    from forecast_cli.ops import partitions

    dataset = out is not None and fmt == "parquet" and out.suffix == ""
    result = partitions.predict(model_dir, data, out, fmt, target(cluster, workers, True),
                                dataset=dataset, reading=reading, series=series,
                                precision=precision, engine=engine)
    for warning in result.warnings:
        render.message(f"Warning: {warning}", quiet)
    if result.content is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(result.content)
        return
    what = "Parquet dataset directory" if dataset else ""
    render.message(f"Forecast of {result.summary} written to "
                   f"{what + ' ' if what else ''}{out}", quiet)


def inspect_partitioned(model: Path, as_json: bool) -> None:
    """``forecast inspect`` of a partitioned model: its partitions, series, scores, checks."""
    from forecast_cli.pipeline.partition_info import describe_partitioned

    info = describe_partitioned(model)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for warning in info["warnings"]:
        render.message(f"Warning: {warning}")
    from rich.table import Table

    scheme = info["scheme"]
    by = (f"a hash of the series id into {scheme['partitions']}" if scheme["kind"] == "hash"
          else f"the column {scheme['column']!r}")
    out = render.stdout()
    out.print(f"Partitioned model {info['model']}: {len(info['partitions'])} partitions by "
              f"{by}, {info['series_count']} series (id column {info['id_col']!r}); every "
              "partition's bundle verified (checksums).")
    table = Table(title="Partitions: test MASE")
    for name in ("partition", "value", "series", "trained", "model", "seasonal naive"):
        table.add_column(name)
    for part in info["partitions"]:
        bundle = part["bundle"]
        test = (bundle.get("scores") or {}).get("test") or {}
        table.add_row(part["name"], str(part["value"]), str(part["series"]),
                      str(bundle.get("created_at") or ""), _score(test, "model"),
                      _score(test, "seasonal_naive"))
    out.print(table)
