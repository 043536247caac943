"""Partitioned train and predict (issue 16): one model per partition of a panel's series.

One tiny panel (6 seeded series, a region column) is trained partitioned once in-process (the
reference), once on a local Dask cluster of 2 workers, and one partition alone as a user
would train it; the forecasts must be the same bytes. Partition assignment is derived by hand
(sha256 of the id, or the column). One subprocess per CLI surface (train's bad column, predict
without TensorFlow).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import ConfigError, DataError
from forecast_cli.ops import partitions
from forecast_cli.ops.cluster import Target
from forecast_cli.ops.jobs import parse_job
from forecast_cli.pipeline import partition_index, partition_train, training
from forecast_cli.pipeline.partition_info import describe_partitioned
from forecast_cli.pipeline.quickpredict import predict_output
from forecast_cli.settings import Settings, build_settings
from tests.conftest import REPO, run_forecast
from tests.test_batch_cluster import Cluster

IDS = [f"s{i}" for i in range(6)]
TINY = {"lookback": 8, "horizon": 4, "lstm_units": 8, "epochs": 1, "batch_size": 16,
        "patience": 2, "seed": 7, "id_col": "id", "target": "value",
        "ensemble_seeds": 1, "ensemble_lookbacks": (1.0,), "refit": False}  # one network


def _panel(path: Path, ids: list[str] = IDS, rows: int = 80) -> Path:
    """Long-format CSV: id, region (s0-s2 east, the rest west), timestamp, value (2 decimals)."""
    t = np.arange(rows)
    parts = []
    for i, sid in enumerate(ids):
        rng = np.random.default_rng(i)
        value = 10 + i + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(rows)
        parts.append(pd.DataFrame({"id": sid, "region": "east" if i < 3 else "west",
                                   "timestamp": pd.date_range("2021-01-01", periods=rows,
                                                              freq="D").strftime("%Y-%m-%d"),
                                   "value": np.round(value, 2)}))
    pd.concat(parts).to_csv(path, index=False)
    return path


def _settings(out: Path, **more: object) -> Settings:
    return build_settings({**TINY, "output_dir": str(out), **more})


def _bucket(sid: str, k: int) -> int:
    """The partition of a series id, by hand: sha256's first 8 bytes, big-endian, mod k."""
    return int.from_bytes(hashlib.sha256(sid.encode()).digest()[:8], "big") % k


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _panel(tmp_path_factory.mktemp("partitions") / "panel.csv")


@pytest.fixture(scope="module")
def local(panel: Path) -> Path:
    """The reference: 2 hash partitions trained in this process, one after the other."""
    out = panel.parent / "local"
    partitions.train(panel, _settings(out, partitions=2))
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A real `dask scheduler` and 2 `dask worker` subprocesses on 127.0.0.1 (as
    test_batch_cluster's), for the cluster train and predict."""
    pytest.importorskip("distributed")
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield c
    finally:
        c.close()


def _predict(model: Path, data: Path, target: Target | None = None, out: Path | None = None
             ) -> bytes:
    result = partitions.predict(model, data, out, "csv", target)
    return result.content if out is None else out.read_bytes()  # type: ignore[return-value]


def test_hash_assignment_is_derived_by_hand(local: Path) -> None:
    index = partition_index.read(local / "model")
    assert index.series == {sid: f"p{_bucket(sid, 2):03d}" for sid in IDS}
    assert index.scheme["kind"] == "hash"
    assert sorted(p["name"] for p in index.partitions) == ["p000", "p001"]
    info = describe_partitioned(local)
    assert [p["series"] for p in info["partitions"]] == [3, 3]
    summary = json.loads((local / "metrics.json").read_text())
    assert summary["series_count"] == 6
    assert summary["partition_count"] == 2
    assert set(summary["partitions"]) == {"p000", "p001"}


def test_partition_trained_alone_gives_the_same_forecasts(local: Path, panel: Path) -> None:
    """Partition p000's series in a file of their own, trained as a user would: the same test
    forecasts and the same forecast, byte for byte."""
    index = partition_index.read(local / "model")
    mine = sorted(sid for sid, name in index.series.items() if name == "p000")
    frame = pd.read_csv(panel, dtype=str)
    alone = panel.parent / "alone.csv"
    frame[frame["id"].isin(mine)].to_csv(alone, index=False)
    out = panel.parent / "alone"
    training.train(alone, _settings(out))
    assert ((out / "test_forecasts.csv").read_bytes()
            == (local / "latest" / "partitions" / "p000" / "test_forecasts.csv").read_bytes())
    whole = _predict(local / "model", panel).decode()
    own = predict_output(out / "model", alone).text
    rows = [line for line in whole.splitlines()[1:] if line.split(",")[0] in mine]
    assert own.splitlines()[0] == whole.splitlines()[0]
    assert own.splitlines()[1:] == rows
    assert len(rows) == 4 * len(mine)


def _train_killing_a_worker(panel: Path, out: Path, cluster: Cluster) -> partitions.PartitionedRun:
    """``partitions.train`` on the cluster, with the worker running p000's task killed
    (``kill -9``) as soon as the scheduler shows it there; another worker is added after."""
    done: list[Any] = []
    runner = threading.Thread(target=lambda: done.append(partitions.train(
        panel, _settings(out, partitions=2), Target(address=cluster.address))))
    runner.start()
    deadline = time.monotonic() + 300
    try:
        while (pid := cluster.worker_running("forecast-train-p000-")) is None:
            assert runner.is_alive(), "the train ended before p000's task was seen running"
            assert time.monotonic() < deadline, "p000's task never ran"
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=600)
        assert not runner.is_alive()
    finally:
        cluster.add_workers(1)  # two again, for the tests after this one
    (run,) = done
    return run  # type: ignore[no-any-return]


def test_cluster_training_and_predict_are_byte_identical(local: Path, panel: Path,
                                                         cluster: Cluster) -> None:
    """The same partitions on a real scheduler and 2 workers (each task in a fresh process),
    one of which is killed mid-task: the retry elsewhere still writes the same bytes."""
    out = panel.parent / "cluster"
    on = Target(address=cluster.address)
    run = _train_killing_a_worker(panel, out, cluster)
    assert {t["name"] for t in run.tasks} == {"p000", "p001"}
    assert not list(out.rglob("*.tmp"))
    assert not list(out.rglob(".staging-*"))
    for name in ("p000", "p001"):
        for file in ("test_forecasts.csv", "history.csv"):
            assert ((out / "latest" / "partitions" / name / file).read_bytes()
                    == (local / "latest" / "partitions" / name / file).read_bytes()), (name, file)
    assert (out / "test_forecasts.csv").read_bytes() == (local / "test_forecasts.csv").read_bytes()
    here = _predict(local / "model", panel)
    there = _predict(out / "model", panel, on, panel.parent / "fc-cluster.csv")
    assert there == here
    assert len(here.decode().splitlines()) == 1 + 6 * 4


def test_partition_column_assignment(panel: Path, tmp_path: Path) -> None:
    """--partition-col region: one partition per value, named in sorted order (east p000, west
    p001), each part file holding its series' rows as the file has them; no training."""
    plan = partition_train.plan(panel, _settings(tmp_path / "out", partition_col="region"))
    tasks = partition_train.split_inputs(plan, tmp_path)
    assert [(t["name"], t["value"], t["series"]) for t in tasks] == [
        ("p000", "east", ["s0", "s1", "s2"]), ("p001", "west", ["s3", "s4", "s5"])]
    lines = panel.read_text().splitlines()
    assert Path(tasks[1]["data"]).read_text().splitlines() == [
        lines[0], *(line for line in lines[1:] if ",west," in line)]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(panel.read_text().replace("s0,east,2021-01-05", "s0,west,2021-01-05"))
    with pytest.raises(DataError, match=r"mixed.csv, line 6: series 's0' has region 'west', "
                                        r"but 'east' on line 2; a series belongs to one "
                                        r"partition"):
        partition_train.split_inputs(partition_train.plan(mixed, plan.given), tmp_path / "m")


def test_parquet_dataset_holds_the_csv_rows(local: Path, panel: Path) -> None:
    target = panel.parent / "forecasts"
    partitions.predict(local / "model", panel, target, "parquet", dataset=True)
    assert sorted(p.name for p in target.iterdir()) == ["_forecast.json", "p000.parquet",
                                                        "p001.parquet"]
    whole = pd.read_csv(io.BytesIO(_predict(local / "model", panel)))
    parts = pd.concat([pd.read_parquet(target / f"p00{i}.parquet") for i in (0, 1)])
    assert parts["id"].tolist() == whole["id"].tolist()
    np.testing.assert_array_equal(parts["value"].to_numpy(), whole["value"].to_numpy())


def test_unknown_series_and_bad_settings_are_named(local: Path, panel: Path) -> None:
    extra = _panel(panel.parent / "extra.csv", [*IDS, "zz"])
    with pytest.raises(DataError, match=r"series 'zz' of column 'id' is not in the "
                                        r"partitioned model"):
        partitions.predict(local / "model", extra, None, "csv")
    with pytest.raises(ConfigError, match=r"`partitions` partitions the series of a panel: "
                                          r"name its series id column with --id-col"):
        build_settings({"partitions": 2})
    with pytest.raises(ConfigError, match="`partitions` and `partition_col` exclude each "
                                          "other"):
        build_settings({"partitions": 2, "partition_col": "region", "id_col": "id"})
    with pytest.raises(ConfigError, match=r"`partitions` is not used by batch jobs"):
        parse_job("big", {"data": "x.csv", "partitions": 4}, panel.parent)
    # an unpartitioned run's settings (and so a batch job's config hash) do not change
    assert "partitions" not in replace(Settings(), id_col="id").to_json()


def test_train_names_a_bad_partition_column(panel: Path) -> None:
    proc = run_forecast("train", panel, "--id-col", "id", "--target", "value",
                        "--partition-col", "regoin", "-o", panel.parent / "bad", "--quiet")
    assert proc.returncode == 65, proc.stderr
    assert proc.stderr.startswith(f"Error: {panel}: no column 'regoin' (the columns are 'id', "
                                  "'region', 'timestamp', 'value')."), proc.stderr
    assert not (panel.parent / "bad" / "latest").exists()


PROBE = """
import sys
from forecast_cli.cli.app import app
try:
    app(sys.argv[1:], prog_name="forecast")
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "distributed"})
print("EXIT", code, "HEAVY", ",".join(heavy), file=sys.stderr)
"""


def test_predict_cli_writes_one_csv_without_tensorflow(local: Path, panel: Path) -> None:
    out = panel.parent / "cli.csv"
    proc = subprocess.run([sys.executable, "-c", PROBE, "predict", "-m", str(local / "model"),
                           str(panel), "-o", str(out)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert proc.stderr.rstrip().endswith("EXIT 0 HEAVY"), proc.stderr
    assert "Forecast of 4 steps of 6 series after 2021-03-21 written to" in proc.stderr
    assert out.read_bytes() == _predict(local / "model", panel)
