"""Many predictions (issue 6, goal 2): 1,000 series against 1 series, batched, one model load.

    .venv/bin/python bench/bench_many.py [--repeats 5] [--series 1000]

1. Trains one global model with ``forecast train --id-col id`` on a long CSV of SERIES hourly
   series (shifted copies of the workload series, ROWS rows each; lookback 168, horizon 24,
   LSTM(64), 1 epoch: the weights' quality does not change the cost of a forecast).
2. Alternates, REPEATS times, two cold ``forecast predict`` processes with that bundle: on a
   file holding the first series only, and on the file holding all SERIES series. Both run the
   whole predict path: reading and validating the CSV, per-series checks and scaling, one
   batched ONNX Runtime call, the long-format CSV.
3. The engine alone, in one process with the network loaded once: one batched call on SERIES
   windows against one call on a single window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_predict import FORECAST
from bench.common import Run, median, run_child, workload_series, write_results

ROWS = 300  # per series: room for 168 + 24 and the validation and test windows


def write_many(path: Path, series: int, rows: int) -> Path:
    """A long CSV id,timestamp,value: SERIES shifted copies of the workload, ROWS rows each."""
    base = workload_series(rows + series)
    stamps = pd.date_range("2021-01-01", periods=rows, freq="h")
    frame = pd.DataFrame({"id": np.repeat([f"s{i:04d}" for i in range(series)], rows),
                          "timestamp": np.tile(stamps, series),
                          "value": np.concatenate([base[i:i + rows] for i in range(series)])})
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return path


def train_panel_bundle(workdir: Path, csv: Path) -> Path:
    out = workdir / "run"
    run = run_child([*FORECAST, "train", csv, "--id-col", "id", "--output-dir", out, "--quiet",
                     "--lookback", "168", "--horizon", "24", "--lstm-units", "64",
                     "--batch-size", "64", "--epochs", "1", "--seed", "1"])
    if run.code != 0:
        raise SystemExit(f"training the bundle failed (exit {run.code})")
    return out / "model"


def engine_times(bundle_dir: Path, series: int, repeats: int) -> dict[int, list[float]]:
    from forecast_cli.model.bundle import read_bundle
    from forecast_cli.model.onnx_engine import OnnxNetwork

    bundle = read_bundle(bundle_dir)
    assert bundle.onnx is not None
    net = OnnxNetwork(bundle.onnx)
    rng = np.random.default_rng(0)
    batches = {b: rng.normal(size=(b, bundle.spec.lookback, 1)).astype(np.float32)
               for b in (1, series)}
    net.predict(batches[series])  # warm-up: first-call allocations
    times: dict[int, list[float]] = {1: [], series: []}
    for _ in range(repeats):
        for b, x in batches.items():
            started = time.perf_counter()
            net.predict(x)
            times[b].append(time.perf_counter() - started)
    return times


def cold_runs(bundle: Path, files: dict[str, Path], repeats: int) -> dict[str, list[Run]]:
    """Interleaved cold `forecast predict` processes (the bundle knows its id column)."""
    runs: dict[str, list[Run]] = {name: [] for name in files}
    for _ in range(repeats):
        for name, csv in files.items():
            run = run_child([*FORECAST, "predict", "--model", bundle, csv])
            if run.code != 0:
                raise SystemExit(f"predict on {csv} failed with exit {run.code}")
            runs[name].append(run)
    return runs


def report(series: int, eng: dict[int, list[float]], cold: dict[str, list[Run]]) -> str:
    e1, es = median(eng[1]), median(eng[series])
    c1 = median([r.wall for r in cold["one"]])
    cs = median([r.wall for r in cold["many"]])
    rows = {name: len(runs[0].stdout.splitlines()) - 1 for name, runs in cold.items()}
    lines = "\n".join(
        f"| `forecast predict`, {label} | {median([r.wall for r in cold[key]]):.3f}"
        f" | {', '.join(f'{r.wall:.2f}' for r in cold[key])} | "
        f"{median([r.peak_mb for r in cold[key]]):.0f} | {rows[key]:,} |"
        for key, label in (("one", "1 series"), ("many", f"{series} series")))
    return (f"## Whole cold process\n\n| process | median wall s | runs (s) | median peak RSS MB "
            f"| forecast rows written |\n|---|---|---|---|---|\n{lines}\n\n"
            f"Ratio {series} series / 1 series: **{cs / c1:.2f}×** (goal ≤ 3×); "
            f"{series / cs:,.0f} series per second end to end, cold, {ROWS} rows per series "
            "read and validated.\n\n"
            f"## Engine: one batched ONNX Runtime call (network loaded once)\n\n"
            f"| windows | median s | runs (s) | windows per second |\n|---|---|---|---|\n"
            f"| 1 | {e1:.5f} | {', '.join(f'{t:.5f}' for t in eng[1])} | {1 / e1:,.0f} |\n"
            f"| {series} | {es:.5f} | {', '.join(f'{t:.5f}' for t in eng[series])} | "
            f"{series / es:,.0f} |\n\nRatio {series} windows / 1 window: **{es / e1:.1f}×** for "
            f"{series}× the work.\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--series", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        many = write_many(work / "many.csv", args.series, ROWS)
        one = write_many(work / "one.csv", 1, ROWS)  # the first series of many.csv
        bundle = train_panel_bundle(work, many)
        cold = cold_runs(bundle, {"one": one, "many": many}, args.repeats)
        eng = engine_times(bundle, args.series, args.repeats)
    write_results("many", f"Many predictions: {args.series} series against 1",
                  report(args.series, eng, cold))


if __name__ == "__main__":
    main()
