"""`forecast batch` on a Dask cluster: a real scheduler and real workers on 127.0.0.1.

One scheduler and two workers (`dask scheduler` / `dask worker` subprocesses) serve the whole
module; `--workers N` (a `LocalCluster`) has its own test. The same two tiny jobs run locally
once (the reference), then on the cluster: the forecasts and models must be the same bytes.
Every wait is bounded and every process started here is killed in teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from forecast_cli.errors import ClusterError, ConfigError
from forecast_cli.ops import cluster as cluster_module
from forecast_cli.ops.batch import lock_path, run_batch
from forecast_cli.ops.cluster_task import KILL_WORKER_ENV
from tests.batch_helpers import TINY_JOB, lock_is_held, runs, write_batch
from tests.conftest import REPO, run_forecast, seasonal_series, write_series

distributed = pytest.importorskip("distributed")

NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # one run date: version.json's trained_at
JOBS = ("a", "b")
SETTINGS = {**TINY_JOB, "epochs": 2, "patience": 2}
START_TIMEOUT = 120.0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0",
            "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}  # as docs/scaling.md says


def _dask(*args: str) -> subprocess.Popen[bytes]:
    """`python -m dask ARGS` (the `dask` command) in its own process group."""
    return subprocess.Popen([sys.executable, "-m", "dask", *args], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


class Cluster:
    """A scheduler and its workers, as subprocesses; ``workers`` can be killed and replaced."""

    def __init__(self, root: Path) -> None:
        file = root / "scheduler.json"
        self.procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--no-dashboard", "--scheduler-file", str(file))]
        deadline = time.monotonic() + START_TIMEOUT
        while not file.is_file() or not file.read_text().strip().endswith("}"):
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert self.procs[0].poll() is None, "the scheduler exited"
            time.sleep(0.2)
        self.file = file
        self.client = distributed.Client(scheduler_file=str(file), timeout=START_TIMEOUT)
        self.address: str = self.client.scheduler.address
        self.add_workers(2)

    def add_workers(self, n: int) -> None:
        have = len(self.client.scheduler_info(n_workers=-1)["workers"])
        for _ in range(n):  # no nanny: a killed worker stays dead, as a lost machine does
            self.procs.append(_dask("worker", self.address, "--nthreads", "1", "--no-nanny",
                                    "--host", "127.0.0.1", "--no-dashboard",
                                    "--resources", f"{cluster_module.JOB_RESOURCE}=1"))
        self.client.wait_for_workers(have + n, timeout=START_TIMEOUT)

    def worker_running(self, prefix: str) -> int | None:
        """The pid of the worker processing a task whose key starts with ``prefix``."""
        for address, keys in self.client.processing().items():
            if any(str(k).startswith(prefix) for k in keys):
                pids = self.client.run(os.getpid, workers=[address], wait=True)
                return int(pids[address])
        return None

    def close(self) -> None:
        self.client.close()
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield c
    finally:
        c.close()


def _batch(root: Path, names: tuple[str, ...] = JOBS, **jobs: dict[str, Any]) -> Path:
    """root/batch.toml: jobs ``names`` of a and b (seeded series), plus ``jobs``."""
    for i, name in enumerate(JOBS):
        write_series(root / f"{name}.csv", seasonal_series(120, seed=i))
    tables = {name: {"data": f"{name}.csv", "output": "out/{job}.csv"} for name in names}
    return write_batch(root / "batch.toml", {**tables, **jobs}, SETTINGS)


# Files that name their directory, their time of creation or a duration (model.onnx: the
# exporter's graph names), so differ between any two runs; their scores are compared instead.
NAMING = (".lock", "version.json", "metrics.json", "config.json", "manifest.json", "model.onnx",
          "scores.json")


def _published(root: Path) -> dict[str, Any]:
    """Forecasts, weights, scalers, test forecasts by relative path, and each version's test
    scores."""
    files = sorted(p for d in ("out", "models") for p in (root / d).rglob("*") if p.is_file())
    found: dict[str, Any] = {str(p.relative_to(root)): p.read_bytes() for p in files
                             if p.name not in NAMING}
    for p in files:
        if p.name == "metrics.json":
            found[str(p.relative_to(root))] = json.loads(p.read_text())["test"]
    return found


def _of(files: dict[str, Any], job: str) -> dict[str, Any]:
    """The files of one job."""
    return {k: v for k, v in files.items() if k.split("/")[1] in (job, f"{job}.csv")}


@dataclass(frozen=True)
class Reference:
    root: Path  # jobs a and b after the local, in-process batch: models, forecasts, state
    files: dict[str, Any]  # what it published (``_published``)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("local")
    result = run_batch(_batch(root), now=NOW)
    assert result.exit_code == 0, [o.message for o in result.outcomes]
    return Reference(root, _published(root))


def _stored(root: Path) -> list[tuple[Any, ...]]:
    """The forecast points and bounds in the run history (the ones realised accuracy needs)."""
    with sqlite3.connect(root / ".forecast-state" / "history.sqlite") as conn:
        points = conn.execute("SELECT job, model_version, origin, series, timestamp, step, "
                              "target, value FROM forecasts ORDER BY 1, 2, 3, 4, 7, 6")
        bounds = conn.execute("SELECT * FROM forecast_bounds ORDER BY 1, 2, 3, 4, 5, 6, 7")
        return [*points.fetchall(), *bounds.fetchall()]


def _wait_for_lock(lock: Path, alive: Any, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not lock_is_held(lock):
        assert alive(), f"the batch ended before {what}"
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)


def test_cluster_run_gives_the_local_bytes_silently_despite_a_killed_worker(
        cluster: Cluster, reference: Reference, tmp_path: Path) -> None:
    """Jobs a and b on the cluster (`--cluster`); the worker running a is killed (kill -9)
    mid-job, which costs a retry, not an output; an overlapping run exits 75. Then a run on
    the scheduler the batch file names (its `cluster` key) finds everything up to date."""
    batch = _batch(tmp_path)
    first = subprocess.Popen([sys.executable, "-m", "forecast_cli", "batch", str(batch),
                              "--cluster", cluster.address], env=_env(), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_lock(lock_path(tmp_path / ".forecast-state", batch.resolve()),
                       lambda: first.poll() is None, "the first run took its lock")
        # job a's process runs, holding its lock: its worker dies as a lost machine does
        _wait_for_lock(tmp_path / "models" / "a" / ".lock", lambda: first.poll() is None,
                       "job a took its lock")
        pid = cluster.worker_running("forecast-a-")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        second = run_forecast("batch", batch, env={"FORECAST_CLUSTER": cluster.address})
        out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
        cluster.add_workers(1)  # two again, for the tests after this one
    assert second.returncode == 75, second.stderr
    assert "is locked by another run" in second.stderr
    assert (first.returncode, out, err) == (0, "", "")  # cron's contract: silent on success
    assert _published(tmp_path) == reference.files  # the very bytes of the local run
    assert not list(tmp_path.rglob("*.tmp"))
    assert not list(tmp_path.rglob(".staging-*"))
    for name in JOBS:  # the client wrote the history: one finished run per job
        (row,) = runs(tmp_path / ".forecast-state", name)
        assert (row["status"], row["retrained"], row["promoted"]) == ("ok", 1, 1)
        assert row["model_version"] == "v0001"
        assert row["finished_at"] is not None
    assert _stored(tmp_path) == _stored(reference.root)  # replayed into the client's history
    log = tmp_path / ".forecast-state" / "batch.log"
    first_log = log.read_text()
    assert f"cluster: {cluster.address}" in first_log
    assert first_log.count("a: ran on ") == 1  # the killed attempt sent nothing back
    # the next run finds the same data and models: no training, the forecast is up to date
    batch.write_text(f'cluster = "{cluster.address}"\n' + batch.read_text())
    again = run_batch(batch)
    assert again.exit_code == 0
    assert f"cluster: {cluster.address}" in log.read_text()[len(first_log):]  # the key's
    assert [o.record["retrained"] for o in again.outcomes] == [0, 0]
    assert [o.record["forecast_changed"] for o in again.outcomes] == [0, 0]
    assert _published(tmp_path) == reference.files


def test_local_workers_a_bad_job_and_a_worker_killing_job_fail_alone(
        reference: Reference, tmp_path: Path) -> None:
    root = Path(shutil.copytree(reference.root, tmp_path / "w"))  # job a: up to date
    bad = root / "bad.csv"
    write_series(bad, seasonal_series(120, seed=3))
    lines = bad.read_text().splitlines()
    lines[10] = lines[10].split(",")[0] + ",oops"
    bad.write_text("\n".join(lines) + "\n")
    batch = _batch(root, names=("a",), bad={"data": "bad.csv", "output": "out/{job}.csv"},
                   crash={"data": "a.csv", "output": "out/{job}.csv"})
    env = {KILL_WORKER_ENV: "crash", "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    proc = run_forecast("batch", batch, "--workers", "2", env=env, timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    errors = proc.stderr.splitlines()
    assert len(errors) == 2, proc.stderr
    assert errors[0].startswith("Error: job 'bad' failed: ")
    assert "line 11" in errors[0]
    assert errors[1].startswith("Error: job 'crash' failed: its task killed every Dask worker")
    assert [r["status"] for r in runs(root / ".forecast-state", "a")] == ["ok", "ok"]
    assert [r["status"] for r in runs(root / ".forecast-state", "crash")] == ["failed"]
    assert not (root / "models" / "crash").exists()
    assert not (root / "out" / "crash.csv").exists()
    assert _published(root) == _of(reference.files, "a") | _of(reference.files, "b")


@pytest.mark.parametrize(("args", "words"), [
    ({"cluster_address": "10.0.0.5:8786"}, "a Dask scheduler address is tcp://HOST:PORT"),
    ({"cluster_address": "tcp://127.0.0.1:1", "workers": 2}, "exclude each other"),
])
def test_a_bad_cluster_option_is_a_usage_error_before_any_run(
        tmp_path: Path, args: dict[str, Any], words: str) -> None:
    batch = _batch(tmp_path, names=("a",))
    with pytest.raises(ConfigError, match=words):
        run_batch(batch, **args)
    assert not (tmp_path / ".forecast-state" / "history.sqlite").exists()


def test_an_unreachable_scheduler_exits_69_and_runs_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_SECONDS", 2.0)
    batch = _batch(tmp_path, names=("a",))
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at "
                       r"tcp://127\.0\.0\.1:9 within 2 s") as caught:
        run_batch(batch, cluster_address="tcp://127.0.0.1:9")
    assert caught.value.exit_code == 69
    assert runs(tmp_path / ".forecast-state", "a") == []
    assert not (tmp_path / "models").exists()
