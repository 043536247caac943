"""The partitioned panel of ``bench_cluster.py --panel``: one file of S series × R rows.

In one invocation, on fresh output directories: the unpartitioned train (one global model,
the reference), ``--partitions K`` in-process (one partition after another), and
``--partitions K --workers W`` (a local Dask cluster; each partition in a fresh process on a
worker); then predict with each model likewise. Reports wall time, CPU time, the peak RSS of
the largest process of the run (GNU time) and, for the partitioned runs, the peak RSS of each
partition's own process (its task reports it), and checks that the in-process and the cluster
partitioned runs wrote byte-identical forecasts.

Tiny network (lookback 14, horizon 7, 8 LSTM units, 2 epochs, patience 1, automatic batch
size), so that the data's size, not the network, dominates.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import PY, Run, run_child, write_results

TINY = ["--lookback", "14", "--horizon", "7", "--lstm-units", "8", "--epochs", "2",
        "--patience", "1", "--seed", "7", "--id-col", "id", "--target", "value",
        # one network, no refit: the data's size, not the default ensemble of 4, is measured
        "--ensemble-seeds", "1", "--ensemble-lookbacks", "1", "--no-refit"]
REPO = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(REPO)}
PREDICT = """
import json, sys
from pathlib import Path
from forecast_cli.ops import partitions
from forecast_cli.ops.cluster import Target
workers = int(sys.argv[4])
r = partitions.predict(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), "csv",
                       Target(workers=workers) if workers else None)
print(json.dumps([t["peak_rss_mb"] for t in r.tasks]))
"""


def build(path: Path, n_series: int, n_rows: int) -> Path:
    """id,timestamp,value: ``n_series`` seeded daily series (weekly season, trend, noise)."""
    rng = np.random.default_rng(0)
    t = np.arange(n_rows)
    level = rng.uniform(5, 50, n_series)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)[:, None]
    values = level + 0.01 * t + np.sin(2 * np.pi * t / 7 + phase) \
        + 0.2 * rng.standard_normal((n_series, n_rows))
    ids = np.repeat([f"s{i:05d}" for i in range(n_series)], n_rows)
    stamps = np.tile(pd.date_range("2020-01-01", periods=n_rows, freq="D")
                     .strftime("%Y-%m-%d").to_numpy(), n_series)
    pd.DataFrame({"id": ids, "timestamp": stamps, "value": np.round(values.ravel(), 2)}
                 ).to_csv(path, index=False)
    return path


def _forecast(args: list[str]) -> Run:
    run = run_child([PY, "-m", "forecast_cli", *args], env=ENV)
    if run.code != 0:
        raise SystemExit(f"forecast {' '.join(args[:1])}: exit {run.code}")
    return run


def main(n_series: int, n_rows: int, k: int, workers: int, local: bool = True) -> None:
    """Without ``local``, the in-process partitioned run is skipped (at 10,000 series it is
    another half hour on 2 cores) and so is the byte-identity check it serves."""
    rows, tasks = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = build(root / "panel.csv", n_series, n_rows)
        print(f"built {n_series} x {n_rows}", flush=True)
        size = data.stat().st_size / 1e6
        runs = {"unpartitioned": [], f"--partitions {k}": ["--partitions", str(k)],
                f"--partitions {k} --workers {workers}": ["--partitions", str(k), "--workers",
                                                         str(workers)]}
        if not local:
            del runs[f"--partitions {k}"]
        outs = {}
        for label, extra in runs.items():
            out = root / f"out{len(outs)}"
            run = _forecast(["train", str(data), *TINY, *extra, "-o", str(out), "--json",
                             "--quiet"])
            outs[label] = out
            report = json.loads(run.stdout)
            tasks[label] = [p.get("peak_rss_mb") for p in report.get("partitions", {}).values()]
            rows.append(("train", label, run, tasks[label]))
            print(f"train {label}: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU, "
                  f"peak {run.peak_mb:.0f} MB, per partition {tasks[label]}", flush=True)
        for label, out in outs.items():
            target = root / f"forecast{len(rows)}.csv"
            if label == "unpartitioned":
                run = _forecast(["predict", "-m", str(out / "model"), str(data), "-o",
                                 str(target), "--quiet"])
                peaks: list[float] = []
            else:
                run = run_child([PY, "-c", PREDICT, str(out / "model"), str(data), str(target),
                                 str(workers if "--workers" in label else 0)], env=ENV)
                if run.code != 0:
                    raise SystemExit(f"predict {label}: exit {run.code}")
                peaks = json.loads(run.stdout.strip().splitlines()[-1])
            rows.append(("predict", label, run, peaks))
            print(f"predict {label}: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU, "
                  f"peak {run.peak_mb:.0f} MB, per partition {peaks}", flush=True)
            outs[label] = target
        cluster = outs[f"--partitions {k} --workers {workers}"]
        same = (outs[f"--partitions {k}"].read_bytes() == cluster.read_bytes()) if local else None
    _report(n_series, n_rows, k, workers, size, rows, same)


def _report(n_series: int, n_rows: int, k: int, workers: int, size: float,
            rows: list[tuple[str, str, Run, list[float]]], same: bool | None) -> None:
    table = ["| verb | run | wall s | CPU s | peak RSS MB (largest process) | peak RSS MB per "
             "partition process |", "|---|---|---|---|---|---|"]
    reference = {verb: run.wall for verb, label, run, _ in rows if label == "unpartitioned"}
    for verb, label, run, peaks in rows:
        per = ", ".join(f"{p:.0f}" for p in peaks if p is not None) or "(one process)"
        ratio = f" ({run.wall / reference[verb]:.2f}×)" if label != "unpartitioned" else ""
        table.append(f"| {verb} | {label} | {run.wall:.1f}{ratio} | {run.cpu:.1f} | "
                     f"{run.peak_mb:.0f} | {per} |")
    body = (f"{n_series} series × {n_rows} daily rows ({n_series * n_rows:,} rows, "
            f"{size:.0f} MB CSV), tiny network ({' '.join(TINY[:10])}, one network, no refit; "
            "automatic batch size), "
            f"{k} hash partitions, local cluster of {workers} workers; {os.cpu_count()} "
            "cores. Wall ratios are against the unpartitioned run of the same verb.\n\n"
            + "\n".join(table) + "\n\nPartitioned forecasts, in-process against the cluster: "
            + {True: "byte-identical", False: "DIFFERENT", None: "not compared (--no-local)"}[same]
            + ".\n"
            "Peak RSS (largest process): GNU time's maximum over the run's process tree (for "
            "the cluster runs, the largest of the client, the scheduler, the workers and the "
            "partition processes); per partition: each partition process's own ru_maxrss.\n")
    name = "cluster_partitions" + ("" if n_series == 10_000 else f"_{n_series}x{n_rows}")
    write_results(name, "Partitioned panel: forecast train/predict "
                  "--partitions on a local Dask cluster", body)
