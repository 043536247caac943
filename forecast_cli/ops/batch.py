"""``forecast batch JOBS.toml``: every job of a batch file, unattended and safe to re-run.

For each job, under a lock on its model directory: load and check the data; retrain when the
policy asks (resuming a killed training from its last epoch); promote the new model only if it
is at least as good as the current one on the latest holdout; forecast with the current model
and write the forecast atomically; score earlier forecasts whose actuals have arrived. Jobs
are independent: one failing does not stop the others, and each runs in a worker process
(``worker``) that is stopped when the job exceeds its time limit. Everything is recorded in the
run history (``history``) and in ``batch.log`` in the state directory; nothing is printed here.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import stat
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forecast_cli.checks import check_range
from forecast_cli.errors import EXIT_LOCKED, ForecastError, OutputError
from forecast_cli.io.atomic import kind_of
from forecast_cli.io.forecast_output import SCHEMA_VERSION
from forecast_cli.ops import cluster, jobs, locking
from forecast_cli.ops.history import History, opened
from forecast_cli.ops.worker import Done, Request, Worker

Log = Callable[[str], None]
LOG_FILE = "batch.log"


@dataclass
class JobOutcome:
    """How one job went; ``record`` holds the run-history fields (see ``history.RUN_FIELDS``)."""

    job: str
    status: str  # ok | failed | locked
    message: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    scored: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {"job": self.job, "status": self.status, "message": self.message or None,
                "rows": r.get("rows"), "model_version": r.get("model_version"),
                "retrained": bool(r.get("retrained")), "reason": r.get("reason"),
                "promoted": None if r.get("promoted") is None else bool(r["promoted"]),
                "resumed_from_epoch": r.get("resumed_from_epoch"),
                "epochs_run": r.get("epochs_run"),
                "metrics": {"holdout_mae_current": r.get("champion_mae"),
                            "holdout_mae_new": r.get("challenger_mae"),
                            "realised": self.scored},
                "output": r.get("output"),
                "forecast_changed": None if r.get("forecast_changed") is None
                else bool(r["forecast_changed"]),
                "seconds": r.get("seconds")}


@dataclass(frozen=True)
class BatchResult:
    path: Path
    state_dir: Path
    outcomes: list[JobOutcome]

    @property
    def exit_code(self) -> int:
        """0 all ok, 1 any job failed, 75 (temporary) when only locks stood in the way."""
        statuses = {o.status for o in self.outcomes}
        if "failed" in statuses:
            return 1
        return EXIT_LOCKED if "locked" in statuses else 0

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "batch": str(self.path),
                "state_dir": str(self.state_dir),
                "exit_code": self.exit_code, "jobs": [o.to_json() for o in self.outcomes]}


def lock_path(state_dir: Path, batch: Path) -> Path:
    """One lock per batch file, in its state directory."""
    digest = hashlib.sha256(str(batch).encode()).hexdigest()[:12]
    return state_dir / "locks" / f"batch-{batch.stem}-{digest}.lock"


def _open_log(path: Path) -> int:
    """``batch.log`` for appending; OutputError (73) unless it is a regular file (opening a
    named pipe for writing would wait for a reader forever)."""
    def refuse(mode: int) -> OutputError:
        return OutputError(f"{path}: is {kind_of(mode)}, not a regular file; the batch log "
                           "must be one.")

    with contextlib.suppress(OSError):
        if not stat.S_ISREG(mode := os.stat(path).st_mode):
            raise refuse(mode)
    try:  # non-blocking: a pipe put there since is refused, never waited on
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o666)
    except OSError as exc:
        raise OutputError(f"{path}: cannot open the batch log ({exc.strerror}).") from None
    if not stat.S_ISREG(mode := os.fstat(fd).st_mode):
        os.close(fd)
        raise refuse(mode)
    return fd


@contextmanager
def _logger(state_dir: Path, echo: Log | None) -> Iterator[Log]:
    """Log lines go to ``batch.log`` (appended) and, with -v, to ``echo``."""
    with os.fdopen(_open_log(state_dir / LOG_FILE), "a", encoding="utf-8") as fh:
        def log(text: str) -> None:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            fh.write(f"{stamp} pid {os.getpid()} {text}\n")
            fh.flush()
            if echo is not None:
                echo(text)
        yield log


def _one(job: jobs.Job, spec: jobs.BatchSpec, worker: Worker, history: History, log: Log,
         now: datetime, deadline: float) -> JobOutcome:
    run_id = history.start_run(job.name, str(spec.path))
    started = time.perf_counter()
    request = Request(job=job, batch=spec.path, state_dir=spec.state_dir, now=now,
                      wait=max(0.0, deadline - time.monotonic()), run_id=run_id)
    done = worker.run(request, job.time_limit)
    return _finish(job, run_id, done, round(time.perf_counter() - started, 3), history, log)


def _finish(job: jobs.Job, run_id: int, done: Done, seconds: float, history: History,
            log: Log) -> JobOutcome:
    outcome = JobOutcome(job=job.name, status=done.status, message=done.message,
                         record=done.record, scored=done.scored)
    outcome.record.update(status=outcome.status, message=outcome.message or None,
                          seconds=seconds)
    if done.complete:
        history.finish_run(run_id, outcome.record)
    else:  # stopped or died: keep what it saved, and clean up after it at once
        history.end_run(run_id, outcome.status, outcome.message, seconds)
        _clean_after(job, log)
    log(f"{job.name}: {outcome.status}" + (f": {outcome.message}" if outcome.message else ""))
    return outcome


def _on_cluster(target: cluster.Target, todo: list[jobs.Job], spec: jobs.BatchSpec,
                history: History, log: Log, now: datetime, deadline: float,
                ended: Callable[[str], None]) -> list[JobOutcome]:
    """Every job of ``todo`` as a task of the cluster, all at once; the history is written
    here, from what each task sends back (see ``cluster`` and ``recorded_history``)."""
    from forecast_cli.ops.cluster_task import file_digest
    from forecast_cli.ops.recorded_history import replay, snapshot

    by_name = {job.name: job for job in todo}
    outcomes = []
    with cluster.connected(target, log) as client:  # unreachable: exit 69 before any run row
        run_ids = {job.name: history.start_run(job.name, str(spec.path)) for job in todo}
        digest, started = file_digest(spec.path), time.perf_counter()
        payloads = {job.name: json.dumps({
            "batch": str(spec.path), "batch_sha256": digest, "state_dir": str(spec.state_dir),
            "job": job.name, "time_limit": job.time_limit, "now": now.isoformat(),
            "wait": max(0.0, deadline - time.monotonic()), "run_id": run_ids[job.name],
            "snapshot": snapshot(history, job.name)}) for job in todo}
        for name, done, lines, seconds in cluster.run_tasks(
                client, payloads, cluster.bound_for([j.time_limit for j in todo]), log):
            for line in lines:
                log(line)
            replay(history, done.writes)
            if seconds is None:  # it sent nothing back: the time since it was submitted
                seconds = round(time.perf_counter() - started, 3)
            outcomes.append(_finish(by_name[name], run_ids[name], done, seconds, history,
                                    log))
            ended(name)
    return outcomes


def _clean_after(job: jobs.Job, log: Log) -> None:
    """Remove what a stopped job left (staging, temporary files), if its lock is free."""
    if not job.model_dir.is_dir():
        return
    try:
        with locking.hold(job.model_dir / ".lock", f"job {job.name!r}"):
            gone = job.clean_leftovers()
    except ForecastError as exc:
        log(f"{job.name}: leftovers left for the next run ({exc})")
        return
    if gone:
        log(f"{job.name}: removed leftovers of the stopped run: {', '.join(gone)}")


def _invalid(name: str, why: str, batch: Path, history: History) -> JobOutcome:
    run_id = history.start_run(name, str(batch))
    outcome = JobOutcome(job=name, status="failed", message=why)
    outcome.record.update(status="failed", message=why)
    history.finish_run(run_id, outcome.record)
    return outcome


def run_batch(path: Path, wait: float = 0.0, state_dir: Path | None = None,
              log: Log | None = None, now: datetime | None = None,
              time_limit: float | None = None,
              on_job: Callable[[int, int, str], None] | None = None,
              cluster_address: str | None = None, workers: int | None = None) -> BatchResult:
    """Run every job of batch file ``path``; LockedError (75) if another run holds it.

    ``wait``: seconds to wait for a lock another run holds. ``time_limit``: seconds any job
    may run, over every job's own ``time_limit``. ``on_job(done, total, name)``: progress,
    called as each job starts (``name``; on a cluster: as each ends) and once when all are
    done (name ""). ``cluster_address`` (else $FORECAST_CLUSTER, else the file's
    ``cluster``): run the jobs as tasks of that Dask scheduler; ``workers``: on a local
    cluster of that many worker processes (``cluster``).
    """
    check_range("wait", wait, float, 0.0)
    if time_limit is not None:
        time_limit = jobs.parse_time_limit(time_limit)
    spec = jobs.load_batch(Path(path), state_dir)
    target = cluster.target_for(cluster_address, workers, spec.cluster)
    deadline = time.monotonic() + wait
    with locking.hold(lock_path(spec.state_dir, spec.path), f"batch {spec.path}", wait), \
            opened(spec.state_dir) as history, _logger(spec.state_dir, log) as logger, \
            warnings.catch_warnings(record=True) as caught, Worker(logger) as worker:
        warnings.simplefilter("always")
        killed = history.mark_killed(str(spec.path))
        if killed:
            logger(f"{killed} run(s) of an earlier killed batch marked 'killed'")
        now = now or datetime.now(UTC)
        todo = {j.name: replace(j, time_limit=time_limit) if time_limit is not None else j
                for j in spec.jobs}
        total = len(spec.names)
        progress = on_job or (lambda done, total, name: None)
        outcomes: list[JobOutcome] = []
        for name in spec.names if target is None else sorted(spec.invalid):
            progress(len(outcomes), total, name)
            outcomes.append(_invalid(name, spec.invalid[name], spec.path, history)
                            if name not in todo
                            else _one(todo[name], spec, worker, history, logger, now, deadline))
        if target is not None:
            ended = itertools.count(len(outcomes) + 1)  # jobs done, as each cluster job ends
            outcomes += _on_cluster(target, list(todo.values()), spec, history, logger, now,
                                    deadline, lambda name: progress(next(ended), total, name))
            outcomes.sort(key=lambda o: o.job)
        progress(total, total, "")
        for w in caught:
            logger(f"warning: {w.category.__name__}: {w.message}")
    return BatchResult(path=spec.path, state_dir=spec.state_dir, outcomes=outcomes)


def summary_json(result: BatchResult) -> str:
    return json.dumps(result.to_json(), indent=2, default=str) + "\n"

