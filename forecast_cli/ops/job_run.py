"""One batch job, under its lock: data → retrain decision → publish → forecast → score.

Every file this writes is either written atomically or lives in a staging directory that is
only renamed into place when complete, so killing the process at any point leaves the previous
model and forecast as they were. ``record`` collects the run-history fields as the job goes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from forecast_cli.core.intervals import level_label
from forecast_cli.data.frame import Frame, load_csv
from forecast_cli.errors import BundleError, ConfigError, DataError, InputMissingError
from forecast_cli.io import atomic, killpoints
from forecast_cli.io.forecast_output import output_format, shown
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.ops import accuracy, locking, policy, registry
from forecast_cli.ops.history import History
from forecast_cli.ops.jobs import Job
from forecast_cli.ops.recorded_history import RecordedHistory

NOT_RETRIED = (DataError, ConfigError, InputMissingError)
HANG_ENV = "FORECAST_TEST_HANG_JOB"  # test hook: that job hangs holding its lock (see _hang)


@dataclass(frozen=True)
class JobContext:
    batch: Path
    state_dir: Path
    history: History | RecordedHistory  # the second on a cluster (see recorded_history)
    log: Callable[[str], None]
    now: datetime
    deadline: float  # time.monotonic() after which a busy lock is not waited for

    def wait_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class EpochLog:
    """Counts the epochs one fit runs and remembers the first (> 0 when resumed)."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.count = 0

    def reset(self) -> None:
        self.first, self.count = None, 0

    def __call__(self, epoch: int, logs: dict[str, float]) -> None:
        if self.first is None:
            self.first = epoch
        self.count += 1
        killpoints.reached(f"training-epoch-{epoch + 1}")


def config_hash(job: Job) -> str:
    """Identifies the job's training settings (not where or how it writes)."""
    settings = job.settings.to_json()
    settings.pop("output_dir", None)
    settings.pop("precision", None)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _load(job: Job, path: Path) -> Frame:
    """The job's data, read as ``forecast train`` reads it: every reading setting of the job
    (``LoadOptions.from_settings``: sep, decimal, tz, fill, id_col …), targets and features."""
    s = job.settings
    frame = load_csv(path, columns=[*s.target, *s.features] or None,
                     options=LoadOptions.from_settings(s))
    if not s.target and len(frame.columns) > 1:
        raise DataError(f"{path}: several value columns ({', '.join(frame.columns)}); set "
                        "`target` for this job.")
    return frame


def _state(job: Job, frame: Frame) -> policy.DataState:
    cfg = config_hash(job)
    key = hashlib.sha256(f"{frame.fingerprint()}:{cfg}".encode()).hexdigest()[:16]
    schema = {"time_col": frame.time_col, "columns": list(frame.columns), "freq": frame.freq}
    if frame.id_col is not None:  # one file of many series (the key is absent otherwise, so
        schema["id_col"] = frame.id_col  # the schema of existing single-series jobs is kept)
    return policy.DataState(rows=len(frame.values), schema=schema, config_hash=cfg,
                            train_key=key)


def _champion(version: registry.Version | None) -> policy.Champion | None:
    if version is None:
        return None
    m = version.meta
    try:
        return policy.Champion(trained_at=datetime.fromisoformat(m["trained_at"]),
                               rows=int(m["rows"]), schema=dict(m["schema"]),
                               config_hash=str(m["config_hash"]),
                               train_key=str(m["train_key"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{version.path}: {registry.META} is incomplete ({exc}).") from None


def _clean_leftovers(job: Job, ctx: JobContext) -> None:
    gone = job.clean_leftovers()
    if gone:
        ctx.log(f"{job.name}: removed leftovers of a killed run: {', '.join(gone)}")


def _hang(job: Job) -> None:
    """With ``FORECAST_TEST_HANG_JOB`` naming the job, stand for a job stuck in C code that
    ignores SIGTERM (only SIGKILL ends it), as the time-limit tests need; else nothing."""
    if os.environ.get(HANG_ENV) == job.name:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(3600)


def run_job(job: Job, ctx: JobContext, run_id: int, record: dict[str, Any]
            ) -> list[dict[str, Any]]:
    """Run ``job`` under its lock; return the realised accuracy scored in this run."""
    with locking.hold(job.model_dir / ".lock", f"job {job.name!r}", ctx.wait_left()):
        _hang(job)
        _clean_leftovers(job, ctx)
        data_path = job.data_path()
        frame = _load(job, data_path)
        now = _state(job, frame)
        record.update(data_file=str(data_path), rows=now.rows,
                      data_fingerprint=frame.fingerprint(), config_hash=now.config_hash,
                      train_key=now.train_key, retrained=0)
        current = registry.current(job.model_dir)
        champ = _champion(current)
        rejected = ctx.history.rejected_keys(job.name)
        reason = policy.retrain_reason(job.policy, champ, now, ctx.now, rejected)
        if reason is None:
            record["reason"] = policy.keep_reason(job.policy, champ, now, rejected)
            ctx.log(f"{job.name}: no training: {record['reason']}")
        else:
            current = _train(job, ctx, data_path, current, now, reason, run_id, record)
        assert current is not None  # with no model, the policy always trains
        scored = _forecast_and_score(job, ctx, current, frame, data_path, run_id, record)
        pruned = registry.prune(job.model_dir, job.keep_versions)
        if pruned:
            ctx.log(f"{job.name}: pruned old versions {', '.join(pruned)}")
        return scored


def _fit(job: Job, ctx: JobContext, data_path: Path, key: str, epochs: EpochLog) -> Any:
    """Train into a staging directory, resuming from a backup of the same data and settings."""
    from forecast_cli.pipeline import training

    root = ctx.state_dir / "backups" / job.name
    for other in (root.iterdir() if root.is_dir() else []):
        if other.name != key:  # another data/settings: never to be resumed
            shutil.rmtree(other, ignore_errors=True)
    backup = root / key
    resumed = backup.is_dir()
    settings = replace(job.settings, output_dir=registry.staging_dir(job.model_dir, key))
    try:
        return training.train(data_path, settings, on_epoch=epochs, backup_dir=backup)
    except NOT_RETRIED:
        raise
    except Exception as exc:
        if not resumed:
            raise
        ctx.log(f"{job.name}: could not resume the interrupted training ({exc}); "
                "starting it again")
        shutil.rmtree(backup, ignore_errors=True)
        epochs.reset()
        settings = replace(settings, output_dir=registry.staging_dir(job.model_dir, key))
        return training.train(data_path, settings, on_epoch=epochs, backup_dir=backup)


def _train(job: Job, ctx: JobContext, data_path: Path, current: registry.Version | None,
           now: policy.DataState, reason: str, run_id: int, record: dict[str, Any]
           ) -> registry.Version | None:
    from forecast_cli.ops import champion

    ctx.log(f"{job.name}: training ({reason})")
    epochs = EpochLog()
    result = _fit(job, ctx, data_path, now.train_key, epochs)
    cmp = champion.compare(current.bundle_dir if current else None, result)
    won = policy.promote(cmp.champion_mae, cmp.challenger_mae)
    record.update(retrained=1, reason=reason, promoted=int(won),
                  champion_mae=cmp.champion_mae, challenger_mae=cmp.challenger_mae,
                  resumed_from_epoch=epochs.first or 0, epochs_run=epochs.count)
    ctx.history.update_run(run_id, record)
    ctx.log(f"{job.name}: trained {epochs.count} epoch(s) from epoch {epochs.first or 0}; "
            f"holdout MAE new {cmp.challenger_mae:.6g} vs current "
            f"{'n/a' if cmp.champion_mae is None else f'{cmp.champion_mae:.6g}'}"
            f"{f' ({cmp.note})' if cmp.note else ''}: "
            f"{'promoted' if won else 'kept the current model'}")
    staged = result.output_dir
    if not won:
        shutil.rmtree(staged, ignore_errors=True)
        return current
    meta = {"trained_at": ctx.now.isoformat(), "rows": now.rows, "schema": now.schema,
            "config_hash": now.config_hash, "train_key": now.train_key,
            "data_file": str(data_path), "data_fingerprint": result.frame.fingerprint(),
            "reason": reason, "replaced": current.name if current else None,
            "holdout_mae": {"new": cmp.challenger_mae, "previous": cmp.champion_mae},
            "test_scores": result.evaluation.scores["model"]}
    version = registry.publish(job.model_dir, staged, meta)
    ctx.log(f"{job.name}: published {version.name}")
    return version


def _up_to_date(ctx: JobContext, job: Job, version: str, fingerprint: str, out: Path) -> str:
    """The output's sha256 when it already holds this data's forecast by this model, else ""."""
    last = ctx.history.last_forecast(job.name)
    if last is None or not out.is_file():
        return ""
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    same = (last["data_fingerprint"], last["model_version"], last["output_sha256"]) == (
        fingerprint, version, digest)
    return digest if same else ""


def _forecast_and_score(job: Job, ctx: JobContext, current: registry.Version, frame: Frame,
                        data_path: Path, run_id: int, record: dict[str, Any]
                        ) -> list[dict[str, Any]]:
    out = job.output_path(ctx.now.date())
    record.update(model_version=current.name, output=str(out))
    digest = _up_to_date(ctx, job, current.name, frame.fingerprint(), out)
    if digest:  # same data, same model: the forecast would be identical; no TensorFlow needed
        record.update(output_sha256=digest, forecast_changed=0)
        ctx.log(f"{job.name}: forecast in {out} is up to date (same data, model "
                f"{current.name}); not recomputed")
        return []
    from forecast_cli.pipeline import forecasting

    atomic.check_output(out, (data_path,))  # a regular file, and not the job's data
    fc = forecasting.predict(current.bundle_dir, data_path)
    for warning in fc.warnings:
        ctx.log(f"{job.name}: warning: {warning}")
    data = forecasting.forecast_bytes(fc, output_format(out, what="output"),
                                      job.settings.precision)
    changed = not (out.is_file() and out.read_bytes() == data)
    if changed:
        atomic.write_bytes(out, data, kill_point="forecast-write")
    ctx.log(f"{job.name}: forecast from {shown(fc.origin, fc.bundle.schema.tz)} by {current.name} "
            f"{'written to' if changed else 'unchanged, not rewritten:'} {out}")
    record.update(output_sha256=hashlib.sha256(data).hexdigest(), forecast_changed=int(changed))
    bundle = fc.bundle
    points, bounds = accuracy.forecast_points(  # as written: it is scored as it was published
        forecasting.rounded_table(fc, job.settings.precision), list(bundle.schema.targets),
        accuracy.interval_levels(bundle),
        (bundle.schema.panel or {}).get("id_col"))
    ctx.history.record_forecast(job.name, current.name, fc.origin.isoformat(), run_id, points,
                                bounds)
    return _score(job, ctx, frame, bundle.schema.season, run_id)


def _coverage_words(score: accuracy.Score) -> str:
    shares = score.shares()
    return "".join(f", {level_label(lv)} % interval coverage {c:.4g}" for lv, c in shares.items())


def _score(job: Job, ctx: JobContext, frame: Frame, season: int, run_id: int
           ) -> list[dict[str, Any]]:
    """Score every stored forecast of this job whose actuals are now all in the data."""
    scored = []
    for version, origin, forecast_run, points, bounds in list(ctx.history.unscored(job.name)):
        realised = accuracy.score_forecast(points, bounds, origin, frame, season)
        if realised is None:
            continue
        ctx.history.record_accuracy(job.name, version, origin, forecast_run, run_id, realised)
        scored.append({"origin": origin, "model_version": version, **realised.to_json()})
        o = realised.overall
        ctx.log(f"{job.name}: realised accuracy of the forecast from {origin}: "
                f"MAE {o.mae:.6g}, MASE {o.mase:.4g}{_coverage_words(o)}"
                + (f" ({len(realised.series)} series)" if realised.series else ""))
    return scored
