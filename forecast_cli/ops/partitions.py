"""Partitioned train and predict end to end: the runs, the locks, the cluster or not.

``train``: the panel is planned (``partition_train.plan``: read, checked, resolved; nothing
written), then OUT is locked (``OUT/.lock``, as ``forecast train`` locks it: another train
into it exits 75), leftovers of killed runs are removed, and the run is staged under
``OUT/runs/.staging-*``: the partitions' part files, each partition trained (here or on the
cluster's workers), the outputs assembled and fsynced. Only then is it published as run NNNN
(``outdir.publish``: one rename of ``latest``). A failure anywhere removes the staging run and
leaves the previous one published; a kill leaves a staging directory the next run removes.

``predict``: the model's index routes DATA's series to their partitions (``partition_predict``);
the part files and per-partition tables live in a work directory beside the output (on the
storage the workers share), removed at the end; the one output is written atomically.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecast_cli.errors import ConfigError, WriteError
from forecast_cli.io import atomic, locking
from forecast_cli.ops import partition_exec
from forecast_cli.ops.cluster import Target
from forecast_cli.pipeline import outdir, partition_predict, partition_train, runs
from forecast_cli.settings import Settings

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class PartitionedRun:
    """A published partitioned training: OUT, its run name, metrics.json's content."""

    output_dir: Path
    run: str
    metrics: dict[str, Any]
    cleaned: list[str] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    tasks: list[dict[str, Any]] = field(default_factory=list)  # each partition's summary


def train(data_path: Path, settings: Settings, target: Target | None = None,
          log: Log | None = None,
          on_done: partition_exec.OnDone | None = None) -> PartitionedRun:
    """Train one model per partition of ``data_path``'s series into ``settings.output_dir``
    (a new run of it); on ``target``'s workers when given, else in this process."""
    log = log or _quiet
    p = partition_train.plan(Path(data_path), settings)
    out = atomic.ensure_dir(settings.output_dir)
    with locking.hold(out / outdir.LOCK, f"output directory {out}", hint=runs.LOCK_HINT):
        cleaned = outdir.prepare(out)
        staged = outdir.new_staging(out)
        try:
            tasks = partition_train.split_inputs(p, staged)
            log(f"{len(tasks)} partition(s) of {p.label}")
            results = partition_exec.run_all("train", tasks, target, log, on_done)
            summary = partition_train.assemble(p, staged, tasks, results)
            atomic.fsync_tree(staged)
        except BaseException as exc:
            shutil.rmtree(staged, ignore_errors=True)
            reason = runs.write_failure(exc) if isinstance(exc, Exception) else None
            if reason is not None:
                raise WriteError(f"{out}: writing the new run failed ({reason}); the previous "
                                 "run is unchanged and the partial one was removed.") from exc
            raise
        name, _ = outdir.publish(out, staged, settings.keep_runs)
    return PartitionedRun(out, name, summary, cleaned, p.warnings, results)


@dataclass(frozen=True)
class PartitionedPrediction:
    """What a partitioned predict wrote (``content`` when it goes to standard output)."""

    rows: int
    origin: str
    warnings: list[str]
    content: bytes | None = None  # None: written to the output path
    tasks: list[dict[str, Any]] = field(default_factory=list)
    horizon: int = 0  # steps per series

    @property
    def summary(self) -> str:
        """"7 steps of 200 series after 2021-03-21", as a plain predict's message says it."""
        n_series = self.rows // self.horizon if self.horizon else 0
        of = f" of {n_series:,} series" if n_series > 1 else ""
        return f"{self.horizon} steps{of} after {self.origin}"


def predict(model_dir: Path, data_path: Path, out: Path | None, fmt: str,
            target: Target | None = None, *, dataset: bool = False,
            reading: Mapping[str, Any] | None = None, series: tuple[str, ...] | None = None,
            precision: int | None = None, engine: str = "auto",
            log: Log | None = None) -> PartitionedPrediction:
    """Forecast every series of ``data_path`` with its partition's bundle; write ``out``
    (``dataset``: a Parquet dataset directory) or return the bytes (``out`` None)."""
    from forecast_cli.pipeline.forecasting import forecast_bytes

    log = log or _quiet
    if engine == "keras":
        raise ConfigError("`--engine keras` loads TensorFlow; a partitioned model serves "
                          "with ONNX Runtime (--engine auto or onnx).")
    if dataset:
        assert out is not None
        partition_predict.check_dataset_target(out)
    p = partition_predict.plan(model_dir, data_path, reading, series)
    if target is not None and out is None:
        raise ConfigError("a partitioned predict on a cluster writes its parts beside the "
                          "output, on storage the workers share: name the output with -o.")
    where = atomic.ensure_dir(out.parent) if out is not None else None
    work = Path(tempfile.mkdtemp(prefix=".forecast-partitions-", dir=where))
    data = None
    try:
        tasks = partition_predict.split_inputs(p, work, engine, reading)
        results = partition_exec.run_all("predict", tasks, target, log)
        if dataset:
            assert out is not None
            rows = partition_predict.write_dataset(p, tasks, results, out, precision)
        else:
            fc = partition_predict.forecast_of(p, tasks, results)
            rows = len(fc.table)
            data = forecast_bytes(fc, fmt, precision)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    origin = partition_predict.origin_text(p, results)
    warnings = list(dict.fromkeys(w for r in results for w in r["warnings"]))
    if data is not None and out is not None:
        atomic.write_bytes(out, data)
        data = None
    return PartitionedPrediction(rows, origin, warnings, data, results,
                                 partition_predict.horizon(p))
