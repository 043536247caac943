"""Training speed (issue 6, goal 3): `forecast train` against the minimal Keras script.

    .venv/bin/python bench/bench_train.py [--epochs 5] [--repeats 1]

Same workload for both (hourly series of 20,000 points, lookback 168, horizon 24, LSTM(64) →
Dense(24), batch 64, Adam lr 1e-3 clipnorm 1, 70/15/15, standardised with training
statistics): forecast runs with ``--dropout 0 --window-norm none`` so the network is the
reference's. Each side runs in its own fresh process, alternating. The steady epoch time is the
median of epochs 2..EPOCHS (epoch 1 holds tracing/compilation), validation included on both.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from bench.common import PY, REPO, median, run_child, write_results, write_workload_csv


def forecast_child(csv: Path, epochs: int, out: Path) -> None:
    """forecast's own training path (training.train), timing each epoch's end; one JSON line."""
    from forecast_cli.pipeline.training import train
    from forecast_cli.settings import Settings

    ends: list[float] = []
    settings = Settings(lookback=168, horizon=24, lstm_units=64, batch_size=64, epochs=epochs,
                        patience=1000, dropout=0.0, window_norm="none", seed=0, output_dir=out)
    started = time.perf_counter()
    result = train(csv, settings, on_epoch=lambda epoch, logs: ends.append(time.perf_counter()))
    print(json.dumps({"epoch_end_s": [e - started for e in ends],
                      "loss": result.history["loss"], "val_loss": result.history["val_loss"],
                      "train_windows": result.windows["train"],
                      "val_windows": result.windows["val"]}))


def steady(report: dict[str, list[float]]) -> float:
    ends = report["epoch_end_s"]
    return median([b - a for a, b in itertools.pairwise(ends)])


def run_side(cmd: list[str | Path]) -> dict[str, list[float]]:
    run = run_child(cmd)
    if run.code != 0:
        raise SystemExit(f"{cmd} failed with exit {run.code}")
    report: dict[str, list[float]] = json.loads(run.stdout.strip().splitlines()[-1])
    return report


def curve(report: dict[str, list[float]]) -> str:
    return " → ".join(f"{v:.4f}" for v in report["val_loss"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        forecast_child(args.child[0], args.epochs, args.child[1])
        return
    ref_runs, ours_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv = write_workload_csv(Path(tmp) / "hourly.csv")
        for i in range(args.repeats):
            ref_runs.append(run_side([PY, REPO / "bench" / "reference_keras.py", "train", csv,
                                      "--epochs", str(args.epochs)]))
            ours_runs.append(run_side([PY, REPO / "bench" / "bench_train.py", "--epochs",
                                       str(args.epochs), "--child", csv, Path(tmp) / f"o{i}"]))
    ref = median([steady(r) for r in ref_runs])
    ours = median([steady(r) for r in ours_runs])
    rows = "\n".join(
        f"| {name} | {steady(r):.2f} | {', '.join(f'{e:.1f}' for e in r['epoch_end_s'])} | "
        f"{r['train_windows']} | {curve(r)} |"
        for name, runs in (("minimal Keras script", ref_runs), ("forecast train", ours_runs))
        for r in runs)
    body = (f"| run | steady epoch s | epoch ends (s from start of fit) | train windows | "
            f"val_loss per epoch |\n|---|---|---|---|---|\n{rows}\n\n"
            f"Steady epoch, median over runs: reference {ref:.2f} s, forecast {ours:.2f} s: "
            f"**ratio forecast / reference = {ours / ref:.2f}** (goal ≤ 0.5). Final val_loss: "
            f"reference {median([r['val_loss'][-1] for r in ref_runs]):.4f}, forecast "
            f"{median([r['val_loss'][-1] for r in ours_runs]):.4f} (lower is better).\n")
    write_results("train", f"Training speed ({args.epochs} epochs, {args.repeats} run(s) each)",
                  body)


if __name__ == "__main__":
    main()
