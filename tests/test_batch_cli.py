"""`forecast batch` end to end: real CSVs, real trainings, the CLI in subprocesses.

One successful first run (module fixture) is copied into each test's own directory, so every
test starts from a published model and forecast without training it again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.model.bundle import read_bundle
from forecast_cli.ops.batch import lock_path
from forecast_cli.ops.job_run import HANG_ENV
from forecast_cli.ops.worker import KILL_GRACE
from tests.batch_helpers import TINY_JOB, lock_is_held, runs, snapshot, write_batch
from tests.conftest import run_forecast, seasonal_series, write_series

HORIZON = TINY_JOB["horizon"]
KILLED = -signal.SIGKILL


# The tests' series is a ramp (row i has value i), so every expected number can be derived by
# hand. Its last 30 % are test rows, 3–5 training standard deviations above the training mean.
SPLIT = {"train_frac": 0.5, "val_frac": 0.2, "test_frac": 0.3}


def _job_dir(root: Path, **changes: Any) -> Path:
    """root/batch.toml with one job `daily` on root/daily.csv (written if absent)."""
    if not (root / "daily.csv").exists():
        write_series(root / "daily.csv", np.arange(120.0))
    job = {"data": "daily.csv", "model_dir": "models/{job}", "output": "out/{job}.csv"}
    return write_batch(root / "batch.toml", {"daily": job}, {**TINY_JOB, **SPLIT, **changes})


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("first")
    batch = _job_dir(root)
    return root, run_forecast("batch", batch)


@pytest.fixture
def work(first_run: tuple[Path, Any], tmp_path: Path) -> Path:
    """A private copy of the first run's directory (data, batch file, models, state)."""
    return Path(shutil.copytree(first_run[0], tmp_path / "w"))


def _outputs(root: Path) -> dict[str, bytes]:
    return snapshot(root / "models", root / "out")


def _forecast(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "out" / "daily.csv", parse_dates=["timestamp"])


def test_a_successful_run_prints_nothing_and_publishes(first_run: tuple[Path, Any]) -> None:
    root, proc = first_run
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (root / "models" / "daily" / "current").read_text() == "v0001\n"
    read_bundle(root / "models" / "daily" / "versions" / "v0001" / "model")  # verifies sums
    fc = _forecast(root)
    last = pd.Timestamp("2020-01-01") + pd.Timedelta(days=119)
    assert list(fc["timestamp"]) == list(pd.date_range(last, periods=HORIZON + 1)[1:])
    run = runs(root / ".forecast-state", "daily")[0]
    assert (run["status"], run["retrained"], run["promoted"]) == ("ok", 1, 1)
    assert run["reason"] == "no model yet"


def test_unchanged_second_run_retrains_nothing(work: Path) -> None:
    before = _outputs(work)
    proc = run_forecast("batch", work / "batch.toml", "--json")
    assert (proc.returncode, proc.stderr) == (0, "")
    (summary,) = json.loads(proc.stdout)["jobs"]
    assert (summary["status"], summary["retrained"], summary["forecast_changed"]) == (
        "ok", False, False)
    assert (summary["rows"], summary["model_version"]) == (120, "v0001")
    assert _outputs(work) == before
    run = runs(work / ".forecast-state", "daily")[0]
    assert (run["retrained"], run["forecast_changed"], run["model_version"]) == (0, 0, "v0001")
    assert "unchanged" in run["reason"]
    assert "is up to date" in (work / ".forecast-state" / "batch.log").read_text()


def test_overlapping_runs_second_exits_75_first_completes_worse_challenger_kept_out(
        work: Path) -> None:
    # The first run retrains (new settings), holding the lock; its challenger is far worse than
    # the champion (window_norm "last") forecasting the ramp's last value plus a small learned
    # step: no window normalisation and learning rate 1e-12 (its random initial weights) stay
    # within about one standard deviation of the training mean, while the test rows lie 3–5
    # standard deviations above it. So it must not be promoted.
    before = _outputs(work)
    batch = _job_dir(work, epochs=1, window_norm="none", learning_rate=1e-12)
    lock = lock_path(work / ".forecast-state", batch.resolve())
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    first = subprocess.Popen([sys.executable, "-m", "forecast_cli", "batch", str(batch)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    while not lock_is_held(lock):
        assert first.poll() is None, "the first run ended before it was seen holding its lock"
        time.sleep(0.02)
    second = run_forecast("batch", batch)
    out, err = first.communicate(timeout=300)
    assert second.returncode == 75
    assert second.stdout == ""
    assert "is locked by another run" in second.stderr
    assert "--wait" in second.stderr
    assert (first.returncode, out, err) == (0, "", "")
    fc = _forecast(work)
    assert len(fc) == HORIZON
    assert np.isfinite(fc["value"]).all()
    current = (work / "models" / "daily" / "current").read_text().strip()
    read_bundle(work / "models" / "daily" / "versions" / current / "model")
    run = runs(work / ".forecast-state", "daily")[0]
    assert (run["retrained"], run["promoted"], run["model_version"]) == (1, 0, "v0001")
    assert run["challenger_mae"] > run["champion_mae"] > 0
    assert _outputs(work) == before


def _kill_run(batch: Path, point: str) -> None:
    proc = run_forecast("batch", batch, env={"FORECAST_TEST_KILL_AT": point})
    assert proc.returncode == KILLED, (proc.returncode, proc.stderr)


def test_kill_during_training_then_publication_keeps_outputs_and_resumes(work: Path) -> None:
    before = _outputs(work)
    batch = _job_dir(work, horizon=5)  # the current model cannot be compared: the new one wins
    _kill_run(batch, "training-epoch-2")
    assert _outputs(work) == before
    _kill_run(batch, "publish")
    after = _outputs(work)
    assert {k: after[k] for k in before} == before
    assert list((work / "models" / "daily").glob(".current.*.tmp")), "killed before its rename"
    resumed = runs(work / ".forecast-state", "daily")[0]
    # 2 of 4 epochs were done before the first kill: the next run trained only the last 2.
    assert (resumed["retrained"], resumed["resumed_from_epoch"], resumed["epochs_run"]) == (
        1, 2, 2)
    proc = run_forecast("batch", batch)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    latest, *killed = runs(work / ".forecast-state", "daily")[:3]
    assert [r["status"] for r in killed] == ["killed", "killed"]
    assert (latest["status"], latest["promoted"]) == ("ok", 1)
    current = (work / "models" / "daily" / "current").read_text().strip()
    assert read_bundle(work / "models" / "daily" / "versions" / current / "model").spec.horizon == 5
    assert len(_forecast(work)) == 5
    assert not any((work / ".forecast-state" / "backups" / "daily").iterdir())
    assert not list((work / "models" / "daily").glob(".current.*.tmp"))


def test_kill_during_forecast_writing_then_realised_accuracy(work: Path) -> None:
    fc = _forecast(work)
    errors = np.array([1.0, -2.0, 3.0, -4.0])  # |e| averages 2.5
    write_series(work / "daily.csv", np.concatenate([np.arange(120.0),
                                                     fc["value"].to_numpy() + errors]))
    before = _outputs(work)  # the actuals arrived: a new forecast is due, no retraining
    _kill_run(work / "batch.toml", "forecast-write")
    assert {k: v for k, v in _outputs(work).items() if not k.endswith(".tmp")} == before
    assert list((work / "out").glob(".daily.csv.*.tmp")), "the kill left its temporary file"
    proc = run_forecast("batch", work / "batch.toml", "-v")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert "removed leftovers of a killed run: .daily.csv." in proc.stderr
    assert "realised accuracy of the forecast from 2020-04-29" in proc.stderr
    assert not list((work / "out").glob("*.tmp"))
    assert _forecast(work)["timestamp"].iloc[0] == pd.Timestamp("2020-01-01") + pd.Timedelta(
        days=124)
    shown = run_forecast("history", work / "batch.toml", "--json")
    assert shown.returncode == 0, shown.stderr
    (row,) = json.loads(shown.stdout)["accuracy"]
    assert row["points"] == HORIZON
    # realised coverage of each interval the forecast had, by hand from its bounds
    actual = fc["value"].to_numpy() + errors
    assert row["coverage"] == {
        level: float(np.mean((fc[f"value_lower_{level}"] <= actual)
                             & (actual <= fc[f"value_upper_{level}"]))) for level in ("80", "95")}
    assert row["series"] == []
    assert row["mae"] == pytest.approx(2.5, abs=1e-9)
    # MASE scale: seasonal-naive MAE of the ramp up to the origin, season 7 (daily): 7.
    assert row["mase"] == pytest.approx(2.5 / 7, rel=1e-9)
    table = run_forecast("history", work / "batch.toml")
    assert table.returncode == 0
    assert "Realised accuracy" in table.stdout


def test_bad_jobs_fail_alone_and_do_not_stop_two_good_ones(tmp_path: Path) -> None:
    """Two bad jobs, one refused for its data (a cell that is not a number), one for its
    output (its own data file: issue 14, see test_regular_files.py), among two good ones."""
    write_series(tmp_path / "a.csv", seasonal_series(120, seed=1))
    write_series(tmp_path / "b.csv", seasonal_series(120, seed=2))
    bad = tmp_path / "bad.csv"
    write_series(bad, seasonal_series(120, seed=3))
    lines = bad.read_text().splitlines()
    lines[10] = lines[10].split(",")[0] + ",oops"
    bad.write_text("\n".join(lines) + "\n")
    own = write_series(tmp_path / "own.csv", seasonal_series(120, seed=4))
    before = own.read_bytes()
    jobs = {name: {"data": f"{name}.csv", "output": "out/{job}.csv"}
            for name in ("a", "bad", "b")}
    jobs["own"] = {"data": "own.csv", "output": "own.csv"}
    batch = write_batch(tmp_path / "batch.toml", jobs, {**TINY_JOB, "epochs": 2})
    proc = run_forecast("batch", batch)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    errors = dict(line.partition(" failed: ")[::2] for line in lines)
    assert (len(lines), sorted(errors)) == (2, ["Error: job 'bad'", "Error: job 'own'"])
    assert "line 11" in errors["Error: job 'bad'"]
    assert "not numbers" in errors["Error: job 'bad'"]
    assert "is the input file" in errors["Error: job 'own'"]
    for name in ("a", "b"):
        assert len(pd.read_csv(tmp_path / "out" / f"{name}.csv")) == HORIZON
    assert not (tmp_path / "out" / "bad.csv").exists()
    assert own.read_bytes() == before


def _with_busy_job(root: Path, time_limit: float) -> Path:
    """The batch file with a second job `busy` (sorted first) beside `daily`."""
    jobs = {name: {"data": "daily.csv", "model_dir": "models/{job}", "output": "out/{job}.csv"}
            for name in ("busy", "daily")}
    jobs["busy"]["time_limit"] = time_limit
    return write_batch(root / "batch.toml", jobs, {**TINY_JOB, **SPLIT})


def test_a_job_over_its_time_limit_is_stopped_and_fails_alone(work: Path) -> None:
    # `busy` hangs holding its lock, deaf to SIGTERM (as a job stuck in C code may be): it is
    # stopped at 2 s, then killed; `daily` then runs in a fresh worker (up to date: no training).
    before = _outputs(work)
    batch = _with_busy_job(work, time_limit=2)
    log = work / ".forecast-state" / "batch.log"
    workers = log.read_text().count("job worker pid")
    started = time.monotonic()
    proc = run_forecast("batch", batch, "--json", env={HANG_ENV: "busy"})
    took = time.monotonic() - started
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: job 'busy' failed: exceeded its time limit of 2 s and was stopped; its "
        "previous model and forecast are kept, and an interrupted training resumes from its "
        "last completed epoch next run. Raise `time_limit` if the job needs longer.\n")
    summary = {j["job"]: j for j in json.loads(proc.stdout)["jobs"]}
    assert (summary["busy"]["status"], summary["daily"]["status"]) == ("failed", "ok")
    assert 2 + KILL_GRACE <= summary["busy"]["seconds"] < 2 + 2 * KILL_GRACE
    assert took < 60
    assert _outputs(work) == before
    (run,) = runs(work / ".forecast-state", "busy")
    assert run["status"] == "failed"
    assert run["message"].startswith("exceeded its time limit of 2 s")
    assert run["finished_at"] is not None
    for lock in (lock_path(work / ".forecast-state", batch.resolve()),
                 work / "models" / "busy" / ".lock"):
        assert not lock_is_held(lock)
    assert log.read_text().count("job worker pid") == workers + 2  # one replaced the other


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's pid 1 may never reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_killed_batch_takes_its_running_job_with_it(work: Path) -> None:
    # Otherwise the job would go on alone, holding its lock, and the next run could not run it.
    batch = _with_busy_job(work, time_limit=600)
    env = {**os.environ, "PYTHONHASHSEED": "0", HANG_ENV: "busy"}
    parent = subprocess.Popen([sys.executable, "-m", "forecast_cli", "batch", str(batch)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    log, lock = work / ".forecast-state" / "batch.log", work / "models" / "busy" / ".lock"
    while not lock_is_held(lock):
        assert parent.poll() is None, "the batch ended before its job took its lock"
        time.sleep(0.05)
    pid = int(log.read_text().split("job worker pid ")[-1].split()[0])
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while not _gone(pid):
        assert time.monotonic() < deadline, f"the job's worker {pid} outlived its batch"
        time.sleep(0.05)
    while lock_is_held(lock):  # freed as the worker's files close (a moment after, on 2 busy
        assert time.monotonic() < deadline, "the job's lock outlived its worker"  # cores)
        time.sleep(0.05)


@pytest.mark.parametrize("option", [("--job-time-limit", "nan"), ("--job-time-limit", "0.5"),
                                    ("--wait", "inf")])
def test_a_bad_time_limit_or_wait_is_a_usage_error(tmp_path: Path, option: tuple[str, str]
                                                   ) -> None:
    proc = run_forecast("batch", _job_dir(tmp_path), *option)
    assert proc.returncode == 2
    assert f"Invalid value for '{option[0]}'" in proc.stderr
    assert not (tmp_path / ".forecast-state").exists()  # refused before anything ran
