"""``forecast train`` into an output directory that keeps its runs (the layout: ``outdir``).

1. The data is read and checked and the settings resolved: no lock, nothing written, so bad
   data leaves no trace.
2. OUT is locked (``OUT/.lock``) to the end; another train into it exits 75 at once.
3. Leftovers of killed runs are removed; an OUT of the old layout becomes a numbered run.
4. The run is written into ``runs/.staging-*`` and fsynced. A failure or kill here leaves only
   that directory (removed at once on a failure, by the next run after a kill); a full disk or
   an I/O error, wherever it strikes (Keras' weights, the ONNX export, a CSV), is a WriteError
   (exit 74).
5. ``outdir.publish`` renames it to the next number and switches ``latest``: the one step that
   replaces the previous run. Runs beyond ``keep_runs`` are then deleted.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from forecast_cli.errors import ForecastError, OutputError, WriteError
from forecast_cli.io import atomic, locking
from forecast_cli.model import api as model
from forecast_cli.pipeline import outdir, training
from forecast_cli.pipeline.train_result import TrainResult
from forecast_cli.settings import Settings

LOCK_HINT = "Another `forecast train` is writing there; retry when it has finished."


def train(data_path: Path, settings: Settings,
          on_epoch: model.EpochCallback | None = None) -> TrainResult:
    """Train as ``training.train`` does and publish the outputs as run NNNN of
    ``settings.output_dir``: its four names then show the new run, all together; the result's
    ``output_dir`` is that directory and ``run`` the run's number."""
    prep = training.prepare(Path(data_path), settings)
    out = atomic.ensure_dir(prep.settings.output_dir)
    with locking.hold(out / outdir.LOCK, f"output directory {out}", hint=LOCK_HINT):
        cleaned = outdir.prepare(out)
        staged = outdir.new_staging(out)
        result = _stage(prep, staged, out, on_epoch)
        name, _ = outdir.publish(out, staged, prep.settings.keep_runs)
    return replace(result, output_dir=out, run=name, cleaned=tuple(cleaned))


def _stage(prep: training.Prepared, staged: Path, out: Path,
           on_epoch: model.EpochCallback | None) -> TrainResult:
    """Fit and write the run into ``staged``, fsynced; on any failure remove it."""
    try:
        result = training.fit_and_write(prep, staged, on_epoch)
        atomic.fsync_tree(staged)
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(exc, Exception):
            reason = write_failure(exc)
            if reason is not None:
                raise WriteError(f"{out}: writing the new run failed ({reason}); the previous "
                                 "run is unchanged and the partial one was removed.") from exc
        raise
    return result


def write_failure(exc: Exception) -> str | None:
    """Why ``exc`` is a failed write (full disk, quota, I/O error), or None when it is not.

    Our own errors other than write and output errors keep their meaning (a diverged training
    stays exit 1, bad data 65); anything else, however the library wrapped it, is judged by
    ``atomic.disk_error``.
    """
    if isinstance(exc, ForecastError) and not isinstance(exc, (WriteError, OutputError)):
        return None
    return atomic.disk_error(exc)
