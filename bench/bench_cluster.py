"""`forecast batch` on a local Dask cluster of 1, 2 and 4 workers against the in-process batch.

Builds N small jobs (default 64: 120 daily rows each, a tiny network trained for 2 epochs),
then runs the real CLI on a fresh copy for each configuration, in this order, in the same
invocation: the in-process batch (the reference: one job process serves every job, so
TensorFlow is imported once), then ``--workers K`` for each K (every job in a fresh process on
a worker: TensorFlow is imported once per job). Reports wall time, seconds per job, the
overhead per job of the cluster against the reference, the speed-up of K workers against one,
peak RSS (GNU time: the largest process of the run's tree), and checks that every
configuration wrote byte-identical forecasts.

Usage: nice -n 10 .venv/bin/python bench/bench_cluster.py [--jobs 64] [--workers 1,2,4]

``--panel`` runs the partitioned panel instead (``bench_partitions``): one file of
``--series`` × ``--rows`` (10,000 × 500 by default), trained and forecast unpartitioned, with
``--partitions K`` in-process and on ``--panel-workers`` local workers, in one invocation;
results in bench/results/cluster_partitions.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

# runnable as `python bench/NAME.py` from the repository root: `bench` is a package there
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PY, Run, run_child, write_results

# one network per job, no refit: the product's default ensemble of 4 and its refit would make
# each job ~4× the TensorFlow tracing (~35 CPU s), which is the model's cost, not the cluster's
SETTINGS = ("lookback = 8\nhorizon = 4\nlstm_units = 4\nepochs = 2\npatience = 2\n"
            "batch_size = 16\nseed = 7\nensemble_seeds = 1\nensemble_lookbacks = [1.0]\n"
            "refit = false\n")


def _build(root: Path, n_jobs: int) -> Path:
    """root/batch.toml with ``n_jobs`` jobs, each on its own seeded 120-row daily series."""
    lines = ["[defaults]", SETTINGS]
    t = np.arange(120)
    for j in range(n_jobs):
        rng = np.random.default_rng(j)
        values = 10 + 0.05 * t + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(120)
        pd.DataFrame({"timestamp": pd.date_range("2020-01-01", periods=120, freq="D"),
                      "value": values}).to_csv(root / f"s{j:03d}.csv", index=False)
        lines += [f"[jobs.s{j:03d}]", f'data = "s{j:03d}.csv"', 'output = "out/{job}.csv"', ""]
    batch = root / "batch.toml"
    batch.write_text("\n".join(lines), encoding="utf-8")
    return batch


def _forecasts(root: Path) -> str:
    """One digest of every forecast written, in name order."""
    h = hashlib.sha256()
    for path in sorted((root / "out").glob("*.csv")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def _run(template: Path, label: str, args: list[str]) -> tuple[Run, str]:
    root = Path(shutil.copytree(template, template.parent / label))
    run = run_child([PY, "-m", "forecast_cli", "batch", str(root / "batch.toml"), *args],
                    env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    if run.code != 0:
        raise SystemExit(f"{label}: exit {run.code}")
    print(f"{label}: {run.wall:.1f} s wall, {run.cpu:.1f} CPU s, peak {run.peak_mb:.0f} MB",
          file=sys.stderr, flush=True)  # a long run shows its progress
    return run, _forecasts(root)


def main(n_jobs: int, workers: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        template.mkdir()
        _build(template, n_jobs)
        results = {"in-process": _run(template, "local", [])}
        for k in workers:
            results[f"--workers {k}"] = _run(template, f"w{k}", ["--workers", str(k)])
    digests = {d for _, d in results.values()}
    local = results["in-process"][0].wall
    one = results.get("--workers 1", (None, ""))[0]
    rows = ["| run | wall s | s per job | speed-up vs 1 worker | cluster overhead per job s "
            "| CPU s | peak RSS MB |", "|---|---|---|---|---|---|---|"]
    for label, (run, _) in results.items():
        speed = f"{one.wall / run.wall:.2f}×" if one is not None and label != "in-process" else ""
        over = f"{(run.wall - local) / n_jobs:+.2f}" if label != "in-process" else "(reference)"
        rows.append(f"| {label} | {run.wall:.1f} | {run.wall / n_jobs:.2f} | {speed} | {over} "
                    f"| {run.cpu:.1f} | {run.peak_mb:.0f} |")
    same = "identical" if len(digests) == 1 else f"DIFFERENT ({len(digests)} variants)"
    body = (f"{n_jobs} jobs (120 daily rows, lookback 8, horizon 4, 4 LSTM units, 2 epochs, "
            "one network, no refit), "
            f"each trained and forecast once per run; {os.cpu_count()} cores.\n\n"
            + "\n".join(rows) + f"\n\nForecasts of every run: {same} (sha256 of all outputs).\n"
            "CPU s: user + system of the client and every process it waited for (a local "
            "cluster's workers are its children); peak RSS: the largest single process.\n")
    write_results("cluster", "forecast batch on a local Dask cluster", body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--panel", action="store_true", help="the partitioned panel instead")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--panel-workers", type=int, default=2)
    parser.add_argument("--no-local", action="store_true",
                        help="--panel: skip the in-process partitioned run (the byte-identity "
                        "check against the cluster is then not made)")
    ns = parser.parse_args()
    if ns.panel:
        from bench import bench_partitions

        bench_partitions.main(ns.series, ns.rows, ns.partitions, ns.panel_workers,
                              local=not ns.no_local)
    else:
        main(ns.jobs, [int(k) for k in ns.workers.split(",")])
