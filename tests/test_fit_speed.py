"""The faster fit keeps its promises: XLA only when it pays, and the same seed gives the same
weights bit for bit although op determinism is now off on CPU (so that Keras allows XLA).

The same bit-for-bit check through XLA costs about a minute of CPU (two XLA compilations of the
training and validation steps), too much for the suite: bench/check_xla_determinism.py runs it.
"""

from __future__ import annotations

import numpy as np

from forecast_cli.model import api as model
from forecast_cli.model.fit import XLA_MIN_WORK


def _spec(lookback: int) -> model.NetworkSpec:
    return model.NetworkSpec(lookback=lookback, horizon=3, n_inputs=2, target_index=(0, 1),
                             lstm_units=6, lstm_layers=1, dense_units=(), dropout=0.1,
                             window_norm="last", seed=5)


def _data(n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return np.stack([np.sin(t / 3), np.cos(t / 5)], axis=1)  # (n, 2)


def train_once(jit: bool) -> list[np.ndarray]:
    """Seed, build and fit a tiny network for 2 epochs; its weights."""
    spec, values = _spec(12), _data(160)
    model.seed_everything(3)
    net = model.build_network(spec)
    train = model.window_dataset(values, values, np.arange(12, 120), spec, 16, shuffle_seed=3)
    val = model.window_dataset(values, values, np.arange(120, 158), spec, 16)
    model.fit(net, train, val, model.FitOptions("adam", 1e-2, 1.0, 2, 5, jit_compile=jit))
    assert net.jit_compile is jit
    return [np.asarray(w) for w in net.get_weights()]


def test_same_seed_gives_identical_weights_without_op_determinism() -> None:
    first, second = train_once(jit=False), train_once(jit=False)
    assert len(first) == len(second) == 5  # LSTM kernel, recurrent kernel, bias; head W, b
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a, b)
    initial = model.build_network(_spec(12)).get_weights()
    assert not np.array_equal(first[0], initial[0])  # it did train


def test_xla_is_chosen_by_the_size_of_an_epoch() -> None:
    values = _data(4000)
    spec = _spec(12)
    net = model.build_network(spec)
    small = model.window_dataset(values, values, np.arange(12, 200), spec, 64)  # 3 batches
    big = model.window_dataset(values, values, np.arange(12, 3990), spec, 1)  # 3978 batches
    opts = model.FitOptions("adam", 1e-3, 1.0, 1, 1)
    assert 3 * 12 < XLA_MIN_WORK <= 3978 * 12
    assert not model.use_xla(net, small, opts)
    assert model.use_xla(net, big, opts)
    forced = model.FitOptions("adam", 1e-3, 1.0, 1, 1, jit_compile=False)
    assert not model.use_xla(net, big, forced)


def _epoch_orders(seed: int, passes: int) -> list[np.ndarray]:
    """The origins' order in each pass (epoch) over a shuffled training dataset."""
    spec, values = _spec(12), _data(400)
    ds = model.window_dataset(values, values, np.arange(12, 397), spec, 32, shuffle_seed=seed)
    orders = []
    for _ in range(passes):
        # the last input row of each window is its origin - 1; window_norm does not apply here
        firsts = [np.asarray(x)[:, -1, 0] for x, _ in ds]
        orders.append(np.concatenate(firsts))
    return orders


def test_shuffled_windows_cover_every_origin_once_per_epoch_in_a_new_seeded_order() -> None:
    values = np.sin(np.arange(400, dtype=np.float64) / 3)
    first, second = _epoch_orders(seed=1, passes=2)
    expected = np.sort(values[np.arange(12, 397) - 1].astype(np.float32))
    for order in (first, second):
        assert len(order) == 397 - 12
        assert np.array_equal(np.sort(order), expected)
    assert not np.array_equal(first, second)  # reshuffled between epochs
    again = _epoch_orders(seed=1, passes=2)
    assert np.array_equal(again[0], first)  # same seed, same orders
    assert np.array_equal(again[1], second)
    assert not np.array_equal(_epoch_orders(seed=2, passes=1)[0], first)
