"""One batch job as a Dask task: what runs on a cluster worker (see ``cluster``).

The task receives JSON (the batch file's path and digest, the job's name, its time limit, the
run's date, its run id and the history snapshot), re-reads the batch file from the shared
filesystem, and runs the job exactly as a local batch does: in a fresh process of its own
(``worker.Worker``, spawned), stopped past its time limit. So TensorFlow's memory is returned
to the system after every job and never accumulates in the long-lived Dask worker, and a job
behaves the same on a cluster as on one machine. It returns JSON: the job's outcome, its log
lines, and the history writes for the client to replay (``recorded_history``).

If the Dask worker dies during the task (``kill -9``, a machine lost), the job's process dies
with it (``PR_SET_PDEATHSIG``) and releases its lock; every write of a job is atomic or staged,
so the scheduler can run the task again elsewhere and nothing is torn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from forecast_cli.errors import ForecastError
from forecast_cli.ops import jobs
from forecast_cli.ops.worker import KILL_GRACE, Done, Request, Worker

KILL_WORKER_ENV = "FORECAST_TEST_KILL_WORKER_JOB"  # test hook: that job kills its Dask worker


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _job(task: dict[str, Any]) -> tuple[jobs.BatchSpec, jobs.Job]:
    """The task's job, from the batch file as every worker sees it (checked unchanged)."""
    batch = Path(task["batch"])
    if file_digest(batch) != task["batch_sha256"]:
        raise ForecastError(f"{batch}: the batch file changed while the batch ran; the job "
                            "was not run. Run the batch again.")
    spec = jobs.load_batch(batch, Path(task["state_dir"]))
    found = [j for j in spec.jobs if j.name == task["job"]]
    if not found:
        raise ForecastError(f"{batch}: job {task['job']!r} is not valid where it ran.")
    return spec, replace(found[0], time_limit=float(task["time_limit"]))


def _allow_children() -> None:
    """A Dask worker under a nanny is a daemonic process, and ``multiprocessing`` refuses to
    start children from one (they could outlive it). The job's process cannot: it is killed
    with its parent (``worker._die_with``). So lift the flag, for this process only."""
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    config.pop("daemon", None)


def run_task(payload: str) -> str:
    """Run one job (``payload``: JSON, see ``cluster.payload``); return its outcome as JSON."""
    task = json.loads(payload)
    logs: list[str] = []
    host = f"{socket.gethostname()} pid {os.getpid()}"
    if os.environ.get(KILL_WORKER_ENV) == task["job"]:
        os.kill(os.getpid(), signal.SIGKILL)  # stands for a job that takes its machine down
    started = time.perf_counter()
    try:
        spec, job = _job(task)
    except ForecastError as exc:
        done = Done("failed", str(exc))
    else:
        _allow_children()
        request = Request(job=job, batch=spec.path, state_dir=spec.state_dir,
                          now=datetime.fromisoformat(task["now"]),
                          # a retried job waits for the lock its killed process held to go
                          wait=max(float(task["wait"]), KILL_GRACE), run_id=int(task["run_id"]),
                          snapshot=task["snapshot"])
        with Worker(logs.append) as worker:
            done = worker.run(request, job.time_limit)
    return json.dumps({**dataclasses.asdict(done), "logs": logs, "ran_on": host,
                       "seconds": round(time.perf_counter() - started, 3)},
                      default=_json_default)
