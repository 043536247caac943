"""A many-series (``id_col``) batch job killed during training resumes from its last epoch,
as a single-series job does (issue 12: panel fits could not resume). Real subprocesses."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.model.bundle import read_bundle
from tests.batch_helpers import TINY_JOB, runs, write_batch
from tests.conftest import run_forecast

KILLED = -signal.SIGKILL
SPLIT = {"train_frac": 0.5, "val_frac": 0.2, "test_frac": 0.3}


def _panel_job(root: Path) -> Path:
    """Three stores, each a ramp of its own slope, and a batch file with one id_col job."""
    parts = [pd.DataFrame({"store": sid, "date": pd.date_range("2020-01-01", periods=100),
                           "sales": 10.0 * (i + 1) + (i + 1) * np.arange(100)})
             for i, sid in enumerate(("a", "b", "c"))]
    pd.concat(parts).to_csv(root / "data.csv", index=False, date_format="%Y-%m-%d")
    job = {"data": "data.csv", "model_dir": "models/{job}", "output": "out/{job}.csv"}
    return write_batch(root / "batch.toml", {"stores": job},
                       {**TINY_JOB, **SPLIT, "id_col": "store"})


def test_killed_panel_fit_resumes_from_its_last_epoch(tmp_path: Path) -> None:
    batch = _panel_job(tmp_path)
    killed = run_forecast("batch", batch, env={"FORECAST_TEST_KILL_AT": "training-epoch-2"})
    assert killed.returncode == KILLED, killed.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    backups = tmp_path / ".forecast-state" / "backups" / "stores"
    assert any(backups.iterdir()), "the killed fit left no epoch backup to resume from"
    proc = run_forecast("batch", batch)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    latest, first = runs(tmp_path / ".forecast-state", "stores")[:2]
    assert first["status"] == "killed"
    # TINY_JOB trains exactly 4 epochs (patience = epochs); 2 were done before the kill
    assert (latest["status"], latest["retrained"]) == ("ok", 1)
    assert (latest["resumed_from_epoch"], latest["epochs_run"]) == (2, 2)
    bundle = read_bundle(tmp_path / "models" / "stores" / "versions" / "v0001" / "model")
    assert bundle.schema.panel is not None
    assert sorted(bundle.schema.panel["series"]) == ["a", "b", "c"]
    forecast = pd.read_csv(tmp_path / "out" / "stores.csv")
    assert (forecast.groupby("store").size() == TINY_JOB["horizon"]).all()
    assert not any(backups.iterdir())  # the backup is gone once the fit completed
