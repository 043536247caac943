"""Where a training step of the issue's workload goes (issue 6, goal 3), in one process.

    PYTHONPATH=$PWD .venv/bin/python bench/profile_train.py [--steps 40] [--rounds 4]

The workload of bench_train.py (20,000 hourly points, lookback 168, horizon 24, LSTM(64) →
Dense(24), batch 64, Adam clipnorm 1), through forecast's own pipeline (``window_dataset``).
Variants of the same network, their steps interleaved round by round so that the machine's
load hits all alike (ms per training step, Keras ``fit`` on ``--steps`` batches):

- ``keras``: Keras's LSTM, no XLA: the reference script's implementation;
- ``keras+xla``: the same, jit-compiled (forecast before the fused LSTM);
- ``fused/N``: ``build_network(fused=True)``, the batch split into N BlockLSTM ops.

Then the parts of a fused step, timed alone: the input pipeline, a step fed from batches
materialised beforehand, the LSTM layer's forward and forward + backward, the whole network's
forward + backward (the rest of a step is the optimizer and Keras), a validation batch.
With ``--epochs``: full epochs of the fused network as forecast trains it (stored windows,
8 steps per call), with 1 step per call, and with windows gathered batch by batch, interleaved.
With ``--autotune``: full epochs (train + validation) of the fused network through forecast's
pipeline as it is (no tf.data autotuning) and with autotuning switched back on, interleaved,
with the machine's idle time during each. Prints Markdown tables; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.common import median, write_workload_csv
from forecast_cli.core import keepout
from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.core.splits import check_length
from forecast_cli.data.frame import load_csv
from forecast_cli.model import api as model
from forecast_cli.model import dataset, fused_lstm
from forecast_cli.model.fit import STEPS_PER_EXECUTION
from forecast_cli.pipeline.training import _network_spec, resolve_settings
from forecast_cli.settings import Settings


def workload(tmp: Path) -> tuple[model.NetworkSpec, Any, Any]:
    """The network spec and forecast's training and validation datasets of the workload."""
    frame = load_csv(write_workload_csv(tmp / "hourly.csv"))
    s = resolve_settings(Settings(lookback=168, horizon=24, lstm_units=64, batch_size=64,
                                  dropout=0.0, window_norm="none", seed=0, output_dir=tmp),
                         frame)
    assert s.lookback is not None
    assert s.horizon is not None
    assert s.season is not None
    bounds = check_length(len(frame.values), s.train_frac, s.val_frac, s.lookback, s.horizon,
                          "workload")
    scaler = SeriesScalers((fit_scaler(s.scaler, frame.values[: bounds.train_end]),))
    parts = keepout.split_origins(frame.values, bounds, s.lookback, s.horizon, s.season, "w")
    spec = _network_spec(s, 1)
    zeros = {p: np.zeros(len(o), np.int64) for p, o in parts.items()}  # one series: index 0
    train = model.window_dataset(frame.values, frame.values, parts["train"], spec, 64,
                                 shuffle_seed=0, scaler=scaler, series=zeros["train"])
    val = model.window_dataset(frame.values, frame.values, parts["val"], spec, 64,
                               scaler=scaler, series=zeros["val"])
    return spec, train, val


def compiled(spec: model.NetworkSpec, fused: bool, jit: bool) -> Any:
    keras = model.keras_module()
    model.seed_everything(0)
    net = model.build_network(spec, fused=fused)
    net.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse",
                jit_compile=jit)
    return net


def ms_per_call(fn: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1000


def variants(spec: model.NetworkSpec, shards: list[int]) -> dict[str, tuple[Any, int]]:
    out = {"keras": (compiled(spec, False, False), 1),
           "keras+xla": (compiled(spec, False, True), 1)}
    out |= {f"fused/{n}": (compiled(spec, True, False), n) for n in shards}
    return out


def step_times(spec: model.NetworkSpec, train: Any, steps: int, rounds: int,
               shards: list[int]) -> dict[str, list[float]]:
    """ms per training step of every variant, one figure per round (round 0: warm-up)."""
    nets = variants(spec, shards)
    batches = train.take(steps)
    times: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(rounds + 1):
        for name, (net, n) in nets.items():
            fused_lstm.LSTM_SHARDS = n  # read when the step is traced, in the warm-up round
            started = time.perf_counter()
            net.fit(batches, epochs=1, verbose=0, shuffle=False)
            times[name].append((time.perf_counter() - started) / steps * 1000)
        print({k: round(v[-1], 1) for k, v in times.items()}, f"load {os.getloadavg()[0]:.2f}",
              file=sys.stderr, flush=True)
    return {k: v[1:] for k, v in times.items()}


def parts_of_a_step(spec: model.NetworkSpec, train: Any, val: Any, steps: int,
                    rounds: int) -> dict[str, list[float]]:
    """ms per call of each part of a fused training step (default shard count)."""
    tf = model.tf_module()
    net = compiled(spec, True, False)
    live = train.take(steps)
    stored = train.take(steps).cache()
    for _ in stored:  # materialise the batches beforehand
        pass
    x, y = next(iter(train))
    lstm = net.get_layer("lstm_0")
    loss_fn = model.keras_module().losses.MeanSquaredError()

    @tf.function
    def lstm_fwd_bwd() -> Any:
        with tf.GradientTape() as tape:
            out = tf.reduce_sum(lstm(x, training=True))
        return tape.gradient(out, lstm.trainable_weights)

    @tf.function
    def net_fwd_bwd() -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(x, training=True))
        return tape.gradient(loss, net.trainable_weights)

    lstm_fwd = tf.function(lambda: lstm(x))
    parts: dict[str, Callable[[], Any]] = {
        "input pipeline alone (per batch)": lambda: [b for b in live],
        "step, live pipeline": lambda: net.fit(live, epochs=1, verbose=0, shuffle=False),
        "step, batches materialised beforehand":
            lambda: net.fit(stored, epochs=1, verbose=0, shuffle=False),
        "LSTM forward": lambda: [lstm_fwd() for _ in range(steps)],
        "LSTM forward + backward": lambda: [lstm_fwd_bwd() for _ in range(steps)],
        "network forward + backward (no optimizer)": lambda: [net_fwd_bwd()
                                                              for _ in range(steps)],
        "validation batch (predict)": lambda: net.evaluate(val.take(steps), verbose=0),
    }
    times: dict[str, list[float]] = {name: [] for name in parts}
    for r in range(rounds + 1):
        for name, fn in parts.items():
            ms = ms_per_call(fn, 1) / steps
            if r:
                times[name].append(ms)
    return times


def idle_jiffies() -> int:
    """The machine's idle time so far, in jiffies (Linux /proc/stat)."""
    return int(Path("/proc/stat").read_text().split("\n")[0].split()[4])


def autotune_epochs(spec: model.NetworkSpec, train: Any, val: Any,
                    rounds: int) -> dict[str, list[float]]:
    """Seconds per full epoch (train + validation) of the fused network, forecast's pipeline
    as it is (no tf.data autotuning) and with autotuning switched back on; interleaved."""
    tf = model.tf_module()
    tuned = tf.data.Options()
    tuned.autotune.enabled = True  # the last options set win
    sets = {"no autotuning (forecast)": (train, val),
            "tf.data autotuning": (train.with_options(tuned), val.with_options(tuned))}
    nets = {name: compiled(spec, True, False) for name in sets}
    times: dict[str, list[float]] = {f"{n}, {what}": [] for n in sets for what in ("s", "idle")}
    for r in range(rounds + 1):
        for name, (tr, va) in sets.items():
            idle, started = idle_jiffies(), time.perf_counter()
            nets[name].fit(tr, validation_data=va, epochs=1, verbose=0, shuffle=False)
            if r:
                times[f"{name}, s"].append(time.perf_counter() - started)
                times[f"{name}, idle"].append(idle_jiffies() - idle)
    return times


def epoch_variants(tmp: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds per full epoch (train + validation) of the fused network: as forecast trains
    it (stored windows, ``fit.STEPS_PER_EXECUTION`` steps per call), with one step per call,
    and with the windows gathered batch by batch; interleaved."""
    keras = model.keras_module()
    spec, *stored = workload(tmp)
    saved, dataset.STORED_WINDOWS_BYTES = dataset.STORED_WINDOWS_BYTES, 0
    gathered = workload(tmp)[1:]
    dataset.STORED_WINDOWS_BYTES = saved
    sets = {f"forecast: stored windows, {STEPS_PER_EXECUTION} steps per call":
            (stored, STEPS_PER_EXECUTION),
            "stored windows, 1 step per call": (stored, 1),
            f"windows gathered per batch, {STEPS_PER_EXECUTION} steps per call":
            (gathered, STEPS_PER_EXECUTION)}
    nets = {}
    for name, (_, per_call) in sets.items():
        model.seed_everything(0)
        nets[name] = model.build_network(spec, fused=True)
        nets[name].compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse",
                           steps_per_execution=per_call)
    times: dict[str, list[float]] = {name: [] for name in sets}
    for r in range(rounds + 1):
        for name, ((tr, va), _) in sets.items():
            started = time.perf_counter()
            nets[name].fit(tr, validation_data=va, epochs=1, verbose=0, shuffle=False)
            if r:
                times[name].append(time.perf_counter() - started)
        print({k: round(v[-1], 2) for k, v in times.items() if v},
              f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    return times


def table(times: dict[str, list[float]]) -> str:
    rows = [f"| {name} | {median(v):.1f} | {', '.join(f'{t:.1f}' for t in v)} |"
            for name, v in times.items()]
    return "| what | median | every round |\n|---|---|---|\n" + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--intra", type=int, default=0, help="intra-op threads (0: TF's)")
    parser.add_argument("--inter", type=int, default=0, help="inter-op threads (0: TF's)")
    parser.add_argument("--steps-only", action="store_true", help="skip the parts of a step")
    parser.add_argument("--autotune", action="store_true",
                        help="only: full epochs with and without tf.data autotuning")
    parser.add_argument("--epochs", action="store_true",
                        help="only: full epochs, stored vs gathered windows, steps per call")
    args = parser.parse_args()
    threading = model.tf_module().config.threading
    threading.set_intra_op_parallelism_threads(args.intra)
    threading.set_inter_op_parallelism_threads(args.inter)
    shards = sorted({1, fused_lstm.LSTM_SHARDS})
    with tempfile.TemporaryDirectory() as tmp:
        spec, train, val = workload(Path(tmp))
        if args.epochs:
            print(f"Full epochs, s ({args.rounds} rounds, load at the start "
                  f"{os.getloadavg()[0]:.2f}):\n")
            print(table(epoch_variants(Path(tmp), args.rounds)))
            return
        if args.autotune:
            print(f"Full epochs, s, and idle jiffies of the machine during each "
                  f"({args.rounds} rounds):\n")
            print(table(autotune_epochs(spec, train, val, args.rounds)))
            return
        steps = step_times(spec, train, args.steps, args.rounds, shards)
        parts = {} if args.steps_only else parts_of_a_step(spec, train, val, args.steps,
                                                          args.rounds)
    print(f"Training step, ms ({args.steps} steps per round, {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs, threads intra {args.intra} inter {args.inter} (0: TF's "
          f"default), load at the end {os.getloadavg()[0]:.2f}):\n")
    print(table(steps))
    if not parts:
        return
    print(f"\nParts of a fused step (LSTM_SHARDS={fused_lstm.LSTM_SHARDS}), ms per batch:\n")
    print(table(parts))


if __name__ == "__main__":
    main()
