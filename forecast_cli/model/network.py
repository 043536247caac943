"""The Keras network: window norm → LSTM stack → Dropout → Dense* → forecast, built from a spec.

Importing this module is cheap; TensorFlow is loaded (``runtime``) the first time a network is
built.
"""

from __future__ import annotations

from typing import Any

from forecast_cli.model.fused_lstm import fused_lstm_class
from forecast_cli.model.runtime import keras_module, on_gpu
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec


def _window_reference(keras: Any, x: Any, mode: str) -> Any:
    """The per-window level subtracted from inputs and added back to outputs. (B, 1, F)."""
    ops = keras.ops
    if mode == "last":
        return keras.layers.Lambda(lambda t: t[:, -1:, :], name="window_last")(x)
    return keras.layers.Lambda(lambda t: ops.mean(t, axis=1, keepdims=True),
                               name="window_mean")(x)


def _core(keras: Any, spec: NetworkSpec, inputs: Any, target_index: list[int],
          future: Any = None, fused: bool = False) -> Any:
    """(B, L, F) → window norm → LSTM stack → Dropout → Dense* → (B, horizon, len(target_index)).

    ``future`` (B, horizon, n_future), when given, is flattened and concatenated with the LSTM
    stack's output, so the hidden layers and the head see the known values of every step.
    ``fused``: the LSTM layers run TensorFlow's fused CPU op (``fused_lstm.fused_lstm_class``).
    """
    layers, init = keras.layers, keras.initializers
    n_out = len(target_index)
    x = inputs
    ref = None
    if spec.window_norm != "none":
        ref = _window_reference(keras, inputs, spec.window_norm)  # (B, 1, F)
        x = layers.Subtract(name="window_norm")([inputs, ref])  # (B, L, F)
    skip = _linear_skip(keras, spec, x, target_index) if spec.linear_skip else None
    if spec.patch_len > 1:
        x = _patches(keras, x, spec.lookback, spec.patch_len)  # (B, L // P, P·F)
    lstm = fused_lstm_class() if fused else layers.LSTM
    for i in range(spec.lstm_layers):
        last = i == spec.lstm_layers - 1
        x = lstm(  # (B, L, units) inside the stack, (B, units) at its end
            spec.lstm_units, return_sequences=not last, name=f"lstm_{i}",
            kernel_initializer=init.GlorotUniform(seed=spec.seed + i),
            recurrent_initializer=init.Orthogonal(seed=spec.seed + 100 + i))(x)
    x = layers.Dropout(spec.dropout, seed=spec.seed, name="dropout")(x)  # (B, units)
    if future is not None:
        flat = layers.Flatten(name="future_flat")(future)  # (B, H·n_future)
        x = layers.Concatenate(name="with_future")([x, flat])  # (B, units + H·n_future)
    for i, units in enumerate(spec.dense_units):
        x = layers.Dense(units, activation="relu", name=f"hidden_{i}",  # (B, units_i)
                         kernel_initializer=init.GlorotUniform(seed=spec.seed + 200 + i))(x)
    x = layers.Dense(spec.horizon * n_out, name="head",  # (B, H·k)
                     kernel_initializer=init.GlorotUniform(seed=spec.seed + 300))(x)
    out = layers.Reshape((spec.horizon, n_out), name="forecast")(x)  # (B, H, k)
    if skip is not None:
        out = layers.Add(name="with_linear")([out, skip])  # (B, H, k)
    if ref is not None:
        level = layers.Lambda(lambda r: keras.ops.take(r, target_index, axis=2),
                              name="target_level")(ref)  # (B, 1, k)
        out = layers.Add(name="denorm")([out, level])  # (B, H, k)
    return out


def _linear_skip(keras: Any, spec: NetworkSpec, x: Any, target_index: list[int]) -> Any:
    """NLinear: (B, L, F) normalised window → one Dense map of each target's lookback to its
    horizon, shared by the targets → (B, H, k). Zero-initialised: the forecast starts at the
    window's level and the LSTM learns around the linear fit."""
    layers = keras.layers
    own = layers.Lambda(lambda t: keras.ops.take(t, target_index, axis=2),
                        name="skip_targets")(x)  # (B, L, k)
    per = layers.Permute((2, 1), name="skip_by_target")(own)  # (B, k, L)
    mapped = layers.Dense(spec.horizon, name="linear_skip", kernel_initializer="zeros")(per)
    return layers.Permute((2, 1), name="skip_out")(mapped)  # (B, H, k)


def _patches(keras: Any, x: Any, lookback: int, patch: int) -> Any:
    """(B, L, F) → (B, L // P, P·F): the latest L // P whole patches, oldest rows dropped."""
    n, f = lookback // patch, x.shape[-1]
    recent = keras.layers.Lambda(lambda t: t[:, lookback - n * patch:, :],
                                 name="whole_patches")(x)  # (B, n·P, F)
    return keras.layers.Reshape((n, patch * f), name="patches")(recent)



def training_network(spec: NetworkSpec) -> Any:
    """The network to fit: LSTMs fused on CPU; on a GPU the plain one (Keras uses cuDNN)."""
    return build_network(spec, fused=not on_gpu())


def portable_network(trained: Any, spec: NetworkSpec) -> Any:
    """The plain Keras network (``build_network``) holding ``trained``'s weights.

    What is saved, exported to ONNX and used to predict. The weights of a network built with
    ``fused=True`` are the same variables in the same order; a plain network is returned as is.
    """
    if all(layer.supports_jit for layer in trained.layers):
        return trained
    net = build_network(spec)
    net.set_weights(trained.get_weights())
    return net


def build_network(spec: NetworkSpec, fused: bool = False) -> Any:
    """Input (B, lookback, n_inputs) → LSTM stack → Dropout → Dense* → (B, horizon, n_targets).

    With ``spec.n_future > 0`` the model takes two inputs, ``[window, future]``: window
    (B, lookback, n_inputs) and future (B, horizon, n_future), the known inputs of each forecast
    step, flattened and joined to the LSTM output before the Dense layers (see ``_core``).

    With channel independence every column is a separate univariate series through one shared
    network: (B, L, F) → (B·F, L, 1) → core → (B·F, H, 1) → (B, H, F) → targets (B, H, k); the
    future block is repeated per channel: (B, H, n_future) → (B·F, H, n_future).

    ``fused``: the same network and weights with the LSTM time loop in one fused TensorFlow
    op, for training on CPU (``fused_lstm.fused_lstm_class``); save ``portable_network`` of it.
    """
    keras = keras_module()
    ops = keras.ops
    inputs = keras.Input(shape=(spec.lookback, spec.n_inputs), name=ONNX_INPUT)  # (B, L, F)
    future = (keras.Input(shape=(spec.horizon, spec.n_future), name=ONNX_FUTURE)  # (B, H, n_f)
              if spec.n_future > 0 else None)
    model_inputs = inputs if future is None else [inputs, future]
    if not spec.channel_independence:
        out = _core(keras, spec, inputs, list(spec.target_index), future, fused)
        return keras.Model(model_inputs, out, name="forecast_lstm")
    lookback, n_in, horizon = spec.lookback, spec.n_inputs, spec.horizon
    series = keras.layers.Lambda(  # (B·F, L, 1)
        lambda t: ops.reshape(ops.transpose(t, (0, 2, 1)), (-1, lookback, 1)),
        name="split_channels")(inputs)
    per_channel = None if future is None else keras.layers.Lambda(  # (B·F, H, n_future)
        lambda t: ops.repeat(t, n_in, axis=0), name="future_per_channel")(future)
    each = _core(keras, spec, series, [0], per_channel, fused)  # (B·F, H, 1)
    out = keras.layers.Lambda(  # (B, H, F)
        lambda t: ops.transpose(ops.reshape(t, (-1, n_in, horizon)), (0, 2, 1)),
        name="merge_channels")(each)
    if list(spec.target_index) != list(range(n_in)):
        idx = list(spec.target_index)
        out = keras.layers.Lambda(lambda t: ops.take(t, idx, axis=2), name="targets")(out)
    return keras.Model(model_inputs, out, name="forecast_lstm_ci")
