"""The Keras network: window norm → LSTM stack → Dropout → Dense* → forecast, built from a spec;
an ensemble of such networks over lookbacks and seeds, served as their median, in one graph.

Importing this module is cheap; TensorFlow is loaded (``runtime``) the first time a network is
built.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from forecast_cli.model.fused_lstm import fused_lstm_class
from forecast_cli.model.runtime import keras_module, on_gpu
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec


def _window_reference(keras: Any, x: Any, mode: str, prefix: str = "") -> Any:
    """The per-window level subtracted from inputs and added back to outputs. (B, 1, F)."""
    ops = keras.ops
    if mode == "last":
        return keras.layers.Lambda(lambda t: t[:, -1:, :], name=prefix + "window_last")(x)
    return keras.layers.Lambda(lambda t: ops.mean(t, axis=1, keepdims=True),
                               name=prefix + "window_mean")(x)


def _core(keras: Any, spec: NetworkSpec, inputs: Any, target_index: list[int],
          future: Any = None, fused: bool = False, prefix: str = "") -> Any:
    """(B, L, F) → window norm → LSTM stack → Dropout → Dense* → (B, horizon, len(target_index)).

    ``future`` (B, horizon, n_future), when given, is flattened and concatenated with the LSTM
    stack's output, so the hidden layers and the head see the known values of every step.
    ``fused``: the LSTM layers run TensorFlow's fused CPU op (``fused_lstm.fused_lstm_class``).
    ``prefix``: of every layer's name, one per member of an ensemble ("" for one network).
    """
    layers, init = keras.layers, keras.initializers
    n_out = len(target_index)
    x = inputs
    ref = None
    if spec.window_norm != "none":
        ref = _window_reference(keras, inputs, spec.window_norm, prefix)  # (B, 1, F)
        x = layers.Subtract(name=prefix + "window_norm")([inputs, ref])  # (B, L, F)
    skip = _linear_skip(keras, spec, x, target_index, prefix) if spec.linear_skip else None
    if spec.patch_len > 1:
        x = _patches(keras, x, spec.lookback, spec.patch_len, prefix)  # (B, L // P, P·F)
    lstm = fused_lstm_class() if fused else layers.LSTM
    for i in range(spec.lstm_layers):
        last = i == spec.lstm_layers - 1
        x = lstm(  # (B, L, units) inside the stack, (B, units) at its end
            spec.lstm_units, return_sequences=not last, name=prefix + f"lstm_{i}",
            kernel_initializer=init.GlorotUniform(seed=spec.seed + i),
            recurrent_initializer=init.Orthogonal(seed=spec.seed + 100 + i))(x)
    x = layers.Dropout(spec.dropout, seed=spec.seed, name=prefix + "dropout")(x)  # (B, units)
    if future is not None:
        flat = layers.Flatten(name=prefix + "future_flat")(future)  # (B, H·n_future)
        x = layers.Concatenate(name=prefix + "with_future")([x, flat])  # (B, units + H·n_future)
    for i, units in enumerate(spec.dense_units):
        x = layers.Dense(units, activation="relu", name=prefix + f"hidden_{i}",  # (B, units_i)
                         kernel_initializer=init.GlorotUniform(seed=spec.seed + 200 + i))(x)
    x = layers.Dense(spec.horizon * n_out, name=prefix + "head",  # (B, H·k)
                     kernel_initializer=init.GlorotUniform(seed=spec.seed + 300))(x)
    out = layers.Reshape((spec.horizon, n_out), name=prefix + "forecast")(x)  # (B, H, k)
    if skip is not None:
        out = layers.Add(name=prefix + "with_linear")([out, skip])  # (B, H, k)
    if ref is not None:
        level = layers.Lambda(lambda r: keras.ops.take(r, target_index, axis=2),
                              name=prefix + "target_level")(ref)  # (B, 1, k)
        out = layers.Add(name=prefix + "denorm")([out, level])  # (B, H, k)
    return out


def _linear_skip(keras: Any, spec: NetworkSpec, x: Any, target_index: list[int],
                 prefix: str = "") -> Any:
    """NLinear: (B, L, F) normalised window → one Dense map of each target's lookback to its
    horizon, shared by the targets → (B, H, k). Zero-initialised: the forecast starts at the
    window's level and the LSTM learns around the linear fit."""
    layers = keras.layers
    own = layers.Lambda(lambda t: keras.ops.take(t, target_index, axis=2),
                        name=prefix + "skip_targets")(x)  # (B, L, k)
    per = layers.Permute((2, 1), name=prefix + "skip_by_target")(own)  # (B, k, L)
    mapped = layers.Dense(spec.horizon, name=prefix + "linear_skip",
                          kernel_initializer="zeros")(per)
    return layers.Permute((2, 1), name=prefix + "skip_out")(mapped)  # (B, H, k)


def _patches(keras: Any, x: Any, lookback: int, patch: int, prefix: str = "") -> Any:
    """(B, L, F) → (B, L // P, P·F): the latest L // P whole patches, oldest rows dropped."""
    n, f = lookback // patch, x.shape[-1]
    recent = keras.layers.Lambda(lambda t: t[:, lookback - n * patch:, :],
                                 name=prefix + "whole_patches")(x)  # (B, n·P, F)
    return keras.layers.Reshape((n, patch * f), name=prefix + "patches")(recent)



def training_network(spec: NetworkSpec) -> Any:
    """The network to fit: LSTMs fused on CPU; on a GPU the plain one (Keras uses cuDNN).

    An ensemble's outputs every member, (B, M, H, k), so that each member is fitted on its own
    MSE (``fit.member_mse``): the members train independently, in one graph."""
    return build_network(spec, fused=not on_gpu(), members=bool(spec.members))


def portable_network(trained: Any, spec: NetworkSpec) -> Any:
    """The plain Keras network (``build_network``) holding ``trained``'s weights.

    What is saved, exported to ONNX and used to predict: for an ensemble, the median of its
    members. The weights of a network built with ``fused=True`` or
    ``members=True`` are the same variables in layers of the same names; a plain single
    network is returned as is.
    """
    if not spec.members and all(layer.supports_jit for layer in trained.layers):
        return trained
    net = build_network(spec)
    for layer in net.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    return net


def select_members(net: Any, spec: NetworkSpec, keep: tuple[int, ...]) -> tuple[NetworkSpec, Any]:
    """The ensemble of the members ``keep`` of ``net`` (an ensemble of ``spec``), as its spec
    and a portable network holding their weights: the median of those members only. Keeping
    the one member of the spec's own lookback and seed gives the single network (no member
    layers), as an ensemble of one would have been trained."""
    chosen = tuple(spec.members[j] for j in keep)
    served = replace(spec, members=() if chosen == ((spec.lookback, spec.seed),) else chosen)
    new = build_network(served)
    for layer in new.layers:
        if layer.weights:
            at = int(layer.name[1:].split("_", 1)[0]) if served.members else 0
            old = (layer.name if not served.members else layer.name.split("_", 1)[1])
            layer.set_weights(net.get_layer(f"m{keep[at]}_{old}").get_weights())
    return served, new


def member_networks(net: Any, spec: NetworkSpec) -> list[Any]:
    """One Keras model per member of ``net`` (``build_network(spec)`` or the training network
    of an ensemble), sharing its weights: input as ``net``'s, output (B, H, k). [net] for a
    single network."""
    if not spec.members:
        return [net]
    keras = keras_module()
    return [keras.Model(net.input, net.get_layer(f"member_{j}").output)
            for j in range(spec.n_members)]


def build_network(spec: NetworkSpec, fused: bool = False, members: bool = False) -> Any:
    """Input (B, lookback, n_inputs) → LSTM stack → Dropout → Dense* → (B, horizon, n_targets).

    With ``spec.n_future > 0`` the model takes two inputs, ``[window, future]``: window
    (B, lookback, n_inputs) and future (B, horizon, n_future), the known inputs of each forecast
    step, flattened and joined to the LSTM output before the Dense layers (see ``_core``).

    With channel independence every column is a separate univariate series through one shared
    network: (B, L, F) → (B·F, L, 1) → core → (B·F, H, 1) → (B, H, F) → targets (B, H, k); the
    future block is repeated per channel: (B, H, n_future) → (B·F, H, n_future).

    An ensemble (``spec.members``): M such networks of disjoint weights, member j reading the
    last ``members[j][0]`` rows of the window, seeded by ``members[j][1]``; the output is the
    median of the members (B, H, k), or with ``members`` every member,
    (B, M, H, k), for training. One member is exactly the single network.

    ``fused``: the same network and weights with the LSTM time loop in one fused TensorFlow
    op, for training on CPU (``fused_lstm.fused_lstm_class``); save ``portable_network`` of it.
    """
    keras = keras_module()
    ops = keras.ops
    inputs = keras.Input(shape=(spec.lookback, spec.n_inputs), name=ONNX_INPUT)  # (B, L, F)
    future = (keras.Input(shape=(spec.horizon, spec.n_future), name=ONNX_FUTURE)  # (B, H, n_f)
              if spec.n_future > 0 else None)
    model_inputs = inputs if future is None else [inputs, future]
    name = "forecast_lstm_ci" if spec.channel_independence else "forecast_lstm"
    if not spec.members:
        return keras.Model(model_inputs, _single(keras, spec, inputs, future, fused),
                           name=name)
    outs = []
    for j, member in enumerate(spec.member_specs()):  # (B, H, k) each
        recent = inputs
        if member.lookback < spec.lookback:
            recent = keras.layers.Lambda(lambda t, n=member.lookback: t[:, -n:, :],
                                         name=f"m{j}_recent")(inputs)  # (B, L_j, F)
        out = _single(keras, member, recent, future, fused, prefix=f"m{j}_")
        outs.append(keras.layers.Identity(name=f"member_{j}")(out))
    if members:
        stacked = keras.layers.Lambda(lambda ts: ops.stack(ts, axis=1),
                                      name="members")(outs)  # (B, M, H, k)
        return keras.Model(model_inputs, stacked, name=name)
    return keras.Model(model_inputs, _median(keras, outs), name=name)


def _median(keras: Any, outs: list[Any]) -> Any:
    """The median of c tensors (B, H, k) → (B, H, k): the middle of their sort (ONNX TopK),
    the mean of the two middle ones for an even c, as ``numpy.median``."""
    if len(outs) == 1:
        return keras.layers.Identity(name="median")(outs[0])
    ops, c = keras.ops, len(outs)

    def middle(ts: list[Any]) -> Any:
        ranked = ops.sort(ops.stack(ts, axis=-1), axis=-1)  # (B, H, k, c)
        if c % 2:
            return ranked[..., c // 2]
        return 0.5 * (ranked[..., c // 2 - 1] + ranked[..., c // 2])

    return keras.layers.Lambda(middle, name="median")(outs)


def _single(keras: Any, spec: NetworkSpec, inputs: Any, future: Any, fused: bool,
            prefix: str = "") -> Any:
    """One network over inputs (B, L, F) → (B, H, k): ``_core``, or with channel independence
    ``_core`` over every column (see ``build_network``)."""
    if not spec.channel_independence:
        return _core(keras, spec, inputs, list(spec.target_index), future, fused, prefix)
    ops = keras.ops
    lookback, n_in, horizon = spec.lookback, spec.n_inputs, spec.horizon
    series = keras.layers.Lambda(  # (B·F, L, 1)
        lambda t: ops.reshape(ops.transpose(t, (0, 2, 1)), (-1, lookback, 1)),
        name=prefix + "split_channels")(inputs)
    per_channel = None if future is None else keras.layers.Lambda(  # (B·F, H, n_future)
        lambda t: ops.repeat(t, n_in, axis=0), name=prefix + "future_per_channel")(future)
    each = _core(keras, spec, series, [0], per_channel, fused, prefix)  # (B·F, H, 1)
    out = keras.layers.Lambda(  # (B, H, F)
        lambda t: ops.transpose(ops.reshape(t, (-1, n_in, horizon)), (0, 2, 1)),
        name=prefix + "merge_channels")(each)
    if list(spec.target_index) != list(range(n_in)):
        idx = list(spec.target_index)
        out = keras.layers.Lambda(lambda t: ops.take(t, idx, axis=2),
                                  name=prefix + "targets")(out)
    return out
