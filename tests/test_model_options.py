"""Model options for long horizons: channel independence and patched (segmented) input."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli.model import api as model


def _spec(**kw: object) -> model.NetworkSpec:
    base: dict[str, object] = dict(lookback=6, horizon=3, n_inputs=3, target_index=(0, 1, 2),
                                   lstm_units=4, lstm_layers=1, dense_units=(), dropout=0.0,
                                   window_norm="last", seed=1, channel_independence=True)
    base.update(kw)
    return model.NetworkSpec(**base)  # type: ignore[arg-type]


def test_each_column_is_forecast_from_itself_alone() -> None:
    spec = _spec()
    net = model.build_network(spec)
    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    y = model.predict_array(net, x)
    assert y.shape == (2, 3, 3)
    # Changing column 1 changes only forecast column 1.
    x2 = x.copy()
    x2[:, :, 1] += np.linspace(0, 3, 6)
    y2 = model.predict_array(net, x2)
    np.testing.assert_allclose(y2[:, :, [0, 2]], y[:, :, [0, 2]], atol=1e-6)
    assert not np.allclose(y2[:, :, 1], y[:, :, 1])
    # The same network serves every column: permuting columns permutes forecasts.
    perm = [2, 0, 1]
    np.testing.assert_allclose(model.predict_array(net, x[:, :, perm]), y[:, :, perm],
                               atol=1e-5)


def test_shared_network_has_the_weights_of_a_univariate_one() -> None:
    ci = model.build_network(_spec())
    uni = model.build_network(_spec(n_inputs=1, target_index=(0,), channel_independence=False))
    assert ci.count_params() == uni.count_params()


def test_spec_json_round_trip_keeps_the_flag_and_defaults_it_off() -> None:
    spec = _spec()
    assert model.NetworkSpec.from_json(spec.to_json()) == spec
    raw = spec.to_json()
    del raw["channel_independence"]  # bundles written before the option existed
    assert model.NetworkSpec.from_json(raw).channel_independence is False


def test_patches_use_only_the_latest_whole_segments() -> None:
    # lookback 7 in patches of 3: two patches = rows 1…6; row 0 is dropped.
    spec = _spec(lookback=7, n_inputs=2, target_index=(0, 1), channel_independence=False,
                 patch_len=3, window_norm="none")
    net = model.build_network(spec)
    x = np.random.default_rng(1).standard_normal((2, 7, 2))
    y = model.predict_array(net, x)
    assert y.shape == (2, 3, 2)
    x_old = x.copy()
    x_old[:, 0, :] += 5.0
    np.testing.assert_allclose(model.predict_array(net, x_old), y, atol=1e-6)
    x_new = x.copy()
    x_new[:, 1, :] += 5.0
    assert not np.allclose(model.predict_array(net, x_new), y)
    lstm = net.get_layer("lstm_0")
    assert lstm.input.shape[1:] == (2, 6)  # 2 steps of 3 rows × 2 columns


def test_patch_len_longer_than_the_lookback_is_refused() -> None:
    raw = _spec(patch_len=7).to_json()
    with pytest.raises(ValueError, match="patch_len"):
        model.NetworkSpec.from_json(raw)
