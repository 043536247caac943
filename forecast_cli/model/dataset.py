"""The input pipeline: the windows at a set of origins as a tf.data dataset of batches.

Scaling happens here, batch by batch in float64, so training needs no scaled copy of the data:
one ``Scaler`` for a single series, or ``SeriesScalers`` with the series of every window.
Importing this module is cheap; TensorFlow is loaded (``runtime``) when a dataset is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from forecast_cli.core.buffers import aligned, aligned_empty
from forecast_cli.core.scaling import Scaler, SeriesScalers
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

_CHUNK = 4096  # windows scaled at a time when they are stored: bounded float64 temporaries

Batch = Callable[[Any], Any]  # a batch of dataset elements → a batch of windows (B, …)
AnyScaler = Scaler | SeriesScalers


def window_dataset(inputs: np.ndarray, targets: np.ndarray | None, origins: np.ndarray,
                   spec: NetworkSpec, batch_size: int, shuffle_seed: int | None = None,
                   future: np.ndarray | None = None, scaler: AnyScaler | None = None,
                   series: np.ndarray | None = None,
                   first_rows: np.ndarray | None = None) -> Any:
    """tf.data pipeline of the windows at ``origins``, in batches (shuffled when seeded).

    inputs (n, F): scaled, or in original units when ``scaler`` is given, which is then applied
    in float64 (the same numbers as scaling the whole array first, without a scaled copy of
    the data). ``scaler`` is one ``Scaler`` for every window, or ``SeriesScalers`` with
    ``series`` (m,): the series (index into the scalers) of each origin, whose offset and scale
    that window gets. ``targets``: None (inputs only), ``inputs`` itself (the targets are its
    columns ``spec.target_index``: no second copy) or a separate scaled (n, k) array.
    Yields x (B, lookback, F) float32 [and y (B, horizon, k) float32].

    With ``spec.n_future > 0``, ``future`` (n, n_future) holds the known-future inputs of every
    row and x is the dict {"window": (B, lookback, F), "future": (B, horizon, n_future)}, keyed
    by the network's input names (a bare pair would read as (x, y) to Keras): the future rows
    of origin t are t … t+horizon−1, the rows whose targets are forecast. They are never scaled.

    ``first_rows`` (m,): the first row each window may read (its series' first row); input
    rows before it are read as it (edge padding of a series shorter than the lookback). None:
    every window reads ``lookback`` rows of its own.

    Small datasets are cut into stored windows once; large ones are gathered batch by batch,
    never all at once (``STORED_WINDOWS_BYTES``). Same batches, same order, same numbers; the
    order depends on the seed and the number of origins only.
    """
    tf = tf_module()
    _check_future(spec, future, len(inputs))
    if targets is not None and targets is not inputs and scaler is not None:
        raise ValueError("separate targets must be scaled already")
    origins = np.asarray(origins)
    which = _check_series(scaler, series, len(origins))
    floor = _padding(origins, first_rows, spec.lookback)
    if isinstance(scaler, SeriesScalers) and len(scaler) == 1:
        # one series: its one scaler serves every window, so no series index is carried per
        # window (8 bytes a window, and a second element in every tf.data slice); the batches
        # are the same bit for bit (tests/test_series_windows.py)
        scaler, which = scaler.scalers[0], None
    stored = _window_bytes(spec, inputs, targets, future, len(origins)) <= STORED_WINDOWS_BYTES
    cut = _stored_windows if stored else _gathered
    to_x, to_future, to_y = cut(tf, inputs, targets, origins, spec, future, scaler, which,
                                floor)
    at = _elements(inputs, spec, origins, which, stored, floor)
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


def _check_series(scaler: AnyScaler | None, series: np.ndarray | None,
                  m: int) -> np.ndarray | None:
    """The series (m,) of each origin when ``scaler`` is per series, else None; ValueError
    unless ``series`` is given exactly with ``SeriesScalers`` and indexes them."""
    if not isinstance(scaler, SeriesScalers):
        if series is not None:
            raise ValueError("series indices given without per-series scalers")
        return None
    which = None if series is None else np.asarray(series)
    if which is None or which.shape != (m,) or not np.issubdtype(which.dtype, np.integer):
        raise ValueError(f"per-series scalers need the series (integers) of each of the {m} "
                         f"origins; got {None if which is None else (which.shape, which.dtype)}")
    if m and not 0 <= int(which.min()) <= int(which.max()) < len(scaler):
        raise ValueError(f"series indices must lie in 0 … {len(scaler) - 1}")
    return which


def _padding(origins: np.ndarray, first_rows: np.ndarray | None,
             lookback: int) -> np.ndarray | None:
    """``first_rows`` (m,) when some window starts before it (it needs padding), else None."""
    if first_rows is None or not len(origins):
        return None
    floor = np.asarray(first_rows, np.int64)
    if floor.shape != origins.shape:
        raise ValueError(f"first_rows must be one per origin ({origins.shape}); got {floor.shape}")
    if (origins < floor + 1).any():
        raise ValueError("every window must read at least one row of its own")
    return floor if (origins - lookback < floor).any() else None


def padded_index(origins: np.ndarray, lookback: int, floor: np.ndarray | None) -> np.ndarray:
    """Input rows (m, lookback) of each window, those before ``floor`` (m,) read as it."""
    rows = origins[:, None] + np.arange(-lookback, 0)
    return rows if floor is None else np.maximum(rows, floor[:, None])


def _index_dtype(inputs: np.ndarray, spec: NetworkSpec) -> type[np.signedinteger[Any]]:
    """int32 row numbers when they fit: the origins and their per-epoch permutation are the
    largest arrays after the data itself (1.4 million windows: 11 MB each as int64)."""
    return np.int32 if len(inputs) < 2**31 - spec.horizon else np.int64


def _elements(inputs: np.ndarray, spec: NetworkSpec, origins: np.ndarray,
              which: np.ndarray | None, stored: bool, floor: np.ndarray | None) -> np.ndarray:
    """What the dataset batches and shuffles, one element per window: its position (stored
    windows), its origin row (gathered), or its origin row and series (m, 2) (gathered, per
    series), and its first row (m, 3) when windows are padded. A permutation moves whole rows
    and depends on their number only: every layout puts the windows in the same order."""
    index = _index_dtype(inputs, spec)
    if stored:
        return np.arange(len(origins), dtype=index)
    if which is None and floor is None:
        return np.asarray(origins, index)
    at = np.zeros((len(origins), 2 if floor is None else 3), index)
    at[:, 0] = origins
    if which is not None:
        at[:, 1] = which
    if floor is not None:
        at[:, 2] = floor
    return at


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
                    scaler: AnyScaler | None, which: np.ndarray | None,
                    floor: np.ndarray | None) -> tuple[Batch, Batch | None, Batch | None]:
    """Every window cut once into float32 (m, …) arrays; a batch of positions gathers rows.

    Each window is scaled by ``scaler``, or by its own series' (``which`` (m,)) when per series.
    """
    w = WindowSpec(spec.lookback, spec.horizon)
    ahead = w.target_index(origins)  # (m, horizon) row numbers

    def store(values: np.ndarray, rows: np.ndarray, scale: AnyScaler | None,
              cols: list[int] | None = None) -> Batch:
        width = values.shape[1] if cols is None else len(cols)
        out = aligned_empty((*rows.shape, width), np.float32)
        for a in range(0, len(rows), _CHUNK):
            part = values[rows[a:a + _CHUNK]]
            part = part if cols is None else part[..., cols]
            if isinstance(scale, SeriesScalers):
                assert which is not None
                part = scale.transform(part, which[a:a + _CHUNK])
            elif scale is not None:
                part = scale.transform(part)
            out[a:a + _CHUNK] = part
        t = shared_tensor(out)
        return lambda at: tf.gather(t, at)

    x = store(inputs, padded_index(origins, spec.lookback, floor), scaler)
    f = None if future is None else store(future, ahead, None)
    if targets is None:
        return x, f, None
    cols = list(spec.target_index)
    if targets is inputs:
        return x, f, store(inputs, ahead, None if scaler is None else scaler.select(cols), cols)
    return x, f, store(targets, ahead, None)


def _gathered(tf: Any, inputs: np.ndarray, targets: np.ndarray | None, origins: np.ndarray,
              spec: NetworkSpec, future: np.ndarray | None, scaler: AnyScaler | None,
              which: np.ndarray | None,
              floor: np.ndarray | None) -> tuple[Batch, Batch | None, Batch | None]:
    """Each batch gathered from the series by origin and scaled on the fly.

    A batch is of origin rows (B,), or of (origin row, series) pairs (B, 2) when ``which`` is
    given (per-series scalers): each window is scaled with its series' offset and scale,
    gathered per batch from (S, F) tables; the data itself is never copied.
    """
    x_all = shared_tensor(inputs)
    index = _index_dtype(inputs, spec)
    in_off = tf.range(-spec.lookback, 0, dtype=index)
    out_off = tf.range(0, spec.horizon, dtype=index)
    flat = which is None and floor is None
    rows: Batch = (lambda t: t) if flat else (lambda t: t[:, 0])  # (B,)
    to_x = _batch_scaler(tf, scaler)

    def read(t: Any) -> Any:  # (B, lookback) input rows, padded ones read as the first row
        at = rows(t)[:, None] + in_off
        return at if floor is None else tf.maximum(at, t[:, 2:3])

    x: Batch = lambda t: to_x(tf.gather(x_all, read(t)), t)  # noqa: E731
    f: Batch | None = None
    if future is not None:
        f_all = shared_tensor(np.asarray(future, np.float32))
        f = lambda t: tf.gather(f_all, rows(t)[:, None] + out_off)  # noqa: E731
    if targets is None:
        return x, f, None
    if targets is inputs:
        cols = list(spec.target_index)
        to_y = _batch_scaler(tf, scaler.select(cols) if scaler is not None else None)
        return x, f, lambda t: to_y(tf.gather(tf.gather(x_all, rows(t)[:, None] + out_off),
                                              cols, axis=2), t)
    y_all, as_y = shared_tensor(targets), _batch_scaler(tf, None)
    return x, f, lambda t: as_y(tf.gather(y_all, rows(t)[:, None] + out_off), t)


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


def _batch_scaler(tf: Any, scaler: AnyScaler | None) -> Callable[[Any, Any], Any]:
    """(gathered batch (B, …, F), its elements) → float32, scaled first in float64 if asked:
    by one scaler, or per series by each element's series (its second column)."""
    if scaler is None:
        return lambda x, t: tf.cast(x, tf.float32)
    offset, scale = (np.asarray(a, np.float64) for a in (scaler.offset, scaler.scale))
    if isinstance(scaler, Scaler):
        return lambda x, t: tf.cast((tf.cast(x, tf.float64) - offset) / scale, tf.float32)
    offsets, scales = tf.constant(offset), tf.constant(scale)  # (S, F)

    def per_series(x: Any, t: Any) -> Any:
        off = tf.gather(offsets, t[:, 1])[:, None, :]  # (B, 1, F)
        sc = tf.gather(scales, t[:, 1])[:, None, :]
        return tf.cast((tf.cast(x, tf.float64) - off) / sc, tf.float32)

    return per_series


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
    """Batches of origins (B, …) in a new seeded order on every pass over the dataset (epoch).

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
