"""Run a partitioned train's or predict's tasks: here one after another, or on a Dask cluster.

Without a cluster every task runs in this process, in partition order. With one
(``cluster.target_for``: ``--cluster``, ``--workers N`` or ``$FORECAST_CLUSTER``) each task is
submitted to the scheduler at once and runs on a worker in a fresh process of its own
(``partition_task``); the results are put back in partition order, so what is written does not
depend on which worker finished first. A worker that dies mid-task costs a retry of that task
elsewhere (the scheduler's ``allowed-failures``); a task that killed that many workers, or one
that failed, fails the whole run, naming its partition: nothing is published (the staging run
is removed), the previous run stays. Every wait is bounded by ``cluster.NO_WORKER_SECONDS``
without a worker, and a lost scheduler ends the wait at once.
"""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

from forecast_cli.errors import ClusterError, ForecastError
from forecast_cli.ops import cluster, partition_task

Log = Callable[[str], None]
OnDone = Callable[[int, int, str], None]  # tasks done, total, the one that just ended


def _named(task: dict[str, Any], exc: ForecastError) -> ForecastError:
    """``exc`` with the partition it came from named first, its class (exit code) kept."""
    return type(exc)(f"partition {task['name']} ({len(task['series'])} series): {exc}")


def run_all(kind: str, tasks: list[dict[str, Any]], target: cluster.Target | None,
            log: Log, on_done: OnDone | None = None) -> list[dict[str, Any]]:
    """Each task's result, in the order of ``tasks``; raises the first failure."""
    if target is None:
        results = []
        for i, task in enumerate(tasks):
            try:
                results.append(partition_task.run(kind, task))
            except ForecastError as exc:
                raise _named(task, exc) from None
            if on_done is not None:
                on_done(i + 1, len(tasks), task["name"])
        return results
    with warnings.catch_warnings():  # a local cluster's "port 8787 in use": not the user's
        warnings.filterwarnings("ignore", category=UserWarning, module=r"distributed\..*")
        with cluster.connected(target, log) as client:
            return _on_cluster(client, kind, tasks, on_done)


def _on_cluster(client: Any, kind: str, tasks: list[dict[str, Any]],
                on_done: OnDone | None) -> list[dict[str, Any]]:
    import distributed
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:8]
    resources = cluster.task_resources(client)  # one partition per worker at a time, as jobs
    pending = {client.submit(partition_task.in_fresh_process,
                             json.dumps({"kind": kind, "task": task}),
                             key=f"forecast-{kind}-{task['name']}-{token}", pure=False,
                             resources=resources): i
               for i, task in enumerate(tasks)}
    results: dict[int, dict[str, Any]] = {}
    workerless_since: float | None = None
    try:
        while pending:
            try:
                done, _ = distributed.wait(list(pending), timeout=cluster.POLL_SECONDS,
                                           return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            except (distributed.client.FuturesCancelledError, OSError) as exc:
                raise ClusterError(f"the connection to the Dask scheduler was lost ({exc}); "
                                   "nothing was published.") from None
            for future in done:
                i = pending.pop(future)
                try:
                    result = json.loads(future.result(timeout=cluster.CONNECT_SECONDS))
                except KilledWorker:
                    raise _named(tasks[i], ForecastError(
                        "its task killed every Dask worker it ran on (each died while running "
                        "it: perhaps for lack of memory); nothing was published.")) from None
                error = partition_task.failure(result)
                if error is not None:
                    raise _named(tasks[i], error)
                results[i] = result
                if on_done is not None:
                    on_done(len(results), len(tasks), tasks[i]["name"])
            idle = not client.scheduler_info(n_workers=-1)["workers"]
            now = time.monotonic()
            workerless_since = (workerless_since or now) if idle else None
            if workerless_since is not None and now - workerless_since > \
                    cluster.NO_WORKER_SECONDS:
                raise ClusterError(f"no Dask worker was left to run the partitions for "
                                   f"{cluster.NO_WORKER_SECONDS:g} s; nothing was published.")
    finally:
        for future in pending:
            future.cancel()
    return [results[i] for i in range(len(tasks))]
