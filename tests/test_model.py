"""The network and its input pipeline, in-process with real TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli.core.windowing import WindowSpec
from forecast_cli.model import api as model


def spec(**kw: object) -> model.NetworkSpec:
    base: dict[str, object] = dict(lookback=6, horizon=3, n_inputs=2, target_index=(0, 1),
                                   lstm_units=4, lstm_layers=1, dense_units=(), dropout=0.0,
                                   window_norm="none", seed=1)
    base.update(kw)
    return model.NetworkSpec(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("s", [
    spec(),
    spec(target_index=(1,), lstm_layers=2, dense_units=(5, 3), window_norm="last"),
    spec(n_inputs=1, target_index=(0,), horizon=7, window_norm="mean", dropout=0.5),
])
def test_output_shape_is_batch_horizon_targets(s: model.NetworkSpec) -> None:
    net = model.build_network(s)
    x = np.random.default_rng(0).standard_normal((5, s.lookback, s.n_inputs))
    assert model.predict_array(net, x).shape == (5, s.horizon, s.n_targets)
    assert net.layers[0].name == "window"


@pytest.mark.parametrize("norm", ["last", "mean"])
def test_window_norm_makes_forecasts_shift_with_the_level(norm: str) -> None:
    # Instance normalisation subtracts the window's level and adds it back: adding c to every
    # input must add exactly c to every forecast of the corresponding target.
    s = spec(target_index=(1,), window_norm=norm)
    net = model.build_network(s)
    x = np.random.default_rng(1).standard_normal((4, 6, 2))
    shift = np.array([0.0, 5.0])  # only the target column moves; the other stays put
    base = model.predict_array(net, x)
    np.testing.assert_allclose(model.predict_array(net, x + shift), base + 5.0, atol=1e-5)


def test_without_window_norm_forecasts_do_not_shift_with_the_level() -> None:
    net = model.build_network(spec())
    x = np.random.default_rng(1).standard_normal((4, 6, 2))
    moved = model.predict_array(net, x + 5.0) - model.predict_array(net, x)
    assert not np.allclose(moved, 5.0, atol=1e-3)


def test_tf_pipeline_gathers_the_same_windows_as_numpy() -> None:
    n = 40
    values = np.stack([np.arange(n), np.arange(n) * 10], axis=1).astype(np.float32)
    s = spec(lookback=5, horizon=3)
    t = np.arange(5, n - 3 + 1)
    batches = list(model.window_dataset(values, values[:, :1], t, s, batch_size=7))
    x = np.concatenate([b[0].numpy() for b in batches])
    y = np.concatenate([b[1].numpy() for b in batches])
    w = WindowSpec(5, 3)
    np.testing.assert_array_equal(x, w.inputs(values, t))
    np.testing.assert_array_equal(y, w.targets(values[:, :1], t))


def test_shuffled_pipeline_is_a_seeded_permutation_of_the_windows() -> None:
    values = np.arange(30, dtype=np.float32).reshape(-1, 1)
    s = spec(n_inputs=1, target_index=(0,), lookback=2, horizon=1)
    t = np.arange(2, 30)

    def first_inputs(seed: int) -> list[float]:
        ds = model.window_dataset(values, values, t, s, batch_size=4, shuffle_seed=seed)
        return [float(v) for b in ds for v in b[1].numpy()[:, 0, 0]]

    order = first_inputs(3)
    assert sorted(order) == [float(v) for v in t]  # every window exactly once
    assert order != sorted(order)
    assert first_inputs(3) == order  # same seed, same order


def test_spec_json_round_trip_and_validation() -> None:
    s = spec(dense_units=(4,), window_norm="last")
    assert model.NetworkSpec.from_json(s.to_json()) == s
    with pytest.raises(ValueError, match="window_norm"):
        model.NetworkSpec.from_json({**s.to_json(), "window_norm": "magic"})
    with pytest.raises(ValueError, match="target_index"):
        model.NetworkSpec.from_json({**s.to_json(), "target_index": [7]})
