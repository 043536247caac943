"""Shared helpers: real CSV files on disk and the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "co2_monthly.csv"

# Settings small enough that a real TensorFlow fit takes a few seconds on 2 cores.
TINY_ARGS: tuple[str, ...] = ("--lookback", "8", "--horizon", "4", "--lstm-units", "8",
                              "--epochs", "3", "--batch-size", "16", "--patience", "2",
                              "--seed", "7")


def run_forecast(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
                 timeout: float = 300, stdin: Any = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m forecast_cli ARGS`` as a user would; returns code, stdout, stderr.

    ``stdin``: an open file (or pipe) for standard input; none by default (/dev/null)."""
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    full_env.pop("FORECAST_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "forecast_cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=full_env,
                          timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL if stdin is None else stdin)


def write_series(path: Path, values: Sequence[float] | np.ndarray, start: str = "2020-01-01",
                 freq: str = "D", time_col: str = "timestamp",
                 columns: Sequence[str] = ("value",)) -> Path:
    """Write a regular series as CSV: values (n,) or (n, k) under ``columns``."""
    arr = np.asarray(values, dtype=float)
    arr = arr.reshape(len(arr), -1)
    frame = pd.DataFrame(arr, columns=list(columns))
    frame.insert(0, time_col, pd.date_range(start, periods=len(arr), freq=freq))
    frame.to_csv(path, index=False)
    return path


def seasonal_series(n: int, period: int = 7, trend: float = 0.05, noise: float = 0.1,
                    seed: int = 0) -> np.ndarray:
    """A sine of ``period`` steps on a linear trend with a little seeded noise. Shape (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + trend * t + np.sin(2 * np.pi * t / period) + noise * rng.standard_normal(n)


@pytest.fixture
def seasonal_csv(tmp_path: Path) -> Path:
    """240 daily rows of a weekly sine on a trend."""
    return write_series(tmp_path / "daily.csv", seasonal_series(240))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    """A valid, drawn PNG: the signature, and more bytes than an empty canvas takes."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny model trained once per test module: (its 120-row daily CSV, its bundle)."""
    d = tmp_path_factory.mktemp("tiny")
    data = write_series(d / "daily.csv", seasonal_series(120))
    proc = run_forecast("train", data, *TINY_ARGS, "-o", d / "run", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return data, d / "run" / "model"
