"""Peak memory of `forecast validate` on a large CSV, against the file's size on disk.

Generates a CSV of ROWS rows × 8 columns (a timestamp and 7 numeric columns) in a temporary
directory, runs `python -m forecast_cli validate FILE --json` in a subprocess and reads the
child's peak resident set size from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``. The goal
(issue 3) is a peak below 4× the file size. A second run of `python -c "import forecast_cli.cli.app,
pandas, pyarrow"` gives the interpreter's own baseline, reported beside it.

Run:  .venv/bin/python bench/validate_memory.py [--rows 1000000] [--out bench/results/...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def make_csv(path: Path, rows: int, seed: int = 0) -> int:
    """Minute timestamps and 7 random-walk columns with 4 decimals; returns the size in bytes."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(np.cumsum(rng.standard_normal((rows, 7)), axis=0).round(4),
                         columns=[f"x{i}" for i in range(7)])
    frame.insert(0, "ts", pd.date_range("2000-01-01", periods=rows, freq="min"))
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path.stat().st_size


def peak_rss_of(cmd: list[str]) -> tuple[int, float, subprocess.CompletedProcess[str]]:
    """Run ``cmd`` in a fresh child process (via a wrapper so RUSAGE_CHILDREN holds only it)."""
    wrapper = ("import resource, subprocess, sys, json, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "dt = time.perf_counter() - t\n"
               "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
               "print(json.dumps({'rc': p.returncode, 'kb': kb, 's': dt, "
               "'out': p.stdout[-2000:], 'err': p.stderr[-2000:]}))\n")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    res = json.loads(out.stdout)
    done = subprocess.CompletedProcess(cmd, res["rc"], res["out"], res["err"])
    return int(res["kb"]) * 1024, float(res["s"]), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None, help="write a Markdown report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        t = time.perf_counter()
        size = make_csv(path, args.rows)
        made = time.perf_counter() - t
        base, base_s, _ = peak_rss_of([sys.executable, "-c",
                                       "import forecast_cli.cli.app, pandas, pyarrow.csv"])
        peak, secs, run = peak_rss_of([sys.executable, "-m", "forecast_cli", "validate",
                                       str(path), "--json"])
    if run.returncode != 0:
        sys.exit(f"validate failed ({run.returncode}): {run.stderr}")
    usable = json.loads(run.stdout)["usable"] if run.stdout.strip().startswith("{") else None
    lines = [
        "# `forecast validate` peak memory",
        "",
        f"Command: `.venv/bin/python bench/validate_memory.py --rows {args.rows}`",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| rows × columns | {args.rows:,} × 8 (timestamp + 7 floats) |",
        f"| file size | {size / 2**20:.1f} MiB |",
        f"| peak RSS of `forecast validate --json` | {peak / 2**20:.1f} MiB |",
        f"| peak RSS / file size | **{peak / size:.2f}×** (goal < 4×) |",
        f"| baseline: peak RSS of importing forecast_cli.cli.app, pandas, pyarrow | "
        f"{base / 2**20:.1f} MiB |",
        f"| (peak − baseline) / file size | {(peak - base) / size:.2f}× |",
        f"| validate wall time | {secs:.1f} s (import alone {base_s:.1f} s; CSV written in "
        f"{made:.1f} s) |",
        f"| report says usable | {usable} |",
        "",
        "Measured on the shared 2-core development machine, other jobs running; times are "
        "indicative only, the memory figures are what the script checks.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    if peak >= 4 * size:
        sys.exit(f"peak RSS {peak / size:.2f}× the file size: goal < 4× not met")


if __name__ == "__main__":
    main()
