"""Memory while training (issue 6, goal 4): 2,000,000 rows × 8 features, lookback 336.

    .venv/bin/python bench/bench_memory.py [--rows 2000000] [--steps 30] [--series 1000]

Each case is a fresh process running forecast's training path as ``training.train`` runs it
after loading (float64 values → scaler fitted on the training rows → ``model.window_dataset``
for train and validation over the values themselves, scaled batch by batch, as
``training.fit_network`` builds them → ``model.build_network`` → ``model.fit``),
on an in-memory array, so the figure is the training pipeline's and not the CSV parser's.
To keep the run short, it is ONE epoch of STEPS batches (``Dataset.take``) and 5 validation
batches: the pipeline's memory does not depend on how many batches are drawn, only on the data
and the windows, which is what lookback 48 vs 336 shows. Peak RSS comes from GNU time.

TensorFlow's own footprint is measured in the same invocation by the same code on 2,000 rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PY, REPO, median, run_child, write_results

FEATURES = 8


def child(rows: int, lookback: int, steps: int, n_series: int = 1) -> None:
    """One training run; ``n_series`` > 1 cuts the rows into that many equal series, each with
    its own scaler and windows, as ``--id-col`` training feeds them (per-series scaling inside
    the input pipeline: no scaled copy)."""
    from forecast_cli.core.buffers import aligned_empty
    from forecast_cli.core.scaling import SeriesScalers, fit_scaler
    from forecast_cli.core.splits import origins, split_bounds
    from forecast_cli.model import api as model
    from forecast_cli.model import dataset

    # (n, 8) float64 random walks in an aligned buffer, as data.load_csv returns them; made in
    # place so that generating them adds no transient copy to the peak.
    values = aligned_empty((rows, FEATURES), np.float64)
    np.random.default_rng(0).standard_normal(out=values)
    np.cumsum(values, axis=0, out=values)
    # what training feeds the network: every series' scaler, applied window by window inside
    # the input pipeline; windows of series i start at i·length and never leave it
    length = rows // n_series
    bounds = split_bounds(length, 0.7, 0.15)
    scaler = SeriesScalers(tuple(fit_scaler("standard", values[i * length:
                                                               i * length + bounds.train_end])
                                 for i in range(n_series)))
    spec = model.NetworkSpec(lookback=lookback, horizon=24, n_inputs=FEATURES,
                             target_index=tuple(range(FEATURES)), lstm_units=64,
                             lstm_layers=1, dense_units=(), dropout=0.1, window_norm="last",
                             seed=0)
    # Windows gathered batch by batch in every case, as the 2,000,000-row ones are: the small
    # case measures TensorFlow's footprint, not the stored windows (at most 64 MB) that
    # window_dataset keeps for data this small.
    dataset.STORED_WINDOWS_BYTES = 0
    model.seed_everything(0)
    net = model.training_network(spec)  # what training.fit_network trains: fused on CPU
    part: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in ("train", "val"):
        local = origins(bounds, name, lookback, 24)  # (m,) rows of one series
        # the series of each window, as panel.Panel.origins gives it (one series: a view of 0)
        which = (np.broadcast_to(np.int64(0), local.shape) if n_series == 1 else
                 np.repeat(np.arange(n_series, dtype=np.int64), len(local)))
        part[name] = ((local[None, :] + length * np.arange(n_series)[:, None]).ravel(), which)
    (train_o, train_s), (val_o, val_s) = part["train"], part["val"]
    train_ds = model.window_dataset(values, values, train_o, spec, 64, shuffle_seed=0,
                                    scaler=scaler, series=train_s).take(steps)
    val_ds = model.window_dataset(values, values, val_o, spec, 64, scaler=scaler,
                                  series=val_s).take(5)
    # the datasets keep what they need (their own int32 positions); the int64 origins made
    # here are not part of the pipeline's footprint
    del part, local, train_o, train_s, val_o, val_s
    model.fit(net, train_ds, val_ds, model.FitOptions("adam", 1e-3, 1.0, 1, 5))
    print("ok")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--series", type=int, default=1000,
                        help="series of the panel case (the same rows, cut into equal series)")
    parser.add_argument("--child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    lookbacks = (48, 336)
    # TensorFlow's footprint at each lookback: the network's own activation memory for
    # back-propagation grows with lookback × batch × units whatever the data, so each case is
    # compared with the footprint at its own lookback.
    cases = {**{f"TensorFlow footprint: 2,000 rows, lookback {lb}": (2_000, lb, 1)
                for lb in lookbacks},
             **{f"{args.rows:,} rows, lookback {lb}": (args.rows, lb, 1) for lb in lookbacks},
             f"{args.rows:,} rows as {args.series:,} series, lookback 336":
                 (args.rows, 336, args.series)}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (rows, lookback, n_series) in cases.items():
            run = run_child([PY, REPO / "bench" / "bench_memory.py", "--child", str(rows),
                             str(lookback), str(args.steps), str(n_series)])
            if run.code != 0:
                raise SystemExit(f"{name} failed with exit {run.code}")
            peaks[name].append(run.peak_mb)
    raw_mb = args.rows * FEATURES * 4 / 2**20
    footprint = {lb: median(peaks[f"TensorFlow footprint: 2,000 rows, lookback {lb}"])
                 for lb in lookbacks}
    lines = ["| case | median peak RSS MB | runs | above TF footprint at its lookback, MB | "
             "÷ raw float32 size |", "|---|---|---|---|---|"]
    for name, (_rows, lookback, _series) in cases.items():
        extra = median(peaks[name]) - footprint[lookback]
        lines.append(f"| {name} | {median(peaks[name]):.0f} | "
                     f"{', '.join(f'{p:.0f}' for p in peaks[name])} | {extra:.0f} | "
                     f"{extra / raw_mb:.2f}× |")
    goal = max(footprint.values()) + 3 * raw_mb
    body = ("\n".join(lines) + f"\n\nRaw float32 size of {args.rows:,} × {FEATURES}: "
            f"{raw_mb:.0f} MB. Goal: less than 3 × raw above the footprint (at lookback 336: "
            f"peak < {goal:.0f} MB), and no growth from lookback 48 to 336 beyond the "
            f"footprint's own. One epoch of {args.steps} training batches (64 windows) and 5 "
            "validation batches: a short run, by design (see the module docstring). The panel "
            "case is the same rows cut into equal series, each scaled by its own scaler "
            "inside the input pipeline (no scaled copy): its peak should equal the one-series "
            "case's within the series index of each window (8 bytes a window).\n")
    write_results("memory", "Memory while training", body)


if __name__ == "__main__":
    main()
