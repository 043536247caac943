"""How jobs share a cluster's workers: one job per worker at a time (the ``forecast_job``
resource) and each job's TensorFlow on its share of the cores ($FORECAST_THREADS)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from forecast_cli.model.runtime import THREADS_ENV, cores, thread_count
from forecast_cli.ops.cluster import JOB_RESOURCE, task_resources, worker_env


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), (" 1 ", 1), ("0", None), ("-2", None),
                                               ("two", None), ("", None)])
def test_thread_count_is_a_positive_integer_or_tensorflows_choice(
        raw: str, expected: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, raw)
    assert thread_count() == expected


def test_local_workers_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    n = cores()
    assert worker_env(1) == {THREADS_ENV: str(n)}
    assert worker_env(2) == {THREADS_ENV: str(max(1, n // 2))}
    assert worker_env(4 * n) == {THREADS_ENV: "1"}  # never 0
    monkeypatch.setenv(THREADS_ENV, "5")  # the user's own choice wins
    assert worker_env(2) == {THREADS_ENV: "5"}


def test_tensorflow_runs_on_the_threads_given() -> None:
    code = ("from forecast_cli.model.runtime import tf_module; t = tf_module().config.threading;"
            "print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, THREADS_ENV: "1"}, timeout=120, check=True)
    assert out.stdout.split() == ["1", "1"]


@pytest.mark.parametrize("offered", [{JOB_RESOURCE: 1}, None])
def test_tasks_take_the_job_resource_only_where_every_worker_offers_it(
        offered: dict[str, float] | None) -> None:
    """A task asking for a resource no worker has would never run: without it on every
    worker, tasks go unrestricted."""
    import distributed

    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None,
                                  resources=offered) as cluster, \
            distributed.Client(cluster) as client:
        assert task_resources(client) == offered
