"""Many predictions (issue 6, goal 2): 1,000 series against 1 series, batched, one model load.

    .venv/bin/python bench/bench_many.py [--repeats 7] [--series 1000]

`forecast predict --id-col` (many series in one file) is being built separately (issue 3), so
this measures the two parts it will be made of:

1. the engine: one ONNX Runtime call on a batch of SERIES windows (SERIES, 168, 1) against one
   call on a single window, in one process with the network loaded once (medians of REPEATS);
2. a whole cold process: `forecast predict` on one series against ``--prototype``, a fresh
   process that does what ``--id-col`` will do with library calls (read the bundle, read a long
   CSV of SERIES series, take each series' last window, one batched ONNX call, write the CSV).
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

from bench.bench_predict import FORECAST, train_bundle
from bench.common import (
    PY,
    REPO,
    median,
    run_child,
    workload_series,
    write_results,
    write_workload_csv,
)


def write_many(path: Path, series: int, rows: int) -> Path:
    """A long CSV: id,timestamp,value with SERIES shifted copies of the workload, ROWS each."""
    base = workload_series(rows + series)
    stamps = pd.date_range("2021-01-01", periods=rows, freq="h")
    frame = pd.DataFrame({"id": np.repeat(np.arange(series), rows),
                          "timestamp": np.tile(stamps, series),
                          "value": np.concatenate([base[i:i + rows] for i in range(series)])})
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return path


def prototype(bundle_dir: Path, csv: Path) -> None:
    """What `predict --id-col id` will do: one bundle read, one batched call, CSV to stdout."""
    from forecast_cli.bundle import read_bundle
    from forecast_cli.onnx_engine import OnnxNetwork

    bundle = read_bundle(bundle_dir)
    assert bundle.onnx is not None
    lookback, horizon = bundle.spec.lookback, bundle.spec.horizon
    frame = pd.read_csv(csv, parse_dates=["timestamp"])
    tails = frame.groupby("id", sort=True).tail(lookback)
    ids = tails["id"].unique()
    x = bundle.scaler.transform(tails["value"].to_numpy().reshape(len(ids), lookback, 1))
    y = bundle.scaler.inverse(OnnxNetwork(bundle.onnx).predict(x))  # (S, H, 1)
    last = tails.groupby("id", sort=True)["timestamp"].max().to_numpy()
    step = pd.Timedelta(hours=1)
    out = pd.DataFrame({"id": np.repeat(ids, horizon),
                        "timestamp": (np.repeat(last, horizon)
                                      + np.tile(np.arange(1, horizon + 1), len(ids)) * step),
                        "step": np.tile(np.arange(1, horizon + 1), len(ids)),
                        "value": y.reshape(-1)})
    sys.stdout.write(out.to_csv(index=False))


def engine_times(bundle_dir: Path, series: int, repeats: int) -> dict[int, list[float]]:
    from forecast_cli.bundle import read_bundle
    from forecast_cli.onnx_engine import OnnxNetwork

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--prototype", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prototype:
        prototype(*args.prototype)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bundle = train_bundle(work, write_workload_csv(work / "hourly.csv"))
        one = write_workload_csv(work / "one.csv", n=400)
        many = write_many(work / "many.csv", args.series, 400)
        eng = engine_times(bundle, args.series, args.repeats)
        cold: dict[str, list[float]] = {"one": [], "many": []}
        for _ in range(max(3, args.repeats // 2)):
            for name, cmd in (("one", [*FORECAST, "predict", "--model", bundle, one]),
                              ("many", [PY, REPO / "bench" / "bench_many.py", "--prototype",
                                        bundle, many])):
                run = run_child(cmd)
                if run.code != 0:
                    raise SystemExit(f"{cmd} failed with exit {run.code}")
                cold[name].append(run.wall)
    s = args.series
    e1, es = median(eng[1]), median(eng[s])
    c1, cs = median(cold["one"]), median(cold["many"])
    body = (f"## Engine: one batched ONNX Runtime call (network loaded once)\n\n"
            f"| windows | median s | runs (s) | windows per second |\n|---|---|---|---|\n"
            f"| 1 | {e1:.5f} | {', '.join(f'{t:.5f}' for t in eng[1])} | {1 / e1:,.0f} |\n"
            f"| {s} | {es:.5f} | {', '.join(f'{t:.5f}' for t in eng[s])} | {s / es:,.0f} |\n\n"
            f"Ratio {s} windows / 1 window: **{es / e1:.1f}×** for {s}× the work.\n\n"
            f"## Whole cold process\n\n| process | median wall s | runs (s) |\n|---|---|---|\n"
            f"| `forecast predict`, 1 series | {c1:.3f} | "
            f"{', '.join(f'{t:.2f}' for t in cold['one'])} |\n"
            f"| prototype of `--id-col`, {s} series | {cs:.3f} | "
            f"{', '.join(f'{t:.2f}' for t in cold['many'])} |\n\n"
            f"Ratio {s} series / 1 series: **{cs / c1:.2f}×** (goal ≤ 3×); "
            f"{s / cs:,.0f} series per second end to end, cold. The prototype reads the long "
            "CSV with a plain pandas read_csv, without the per-series validation that "
            "`--id-col` will add.\n")
    write_results("many", f"Many predictions: {s} series against 1", body)


if __name__ == "__main__":
    main()
