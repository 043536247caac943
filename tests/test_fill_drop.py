"""``--fill drop``: rows with a missing value stay on the time grid but out of every window.

The expected windows are counted by brute force from the missing rows' positions: a window with
origin t reads rows [t - lookback, t + horizon) (and, when scored, the seasonal-naive rows
[t - season, t - season + min(horizon, season))), and is kept when none of them is missing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.core import keepout
from forecast_cli.core.metrics import mase_scale
from forecast_cli.core.scaling import fit_scaler
from forecast_cli.core.splits import origins, split_bounds
from forecast_cli.data.frame import load_csv
from forecast_cli.errors import DataError
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.model.bundle import Bundle, DataSchema
from forecast_cli.model.spec import NetworkSpec
from forecast_cli.pipeline import inputs, panel
from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast, seasonal_series

N = 140  # daily rows: train [0, 98), val [98, 119), test [119, 140) with 0.7 / 0.15 / 0.15
LOOKBACK, HORIZON, SEASON = 8, 4, 7  # TINY_ARGS; daily data → season 7
EMPTY_ROWS = (20, 21, 60, 105)  # value left empty in the file
ABSENT_ROW = 130  # timestamp left out of the file: a gap (case 28), inserted as missing
MISSING = (*EMPTY_ROWS, ABSENT_ROW)


def _reads(t: int, lookback: int, horizon: int, season: int | None) -> set[int]:
    rows = set(range(t - lookback, t + horizon))
    if season:
        rows |= set(range(t - season, t - season + min(horizon, season)))
    return rows


def _hand_count(start: int, stop: int, season: int | None = None) -> list[int]:
    """Origins of [start, stop) windows (targets inside) that read no missing row."""
    first, last = max(start, LOOKBACK), stop - HORIZON
    return [t for t in range(first, last + 1)
            if not _reads(t, LOOKBACK, HORIZON, season) & set(MISSING)]


def _write(path: Path, values: np.ndarray, empty: tuple[int, ...], absent: tuple[int, ...]) -> Path:
    """Daily CSV from 2024-01-01: ``empty`` rows without a value, ``absent`` rows left out."""
    days = pd.date_range("2024-01-01", periods=len(values), freq="D")
    lines = ["day,value"]
    for i, (day, v) in enumerate(zip(days, values, strict=True)):
        if i not in absent:
            lines.append(f"{day.date()},{'' if i in empty else f'{v:.6f}'}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def holes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("drop") / "holes.csv", seasonal_series(N),
                  EMPTY_ROWS, (ABSENT_ROW,))


@pytest.fixture(scope="module")
def dropped_model(holes: Path) -> tuple[Path, dict]:
    out = holes.parent / "out"
    result = run_cli("train", holes, "--fill", "drop", "--json", "-o", out, *TINY_ARGS)
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_complete_matches_a_brute_force_count() -> None:
    rng = np.random.default_rng(3)
    for lookback, horizon, season in [(2, 3, 5), (8, 4, 7), (3, 1, None), (4, 6, 2)]:
        missing = rng.random(60) < 0.08
        at = np.arange(max(lookback, season or 0), 60 - horizon + 1)
        want = [t for t in at if not any(missing[r] for r in _reads(t, lookback, horizon,
                                                                      season))]
        np.testing.assert_array_equal(
            keepout.complete(missing, at, lookback, horizon, season), want)


def test_scaler_and_mase_scale_use_complete_rows_only() -> None:
    x = np.array([[1.0], [np.nan], [3.0], [5.0], [np.nan], [9.0]])
    scaler = fit_scaler("standard", x)
    assert scaler.offset[0] == pytest.approx(np.mean([1, 3, 5, 9]))
    assert (scaler.data_min[0], scaler.data_max[0]) == (1.0, 9.0)
    # season 1: complete pairs |3-5| = 2 only (the others touch a NaN row)
    assert mase_scale(x, 1)[0] == pytest.approx(2.0)


def test_train_windows_equal_the_hand_count_and_loss_is_finite(
        dropped_model: tuple[Path, dict]) -> None:
    out, metrics = dropped_model
    bounds = split_bounds(N, 0.7, 0.15)
    want = {"train": _hand_count(0, bounds.train_end),
            "val": _hand_count(bounds.train_end, bounds.val_end),
            "test": _hand_count(bounds.val_end, N, SEASON)}
    assert metrics["windows"] == {p: len(o) for p, o in want.items()}
    # by hand: train origins 8…94 (87): rows 20, 21 cost t ∈ [17, 29] (13), row 60 costs
    # [57, 68] (12) → 62; val 98…115 (18): row 105 costs [102, 113] → 6; test 119…136 (18):
    # row 130 costs [127, 136] → 8 (season 7 < lookback: seasonal naive reads no other row)
    assert metrics["windows"] == {"train": 62, "val": 6, "test": 8}
    assert np.isfinite(metrics["training"]["best_val_loss"])
    assert np.isfinite(metrics["test"]["model"]["mae"])
    table = pd.read_csv(out / "test_forecasts.csv", parse_dates=["timestamp"])
    assert table[["actual", "model", "naive", "seasonal_naive"]].notna().all().all()
    first_targets = sorted(table.loc[table["step"] == 1, "timestamp"].unique())
    days = pd.date_range("2024-01-01", periods=N, freq="D")
    assert [days.get_loc(t) for t in first_targets] == want["test"]
    fixes = metrics["data"]["fixes"]
    assert any("kept 5 row(s) with a missing value" in f for f in fixes)
    lost = sum(len(origins(bounds, p, LOOKBACK, HORIZON)) for p in want) - sum(
        len(o) for o in want.values())
    assert any(f"{lost} of " in f and "windows left out" in f for f in fixes)
    bundle_fixes = json.loads((out / "model" / "config.json").read_text())
    assert "windows left out" in json.dumps(bundle_fixes)


def test_validate_drop_reports_kept_out_rows_and_default_lists_them(holes: Path) -> None:
    ok = run_cli("validate", holes, "--fill", "drop", "--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["series"][0]["kept_out"] == len(MISSING)
    assert report["series"][0]["missing_steps"] == 1
    windows = report["drop_windows"]  # default lookback/horizon for daily data: 14 + 7
    assert (windows["lookback"], windows["horizon"]) == (14, 7)
    every = range(14, N - 7 + 1)
    assert windows["total"] == len(every)
    assert windows["kept"] == sum(1 for t in every if not set(range(t - 14, t + 7))
                                  & set(MISSING))
    assert "kept 5 row(s) with a missing value" in ok.stderr
    refused = run_cli("validate", holes)
    assert refused.returncode == 65
    # file lines = row + 2 (header is line 1) for rows before the absent one
    assert "4 missing value(s): line 22; line 23; line 62; line 107" in refused.stderr
    assert "1 missing step(s) from 2024-05-10" in refused.stderr
    assert "--fill drop" in refused.stderr


def test_predict_needs_complete_latest_rows(dropped_model: tuple[Path, dict],
                                           tmp_path: Path, holes: Path) -> None:
    out, _ = dropped_model
    fine = run_forecast("predict", holes, "--model", out / "model")
    assert fine.returncode == 0, fine.stderr  # rows 132…139 are complete
    assert len(pd.read_csv(io.StringIO(fine.stdout))) == HORIZON
    late = _write(tmp_path / "late.csv", seasonal_series(N), (*EMPTY_ROWS, N - 3), ())
    refused = run_cli("predict", late, "--model", out / "model")
    assert refused.returncode == 65
    assert str(late) in refused.stderr
    assert f"line {N - 3 + 2} (2024-05-17" in refused.stderr
    assert "latest 8 rows" in refused.stderr
    assert "Fix: fill in" in refused.stderr
    # the same file as Parquet written by pandas: its data rows are numbered, not lines
    table = pd.read_csv(late)
    table["day"] = pd.to_datetime(table["day"])
    table.to_parquet(tmp_path / "late.parquet", index=False)
    refused = run_cli("predict", tmp_path / "late.parquet", "--model", out / "model")
    assert refused.returncode == 65
    assert f"row {N - 3 + 1} (2024-05-17" in refused.stderr
    assert "line" not in refused.stderr


def test_panel_windows_never_read_a_missing_row(tmp_path: Path) -> None:
    rows = []
    for sid, n, gone in (("a", 60, {10, 45}), ("b", 50, {30}), ("c", 40, {20, 21}),
                         ("d", 30, {22})):
        for i, day in enumerate(pd.date_range("2024-01-01", periods=n, freq="D")):
            rows.append(f"{sid},{day.date()},{'' if i in gone else i % 7}")
    path = tmp_path / "long.csv"
    path.write_text("id,day,v\n" + "\n".join(rows) + "\n")
    frame = load_csv(path, options=LoadOptions(id_col="id", fill="drop"))
    p = panel.layout(frame, 0.7, 0.15, lookback=4, horizon=2, season=3, strict=False)
    # d: val rows [21, 25) hold origins 21…23, and row 22 is read by all of them: too short for
    # the fractions, so it is kept with the short layout (test its last 2 rows, val the 2
    # before) and its early windows read from its first row on (padding)
    assert p.ids == ("a", "b", "c", "d")
    assert p.short == (False, False, False, True)
    assert p.skipped == ()
    assert "d (30 rows)" in p.warnings[0]
    missing, edges = np.isnan(frame.values[:, 0]), frame.bounds()
    for part in ("train", "val", "test"):
        at, _which = p.origins(part, 4, 2)
        full, full_which = p.origins(part, 4, 2, complete_only=False)
        season = 3 if part == "test" else None
        first = p.starts[full_which]  # padded windows read nothing before their series
        want = [t for t, a in zip(full, first, strict=True)
                if not missing[sorted(r for r in _reads(int(t), 4, 2, season) if r >= a)].any()]
        np.testing.assert_array_equal(at, want)
        for t, i in zip(full, full_which, strict=True):  # nor cross into another series
            s = frame.series_ids.index(p.ids[i])
            read = _reads(int(t), 4 if not p.short[i] else min(4, int(t - edges[s])), 2, season)
            assert edges[s] <= min(read)
            assert max(read) < edges[s + 1]
    # d's validation window (origin 26) reads its row 22: no complete validation window
    assert not (p.origins("val", 4, 2)[1] == 3).any()
    assert len(p.origins("train", 4, 2)[0]) < len(p.origins("train", 4, 2, False)[0])


def test_panel_predict_leaves_out_a_series_with_a_missing_latest_row(tmp_path: Path) -> None:
    lines = [f"{sid},{day.date()},{'' if (sid, i) == ('b', 18) else i % 5}"
             for sid in ("a", "b") for i, day in
             enumerate(pd.date_range("2024-01-01", periods=20, freq="D"))]
    path = tmp_path / "new.csv"
    path.write_text("id,day,v\n" + "\n".join(lines) + "\n")
    frame = load_csv(path, options=LoadOptions(id_col="id", fill="drop"))
    scaler = fit_scaler("standard", np.arange(10.0)[:, None])
    spec = NetworkSpec(lookback=4, horizon=2, n_inputs=1, target_index=(0,), lstm_units=4,
                       lstm_layers=1, dense_units=(), dropout=0.0, window_norm="none", seed=1)
    schema = DataSchema(time_col="day", inputs=("v",), targets=("v",), freq="D", season=7,
                        first_timestamp=pd.Timestamp("2024-01-01"),
                        last_timestamp=pd.Timestamp("2024-01-10"),
                        panel={"id_col": "id", "skipped": [],
                               "series": {"a": scaler.to_json(), "b": scaler.to_json()}})
    bundle = Bundle(tmp_path, spec, schema, scaler, {"fill": "drop"}, {})
    kept, x, _, warnings = inputs.latest_windows(bundle, frame, None, strict=False)
    assert kept == ["a"]
    assert x.shape == (1, 4, 1)
    assert np.isfinite(x).all()
    # b's row 18 is file line 2 + 20 (a's rows) + 18 = 40
    assert "series 'b' left out" in warnings[0]
    assert "line 40 (2024-01-19" in warnings[0]
    with pytest.raises(DataError, match="line 40"):
        inputs.latest_windows(bundle, frame, None, strict=True)
    table = pd.read_csv(path)  # as Parquet: b's row 18 is data row 20 + 18 + 1 = 39
    table.to_parquet(tmp_path / "new.parquet", index=False)
    frame = load_csv(tmp_path / "new.parquet", options=LoadOptions(id_col="id", fill="drop"))
    _, _, _, warnings = inputs.latest_windows(bundle, frame, None, strict=False)
    assert "row 39 (2024-01-19" in warnings[0]
    assert "line" not in warnings[0]


def test_check_windows_refuses_a_window_with_a_nan_row() -> None:
    values = np.arange(20.0)[:, None]
    values[10] = np.nan
    keepout.check_windows(values, np.array([4, 15]), 4, 2)  # rows [0, 6) and [11, 17)
    with pytest.raises(keepout.IncompleteWindowError, match="first origin row 9"):
        keepout.check_windows(values, np.array([4, 9]), 4, 2)  # rows [5, 11) read row 10
    keepout.check_windows(values, np.array([15]), 4, 0)  # inputs only: rows [11, 15)


def test_a_part_left_without_windows_is_a_data_error() -> None:
    values = np.arange(40.0)[:, None]
    values[29] = np.nan  # val origins 28…32 read rows [24, 30) … [28, 34): all read row 29
    bounds = split_bounds(40, 0.7, 0.15)
    with pytest.raises(DataError, match=r"the val part\(s\) have no complete window"):
        keepout.split_origins(values, bounds, 4, 2, 3, "x.csv")


def test_panel_train_with_drop_counts_only_complete_windows(tmp_path: Path) -> None:
    """One global model over three series with holes (library call, tiny network)."""
    from forecast_cli.pipeline.training import train
    from forecast_cli.settings import build_settings

    lines = [f"{sid},{day.date()},{'' if i in gone else f'{10 * k + np.sin(i):.4f}'}"
             for k, (sid, gone) in enumerate((("a", {10, 45}), ("b", {30, 31}), ("c", {50})))
             for i, day in enumerate(pd.date_range("2024-01-01", periods=70, freq="D"))]
    path = tmp_path / "long.csv"
    path.write_text("id,day,v\n" + "\n".join(lines) + "\n")
    settings = build_settings({"id_col": "id", "fill": "drop", "lookback": 4, "horizon": 2,
                               "season": 3, "lstm_units": 4, "epochs": 1, "batch_size": 32,
                               "seed": 1, "output_dir": tmp_path / "out",
                               # one network (the ensemble has its own tests); the refit on
                               # every window stays: it too must leave the holes out
                               "ensemble_seeds": 1, "ensemble_lookbacks": (1.0,), "refit": True})
    result = train(path, settings)
    frame = load_csv(path, options=LoadOptions(id_col="id", fill="drop"))
    p = panel.layout(frame, 0.7, 0.15, 4, 2, 3, strict=False)
    missing = frame.missing_rows()
    want = {part: [t for t in p.origins(part, 4, 2, complete_only=False)[0]
                   if not missing[sorted(_reads(int(t), 4, 2, 3 if part == "test" else None))]
                   .any()] for part in ("train", "val", "test")}
    assert result.windows == {part: len(o) for part, o in want.items()}
    assert np.isfinite(result.history["loss"]).all()
    assert np.isfinite(result.evaluation.forecasts["model"]).all()
    assert any("kept 5 row(s) with a missing value out of every window" in f
               for f in result.frame.fixes)
    bundle_config = json.loads((tmp_path / "out" / "model" / "config.json").read_text())
    assert "windows left out" in json.dumps(bundle_config)
