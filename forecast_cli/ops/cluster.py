"""``forecast batch --cluster tcp://HOST:PORT`` / ``--workers N``: the jobs as Dask tasks.

Where: ``--workers N`` starts a local cluster of N worker processes (one machine);
``--cluster ADDRESS``, else ``$FORECAST_CLUSTER``, else the batch file's ``cluster`` names a
running scheduler (``dask scheduler``). Without any of them the batch runs in-process, as it
always did; ``distributed`` is imported only here, and only when a cluster is asked for.

What runs where: this process (the client) holds the batch lock, writes the run history and
``batch.log``, and submits one task per job carrying JSON (paths, settings, a history
snapshot), never a model. Each task (``cluster_task``) runs its job in a fresh process on a
worker, under the job's own lock on the shared filesystem, and returns JSON. A worker that
dies mid-job costs a retry of that job elsewhere (the scheduler's ``allowed-failures``,
3 by default); a job whose task killed that many workers fails alone. Every wait is bounded:
connecting, waiting for a first worker, and the whole run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from forecast_cli.errors import ClusterError, ConfigError
from forecast_cli.ops.worker import KILL_GRACE, START_SECONDS, Done

CLUSTER_ENV = "FORECAST_CLUSTER"
CONNECT_SECONDS = 30.0  # to reach the scheduler
NO_WORKER_SECONDS = 120.0  # a cluster without a worker this long fails the remaining jobs
POLL_SECONDS = 1.0
MAX_WORKERS = 256
ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """A scheduler to connect to (``address``), or a local cluster of ``workers`` processes."""

    address: str | None = None
    workers: int | None = None

    def describe(self) -> str:
        return self.address or f"a local cluster of {self.workers} worker(s)"


def check_address(text: str, where: str) -> str:
    """``tcp://HOST:PORT`` (or ``tls://``); ConfigError (exit 2) naming ``where`` otherwise."""
    text = text.strip()
    if not ADDRESS.fullmatch(text):
        raise ConfigError(f"{where}: a Dask scheduler address is tcp://HOST:PORT, e.g. "
                          f"tcp://10.0.0.5:8786. Got {text!r}.")
    return text


def target_for(address: str | None, workers: int | None, from_file: str | None
               ) -> Target | None:
    """--cluster / --workers, else $FORECAST_CLUSTER, else the batch file's ``cluster``;
    None: run in-process."""
    if address is not None and workers is not None:
        raise ConfigError("--cluster and --workers exclude each other: --workers N starts a "
                          "local cluster, --cluster names a running one.")
    if workers is not None:
        if isinstance(workers, bool) or not 1 <= workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be an integer from 1 to {MAX_WORKERS}. "
                              f"Got {workers!r}.")
        return Target(workers=workers)
    if address is not None:
        return Target(address=check_address(address, "--cluster"))
    if os.environ.get(CLUSTER_ENV):
        return Target(address=check_address(os.environ[CLUSTER_ENV], f"${CLUSTER_ENV}"))
    if from_file is not None:
        return Target(address=check_address(from_file, "batch file `cluster`"))
    return None


# A worker resource that each task takes whole: a worker then holds only the job it runs, so
# when a job takes its worker down no other job was waiting there to be blamed (Dask counts a
# death against every task the worker held). Without it a small batch (no more tasks than
# twice the threads) is sent to workers at once, two to a worker, queued behind each other.
JOB_RESOURCE = "forecast_job"


def task_resources(client: Any) -> dict[str, float] | None:
    """``{JOB_RESOURCE: 1}`` when every worker offers the resource (``--workers N``, or
    ``dask worker --resources forecast_job=1``); None otherwise: a task asking for a resource
    that no worker has would wait forever."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    every = workers and all(JOB_RESOURCE in (w.get("resources") or {}) for w in workers)
    return {JOB_RESOURCE: 1} if every else None


def worker_env(workers: int) -> dict[str, str]:
    """The environment of a local cluster's workers, which their jobs' processes inherit: each
    job's TensorFlow on its share of this machine's cores (``$FORECAST_THREADS``, unless the
    user set it)."""
    from forecast_cli.model.runtime import THREADS_ENV, cores

    share = os.environ.get(THREADS_ENV) or str(max(1, cores() // workers))
    return {THREADS_ENV: share}


@contextmanager
def connected(target: Target, log: Log) -> Iterator[Any]:
    """A ``distributed.Client`` on the target, with at least one worker; closed after."""
    import dask
    import distributed
    from distributed.utils import silence_logging_cmgr

    quiet = {"distributed.worker.daemon": False,  # a worker's task may start a process
             "distributed.admin.system-monitor.gil.enabled": False,
             # a big batch's tasks (more than twice the cluster's threads: "root-ish") are
             # queued on the scheduler, not on busy workers (a remote scheduler: its own
             # configuration, see docs/scaling.md); any batch's: JOB_RESOURCE below
             "distributed.scheduler.worker-saturation": 1.0}
    # Silent on success, one line per failed job: the scheduler's and client's own log lines
    # (a worker lost, a task retried) would break cron's contract; the jobs' outcomes say it.
    with dask.config.set(quiet), silence_logging_cmgr(logging.CRITICAL):
        if target.workers is not None:
            cluster = distributed.LocalCluster(
                n_workers=target.workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                silence_logs=logging.CRITICAL, env=worker_env(target.workers),
                resources={JOB_RESOURCE: 1})
            client = distributed.Client(cluster, timeout=CONNECT_SECONDS)
        else:
            cluster = None
            assert target.address is not None
            try:
                client = distributed.Client(target.address, timeout=CONNECT_SECONDS)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {target.address} "
                                   f"within {CONNECT_SECONDS:g} s ({exc}). Start it (`dask "
                                   "scheduler`) or fix --cluster.") from None
        try:
            try:
                client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
            except TimeoutError:
                raise ClusterError(f"no worker joined the Dask scheduler at "
                                   f"{target.describe()} within {NO_WORKER_SECONDS:g} s. "
                                   "Start one (`dask worker ADDRESS`).") from None
            log(f"cluster: {target.describe()}, "
                f"{len(client.scheduler_info(n_workers=-1)['workers'])} worker(s)")
            yield client
        finally:
            client.close(timeout=CONNECT_SECONDS)
            if cluster is not None:
                cluster.close(timeout=CONNECT_SECONDS)


def _outcome(future: Any, name: str) -> tuple[Done, dict[str, Any]]:
    """The task's result as a ``Done`` (and its extras), or a failure saying why it has none."""
    from distributed.scheduler import KilledWorker

    try:
        result: dict[str, Any] = json.loads(future.result(timeout=CONNECT_SECONDS))
    except KilledWorker:
        return Done("failed", "its task killed every Dask worker it ran on (each died while "
                    "running it: perhaps for lack of memory), so it was given up; its previous "
                    "model and forecast are kept, and the other jobs ran.", complete=False), {}
    except Exception as exc:  # the task could not run at all there (an import, a bug)
        return Done("failed", f"the cluster could not run it ({type(exc).__name__}: {exc}).",
                    complete=False), {}
    extras = {k: result.pop(k) for k in ("logs", "ran_on", "seconds")}
    return Done(**result), extras


def run_tasks(client: Any, payloads: dict[str, str], bound: float, log: Log
              ) -> Iterator[tuple[str, Done, list[str], float | None]]:
    """Submit one task per job (``payloads``: name → JSON) and yield (name, done, log lines,
    seconds the job ran on its worker or None) as each ends. Past ``bound`` seconds, or with
    no worker for ``NO_WORKER_SECONDS``, the jobs still running fail, so the batch (and its
    lock) never waits forever."""
    import distributed

    from forecast_cli.ops.cluster_task import run_task

    token = uuid.uuid4().hex[:8]
    resources = task_resources(client)
    pending = {client.submit(run_task, payload, key=f"forecast-{name}-{token}", pure=False,
                             resources=resources): name for name, payload in payloads.items()}
    deadline = time.monotonic() + bound
    workerless_since: float | None = None
    while pending:
        try:
            done, _ = distributed.wait(list(pending), timeout=POLL_SECONDS,
                                       return_when="FIRST_COMPLETED")
        except TimeoutError:  # none ended within POLL_SECONDS
            done = set()
        except (distributed.client.FuturesCancelledError, OSError) as exc:
            yield from _give_up(pending, f"the connection to the scheduler was lost ({exc})")
            return
        for future in done:
            name = pending.pop(future)
            outcome, extras = _outcome(future, name)
            lines = [f"{name}: ran on {extras['ran_on']}"] if extras else []
            yield name, outcome, lines + extras.get("logs", []), extras.get("seconds")
        if not pending:
            break
        now = time.monotonic()
        idle = not client.scheduler_info(n_workers=-1)["workers"]
        workerless_since = (workerless_since or now) if idle else None
        why = ("no Dask worker was left to run it for "
               f"{NO_WORKER_SECONDS:g} s" if workerless_since is not None
               and now - workerless_since > NO_WORKER_SECONDS
               else f"the batch ran past its bound of {bound:g} s" if now > deadline else "")
        if why:
            yield from _give_up(pending, why)
            return


def _give_up(pending: dict[Any, str], why: str
             ) -> Iterator[tuple[str, Done, list[str], float | None]]:
    """Fail every job still pending, saying ``why``."""
    for future, name in sorted(pending.items(), key=lambda item: item[1]):
        future.cancel()
        yield name, Done("failed", f"not finished on the cluster: {why}; its previous model "
                         "and forecast are kept.", complete=False), [], None


def bound_for(limits: list[float]) -> float:
    """Seconds the whole run may take: every job run one after another, each retried up to
    three times, with a worker start each time; far above a healthy run."""
    return sum(4 * (limit + START_SECONDS + 2 * KILL_GRACE) for limit in limits) + 60.0
