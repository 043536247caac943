"""The options of partitioned runs (train, predict): the partitioning and where it runs.

``--partitions`` and ``--partition-col`` are settings (``settings.Settings``: also ``--config``
keys); ``--cluster`` / ``--workers`` say where the tasks run, as on ``forecast batch``, and
are not settings (a model does not depend on where it was trained).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from forecast_cli.cli.options import PARTITIONS_PANEL, setting_option, with_default

Partitions = Annotated[int | None, setting_option(
    "partitions", PARTITIONS_PANEL, "Train one model per partition of the series: K "
    "partitions by a stable hash of the series id (needs --id-col).", default="none: one "
    "model", min=1, max=4096, metavar="K")]
PartitionCol = Annotated[str | None, setting_option(
    "partition_col", PARTITIONS_PANEL, "Train one model per value of this column (a "
    "grouping such as region; constant within a series; needs --id-col).", default="none",
    metavar="COL")]


def _cluster(text: str) -> Any:
    return typer.Option("--cluster", metavar="tcp://HOST:PORT", show_default=False,
                        rich_help_panel=PARTITIONS_PANEL, help=with_default(
                            text, "$FORECAST_CLUSTER, else in this process"))


def _workers(text: str) -> Any:
    return typer.Option("--workers", min=1, max=256, metavar="N", show_default=False,
                        rich_help_panel=PARTITIONS_PANEL,
                        help=with_default(text, "no local cluster"))


TrainCluster = Annotated[str | None, _cluster(
    "Train the partitions as tasks of this Dask scheduler's workers.")]
TrainWorkers = Annotated[int | None, _workers(
    "Train the partitions on a local Dask cluster of N worker processes.")]
PredictCluster = Annotated[str | None, _cluster(
    "A partitioned model: forecast its partitions on this Dask scheduler's workers.")]
PredictWorkers = Annotated[int | None, _workers(
    "A partitioned model: forecast its partitions on a local Dask cluster of N workers.")]


def target(address: str | None, workers: int | None, partitioned: bool) -> Any:
    """Where the partition tasks run (``cluster.Target``), None: in this process. ConfigError
    for --cluster / --workers without a partitioned run; $FORECAST_CLUSTER counts only for one.
    """
    from forecast_cli.errors import ConfigError
    from forecast_cli.ops.cluster import target_for

    if not partitioned:
        if address is not None or workers is not None:
            flag = "--cluster" if address is not None else "--workers"
            raise ConfigError(f"`{flag}` runs the partitions of a partitioned model on a "
                              "cluster; this run has none (train: --partitions K or "
                              "--partition-col COL; predict: a model trained so).")
        return None
    return target_for(address, workers, None)
