"""The LSTM network: the only module that touches TensorFlow/Keras, and only lazily.

Importing this module is cheap; TensorFlow is loaded the first time a function here needs it,
with its C++ start-up chatter silenced so it never reaches the user.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast_cli.core.buffers import aligned_empty
from forecast_cli.core.windowing import WindowSpec

if TYPE_CHECKING:
    from forecast_cli.core.scaling import Scaler

EpochCallback = Callable[[int, dict[str, float]], None]
ONNX_INPUT = "window"  # names of the network's inputs, in Keras and in the ONNX export
ONNX_FUTURE = "future"


@dataclass(frozen=True)
class NetworkSpec:
    """Everything needed to rebuild the network exactly; saved as JSON in the bundle."""

    lookback: int
    horizon: int
    n_inputs: int
    target_index: tuple[int, ...]  # which input columns are the targets, in output order
    lstm_units: int
    lstm_layers: int
    dense_units: tuple[int, ...]
    dropout: float
    window_norm: str  # "none" | "last" | "mean": per-window instance normalisation
    seed: int
    channel_independence: bool = False  # one shared univariate network over every column
    patch_len: int = 1  # input rows per LSTM step (segments of the lookback; 1 = every row)
    # known-future inputs per horizon step (calendar values of the target rows); 0 = none,
    # the network then has its single ``window`` input (bundles written before this field)
    n_future: int = 0

    @property
    def n_targets(self) -> int:
        return len(self.target_index)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["target_index"] = list(self.target_index)
        out["dense_units"] = list(self.dense_units)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NetworkSpec:
        """Rebuild from JSON; raises KeyError/TypeError/ValueError on anything malformed."""
        spec = cls(
            lookback=int(raw["lookback"]), horizon=int(raw["horizon"]),
            n_inputs=int(raw["n_inputs"]),
            target_index=tuple(int(i) for i in raw["target_index"]),
            lstm_units=int(raw["lstm_units"]), lstm_layers=int(raw["lstm_layers"]),
            dense_units=tuple(int(u) for u in raw["dense_units"]),
            dropout=float(raw["dropout"]), window_norm=str(raw["window_norm"]),
            seed=int(raw["seed"]),
            channel_independence=bool(raw.get("channel_independence", False)),
            patch_len=int(raw.get("patch_len", 1)), n_future=int(raw.get("n_future", 0)))
        if spec.n_future < 0:
            raise ValueError("n_future must be ≥ 0")
        if not 1 <= spec.patch_len <= spec.lookback:
            raise ValueError("patch_len must lie between 1 and the lookback")
        if min(spec.lookback, spec.horizon, spec.n_inputs, spec.lstm_units,
               spec.lstm_layers, spec.n_targets) < 1:
            raise ValueError("network sizes must be ≥ 1")
        if spec.window_norm not in ("none", "last", "mean"):
            raise ValueError(f"unknown window_norm {spec.window_norm!r}")
        if any(not 0 <= i < spec.n_inputs for i in spec.target_index):
            raise ValueError("target_index out of range")
        return spec


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logs bypass Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@cache
def _tf() -> Any:
    """Import TensorFlow once, quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return tf


def keras_module() -> Any:
    """The Keras 3 package, after TensorFlow has been imported quietly."""
    _tf()
    import keras

    return keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's kernels deterministic.

    On a GPU, op determinism is switched on. On CPU it is left off: the CPU kernels this network
    uses are deterministic already (tests/test_fit_speed.py trains twice and compares every
    weight bit for bit), and Keras refuses XLA while it is on, which costs 2-4× per epoch here.
    """
    tf = _tf()
    keras_module().utils.set_random_seed(seed)
    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()


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
    ``fused``: the LSTM layers run TensorFlow's fused CPU op (``_fused_lstm_class``).
    """
    layers, init = keras.layers, keras.initializers
    n_out = len(target_index)
    x = inputs
    ref = None
    if spec.window_norm != "none":
        ref = _window_reference(keras, inputs, spec.window_norm)  # (B, 1, F)
        x = layers.Subtract(name="window_norm")([inputs, ref])  # (B, L, F)
    if spec.patch_len > 1:
        x = _patches(keras, x, spec.lookback, spec.patch_len)  # (B, L // P, P·F)
    lstm = _fused_lstm_class() if fused else layers.LSTM
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
    if ref is not None:
        level = layers.Lambda(lambda r: keras.ops.take(r, target_index, axis=2),
                              name="target_level")(ref)  # (B, 1, k)
        out = layers.Add(name="denorm")([out, level])  # (B, H, k)
    return out


def _patches(keras: Any, x: Any, lookback: int, patch: int) -> Any:
    """(B, L, F) → (B, L // P, P·F): the latest L // P whole patches, oldest rows dropped."""
    n, f = lookback // patch, x.shape[-1]
    recent = keras.layers.Lambda(lambda t: t[:, lookback - n * patch:, :],
                                 name="whole_patches")(x)  # (B, n·P, F)
    return keras.layers.Reshape((n, patch * f), name="patches")(recent)


def _cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# slices of a batch the fused LSTM computes in parallel, one core each (see _sharded)
LSTM_SHARDS = max(1, min(4, _cores()))


@cache
def _fused_lstm_class() -> Any:
    """``keras.layers.LSTM`` whose time loop is TensorFlow's fused ``BlockLSTM`` op: training only.

    Keras 3 runs an LSTM on CPU as a generic ``while_loop``, a dozen small kernels per step,
    forward and backward. ``BlockLSTM`` runs all steps in one op, and its registered gradient in
    one more, on one core: the batch is split into one op per core (``_sharded``). A training
    step of the issue's workload on 2 cores: 70 ms through Keras's loop, 54 through XLA, 38
    fused (bench/README.md). The weights are
    the layer's own, in Keras's layout (kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,),
    gates i, f, c, o), reordered per call to the op's i, c, f, o: a trained network's weights
    load into the plain ``LSTM`` network unchanged (``portable_network``). BlockLSTM has no XLA
    kernel: a network with this layer is never jit-compiled (``use_xla``).
    """
    tf, keras = _tf(), keras_module()

    def icfo(w: Any) -> Any:  # (…, 4U) gates i, f, c, o → i, c, f, o
        i, f, c, o = tf.split(w, 4, axis=-1)
        return tf.concat([i, c, f, o], axis=-1)

    class FusedLSTM(keras.layers.LSTM):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.supports_jit = False  # keeps Keras from compiling it with XLA

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any,
                       training: bool = False) -> Any:
            """sequences (B, L, F) → (last h (B, U), h (B, L, U) or (B, 1, U), [h, c])."""
            cell = self.cell
            if (mask is not None or self.go_backwards or self.dropout or self.recurrent_dropout
                    or cell.activation is not keras.activations.tanh
                    or cell.recurrent_activation is not keras.activations.sigmoid):
                return super().inner_loop(sequences, initial_state, mask, training=training)
            w = icfo(tf.concat([cell.kernel.value, cell.recurrent_kernel.value], axis=0))
            b = icfo(cell.bias.value)
            steps = tf.transpose(sequences, (1, 0, 2))  # (L, B, F): time major
            h0, c0 = initial_state  # (B, U) each
            c_last, h = _sharded(lambda x, h_, c_: block(x, h_, c_, w, b), steps, h0, c0)
            last = h[-1]  # (B, U)
            seq = tf.transpose(h, (1, 0, 2)) if self.return_sequences else last[:, None, :]
            return last, seq, [last, c_last]

    def block(steps: Any, h0: Any, c0: Any, w: Any, b: Any) -> tuple[Any, Any]:
        """One BlockLSTM op: steps (L, b, F) → last cell state (b, U), h (L, b, U)."""
        no_peephole = tf.zeros(tf.shape(h0)[1:], steps.dtype)
        out = tf.raw_ops.BlockLSTM(
            seq_len_max=tf.cast(tf.shape(steps)[0], tf.int64), x=steps, cs_prev=c0,
            h_prev=h0, w=w, wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=b,
            forget_bias=0.0, cell_clip=-1.0, use_peephole=False)
        return out[1][-1], out[6]

    def _sharded(run: Callable[[Any, Any, Any], tuple[Any, Any]], steps: Any, h0: Any,
                 c0: Any) -> tuple[Any, Any]:
        """``run`` on LSTM_SHARDS slices of the batch, which TensorFlow runs in parallel.

        One BlockLSTM op computes on one core; the windows of a batch are independent, so
        slices of it fill the others (their weight gradients are summed in a fixed order:
        deterministic). A batch smaller than the shard count runs whole: the op's weight
        gradient is garbage on an empty batch.
        """
        n, size = LSTM_SHARDS, tf.shape(steps)[1]

        def split() -> tuple[Any, Any]:
            cuts = [size * i // n for i in range(n + 1)]
            parts = [run(steps[:, a:z], h0[a:z], c0[a:z]) for a, z in itertools.pairwise(cuts)]
            return tf.concat([p[0] for p in parts], 0), tf.concat([p[1] for p in parts], 1)

        if n == 1:
            return run(steps, h0, c0)
        return tf.cond(size >= n, split, lambda: run(steps, h0, c0))  # type: ignore[no-any-return]

    return FusedLSTM


def training_network(spec: NetworkSpec) -> Any:
    """The network to fit: LSTMs fused on CPU; on a GPU the plain one (Keras uses cuDNN)."""
    return build_network(spec, fused=not _tf().config.list_physical_devices("GPU"))


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
    op, for training on CPU (``_fused_lstm_class``); save ``portable_network`` of it.
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


def _shuffled_batches(tf: Any, origins: np.ndarray, batch_size: int, seed: int) -> Any:
    """Batches of origins (B,) in a new seeded order on every pass over the dataset (epoch).

    The whole vector is permuted at once (one integer tensor) rather than through a shuffle
    buffer, which holds every origin as a separate element: ~300 MB for 1.4 million windows.
    """
    all_origins = tf.constant(origins)
    n_batches = -(-len(origins) // batch_size)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    order = seeds.map(lambda s: tf.random.experimental.stateless_shuffle(
        all_origins, seed=tf.stack([s, tf.constant(0, tf.int64)])))
    ds = order.flat_map(lambda perm: tf.data.Dataset.range(n_batches).map(
        lambda i: perm[i * batch_size:(i + 1) * batch_size]))
    return ds.apply(tf.data.experimental.assert_cardinality(n_batches))


def shared_tensor(values: np.ndarray) -> Any:
    """A TensorFlow tensor over ``values``' own memory. (n, F) float32/float64 → same.

    ``tf.constant`` copies the array, and its allocator kept twice the array's size resident
    (measured: +767 MB for a 381 MB float32 array); DLPack hands TensorFlow numpy's buffer
    instead. TensorFlow needs it 64-byte aligned (see ``buffers``): the loader's arrays are;
    any other array is copied once into an aligned buffer.
    """
    from forecast_cli.core.buffers import aligned

    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    shared = aligned(values)
    return _tf().experimental.dlpack.from_dlpack(shared.__dlpack__())


# Below this size the windows of a dataset are cut once, scaled, into float32 arrays and a
# batch is one gather per array; above it each batch is gathered from the series and scaled
# on the fly, so that memory stays flat in the lookback (bench_memory.py). The stored windows
# spare the input pipeline, which shares the cores with training, ~5 % of an epoch of the
# issue's workload (10.6 MB of windows; bench/README.md). The numbers are the same either way.
STORED_WINDOWS_BYTES = 64 * 2**20


def window_dataset(inputs: np.ndarray, targets: np.ndarray | None, origins: np.ndarray,
                   spec: NetworkSpec, batch_size: int, shuffle_seed: int | None = None,
                   future: np.ndarray | None = None, scaler: Scaler | None = None) -> Any:
    """tf.data pipeline of the windows at ``origins``, in batches (shuffled when seeded).

    inputs (n, F): scaled, or in original units when ``scaler`` is given, which is then applied
    in float64 (the same numbers as scaling the whole array first, without a scaled copy of
    the data). ``targets``: None (inputs only), ``inputs`` itself (the targets are its columns
    ``spec.target_index``: no second copy) or a separate scaled (n, k) array.
    Yields x (B, lookback, F) float32 [and y (B, horizon, k) float32].

    With ``spec.n_future > 0``, ``future`` (n, n_future) holds the known-future inputs of every
    row and x is the dict {"window": (B, lookback, F), "future": (B, horizon, n_future)}, keyed
    by the network's input names (a bare pair would read as (x, y) to Keras): the future rows
    of origin t are t … t+horizon−1, the rows whose targets are forecast.

    Small datasets are cut into stored windows once; large ones are gathered batch by batch,
    never all at once (``STORED_WINDOWS_BYTES``). Same batches, same order, same numbers.
    """
    tf = _tf()
    _check_future(spec, future, len(inputs))
    if targets is not None and targets is not inputs and scaler is not None:
        raise ValueError("separate targets must be scaled already")
    cut = _stored_windows if _window_bytes(spec, inputs, targets, future,
                                           len(origins)) <= STORED_WINDOWS_BYTES else _gathered
    to_x, to_future, to_y = cut(tf, inputs, targets, np.asarray(origins), spec, future, scaler)
    index = _index_dtype(inputs, spec)
    at = np.asarray(origins, index) if cut is _gathered else np.arange(len(origins),
                                                                        dtype=index)
    if shuffle_seed is None:
        ds = tf.data.Dataset.from_tensor_slices(at).batch(batch_size)
    else:
        ds = _shuffled_batches(tf, at, batch_size, shuffle_seed)

    def x_of(t: Any) -> Any:
        if to_future is None:
            return to_x(t)
        return {ONNX_INPUT: to_x(t), ONNX_FUTURE: to_future(t)}

    if to_y is None:
        return _finish(tf, ds.map(x_of))
    return _finish(tf, ds.map(lambda t: (x_of(t), to_y(t))))


Batch = Callable[[Any], Any]  # a batch of positions (B,) → a batch of windows (B, …)


def _index_dtype(inputs: np.ndarray, spec: NetworkSpec) -> type[np.signedinteger[Any]]:
    """int32 row numbers when they fit: the origins and their per-epoch permutation are the
    largest arrays after the data itself (1.4 million windows: 11 MB each as int64)."""
    return np.int32 if len(inputs) < 2**31 - spec.horizon else np.int64


def _window_bytes(spec: NetworkSpec, inputs: np.ndarray, targets: np.ndarray | None,
                  future: np.ndarray | None, m: int) -> int:
    """Bytes of the float32 windows of ``m`` origins: inputs, known future and targets."""
    per = spec.lookback * inputs.shape[1]
    per += 0 if future is None else spec.horizon * future.shape[1]
    if targets is not None:
        per += spec.horizon * (spec.n_targets if targets is inputs else targets.shape[1])
    return int(4 * per * m)


def _stored_windows(tf: Any, inputs: np.ndarray, targets: np.ndarray | None,
                    origins: np.ndarray, spec: NetworkSpec, future: np.ndarray | None,
                    scaler: Scaler | None) -> tuple[Batch, Batch | None, Batch | None]:
    """Every window cut once into float32 (m, …) arrays; a batch of positions gathers rows."""
    w = WindowSpec(spec.lookback, spec.horizon)
    ahead = w.target_index(origins)  # (m, horizon) row numbers

    def store(values: np.ndarray, rows: np.ndarray, scale: Scaler | None,
              cols: list[int] | None = None) -> Batch:
        width = values.shape[1] if cols is None else len(cols)
        out = aligned_empty((*rows.shape, width), np.float32)
        for a in range(0, len(rows), 4096):  # bounded float64 temporaries
            part = values[rows[a:a + 4096]] if cols is None else values[rows[a:a + 4096]][..., cols]
            out[a:a + 4096] = part if scale is None else scale.transform(part)
        t = shared_tensor(out)
        return lambda at: tf.gather(t, at)

    x = store(inputs, w.input_index(origins), scaler)
    f = None if future is None else store(future, ahead, None)
    if targets is None:
        return x, f, None
    cols = list(spec.target_index)
    if targets is inputs:
        return x, f, store(inputs, ahead, None if scaler is None else scaler.select(cols), cols)
    return x, f, store(targets, ahead, None)


def _gathered(tf: Any, inputs: np.ndarray, targets: np.ndarray | None, origins: np.ndarray,
              spec: NetworkSpec, future: np.ndarray | None,
              scaler: Scaler | None) -> tuple[Batch, Batch | None, Batch | None]:
    """Each batch gathered from the series by origin and scaled on the fly."""
    x_all = shared_tensor(inputs)
    index = _index_dtype(inputs, spec)
    in_off = tf.range(-spec.lookback, 0, dtype=index)
    out_off = tf.range(0, spec.horizon, dtype=index)
    to_x = _batch_scaler(tf, scaler)
    x: Batch = lambda t: to_x(tf.gather(x_all, t[:, None] + in_off))  # noqa: E731
    f: Batch | None = None
    if future is not None:
        f_all = shared_tensor(np.asarray(future, np.float32))
        f = lambda t: tf.gather(f_all, t[:, None] + out_off)  # noqa: E731
    if targets is None:
        return x, f, None
    if targets is inputs:
        cols = list(spec.target_index)
        to_y = _batch_scaler(tf, scaler.select(cols) if scaler is not None else None)
        return x, f, lambda t: to_y(tf.gather(tf.gather(x_all, t[:, None] + out_off), cols,
                                              axis=2))
    y_all, as_y = shared_tensor(targets), _batch_scaler(tf, None)
    return x, f, lambda t: as_y(tf.gather(y_all, t[:, None] + out_off))


def _finish(tf: Any, ds: Any) -> Any:
    """Prefetch, and no static graph rewrites: tf.data performs them on a serialised copy of
    the pipeline, in which the captured data tensor becomes a constant, a transient copy of
    the whole data set (+130 MB on 2 million × 8 rows); none of them applies to this pipeline.
    No autotuning either: with it, the training step sat idle more often (an epoch of the
    issue's workload 10.3 s with it, 9.1 s without, same process; bench/README.md).
    """
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def _batch_scaler(tf: Any, scaler: Scaler | None) -> Callable[[Any], Any]:
    """Gathered batch (…, F) → float32, scaled first (in its own precision) if asked."""
    if scaler is None:
        return lambda x: tf.cast(x, tf.float32)
    offset, scale = (np.asarray(a, np.float64) for a in (scaler.offset, scaler.scale))
    return lambda x: tf.cast((tf.cast(x, tf.float64) - offset) / scale, tf.float32)


def _check_future(spec: NetworkSpec, future: np.ndarray | None, n: int) -> None:
    """ValueError unless ``future`` is (n, spec.n_future), or None when the spec has none."""
    if spec.n_future == 0:
        if future is not None:
            raise ValueError("future inputs given to a network without a future input")
        return
    if future is None or future.shape != (n, spec.n_future):
        got = None if future is None else future.shape
        raise ValueError(f"the network needs future inputs of shape ({n}, {spec.n_future}); "
                         f"got {got}")


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
    tf = _tf()
    if not all(layer.supports_jit for layer in model.layers):
        return False
    if opts.jit_compile is not None:
        wanted = opts.jit_compile
    else:
        steps = int(train_ds.cardinality())
        lookback = int(model.inputs[0].shape[1] or 0)  # the window input, first of one or two
        wanted = steps > 0 and steps * lookback >= XLA_MIN_WORK
    return bool(wanted and not tf.config.list_physical_devices("GPU"))


def fit(model: Any, train_ds: Any, val_ds: Any, opts: FitOptions,
        on_epoch: EpochCallback | None = None,
        backup_dir: Path | None = None) -> dict[str, list[float]]:
    """Train with MSE, clipping, early stopping (best weights restored), LR decay, NaN guard.

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
                                       opts.clipnorm), loss="mse", jit_compile=jit,
                  steps_per_execution=1 if jit else STEPS_PER_EXECUTION)
    callbacks = [] if backup_dir is None else [  # first: saved before any later callback runs
        cb.BackupAndRestore(str(backup_dir), double_checkpoint=True)]
    callbacks += [
        cb.TerminateOnNaN(),
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


def save_weights(model: Any, path: Path) -> None:
    """Keras HDF5 weights file (name must end in ``.weights.h5``); no pickle involved."""
    model.save_weights(str(path))


ONNX_OPSET = 17


def export_onnx(model: Any, spec: NetworkSpec, path: Path) -> None:
    """Convert the network to ONNX (tf2onnx, opset 17) and write it to ``path``.

    The graph takes ``window`` (B, lookback, n_inputs) float32 with a free batch dimension —
    and, when ``spec.n_future > 0``, ``future`` (B, horizon, n_future) float32 — and returns
    (B, horizon, n_targets) float32, window normalisation included.
    """
    tf = _tf()
    with _stderr_silenced():
        import tf2onnx

    window_spec = tf.TensorSpec((None, spec.lookback, spec.n_inputs), tf.float32,
                                name=ONNX_INPUT)
    if spec.n_future == 0:
        signature: tuple[Any, ...] = (window_spec,)
        forward = tf.function(lambda window: model(window, training=False))
    else:
        signature = (window_spec, tf.TensorSpec((None, spec.horizon, spec.n_future),
                                                tf.float32, name=ONNX_FUTURE))
        forward = tf.function(lambda window, future: model(
            {ONNX_INPUT: window, ONNX_FUTURE: future}, training=False))
    with _stderr_silenced():
        proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature,
                                                 opset=ONNX_OPSET)
    path.write_bytes(proto.SerializeToString())


def load_network(spec: NetworkSpec, weights: Path) -> Any:
    """Rebuild the architecture with our own code, then load the weights into it."""
    model = build_network(spec)
    model.load_weights(str(weights))
    return model
