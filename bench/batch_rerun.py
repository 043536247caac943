"""How much a nightly `forecast batch` costs when nothing changed, against one that must forecast.

Builds a one-job batch on a 120-row daily ramp in a temporary directory, trains it once, then
times (wall clock, best of N) three runs of the real CLI in subprocesses:

* ``unchanged``: same data, same model: the forecast is known to be up to date, no TensorFlow;
* ``new rows``: one more row arrived: TensorFlow is imported and the forecast recomputed;
* ``--version``: the CLI's start-up alone, as the reference.

Prints each time and the ratios to the reference measured in the same run.
Usage: .venv/bin/python bench/batch_rerun.py [REPEATS]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SETTINGS = ("lookback = 8\nhorizon = 4\nlstm_units = 4\nepochs = 2\nbatch_size = 16\n"
            "seed = 7\n")


def _write(path: Path, n: int) -> None:
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=n, freq="D"),
                          "value": np.arange(float(n))})
    frame.to_csv(path, index=False)


def _run(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "forecast_cli", *args], check=True,
                   capture_output=True)
    return time.perf_counter() - started


def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root / "data.csv", 120)
        batch = root / "batch.toml"
        batch.write_text(f"[defaults]\n{SETTINGS}\n[jobs.ramp]\ndata = \"data.csv\"\n")
        _run("batch", str(batch))  # trains v0001 and writes the first forecast
        times = {"--version": min(_run("--version") for _ in range(repeats)),
                 "unchanged": min(_run("batch", str(batch)) for _ in range(repeats))}
        new_rows = []
        for i in range(repeats):
            _write(root / "data.csv", 121 + i)
            new_rows.append(_run("batch", str(batch)))
        times["new rows"] = min(new_rows)
    ref = times["--version"]
    for name, seconds in times.items():
        print(f"{name:>10}: {seconds:6.2f} s  ({seconds / ref:5.1f}× start-up)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
