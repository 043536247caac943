"""Per-series scaling inside the input pipeline (``SeriesScalers`` + the series of each origin):
the numbers of scaling every series of the data first, bit for bit, without a scaled copy; and
for one series exactly the single ``Scaler``'s batches, so single-series training is unchanged.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from forecast_cli.core.buffers import aligned_empty
from forecast_cli.core.scaling import Scaler, SeriesScalers, fit_scaler
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.model import api as model
from forecast_cli.model import dataset
from tests.test_stored_windows import assert_same, both_ways, paths_taken, series, spec

LENGTHS = (50, 61, 45)  # three series of a panel, stacked: rows 0-49, 50-110, 111-155


def panel(dtype: type = np.float64) -> tuple[np.ndarray, list[slice]]:
    """(156, 3): the three series on very different levels and scales, and their row ranges."""
    parts, blocks, start = [], [], 0
    for i, n in enumerate(LENGTHS):
        parts.append(series(n) * (1 + 4 * i) + 1000 * i)
        blocks.append(slice(start, start + n))
        start += n
    return np.concatenate(parts).astype(dtype), blocks


def panel_windows(blocks: list[slice], lookback: int,
                  horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every origin whose window stays inside its series, and that series, interleaved in a
    seeded order (so nothing can rely on the windows of a series coming together)."""
    origins = np.concatenate([np.arange(b.start + lookback, b.stop - horizon + 1) for b in blocks])
    which = np.concatenate([np.full(b.stop - b.start - lookback - horizon + 1, i, np.int64)
                            for i, b in enumerate(blocks)])
    order = np.random.default_rng(1).permutation(len(origins))
    return origins[order], which[order]


def fitted(values: np.ndarray, blocks: list[slice]) -> SeriesScalers:
    """One scaler per series on its first 70 % of rows; the middle one min-max."""
    return SeriesScalers(tuple(
        fit_scaler("minmax" if i == 1 else "standard",
                   values[b][: int(0.7 * (b.stop - b.start))]) for i, b in enumerate(blocks)))


def scaled_first(values: np.ndarray, blocks: list[slice], scalers: SeriesScalers) -> np.ndarray:
    """The reference: every series scaled by its own scaler, in numpy, float64."""
    out = np.empty(values.shape, np.float64)
    for b, s in zip(blocks, scalers.scalers, strict=True):
        out[b] = (values[b] - s.offset) / s.scale
    return out


@pytest.mark.parametrize("seed", [None, 4])
def test_one_series_scalers_give_the_scalers_batches_bit_for_bit(
        monkeypatch: pytest.MonkeyPatch, seed: int | None) -> None:
    values, s = series(90), spec(n_future=2)
    scaler = fit_scaler("standard", values[:60])
    origins = np.arange(6, 88)
    future = np.stack([np.arange(90) % 7, np.arange(90) % 24], axis=1).astype(np.float64)
    common = dict(inputs=values, targets=values, origins=origins, spec=s, batch_size=16,
                  shuffle_seed=seed, future=future)
    one = both_ways(monkeypatch, **common, scaler=scaler)
    per_series = both_ways(monkeypatch, **common, scaler=SeriesScalers((scaler,)),
                           series=np.zeros(len(origins), np.int64))
    for a, b in zip(one, per_series, strict=True):  # stored, then gathered
        assert_same(a, b)
        assert len(a[0]) == 3  # future, window, targets: every part compared
    assert_same(*per_series)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_window_is_scaled_by_its_own_series(monkeypatch: pytest.MonkeyPatch,
                                                 dtype: type) -> None:
    values, blocks = panel(dtype)
    scalers = fitted(values, blocks)
    reference = scaled_first(values, blocks, scalers)
    s = spec(n_future=1)
    origins, which = panel_windows(blocks, s.lookback, s.horizon)
    future = (np.arange(len(values)) % 5).astype(np.float64)[:, None]
    common = dict(origins=origins, spec=s, batch_size=16, future=future)

    # in order: what numpy cuts from the scaled reference (targets: columns 0 and 2)
    stored, gathered = both_ways(monkeypatch, **common, inputs=values, targets=values,
                                 scaler=scalers, series=which)
    assert_same(stored, gathered)
    w = WindowSpec(s.lookback, s.horizon)
    got = [np.concatenate(part) for part in zip(*stored, strict=True)]
    want = [w.targets(future, origins), w.inputs(reference, origins),
            w.targets(reference[:, [0, 2]], origins)]
    for g, r in zip(got, want, strict=True):
        assert np.array_equal(g, r.astype(np.float32))

    # shuffled: the same batches as the reference scaled first, through the unscaled path
    shuffled = both_ways(monkeypatch, **common, inputs=values, targets=values, shuffle_seed=5,
                         scaler=scalers, series=which)
    first = both_ways(monkeypatch, **common, inputs=reference, targets=reference,
                      shuffle_seed=5)
    for a, b in zip(shuffled, first, strict=True):  # stored, then gathered
        assert_same(a, b)
    assert not np.array_equal(shuffled[0][0][1], stored[0][1])  # it did shuffle

def _peak_numpy_bytes(run: Callable[[], object]) -> int:
    """Peak bytes traced while ``run()`` runs: numpy's buffers are traced, TensorFlow's not."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("per_series", [False, True])
def test_gathered_windows_make_no_copy_of_the_data(monkeypatch: pytest.MonkeyPatch,
                                                   per_series: bool) -> None:
    n, f = 1_000_000, 4  # 32 MB of float64: a float32 copy would be 16 MB
    values = aligned_empty((n, f), np.float64)  # as the loader's: TensorFlow reads it in place
    np.random.default_rng(0).standard_normal(out=values)
    s = spec(n_inputs=f, target_index=(0, 3))
    origins = np.arange(s.lookback, n - s.horizon + 1, 8)  # 125,000 windows
    which = origins * 4 // n  # four series of 250,000 rows
    one = fit_scaler("standard", values[:1000])
    scaler: Scaler | SeriesScalers = (
        SeriesScalers(tuple(fit_scaler("standard", values[i * 250_000:][:1000])
                            for i in range(4))) if per_series else one)
    taken = paths_taken(monkeypatch)
    monkeypatch.setattr(dataset, "STORED_WINDOWS_BYTES", 0)

    def build_and_draw() -> None:
        ds = model.window_dataset(values, values, origins, s, 64, shuffle_seed=1, scaler=scaler,
                                  series=which if per_series else None)
        for _ in ds.take(3):
            pass

    build_and_draw()  # untraced first: TensorFlow's and tf.data's one-off start-up
    peak = _peak_numpy_bytes(build_and_draw)
    assert taken == ["_gathered"] * 2
    assert peak < values.nbytes // 4, f"{peak / 2**20:.1f} MB traced: a copy of the data?"
    # the measurement sees such a copy: a float32 one is half the float64 data
    assert _peak_numpy_bytes(lambda: values.astype(np.float32)) >= values.nbytes // 2


def test_series_indices_are_checked() -> None:
    values, s = series(40), spec()
    origins = np.arange(6, 38)
    scalers = SeriesScalers((fit_scaler("standard", values[:20]),) * 2)
    one = scalers.scalers[0]
    m = len(origins)
    cases: list[tuple[Scaler | SeriesScalers | None, np.ndarray | None, str]] = [
        (scalers, None, "need the series"),
        (scalers, np.zeros(m - 1, np.int64), "need the series"),
        (scalers, np.zeros(m), "need the series"),  # floats
        (scalers, np.full(m, 2), "must lie in 0 … 1"),
        (scalers, np.full(m, -1), "must lie in 0 … 1"),
        (one, np.zeros(m, np.int64), "without per-series scalers"),
        (None, np.zeros(m, np.int64), "without per-series scalers")]
    for scaler, which, message in cases:
        with pytest.raises(ValueError, match=message):
            model.window_dataset(values, values, origins, s, 8, scaler=scaler, series=which)
