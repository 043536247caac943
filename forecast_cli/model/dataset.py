"""The input pipeline: the windows at a set of origins as a tf.data dataset of batches.

Scaling happens here, batch by batch in float64, so training needs no scaled copy of the data.
Importing this module is cheap; TensorFlow is loaded (``runtime``) when a dataset is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from forecast_cli.core.buffers import aligned, aligned_empty
from forecast_cli.core.scaling import Scaler
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.model.runtime import tf_module
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec

# Below this size the windows of a dataset are cut once, scaled, into float32 arrays and a
# batch is one gather per array; above it each batch is gathered from the series and scaled
# on the fly, so that memory stays flat in the lookback (bench_memory.py). The stored windows
# spare the input pipeline, which shares the cores with training, ~5 % of an epoch of the
# issue's workload (10.6 MB of windows; bench/README.md). The numbers are the same either way.
# Read by ``window_dataset`` at each call: set it on this module.
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
    tf = tf_module()
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
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    shared = aligned(values)
    return tf_module().experimental.dlpack.from_dlpack(shared.__dlpack__())
