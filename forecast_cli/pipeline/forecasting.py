"""``forecast predict``: the next ``horizon`` values after the latest data, from a bundle.

One implementation for a panel of S ≥ 1 series: each series' last ``lookback`` rows, scaled by
its own training scaler, form one window and every window goes through the network in one
call. The table is long format (id, timestamp, step, targets, then ``{target}_lower_{level}``
and ``{target}_upper_{level}``); a file without ``--id-col`` is shown without the id column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core import precision as digits
from forecast_cli.core.intervals import level_label
from forecast_cli.core.panel_intervals import SeriesIntervals
from forecast_cli.core.theta import mix
from forecast_cli.data.frame import Frame
from forecast_cli.data.frequency import future_index
from forecast_cli.errors import BundleError
from forecast_cli.io.forecast_output import forecast_head, table_csv, table_json, table_parquet
from forecast_cli.model import api as model
from forecast_cli.model.bundle import Bundle, read_bundle
from forecast_cli.pipeline import bundle_series, fallback, theta_serving, transforming
from forecast_cli.pipeline.inputs import check_compatible, latest_windows, load_for, short_ids
from forecast_cli.settings import ENGINES


@dataclass(frozen=True)
class Forecast:
    """Future values. ``table``: columns timestamp, step, one column per target, then
    ``{target}_lower_{level}`` and ``{target}_upper_{level}`` per interval level; for a model
    trained with ``--id-col``, the id column first and ``horizon`` rows per series. Its
    timestamps (and ``origin``) are naive UTC when the data has a zone (``bundle.schema.tz``):
    the writers (``render_forecast``) show them in it."""

    table: pd.DataFrame
    bundle: Bundle
    origin: pd.Timestamp  # timestamp of the last observed row used (the latest of all series)
    warnings: list[str] = field(default_factory=list)
    frame: Frame | None = None  # the data the forecast was made from, as read


def future_inputs(bundle: Bundle, lasts: Sequence[pd.Timestamp]) -> np.ndarray | None:
    """The known-future inputs of the horizon after each timestamp of ``lasts`` (one per
    series): (S, horizon, n_future), the calendar values of the forecast timestamps; None when
    the network has no future input. BundleError when the bundle cannot say what they are."""
    spec, freq = bundle.spec, bundle.schema.freq
    if spec.n_future == 0:
        return None
    from forecast_cli.data.calendar_features import horizon_values, names

    given = len(names(freq)) if bundle.settings.get("calendar") else 0
    if given != spec.n_future:
        raise BundleError(f"{bundle.path}: the network takes {spec.n_future} known-future "
                          f"inputs per forecast step, but the bundle's settings give {given} "
                          f"(calendar at frequency {freq!r}); the bundle is inconsistent: "
                          "retrain the model.")
    return horizon_values(lasts, freq, spec.horizon)


def run_network(bundle: Bundle, x: np.ndarray, engine: str = "auto",
                future: np.ndarray | None = None) -> np.ndarray:
    """x (B, lookback, F) scaled [and future (B, horizon, n_future), see ``future_inputs``] →
    (B, horizon, k) float64 scaled, by the chosen engine.

    ``onnx``: ONNX Runtime on the bundle's export, no TensorFlow. ``keras``: rebuild the network
    and load its weights. ``auto``: onnx when the bundle has the export, else keras.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    n_future = 0 if future is None else future.shape[-1]
    if n_future != bundle.spec.n_future:
        raise BundleError(f"{bundle.path}: the network takes {bundle.spec.n_future} "
                          f"known-future inputs per step; {n_future} were given.")
    if engine == "keras" or (engine == "auto" and bundle.onnx is None):
        net = model.load_network(bundle.spec, bundle.weights)
        return model.predict_array(net, x, future)
    if bundle.onnx is None:
        raise BundleError(f"{bundle.path}: the bundle has no ONNX export (model.onnx); "
                          "use --engine keras, or retrain to add it.")
    from forecast_cli.model.onnx_engine import OnnxNetwork

    return OnnxNetwork(bundle.onnx, spec=bundle.spec, sha256=bundle.onnx_sha256).predict(x, future)


def predict(bundle_dir: Path, data_path: Path, series: tuple[str, ...] | None = None,
            engine: str = "auto", reading: Mapping[str, Any] | None = None) -> Forecast:
    """Forecast the ``horizon`` steps after the last row of every series of ``data_path``
    (or of those named in ``series``). ``engine``: see :func:`run_network`. ``reading``:
    reading options for this file in place of those the model was trained with."""
    bundle = read_bundle(Path(bundle_dir))  # resolved once: OUT/model is one run's files
    frame = load_for(bundle, Path(data_path), reading)
    warnings = check_compatible(bundle, frame)
    strict = (reading or {}).get("strict", bundle.settings.get("strict"))
    kept, x, lasts, more = latest_windows(bundle, frame, series, bool(strict))
    if fallback.serves_baseline(bundle):  # --fallback seasonal-naive, and the network lost
        scaled = fallback.scaled_baseline(bundle, frame, kept)
        more = [*more, "the model serves seasonal naive: its network did not beat it on "
                "validation (--fallback seasonal-naive)."]
        theta = None
    else:
        scaled = run_network(bundle, x, engine, future_inputs(bundle, lasts))  # (S, H, k)
        theta = (theta_serving.latest(bundle, frame, kept)
                 if theta_serving.weight(bundle.settings) else None)
    table = forecast_table(bundle, kept, lasts, scaled,
                           transforming.served(bundle, bundle_series.frame_ids(frame)), theta)
    if frame.id_col is not None:
        table.insert(0, frame.id_col, np.repeat(np.asarray(kept, dtype=object),
                                                bundle.spec.horizon))
    short = short_ids(frame, kept, bundle.spec.lookback,
                      set((bundle.schema.panel or {}).get("short", [])))
    if short:  # the column only when some series is short: other forecasts keep their shape
        table["short_history"] = np.repeat(np.isin(np.asarray(kept, dtype=object), short),
                                           bundle.spec.horizon)
        more = [*more, f"{len(short)} series have a short history (fewer rows than the "
                f"lookback {bundle.spec.lookback}, or too few for the training split): "
                "forecast from padded windows, flagged short_history."]
    return Forecast(table=table, bundle=bundle, origin=pd.Timestamp(max(lasts)),
                    warnings=[*bundle.warnings, *warnings, *more], frame=frame)


def forecast_table(bundle: Bundle, ids: list[str], lasts: list[pd.Timestamp],
                   scaled: np.ndarray,
                   served: transforming.Served | None = None,
                   theta: np.ndarray | None = None) -> pd.DataFrame:
    """timestamp, step, targets and bounds of every series: scaled (S, H, k) forecasts,
    their target transforms (``served``) undone, step 1 at the phase after each's last row,
    blended with ``theta`` (S, H, k) original units at the bundle's ``theta_weight``."""
    spec, schema = bundle.spec, bundle.schema
    scalers, widths = bundle_series.scalers(bundle), bundle_series.intervals(bundle)
    columns: dict[str, list[Any]] = {}  # one DataFrame at the end, not one per series
    stamps, steps_after = [], {}  # series usually end together: one date_range per end
    for j, (sid, last) in enumerate(zip(ids, lasts, strict=True)):
        values = scalers[sid].select(list(spec.target_index)).inverse(scaled[j])  # (H, k)
        if served is not None:
            i = served.ids.index(sid)
            values = served.inverse(i, values, served.phase_at(i, last) + 1)
        if theta is not None:
            values = mix(values, theta[j], theta_serving.weight(bundle.settings))
        if last not in steps_after:
            steps_after[last] = future_index(last, schema.freq, spec.horizon)
        stamps.append(steps_after[last])
        part: dict[str, Any] = {"step": np.arange(1, spec.horizon + 1)}
        part.update({name: values[:, t] for t, name in enumerate(schema.targets)})
        part.update(_bounds(widths, sid, values, schema.targets))
        for key, column in part.items():
            columns.setdefault(key, []).append(column)
    return pd.DataFrame({"timestamp": stamps[0].append(stamps[1:]),
                         **{key: np.concatenate(parts) for key, parts in columns.items()}})


def _bounds(si: SeriesIntervals | None, sid: str, values: np.ndarray,
            targets: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Interval columns of one series' forecast (H, k); none without calibrated intervals."""
    if si is None or sid not in si.series:
        return {}
    out: dict[str, np.ndarray] = {}
    for level, widths in zip(si.levels, si.series[sid].half_widths, strict=True):
        for t, name in enumerate(targets):
            out[f"{name}_lower_{level_label(level)}"] = values[:, t] - widths[:, t]
            out[f"{name}_upper_{level_label(level)}"] = values[:, t] + widths[:, t]
    return out


def output_precision(bundle: Bundle, precision: int | None = None) -> int | None:
    """The decimals a forecast is written with: ``precision`` when given, else the bundle's
    ``precision`` setting (the training data's decimals + 3); None (every digit) for a bundle
    written before it was recorded."""
    return precision if precision is not None else digits.stored(
        bundle.settings.get("precision"))


def rounded_table(fc: Forecast, precision: int | None = None) -> pd.DataFrame:
    """``fc.table`` with its values as the writers round them (timestamps as they are)."""
    decimals = output_precision(fc.bundle, precision)
    return fc.table.assign(**{str(c): digits.rounded(fc.table[c].to_numpy(), decimals)
                              for c in fc.table.columns if fc.table[c].dtype.kind == "f"})


def render_forecast(fc: Forecast, fmt: str, precision: int | None = None) -> str:
    """The forecast as CSV (timestamp, step, targets…) or as a JSON document, its timestamps
    in the data's zone and its values to ``output_precision`` decimals."""
    b, decimals = fc.bundle, output_precision(fc.bundle, precision)
    if fmt == "json":
        return table_json(fc.table, forecast_head(
            str(b.path), fc.origin, b.schema.freq, b.spec.horizon, list(b.schema.targets),
            b.schema.tz, decimals))
    if fmt != "csv":
        raise ValueError(f"not a text format: {fmt!r}")
    return table_csv(fc.table, b.schema.tz, decimals)


def forecast_bytes(fc: Forecast, fmt: str, precision: int | None = None) -> bytes:
    """The forecast as the bytes of a ``fmt`` file (csv, json or parquet)."""
    if fmt == "parquet":
        return table_parquet(fc.table, fc.bundle.schema.tz,
                             output_precision(fc.bundle, precision))
    return render_forecast(fc, fmt, precision).encode("utf-8")
