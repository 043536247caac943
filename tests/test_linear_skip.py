"""The linear skip (NLinear): a Dense map of each target's window-normalised lookback to its
horizon, added to the LSTM's forecast; zero at first, so the forecast starts at the level."""

from __future__ import annotations

import numpy as np

from forecast_cli.model import api as model
from forecast_cli.model.spec import parameter_count
from tests.test_model import spec


def test_the_skip_continues_a_ramp_with_a_hand_set_map() -> None:
    """With the LSTM's head at zero, the forecast is last + Wᵀ(x − last): W[L−2, h] = −(h+1)
    reads the last step (x_L − x_{L−1}) and extends it h+1 times, exactly a ramp's values."""
    s = spec(n_inputs=1, target_index=(0,), window_norm="last", linear_skip=True)
    net = model.build_network(s)
    assert net.count_params() == parameter_count(s)
    head = net.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    kernel = np.zeros((s.lookback, s.horizon), np.float32)
    kernel[s.lookback - 2] = -np.arange(1, s.horizon + 1)
    net.get_layer("linear_skip").set_weights([kernel, np.zeros(s.horizon, np.float32)])
    ramp = (3.0 + 0.5 * np.arange(s.lookback))[None, :, None]  # (1, L, 1)
    want = 3.0 + 0.5 * np.arange(s.lookback, s.lookback + s.horizon)
    np.testing.assert_allclose(model.predict_array(net, ramp)[0, :, 0], want, atol=1e-5)


def test_a_fresh_skip_adds_nothing() -> None:
    s = spec(target_index=(1,), window_norm="last")
    x = np.random.default_rng(3).standard_normal((4, s.lookback, s.n_inputs))
    plain = model.predict_array(model.build_network(s), x)
    skip = model.build_network(spec(target_index=(1,), window_norm="last", linear_skip=True))
    assert skip.count_params() == parameter_count(
        spec(target_index=(1,), window_norm="last", linear_skip=True))
    np.testing.assert_allclose(model.predict_array(skip, x), plain, atol=1e-6)


def test_the_default_batch_grows_with_a_big_panel_to_about_500_steps_an_epoch() -> None:
    from forecast_cli.pipeline.fitting import auto_batch

    assert auto_batch(100) == auto_batch(16_000) == 32  # small data: the usual batch
    for n in (20_000, 55_625, 100_000, 200_000):
        steps = n / auto_batch(n)
        assert 500 / 2**0.5 <= steps <= 500 * 2**0.5
    assert auto_batch(10**8) == 512  # the cap
