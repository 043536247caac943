"""The batch building blocks in-process, without TensorFlow: jobs, policy, locks, registry,
history, realised accuracy."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.data.frame import Frame
from forecast_cli.errors import BundleError, ConfigError, LockedError, OutputError
from forecast_cli.ops import accuracy, history, locking, policy, registry
from forecast_cli.ops.batch import BatchResult, JobOutcome, run_batch
from forecast_cli.ops.jobs import load_batch
from tests.batch_helpers import write_batch

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SCHEMA = {"time_col": "timestamp", "columns": ["value"], "freq": "D"}


# --- jobs -------------------------------------------------------------------------------------

def test_jobs_merge_defaults_and_resolve_paths(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "b.toml", {
        "sales": {"data": "in/*.csv", "output": "out/{job}-{date}.csv", "horizon": 6},
        "other": {"data": "/abs/x.csv", "retrain": "never", "keep_versions": 5}},
        {"epochs": 9, "retrain": {"every_days": 7}})
    spec = load_batch(batch)
    sales, other = sorted(spec.jobs, key=lambda j: j.name != "sales")
    assert (sales.settings.epochs, sales.settings.horizon, other.settings.horizon) == (9, 6, None)
    assert sales.model_dir == tmp_path / "models" / "sales"
    assert sales.output_path(T0.date()) == tmp_path / "out" / "sales-2024-01-01.csv"
    assert sales.policy == policy.RetrainPolicy(every_days=7.0)
    assert (other.policy.never, other.keep_versions, other.data) == (True, 5, "/abs/x.csv")
    assert (sales.time_limit, other.time_limit) == (3600.0, 3600.0)  # seconds, by default
    assert spec.state_dir == tmp_path / ".forecast-state"


def test_a_time_limit_in_the_defaults_or_a_job(tmp_path: Path) -> None:
    spec = load_batch(write_batch(tmp_path / "b.toml", {"a": {"data": "a.csv"},
                                                        "b": {"data": "b.csv", "time_limit": 90}},
                                  {"time_limit": 1.5}))
    assert [j.time_limit for j in spec.jobs] == [1.5, 90.0]


@pytest.mark.parametrize(("given", "message"), [
    ({"wait": float("nan")}, "`wait` must be a finite number. Got nan."),
    ({"time_limit": float("nan")}, "`time_limit` must be a finite number. Got nan."),
    ({"time_limit": 0.5}, "`time_limit` must be ≥ 1.0. Got 0.5."),
])
def test_run_batch_refuses_a_bad_wait_or_time_limit(tmp_path: Path, given: dict[str, float],
                                                    message: str) -> None:
    batch = write_batch(tmp_path / "b.toml", {"a": {"data": "a.csv"}})
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_batch(batch, **given)  # type: ignore[arg-type]
    assert not (tmp_path / ".forecast-state").exists()


@pytest.mark.parametrize(("jobs", "bad", "message"), [
    ({"a": {"data": "a.csv", "model_dir": "m"}, "b": {"data": "b.csv", "model_dir": "m"}},
     {"a", "b"}, "`model_dir` {root}/m is also the model directory of job '{other}'; each job "
                 "needs its own."),
    ({"a": {"data": "a.csv", "output": "o.csv"}, "b": {"data": "b.csv", "output": "o.csv"}},
     {"a", "b"}, "`output` {root}/o.csv is also the output of job '{other}'; each job needs "
                 "its own."),
    ({"a": {"data": "a.csv", "output": "in/b-{date}.csv"}, "b": {"data": "in/b-*.csv"}},
     {"a"}, "`output` {root}/in/b-{date}.csv is the input file of job 'b' ({root}/in/b-*.csv); "
            "writing there would destroy the data. Name another output."),
    ({"a": {"data": "a.csv", "output": "models/a/current.csv"}, "b": {"data": "b.csv"}},
     {"a"}, "`output` {root}/models/a/current.csv lies inside the model directory "
            "{root}/models/a, where it could replace a model file."),
])
def test_jobs_that_would_write_over_each_others_files_fail(
        tmp_path: Path, jobs: dict[str, dict[str, str]], bad: set[str], message: str) -> None:
    spec = load_batch(write_batch(tmp_path / "b.toml", {**jobs, "c": {"data": "c.csv"}}))
    assert set(spec.invalid) == bad
    assert [j.name for j in spec.jobs] == sorted({"a", "b", "c"} - bad)
    for name in bad:
        other = ({"a", "b"} - {name}).pop()
        expected = message.format(root=tmp_path, other=other, date="{date}")
        assert spec.invalid[name] == f"{tmp_path / 'b.toml'}: job {name!r}: {expected}"


def test_a_state_dir_that_is_not_a_path_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text('state_dir = 5\n[jobs.a]\ndata = "a.csv"\n')
    with pytest.raises(ConfigError, match=r"`state_dir` must be a non-empty path. Got 5."):
        load_batch(tmp_path / "b.toml")


def test_a_batch_log_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "b.toml", {"a": {"data": "a.csv"}})
    (tmp_path / ".forecast-state").mkdir()
    os.mkfifo(tmp_path / ".forecast-state" / "batch.log")  # opening it would wait for a reader
    with pytest.raises(OutputError, match=r"batch.log: is a named pipe \(FIFO\), not a regular"):
        run_batch(batch)


def test_data_glob_takes_the_last_match(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for day in ("2024-01-02", "2024-01-10", "2024-01-09"):
        (tmp_path / "in" / f"sales-{day}.csv").write_text("x\n")
    spec = load_batch(write_batch(tmp_path / "b.toml", {"s": {"data": "in/sales-*.csv"}}))
    assert spec.jobs[0].data_path().name == "sales-2024-01-10.csv"


@pytest.mark.parametrize(("table", "message"), [
    ({"data": "a.csv", "epochs": 0}, "`epochs` must be ≥ 1. Got 0."),
    ({"data": "a.csv", "epoch": 3}, "unknown setting `epoch`. Did you mean `epochs`?"),
    ({"model_dir": "m"}, "`data` is required"),
    ({"data": "a.csv", "output_dir": "x"}, "`output_dir` is not used by batch jobs"),
    ({"data": "a.csv", "output": "o-{day}.csv"}, "only {job} and {date} may appear"),
    ({"data": "a.csv", "retrain": "weekly"}, "`retrain` must be \"never\" or a table"),
    ({"data": "a.csv", "retrain": {"every_day": 1}}, "`retrain.every_day` is unknown"),
    ({"data": "a.csv", "retrain": {"min_new_rows": 0}}, "`retrain.min_new_rows` must be a "
                                                        "number > 0. Got 0."),
    ({"data": "a.csv", "keep_versions": 0}, "`keep_versions` must be an integer ≥ 1. Got 0."),
    ({"data": "a.csv", "retrain": {"every_days": float("nan")}},
     "`retrain.every_days` must be a number > 0. Got nan."),
    ({"data": "a.csv", "time_limit": 0}, "`time_limit` must be ≥ 1.0. Got 0."),
    ({"data": "a.csv", "time_limit": "1h"}, "`time_limit` must be a number of seconds. Got '1h'."),
    ({"data": "a.csv", "time_limit": True}, "`time_limit` must be a number of seconds. Got True."),
    ({"data": "a.csv", "time_limit": float("inf")}, "`time_limit` must be a finite number."),
    ({"data": "a.csv", "time_limit": 10**9}, "`time_limit` must be ≤ 604,800. Got 1,000,000,000."),
])
def test_a_bad_job_is_refused_alone(tmp_path: Path, table: dict[str, object],
                                    message: str) -> None:
    spec = load_batch(write_batch(tmp_path / "b.toml", {"bad": table, "good": {"data": "g.csv"}}))
    assert [j.name for j in spec.jobs] == ["good"]
    assert message in spec.invalid["bad"]
    assert spec.invalid["bad"].startswith(f"{tmp_path / 'b.toml'}: job 'bad': ")


def test_a_broken_batch_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text("[jobs\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_batch(tmp_path / "b.toml")
    (tmp_path / "b.toml").write_text("[jobz.a]\ndata = 'x'\n")
    with pytest.raises(ConfigError, match="unknown top-level key `jobz`"):
        load_batch(tmp_path / "b.toml")


# --- policy -----------------------------------------------------------------------------------

def _champ(**kw: object) -> policy.Champion:
    base = {"trained_at": T0, "rows": 100, "schema": SCHEMA, "config_hash": "c",
            "train_key": "k1"}
    return policy.Champion(**{**base, **kw})  # type: ignore[arg-type]


def _now(**kw: object) -> policy.DataState:
    base = {"rows": 100, "schema": SCHEMA, "config_hash": "c", "train_key": "k2"}
    return policy.DataState(**{**base, **kw})  # type: ignore[arg-type]


def test_policy_reasons() -> None:
    p = policy.RetrainPolicy(every_days=7, min_new_rows=30)
    assert policy.retrain_reason(p, None, _now(), T0) == "no model yet"
    assert policy.retrain_reason(policy.RetrainPolicy(never=True), None, _now(), T0)
    assert policy.retrain_reason(p, _champ(), _now(train_key="k1"), T0 + timedelta(days=99)) \
        is None
    assert policy.retrain_reason(p, _champ(), _now(), T0 + timedelta(days=6)) is None
    assert policy.retrain_reason(p, _champ(), _now(), T0 + timedelta(days=7)) == \
        "model is 7.0 days old (every_days = 7)"
    assert policy.retrain_reason(p, _champ(), _now(rows=130), T0) == \
        "30 new rows (min_new_rows = 30)"
    assert policy.retrain_reason(p, _champ(), _now(rows=129), T0) is None
    assert policy.retrain_reason(p, _champ(), _now(config_hash="d"), T0) == \
        "training settings changed"
    moved = {**SCHEMA, "freq": "h"}
    assert policy.retrain_reason(p, _champ(), _now(schema=moved), T0) == "data schema changed"
    off = policy.RetrainPolicy(on_schema_change=False)
    assert policy.retrain_reason(off, _champ(), _now(schema=moved), T0) is None
    never = policy.RetrainPolicy(never=True)
    assert policy.retrain_reason(never, _champ(), _now(config_hash="d", rows=999), T0) is None
    assert policy.retrain_reason(p, _champ(), _now(rows=999), T0, frozenset({"k2"})) is None
    assert "already lost" in policy.keep_reason(p, _champ(), _now(), frozenset({"k2"}))


def test_promotion_needs_at_least_as_good() -> None:
    assert policy.promote(None, 5.0)
    assert policy.promote(float("nan"), 5.0)
    assert policy.promote(2.0, 2.0)
    assert policy.promote(2.0, 1.9)
    assert not policy.promote(2.0, 2.1)
    assert not policy.promote(2.0, float("nan"))


# --- locking ----------------------------------------------------------------------------------

def test_a_held_lock_refuses_at_once_then_frees(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "x.lock"
    with locking.hold(lock, "batch x"):
        with (pytest.raises(LockedError, match=r"batch x is locked by another run \(held by pid"),
              locking.hold(lock, "batch x")):
            pass
        assert str(os.getpid()) in lock.read_text()
    with locking.hold(lock, "batch x"):  # released when the holder closed it
        pass


def test_wait_takes_the_lock_once_the_holder_lets_go(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with locking.hold(lock, "x"):
            holding.set()
            release.wait()

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait()
    threading.Timer(0.3, release.set).start()
    with locking.hold(lock, "x", wait=60):
        assert release.is_set()
    thread.join()


# --- registry ---------------------------------------------------------------------------------

def _stage(model_dir: Path, key: str) -> Path:
    staged = registry.staging_dir(model_dir, key)
    (staged / "model").mkdir()
    (staged / "model" / "weights").write_text(key)
    return staged


def test_publish_switches_the_pointer_and_prunes(tmp_path: Path) -> None:
    assert registry.current(tmp_path) is None
    for i in range(1, 5):
        version = registry.publish(tmp_path, _stage(tmp_path, f"k{i}"), {"n": i})
        assert version.name == f"v{i:04d}"
        assert (tmp_path / "current").read_text() == f"v{i:04d}\n"
    cur = registry.current(tmp_path)
    assert cur is not None
    assert cur.meta == {"n": 4}
    assert (cur.bundle_dir / "weights").read_text() == "k4"
    assert registry.prune(tmp_path, keep=2) == ["v0001", "v0002"]
    assert registry.version_names(tmp_path) == ["v0003", "v0004"]


def test_prune_never_removes_a_rolled_back_current(tmp_path: Path) -> None:
    for i in range(3):
        registry.publish(tmp_path, _stage(tmp_path, f"k{i}"), {})
    (tmp_path / "current").write_text("v0001\n")  # the user rolled back
    assert registry.prune(tmp_path, keep=1) == ["v0002", "v0003"]
    assert registry.version_names(tmp_path) == ["v0001"]


def test_a_current_that_is_no_regular_file_or_too_deep_a_version_is_a_bundle_error(
        tmp_path: Path) -> None:
    registry.publish(tmp_path, _stage(tmp_path, "k"), {})
    (tmp_path / "versions" / "v0001" / "version.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleError, match=r"version.json is missing or unreadable \(maximum rec"):
        registry.current(tmp_path)
    (tmp_path / "current").unlink()
    os.mkfifo(tmp_path / "current")  # reading it would wait for a writer forever
    with pytest.raises(BundleError, match=r"current: is a named pipe \(FIFO\), not a regular"):
        registry.current(tmp_path)


def test_leftovers_and_a_dangling_pointer(tmp_path: Path) -> None:
    _stage(tmp_path, "killed")
    (tmp_path / ".current.x1y2.tmp").write_text("v0002\n")  # killed before its rename
    (tmp_path / ".lock").write_text("")
    assert sorted(registry.clean_leftovers(tmp_path)) == [".current.x1y2.tmp", ".staging-killed"]
    assert [p.name for p in tmp_path.iterdir()] == [".lock"]
    (tmp_path / "current").write_text("v0007\n")
    with pytest.raises(BundleError, match=r"points to 'v0007', which is not a version"):
        registry.current(tmp_path)


# --- history and realised accuracy ------------------------------------------------------------

def _frame(values: np.ndarray, start: str = "2024-01-01") -> Frame:
    ts = pd.date_range(start, periods=len(values), freq="D")
    return Frame(path=Path("x.csv"), time_col="timestamp", columns=("value",), timestamps=ts,
                 values=values.reshape(-1, 1), freq="D", line_numbers=np.arange(len(values)))


def test_realised_accuracy_waits_for_every_actual() -> None:
    ramp = np.arange(20.0)  # seasonal-naive scale with season 7: |y_t − y_{t−7}| = 7
    points = [{"series": "", "timestamp": f"2024-01-{d:02d}T00:00:00", "step": d - 15,
               "target": "value", "value": ramp[d - 1] + e} for d, e in ((16, 1.0), (17, -3.0))]
    bounds = [{"series": "", "timestamp": p["timestamp"], "target": "value", "level": 80.0,
               "lower": p["value"] - 1.5, "upper": p["value"] + 1.5} for p in points]
    origin = "2024-01-15T00:00:00"
    assert accuracy.score_forecast(points, bounds, origin, _frame(ramp[:16]), 7) is None
    scores = accuracy.score_forecast(points, bounds, origin, _frame(ramp), 7)
    assert scores is not None
    # errors 1 and 3: the first actual lies inside its ±1.5 interval, the second does not
    assert scores.overall == accuracy.Score(points=2, mae=2.0, mase=pytest.approx(2 / 7),
                                            coverage={80.0: (1, 2)})
    assert scores.series == {}
    assert scores.to_json()["coverage"] == {"80": 0.5}
    no_bounds = accuracy.score_forecast(points, [], origin, _frame(ramp), 7)
    assert no_bounds is not None
    assert no_bounds.to_json()["coverage"] is None


def test_history_records_runs_forecasts_and_accuracy(tmp_path: Path) -> None:
    with history.opened(tmp_path) as h:
        first = h.start_run("a", "b.toml")
        h.start_run("a", "other.toml")  # another batch file's run, alive as far as we know
        assert h.mark_killed("b.toml") == 1  # a 'running' row found by the next run: killed
        run = h.start_run("a", "b.toml")
        h.finish_run(run, {"status": "ok", "retrained": 1, "promoted": 0, "train_key": "k9"})
        assert h.rejected_keys("a") == frozenset({"k9"})
        h.record_forecast("a", "v0001", "2024-01-15T00:00:00", run,
                          [("", "2024-01-16T00:00:00", 1, "value", 16.0)])
        ((version, origin, forecast_run, points, bounds),) = list(h.unscored("a"))
        assert (version, forecast_run, points[0]["value"], bounds) == ("v0001", run, 16.0, [])
        h.record_accuracy("a", version, origin, run, run, accuracy.Realised(
            accuracy.Score(points=1, mae=1.0, mase=0.5)))
        assert list(h.unscored("a")) == []
    shown = history.report(tmp_path, "a")
    assert [r["status"] for r in shown["runs"]] == ["ok", "running", "killed"]
    assert shown["runs"][2]["id"] == first
    assert shown["accuracy"][0]["mae"] == 1.0
    assert shown["accuracy"][0]["coverage"] is None
    json.dumps(shown)


def test_a_history_written_by_a_newer_forecast_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(OutputError, match=r"cannot open the run history \(its layout 99 is "
                                          r"newer than this forecast's \(1\); upgrade"):
        history.History(tmp_path)


def test_exit_code_of_a_batch() -> None:
    def result(*statuses: str) -> BatchResult:
        return BatchResult(Path("b"), Path("s"), [JobOutcome(job=s, status=s) for s in statuses])

    assert result("ok", "ok").exit_code == 0
    assert result("ok", "failed", "locked").exit_code == 1
    assert result("ok", "locked").exit_code == 75
