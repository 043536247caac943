"""Stored windows (small data) and windows gathered batch by batch (large data) are the same
pipeline: same batches, same order, same numbers, and the same training to the last bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from forecast_cli.core.scaling import fit_scaler
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.model import api as model
from forecast_cli.model import dataset
from tests.test_model import spec as model_spec


def spec(**kw: object) -> model.NetworkSpec:
    """test_model's tiny network, on 3 inputs of which columns 0 and 2 are the targets."""
    return model_spec(**{"n_inputs": 3, "target_index": (0, 2), **kw})


def series(n: int) -> np.ndarray:
    """(n, 3) float64: a ramp, a sine and a seeded walk, on different scales."""
    t = np.arange(n, dtype=np.float64)
    walk = np.cumsum(np.random.default_rng(5).standard_normal(n))
    return np.stack([3 * t + 100, 40 * np.sin(t / 4), walk], axis=1)


def batches(ds: Any) -> list[list[np.ndarray]]:
    """Every batch as a list of arrays (x[, future], y), in the order the dataset yields."""
    out = []
    for b in ds:
        parts = b if isinstance(b, tuple) else (b,)
        flat: list[np.ndarray] = []
        for p in parts:
            flat += [np.asarray(p[k]) for k in sorted(p)] if isinstance(p, dict) else [
                np.asarray(p)]
        out.append(flat)
    return out


def paths_taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The window path (stored or gathered) of each ``window_dataset`` call from now on: proof
    that a setting patched to force one (``STORED_WINDOWS_BYTES``) reached the code reading it."""
    taken: list[str] = []

    def spy(name: str) -> Any:
        real = getattr(dataset, name)

        def run(*args: Any) -> Any:
            taken.append(name)
            return real(*args)
        return run

    for name in ("_stored_windows", "_gathered"):
        monkeypatch.setattr(dataset, name, spy(name))
    return taken


def both_ways(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[list[Any], list[Any]]:
    """The batches of one ``window_dataset`` call, stored and gathered."""
    taken = paths_taken(monkeypatch)
    stored = batches(model.window_dataset(**kw))
    monkeypatch.setattr(dataset, "STORED_WINDOWS_BYTES", 0)
    gathered = batches(model.window_dataset(**kw))
    monkeypatch.undo()
    assert taken == ["_stored_windows", "_gathered"]
    return stored, gathered


def assert_same(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> None:
    assert len(a) == len(b) > 1
    for xa, xb in zip(a, b, strict=True):
        assert len(xa) == len(xb)
        for u, v in zip(xa, xb, strict=True):
            assert u.dtype == v.dtype == np.float32
            assert np.array_equal(u, v)  # bit for bit


def test_settings_live_only_in_the_modules_that_read_them() -> None:
    """``model.api`` does not re-export them: setting one there would change nothing."""
    from forecast_cli.model import fit, fused_lstm

    for module, name in [(dataset, "STORED_WINDOWS_BYTES"), (fused_lstm, "LSTM_SHARDS"),
                         (fit, "STEPS_PER_EXECUTION"), (fit, "XLA_MIN_WORK")]:
        assert isinstance(getattr(module, name), int)
        assert not hasattr(model, name), name


def test_the_workload_of_the_benchmark_is_stored_and_a_huge_one_is_not() -> None:
    s = spec(lookback=168, horizon=24, n_inputs=1, target_index=(0,))
    one = np.zeros((20_000, 1))
    assert dataset._window_bytes(s, one, one, None, 13_809) == 13_809 * 192 * 4  # 10.6 MB
    assert dataset.STORED_WINDOWS_BYTES >= 13_809 * 192 * 4
    big = spec(lookback=336, horizon=24, n_inputs=8, target_index=tuple(range(8)))
    many = np.zeros((10, 8))  # only its width is read
    assert dataset._window_bytes(big, many, many, None, 1_400_000) > dataset.STORED_WINDOWS_BYTES


@pytest.mark.parametrize("seed", [None, 4])
def test_scaled_on_the_fly_targets_among_the_inputs(monkeypatch: pytest.MonkeyPatch,
                                                    seed: int | None) -> None:
    values, s = series(90), spec()
    scaler = fit_scaler("standard", values[:60])
    origins = np.arange(6, 88)
    stored, gathered = both_ways(monkeypatch, inputs=values, targets=values, origins=origins,
                                 spec=s, batch_size=16, shuffle_seed=seed, scaler=scaler)
    assert_same(stored, gathered)
    if seed is None:  # in order: the windows numpy cuts, scaled, targets columns 0 and 2
        x = np.concatenate([b[0] for b in stored])
        y = np.concatenate([b[1] for b in stored])
        w = WindowSpec(6, 3)
        want_x = scaler.transform(w.inputs(values, origins)).astype(np.float32)
        want_y = scaler.select([0, 2]).transform(w.targets(values[:, [0, 2]], origins))
        assert np.array_equal(x, want_x)
        assert np.array_equal(y, want_y.astype(np.float32))


def test_inputs_only_separate_targets_and_known_future(monkeypatch: pytest.MonkeyPatch) -> None:
    values = series(70).astype(np.float32)
    origins = np.arange(6, 68)
    s = spec()
    inputs_only = both_ways(monkeypatch, inputs=values, targets=None, origins=origins, spec=s,
                            batch_size=8)
    assert_same(*inputs_only)
    assert len(inputs_only[0][0]) == 1
    separate = both_ways(monkeypatch, inputs=values, targets=values[:, :2] * 0.5,
                         origins=origins, spec=spec(target_index=(0, 1)), batch_size=8,
                         shuffle_seed=2)
    assert_same(*separate)
    future = np.stack([np.arange(70) % 7, np.arange(70) % 24], axis=1).astype(np.float64)
    with_future = both_ways(monkeypatch, inputs=values, targets=values, origins=origins,
                            spec=spec(n_future=2), batch_size=8, shuffle_seed=3, future=future)
    assert_same(*with_future)
    # the future rows of origin t are t … t+2: the first window's, unshuffled
    first = batches(model.window_dataset(values, None, origins[:1], spec(n_future=2), 1,
                                         future=future))[0]
    assert np.array_equal(first[0], future[6:9][None].astype(np.float32))


def test_training_is_identical_on_stored_and_gathered_windows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    values, s = series(160), spec(target_index=(0,))
    scaler = fit_scaler("standard", values[:110])

    def fit_once() -> tuple[dict[str, list[float]], list[np.ndarray]]:
        model.seed_everything(3)
        net = model.training_network(s)
        train = model.window_dataset(values, values, np.arange(6, 110), s, 16, shuffle_seed=3,
                                     scaler=scaler)
        val = model.window_dataset(values, values, np.arange(110, 158), s, 16, scaler=scaler)
        history = model.fit(net, train, val, model.FitOptions("adam", 1e-2, 1.0, 3, 5))
        return history, [np.asarray(w) for w in net.get_weights()]

    taken = paths_taken(monkeypatch)
    stored_history, stored_weights = fit_once()
    monkeypatch.setattr(dataset, "STORED_WINDOWS_BYTES", 0)
    gathered_history, gathered_weights = fit_once()
    assert taken == ["_stored_windows"] * 2 + ["_gathered"] * 2  # train and validation
    assert stored_history == gathered_history
    assert len(stored_history["loss"]) == 3
    for a, b in zip(stored_weights, gathered_weights, strict=True):
        assert np.array_equal(a, b)
