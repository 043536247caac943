"""ETTh1/ETTh2 long-horizon benchmark under the protocol of ../shared/docs/evaluation.md.

Runs forecast's own library (data loading, scaling, splits, windowing, the LSTM and its
training loop) on the published split: rows [0, 8640) train, [8640, 11520) validation,
[11520, 14400) test, every column z-scored with training statistics, stride-1 test windows,
MSE/MAE on the standardised scale averaged over windows × steps × channels, reported for all
windows and for "drop-last-32" (the published code's quirk). The naive Repeat row is measured
by the same code: it must reproduce the published Repeat numbers.

CPU budget: training windows and validation windows may be thinned (``--train-stride``,
``--val-stride``) and epochs capped; every test window is always scored. Usage::

    .venv/bin/python bench/etth.py --out bench/results/etth.md
    # one cell (the full grid is 2 data × 2 settings × 4 horizons):
    .venv/bin/python bench/etth.py --data ETTh1 --settings M --horizons 96 --out /tmp/cell.md

"All windows" (the fair number: every stride-1 test window, none dropped) and "dl32" (the
published code's drop-last-32) are reported side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.baselines import naive
from forecast_cli.core.scaling import Scaler, fit_scaler
from forecast_cli.core.splits import SplitBounds, origins
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import load_csv
from forecast_cli.model import api as model
from forecast_cli.pipeline.fitting import fit_network, forecast_windows, one_series
from forecast_cli.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett"
BOUNDS = SplitBounds(n=14400, train_end=8640, val_end=11520)
COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")

# (data, setting, horizon) → {row: (MSE, MAE)}, quoted from ../shared/docs/evaluation.md.
PUBLISHED: dict[tuple[str, str, int], dict[str, tuple[float, float]]] = {
    ("ETTh1", "M", 96): {"Repeat": (1.295, 0.713), "DLinear": (0.375, 0.399),
                         "PatchTST/64": (0.370, 0.400)},
    ("ETTh1", "M", 192): {"Repeat": (1.325, 0.733), "DLinear": (0.405, 0.416),
                          "PatchTST/64": (0.413, 0.429)},
    ("ETTh1", "M", 336): {"Repeat": (1.323, 0.744), "DLinear": (0.439, 0.443),
                          "PatchTST/64": (0.422, 0.440)},
    ("ETTh1", "M", 720): {"Repeat": (1.339, 0.756), "DLinear": (0.472, 0.490),
                          "PatchTST/64": (0.447, 0.468)},
    ("ETTh2", "M", 96): {"Repeat": (0.432, 0.422), "DLinear": (0.289, 0.353),
                         "PatchTST/64": (0.274, 0.337)},
    ("ETTh2", "M", 192): {"Repeat": (0.534, 0.473), "DLinear": (0.383, 0.418),
                          "PatchTST/64": (0.341, 0.382)},
    ("ETTh2", "M", 336): {"Repeat": (0.591, 0.508), "DLinear": (0.448, 0.465),
                          "PatchTST/64": (0.329, 0.384)},
    ("ETTh2", "M", 720): {"Repeat": (0.588, 0.517), "DLinear": (0.605, 0.551),
                          "PatchTST/64": (0.379, 0.422)},
    ("ETTh1", "S", 96): {"Repeat": (0.069, 0.203), "DLinear": (0.056, 0.180),
                         "NLinear": (0.053, 0.177)},
}


@dataclass(frozen=True)
class Run:
    """One benchmark cell: data set, setting (S or M), horizon, and the model settings."""

    data: str
    setting: str
    horizon: int
    settings: Settings


def standardised(data: str, setting: str) -> np.ndarray:
    """The first 14,400 rows z-scored with training statistics. → (14400, 1 or 7)."""
    cols = ["OT"] if setting == "S" else list(COLUMNS)
    frame = load_csv(DATA / f"{data}.csv", columns=cols, time_col="date")
    values = frame.values[: BOUNDS.n]
    scaler = fit_scaler("standard", values[: BOUNDS.train_end])
    return scaler.transform(values)


def scores(actual: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MSE/MAE over windows × steps × channels, all windows and drop-last-32."""
    keep = len(actual) - len(actual) % 32
    err = pred - actual
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err))),
            "mse_dl32": float(np.mean(err[:keep] ** 2)),
            "mae_dl32": float(np.mean(np.abs(err[:keep]))), "windows": len(actual),
            "windows_dl32": keep}


def run_one(run: Run, train_stride: int, val_stride: int) -> dict[str, Any]:
    """Fit the LSTM on one cell and score it and Repeat on every test window."""
    started = time.perf_counter()
    s = run.settings
    assert s.lookback is not None
    z = standardised(run.data, run.setting)
    k = z.shape[1]
    spec = model.NetworkSpec(
        lookback=s.lookback, horizon=run.horizon, n_inputs=k, target_index=tuple(range(k)),
        lstm_units=s.lstm_units, lstm_layers=s.lstm_layers, dense_units=s.dense_units,
        dropout=s.dropout, window_norm=s.window_norm, seed=s.seed,
        channel_independence=s.channel_independence and k > 1, patch_len=s.patch_len)
    part = {p: origins(BOUNDS, p, s.lookback, run.horizon) for p in ("train", "val", "test")}
    net, history = fit_network(z, one_series(part["train"][::train_stride]),
                               one_series(part["val"][::val_stride]), spec, s)
    identity = Scaler("standard", np.zeros(k), np.ones(k), z.min(axis=0), z.max(axis=0))
    test = part["test"]
    actual = WindowSpec(s.lookback, run.horizon).targets(z, test)
    pred = forecast_windows(net, z, test, spec, identity)
    return {"data": run.data, "setting": run.setting, "horizon": run.horizon,
            "lookback": s.lookback, "patch_len": s.patch_len, "window_norm": s.window_norm,
            "channel_independence": spec.channel_independence,
            "lstm": scores(actual, pred), "repeat": scores(actual, naive(z, test, run.horizon)),
            "epochs_run": len(history["loss"]),
            "best_epoch": int(np.argmin(history["val_loss"])) + 1,
            "train_windows": len(part["train"][::train_stride]),
            "val_windows": len(part["val"][::val_stride]),
            "seconds": round(time.perf_counter() - started, 1)}


def _cell(mse: float, mae: float) -> str:
    return f"{mse:.3f} / {mae:.3f}"


def markdown(results: list[dict[str, Any]], header: str) -> str:
    """Results beside the published rows, one table line per cell."""
    lines = [header, "",
             "| data | S/M | H | L | norm | CI | LSTM (all) | LSTM (dl32) | Repeat (all) | "
             "Repeat (dl32) | Repeat published | DLinear | PatchTST/64 | NLinear | epochs | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        pub = PUBLISHED.get((r["data"], r["setting"], r["horizon"]), {})
        lstm, rep = r["lstm"], r["repeat"]
        quoted = [_cell(*pub[n]) if n in pub else "—"
                  for n in ("Repeat", "DLinear", "PatchTST/64", "NLinear")]
        lines.append(
            f"| {r['data']} | {r['setting']} | {r['horizon']} | {r['lookback']} | "
            f"{r['window_norm']} | {'yes' if r['channel_independence'] else 'no'} | "
            f"{_cell(lstm['mse'], lstm['mae'])} | {_cell(lstm['mse_dl32'], lstm['mae_dl32'])} | "
            f"{_cell(rep['mse'], rep['mae'])} | {_cell(rep['mse_dl32'], rep['mae_dl32'])} | "
            + " | ".join(quoted)
            + f" | {r['best_epoch']}/{r['epochs_run']} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="ETTh1,ETTh2")
    p.add_argument("--settings", default="S,M")
    p.add_argument("--horizons", default="96,192,336,720")
    p.add_argument("--lookback", type=int, default=336)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--patch-len", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--window-norm", default="last")
    p.add_argument("--no-channel-independence", action="store_true")
    p.add_argument("--train-stride", type=int, default=4)
    p.add_argument("--val-stride", type=int, default=8)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path("bench/results/etth.md"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    base = Settings(lookback=a.lookback, lstm_units=a.units, epochs=a.epochs,
                    patience=a.patience, batch_size=a.batch_size, learning_rate=a.learning_rate,
                    window_norm=a.window_norm, channel_independence=not a.no_channel_independence,
                    dropout=0.0, seed=a.seed, patch_len=a.patch_len)
    started = time.perf_counter()
    results = []
    for data in a.data.split(","):
        for setting in a.settings.split(","):
            for h in (int(v) for v in a.horizons.split(",")):
                r = run_one(Run(data, setting, h, replace(base, horizon=h)),
                            a.train_stride, a.val_stride)
                results.append(r)
                print(json.dumps(r), flush=True)
    wall = time.perf_counter() - started
    command = "python bench/etth.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"## ETTh benchmark\n\nCommand: `{command}`  \nSeed: {a.seed}  \n"
              f"Wall time: {wall / 60:.1f} min on {os.cpu_count()} CPU cores "
              f"({platform.processor() or platform.machine()}), shared with other jobs.  \n"
              f"LSTM {a.units} units, lookback {a.lookback}, patch_len {a.patch_len}, "
              f"batch {a.batch_size}, at most "
              f"{a.epochs} epochs (patience {a.patience}), 1 in {a.train_stride} training "
              f"windows, 1 in {a.val_stride} validation windows for early stopping; all test "
              "windows scored. MSE / MAE on the standardised scale.")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(markdown(results, header), encoding="utf-8")
    a.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n",
                                          encoding="utf-8")
    print(f"wrote {a.out} in {wall / 60:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
