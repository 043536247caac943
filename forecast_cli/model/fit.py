"""Fitting the network (optimiser, XLA or not, callbacks) and running it forward on windows.

Importing this module is cheap; TensorFlow is loaded (``runtime``) when a network is fitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.model.runtime import keras_module, on_gpu
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT

EpochCallback = Callable[[int, dict[str, float]], None]


def _optimizer(keras: Any, name: str, learning_rate: float, clipnorm: float) -> Any:
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, clipnorm=clipnorm)
    return keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)


# XLA compiles the LSTM's time loop into one fused kernel: 2-4× faster epochs on CPU
# (bench/README.md), for a compilation of a few seconds that tiny fits do not repay.
XLA_MIN_WORK = 20_000  # training batches per epoch × lookback from which XLA is used


# Training (and validation) steps per call into TensorFlow: Keras loops over them inside the
# graph, which spares the Python round trip of every step: ~10 % of an epoch of the issue's
# workload on 2 cores (bench/README.md). Callbacks still see every epoch; per-batch hooks run
# every 8 steps. Not with XLA, whose compilation of the loop takes far longer (bench/README.md).
STEPS_PER_EXECUTION = 8


@dataclass(frozen=True)
class FitOptions:
    """Optimisation settings of one fit. ``jit_compile`` None: XLA when the fit is big enough."""

    optimizer: str
    learning_rate: float
    clipnorm: float
    epochs: int
    patience: int
    jit_compile: bool | None = None


def use_xla(model: Any, train_ds: Any, opts: FitOptions) -> bool:
    """Whether to compile the training step with XLA: never while op determinism is on,
    nor for a network with a fused LSTM (``build_network(fused=True)``), which XLA cannot compile.
    """
    if not all(layer.supports_jit for layer in model.layers):
        return False
    if opts.jit_compile is not None:
        wanted = opts.jit_compile
    else:
        steps = int(train_ds.cardinality())
        lookback = int(model.inputs[0].shape[1] or 0)  # the window input, first of one or two
        wanted = steps > 0 and steps * lookback >= XLA_MIN_WORK
    return bool(wanted and not on_gpu())


def _member_mse_class(keras: Any) -> Any:
    class MemberMSE(keras.losses.Loss):  # type: ignore[misc]
        """The mean of an ensemble's members' MSE: y (B, H, k), members (B, M, H, k) → (B,).

        A ``Loss`` subclass, not a function: Keras would align a function's ranks by adding
        an axis at the end of y, which broadcasts against the wrong axes."""

        def call(self, y_true: Any, y_pred: Any) -> Any:
            ops = keras.ops
            err = y_pred - ops.expand_dims(y_true, 1)
            return ops.mean(ops.square(err), axis=(1, 2, 3))

    return MemberMSE(name="member_mse")


def _loss(keras: Any, model: Any) -> Any:
    """MSE; for an ensemble's training network (output (B, M, H, k)) each member's own MSE,
    averaged, so the members train as M independent networks would."""
    return _member_mse_class(keras) if len(model.outputs[0].shape) == 4 else "mse"


def fit(model: Any, train_ds: Any, val_ds: Any | None, opts: FitOptions,
        on_epoch: EpochCallback | None = None,
        backup_dir: Path | None = None) -> dict[str, list[float]]:
    """Train with MSE, clipping, early stopping (best weights restored), LR decay, NaN guard.

    ``val_ds`` None (a refit on every window: nothing held out): ``opts.epochs`` epochs at the
    learning rate given, without early stopping or LR decay.

    With ``backup_dir``, the weights, optimizer state and epoch are saved there at the end of
    every epoch (Keras BackupAndRestore, keeping the previous state too); a fit interrupted
    part-way resumes from its last completed epoch when called again with the same directory,
    and the directory is deleted when the fit completes. The caller must key the directory by
    the data and settings, so a backup is never resumed into a different training.

    Returns the history: metric name → one value per epoch run (by this call, when resumed).
    """
    keras = keras_module()
    cb = keras.callbacks
    jit = use_xla(model, train_ds, opts)
    model.compile(optimizer=_optimizer(keras, opts.optimizer, opts.learning_rate,
                                       opts.clipnorm), loss=_loss(keras, model),
                  jit_compile=jit,
                  steps_per_execution=1 if jit else STEPS_PER_EXECUTION)
    callbacks = [] if backup_dir is None else [  # first: saved before any later callback runs
        cb.BackupAndRestore(str(backup_dir), double_checkpoint=True)]
    callbacks.append(cb.TerminateOnNaN())
    if val_ds is not None:
        callbacks += [
            cb.EarlyStopping(monitor="val_loss", patience=opts.patience,
                             restore_best_weights=True),
            cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                 patience=max(1, opts.patience // 3), min_lr=1e-6),
        ]
    if on_epoch is not None:
        callbacks.append(cb.LambdaCallback(
            on_epoch_end=lambda epoch, logs: on_epoch(
                epoch, {k: float(v) for k, v in (logs or {}).items()})))
    history = model.fit(train_ds, validation_data=val_ds, epochs=opts.epochs, verbose=0,
                        shuffle=False,  # the dataset shuffles itself, seeded
                        callbacks=callbacks)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def predict(model: Any, ds: Any) -> np.ndarray:
    """Run the network over a dataset of input windows → (m, horizon, k) float64, scaled."""
    return np.asarray(model.predict(ds, verbose=0), dtype=np.float64)


def predict_array(model: Any, x: np.ndarray, future: np.ndarray | None = None) -> np.ndarray:
    """x (m, lookback, F) [and future (m, horizon, n_future)] → (m, horizon, k) float64, scaled.

    ``future`` is required exactly when the network has a ``future`` input.
    """
    if (future is not None) != (len(model.inputs) == 2):
        raise ValueError(f"the network takes {len(model.inputs)} input(s); got "
                         f"{1 if future is None else 2}")
    window = np.asarray(x, np.float32)
    args = window if future is None else {ONNX_INPUT: window,
                                          ONNX_FUTURE: np.asarray(future, np.float32)}
    out = model(args, training=False)
    return np.asarray(out, dtype=np.float64)
