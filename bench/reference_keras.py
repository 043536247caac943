"""The minimal hand-written Keras reference the issue compares `forecast` with.

    python bench/reference_keras.py predict BUNDLE CSV   # import keras, load, forecast one window
    python bench/reference_keras.py train CSV --epochs 5 # the issue's training workload

``predict`` is what a user writes without forecast: import Keras, rebuild the network and load
its weights (a bundle holds weights, and its window-normalisation Lambdas can only be rebuilt by
code, so it borrows ``build_network``), scale the last window with numpy, predict.
``train`` is the plain script of the workload: standardise with training statistics, stride-1
windows materialised with numpy, LSTM(64) → Dense(24), Adam with clipnorm 1, batch 64, 70/15/15.
It prints one JSON line: seconds at the end of every epoch and the loss curves.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _last_column(csv: Path) -> np.ndarray:
    return np.loadtxt(csv, delimiter=",", skiprows=1, usecols=1, dtype=np.float64)  # (n,)


def predict(bundle: Path, csv: Path) -> None:
    import keras

    from forecast_cli.model.api import NetworkSpec, build_network

    config = json.loads((bundle / "config.json").read_text())
    scaler = json.loads((bundle / "scaler.json").read_text())
    spec = NetworkSpec.from_json(config["network"])
    net = build_network(spec)
    net.load_weights(str(bundle / "model.weights.h5"))
    offset, scale = scaler["offset"][0], scaler["scale"][0]
    window = (_last_column(csv)[-spec.lookback:] - offset) / scale
    out = net.predict(window[None, :, None].astype(np.float32), verbose=0)  # (1, H, 1)
    print(json.dumps({"keras": keras.__version__,
                      "forecast": (out[0, :, 0] * scale + offset).tolist()}))


def _windows(x: np.ndarray, lo: int, hi: int, lookback: int, horizon: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Windows whose targets lie in rows [lo, hi): X (m, lookback, 1), Y (m, horizon)."""
    first = max(lo, lookback)
    idx = np.arange(first, hi - horizon + 1)
    view_x = np.lib.stride_tricks.sliding_window_view(x, lookback)  # (n-L+1, L)
    view_y = np.lib.stride_tricks.sliding_window_view(x, horizon)  # (n-H+1, H)
    return view_x[idx - lookback][..., None].copy(), view_y[idx].copy()


def train(csv: Path, epochs: int, lookback: int, horizon: int, units: int, batch: int,
          jit_compile: bool, steps_per_execution: int, seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    values = _last_column(csv)
    n = len(values)
    train_end, val_end = round(0.7 * n), round(0.7 * n) + round(0.15 * n)
    mean, std = values[:train_end].mean(), values[:train_end].std()
    x = ((values - mean) / std).astype(np.float32)
    x_tr, y_tr = _windows(x, 0, train_end, lookback, horizon)
    x_va, y_va = _windows(x, train_end, val_end, lookback, horizon)
    model = keras.Sequential([keras.Input((lookback, 1)), keras.layers.LSTM(units),
                              keras.layers.Dense(horizon)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse",
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    ends: list[float] = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: ends.append(time.perf_counter()))
    started = time.perf_counter()
    hist = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=batch,
                     shuffle=True, verbose=0, callbacks=[clock])
    print(json.dumps({"epoch_end_s": [e - started for e in ends],
                      "loss": hist.history["loss"], "val_loss": hist.history["val_loss"],
                      "train_windows": len(x_tr), "val_windows": len(x_va)}))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("predict")
    p.add_argument("bundle", type=Path)
    p.add_argument("csv", type=Path)
    t = sub.add_parser("train")
    t.add_argument("csv", type=Path)
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--lookback", type=int, default=168)
    t.add_argument("--horizon", type=int, default=24)
    t.add_argument("--units", type=int, default=64)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--jit-compile", action="store_true")
    t.add_argument("--steps-per-execution", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.mode == "predict":
        predict(args.bundle, args.csv)
    else:
        train(args.csv, args.epochs, args.lookback, args.horizon, args.units, args.batch,
              args.jit_compile, args.steps_per_execution, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
