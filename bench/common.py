"""Shared helpers of the benchmarks: child processes timed with their own peak RSS, the
issue's workload series, medians, and a Markdown results writer.

Every figure a script reports is a ratio against a reference measured in the same invocation,
interleaved with it, so that the load of this shared 2-core machine hits both alike.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
PY = sys.executable


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds (user + system: what it costs whatever the
    machine's load), peak resident set size in MB, exit code, stdout."""

    wall: float
    cpu: float
    peak_mb: float
    code: int
    stdout: str


# GNU time measures the command from a process of its own (a few MB): a child forked straight
# from this script starts with this script's resident pages counted in its ru_maxrss, which
# Linux keeps across exec (a bare `import typer` read as 147 MB next to a parent holding pandas).
GNU_TIME = "/usr/bin/time"


def run_child(cmd: Sequence[str | Path], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion: wall time, and CPU time and peak RSS from GNU time."""
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"the benchmarks need GNU time at {GNU_TIME} (Debian package 'time')")
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measured:
        started = time.perf_counter()
        proc = subprocess.run([GNU_TIME, "-f", "%M %U %S", "-o", measured.name,
                               *map(str, cmd)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=full_env,
                              cwd=REPO, check=False)
        wall = time.perf_counter() - started
        # the last line (a failing command gets a "Command exited with …" line first)
        kib, user, system = measured.read().split("\n")[-2].split()
    return Run(wall=wall, cpu=float(user) + float(system), peak_mb=int(kib) / 1024,
               code=proc.returncode, stdout=proc.stdout.decode())


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def workload_series(n: int = 20_000, seed: int = 0) -> np.ndarray:
    """The issue's hourly series: daily and weekly cycles on a slow trend, seeded noise. (n,)"""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    return (50 + 0.001 * t + 10 * np.sin(2 * np.pi * t / 24)
            + 4 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 1.0, n))


def write_workload_csv(path: Path, n: int = 20_000) -> Path:
    """The workload as a CSV a user would have: timestamp,value (hourly)."""
    frame = pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=n, freq="h"),
                          "value": workload_series(n)})
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return path


def machine_note() -> str:
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{platform.platform()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, load average at the end: {load} "
            "(the machine is shared with other engineers' test runs)")


def write_results(name: str, title: str, body: str) -> Path:
    """Print the report and write it to bench/results/NAME.md with the command that made it."""
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])
    text = (f"# {title}\n\n{datetime.now(UTC).isoformat(timespec='seconds')} · "
            f"{machine_note()}\n\nReproduce: `{command}`\n\n{body.rstrip()}\n")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    print(text)
    return path
