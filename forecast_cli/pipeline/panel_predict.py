"""``forecast predict`` for a model trained with ``--id-col``: every series in one batch.

Each series is scaled with its own training scaler from the bundle, its last ``lookback`` rows
form one window, and all windows go through the network in a single call. The result is long
format: id, timestamp, step, then one column per target, then (when the bundle has per-series
intervals) ``{target}_lower_{level}`` and ``{target}_upper_{level}`` as for one series.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecast_cli.core import keepout
from forecast_cli.core.intervals import level_label
from forecast_cli.core.scaling import Scaler
from forecast_cli.data.frame import Frame
from forecast_cli.data.frequency import future_index
from forecast_cli.errors import BundleError, DataError
from forecast_cli.model.bundle import Bundle


def _scalers(bundle: Bundle) -> dict[str, Scaler]:
    info = bundle.schema.panel or {}
    try:
        return {str(k): Scaler.from_json(v) for k, v in dict(info["series"]).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{bundle.path}: per-series scalers are malformed ({exc}).") from None


def _chosen(frame: Frame, series: tuple[str, ...] | None) -> list[str]:
    if not series:
        return list(frame.series_ids)
    missing = [s for s in series if s not in frame.series_ids]
    if missing:
        raise DataError(f"{frame.path}: --series {', '.join(missing)} not in column "
                        f"{frame.id_col!r}. Series in the file: "
                        f"{', '.join(frame.series_ids[:20])}.")
    return list(series)


def _outside(window: np.ndarray, scaler: Scaler, checked: np.ndarray) -> bool:
    """Whether a checked column (``checked`` (F,) bool) of ``window`` leaves the range."""
    return bool((scaler.far_outside(window) & checked).any())


def windows(bundle: Bundle, frame: Frame, series: tuple[str, ...] | None,
            strict: bool) -> tuple[list[str], np.ndarray, list[str]]:
    """Ids kept, their scaled last windows (S, lookback, F) and the warnings."""
    from forecast_cli.pipeline.forecasting import range_checked

    scalers, lookback, checked = _scalers(bundle), bundle.spec.lookback, range_checked(bundle)
    edges, kept, xs, warnings = frame.bounds(), [], [], []
    for sid in _chosen(frame, series):
        i = frame.series_ids.index(sid)
        rows = frame.values[edges[i]: edges[i + 1]]
        if sid not in scalers or len(rows) < lookback:
            why = ("the model was not trained on it" if sid not in scalers
                   else f"it has {len(rows)} rows, fewer than the lookback {lookback}")
            warnings.append(f"series {sid!r} left out: {why}.")
            continue
        a, b = edges[i], edges[i + 1]
        gone = keepout.require_latest(rows, frame.line_numbers[a:b], frame.timestamps[a:b],
                                      lookback, "", None)
        if gone is not None:  # --fill drop: a missing value among the latest rows
            warnings.append(f"series {sid!r} left out: {gone}")
            continue
        window = rows[-lookback:]
        if _outside(window, scalers[sid], checked):
            warnings.append(f"series {sid!r}: recent values lie far outside its training range;"
                            " the forecast may be unreliable.")
        kept.append(sid)
        xs.append(scalers[sid].transform(window))
    if warnings and strict:
        raise DataError(f"{frame.path}: " + " ".join(warnings))
    if not kept:
        raise DataError(f"{frame.path}: no series can be forecast: " + " ".join(warnings))
    return kept, np.stack(xs), warnings


def _bounds(bundle: Bundle, sid: str, values: np.ndarray) -> dict[str, np.ndarray]:
    """Interval columns of one series' forecast (H, k); none without calibrated intervals."""
    si = bundle.series_intervals
    if si is None or sid not in si.series:
        return {}
    out: dict[str, np.ndarray] = {}
    for level, widths in zip(si.levels, si.series[sid].half_widths, strict=True):
        for t, name in enumerate(bundle.schema.targets):
            out[f"{name}_lower_{level_label(level)}"] = values[:, t] - widths[:, t]
            out[f"{name}_upper_{level_label(level)}"] = values[:, t] + widths[:, t]
    return out


def predict_panel(bundle: Bundle, frame: Frame, series: tuple[str, ...] | None, strict: bool,
                  run: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
                  ) -> tuple[pd.DataFrame, pd.Timestamp, list[str]]:
    """Forecast table (long format), the latest origin, warnings.

    ``run`` maps scaled windows (S, lookback, F) and the known-future inputs
    (S, horizon, n_future) or None to scaled forecasts (S, horizon, k): the engine chosen by
    ``forecasting.run_network`` (ONNX Runtime or Keras). The future inputs of each series
    are those of the horizon after its own last timestamp (``forecasting.future_inputs``).
    """
    from forecast_cli.pipeline.forecasting import future_inputs

    spec, schema = bundle.spec, bundle.schema
    kept, x, warnings = windows(bundle, frame, series, strict)
    scalers, edges = _scalers(bundle), frame.bounds()
    lasts = [frame.timestamps[edges[frame.series_ids.index(sid) + 1] - 1] for sid in kept]
    scaled = run(x, future_inputs(bundle, lasts))  # (S, H, k), one call for every series
    columns: dict[str, list[Any]] = {}  # one DataFrame at the end, not one per series
    stamps, steps_after = [], {}  # series usually end together: one date_range per end
    for j, (sid, last) in enumerate(zip(kept, lasts, strict=True)):
        sc = scalers[sid].select(list(spec.target_index))
        values = sc.inverse(scaled[j])
        if last not in steps_after:
            steps_after[last] = future_index(last, schema.freq, spec.horizon)
        stamps.append(steps_after[last])
        part: dict[str, Any] = {"step": np.arange(1, spec.horizon + 1)}
        part.update({name: values[:, t] for t, name in enumerate(schema.targets)})
        part.update(_bounds(bundle, sid, values))
        for key, column in part.items():
            columns.setdefault(key, []).append(column)
    table = pd.DataFrame({frame.id_col or "id": np.repeat(np.asarray(kept, dtype=object),
                                                          spec.horizon),
                          "timestamp": stamps[0].append(stamps[1:]),
                          **{key: np.concatenate(parts) for key, parts in columns.items()}})
    return table, pd.Timestamp(frame.timestamps.max()), warnings
