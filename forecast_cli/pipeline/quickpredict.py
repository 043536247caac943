"""``forecast predict`` as cron runs it: the quick path for a plain file, the full one otherwise.

A scheduled prediction of one series should answer in well under a second (issue 6). The full
path (``forecasting.predict``) imports pandas and pyarrow to read and check any CSV, ~0.5 s and
~140 MB before any work. When the bundle has its ONNX export, the model is one plain series
(no ``--id-col``, no calendar inputs, naive timestamps at a fixed step or on month starts) read
with the default options, and the file is plain (``plaincsv``), the same forecast is made with
numpy and ONNX Runtime alone. Anything else, including every condition under which the full
path would warn, goes to the full path, so both give the same output byte for byte (tests
compare them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core import precision as digits
from forecast_cli.core.intervals import level_label
from forecast_cli.core.theta import mix, served_share, theta_forecast
from forecast_cli.core.transform import Transforms, forward_rows, from_json, inverse_steps
from forecast_cli.io.forecast_output import (
    columns_csv,
    forecast_head,
    iso_text,
    json_document,
    json_float,
    shown,
)
from forecast_cli.io.plaincsv import PlainSeries, following, read_plain, steps_between
from forecast_cli.loadoptions import LoadOptions
from forecast_cli.model.bundle import ONNX, Parts, read_parts

_SCHEMA_KEYS = ("time_col", "inputs", "targets", "freq", "last_timestamp")


@dataclass(frozen=True)
class Prediction:
    """A rendered forecast: ``text`` (CSV or JSON; empty for Parquet, whose bytes are
    ``binary``), its number of rows, the timestamp of the last observed row as a message shows
    it, warnings for stderr, and the full ``forecasting.Forecast`` when the full path made it
    (a plot needs it; None from the quick path)."""

    text: str
    rows: int
    origin: str
    warnings: list[str]
    forecast: Any = None
    binary: bytes | None = None
    horizon: int = 0  # steps per series (rows = horizon × series)

    @property
    def summary(self) -> str:
        """"18 steps after 2001-12-01", "18 steps of 8 series after 2001-12-01": what a
        message says of the forecast (the origin is the last observed row, not the first
        forecast one)."""
        steps = self.horizon or self.rows
        n_series = self.rows // steps if steps else 0
        of = f" of {n_series:,} series" if n_series > 1 else ""
        return f"{steps} steps{of} after {self.origin}"

    @property
    def content(self) -> bytes:
        """What a file of this forecast holds."""
        return self.binary if self.binary is not None else self.text.encode("utf-8")


def predict_output(bundle_dir: Path, data_path: Path, series: tuple[str, ...] | None = None,
                   engine: str = "auto", fmt: str = "csv", keep: bool = False,
                   reading: Mapping[str, Any] | None = None,
                   precision: int | None = None) -> Prediction:
    """Forecast the horizon after the last row of ``data_path``, rendered as ``fmt`` (csv,
    json or parquet) with ``precision`` decimals (None: the bundle's ``precision`` setting).

    ``keep``: the caller needs the Forecast itself (a plot), so the full path runs.
    ``reading``: reading options in place of the bundle's; the quick reader reads only plain
    files read as the bundle was, so any given option takes the full loader. Parquet needs
    pandas and pyarrow anyway: the full path.
    Raises what ``forecasting.predict`` raises.
    """
    if (not keep and not series and not reading and engine in ("auto", "onnx")
            and fmt != "parquet"):
        quick = quick_predict(Path(bundle_dir), Path(data_path), fmt, precision)
        if quick is not None:
            return quick
    from forecast_cli.pipeline.forecasting import forecast_bytes, predict, render_forecast

    fc = predict(bundle_dir, data_path, series, engine=engine, reading=reading)
    origin = shown(fc.origin, fc.bundle.schema.tz)
    if fmt == "parquet":
        return Prediction("", len(fc.table), origin, fc.warnings, fc,
                          forecast_bytes(fc, fmt, precision), fc.bundle.spec.horizon)
    return Prediction(render_forecast(fc, fmt, precision), len(fc.table), origin, fc.warnings,
                      fc, horizon=fc.bundle.spec.horizon)


def quick_predict(bundle_dir: Path, data_path: Path, fmt: str,
                  precision: int | None = None) -> Prediction | None:
    """The forecast without pandas, or None when the bundle or the data is not plain."""
    parts = read_parts(bundle_dir)  # the same checksum checks and errors as the full path
    if not _plain_bundle(parts):
        return None
    data = parts.data
    plain = read_plain(data_path, str(data["time_col"]), [str(c) for c in data["inputs"]],
                       str(data["freq"]), _options(parts).max_rows)
    if plain is None or not _fits(parts, plain):
        return None
    from forecast_cli.model.onnx_engine import OnnxNetwork

    spec = parts.spec
    recent, last_phase = plain.values[-spec.lookback:], 0
    t = _transforms(parts)
    if t is not None:  # as transforming.Served does: targets transformed at their phases
        transforms, anchor = t
        if anchor is not None:
            last_phase = steps_between(np.datetime64(anchor, "s"), plain.times[-1],
                                       str(data["freq"])) % transforms.season
        recent = forward_rows(transforms, recent, 0, last_phase - spec.lookback + 1)
    window = parts.scaler.transform(recent)  # (L, F)
    net = OnnxNetwork(parts.root / ONNX, spec=spec, sha256=parts.manifest["files"][ONNX])
    scaled = net.predict(window[None, :, :])[0]  # (H, k)
    values = parts.scaler.select(list(spec.target_index)).inverse(scaled)
    if t is not None:
        values = inverse_steps(t[0], values, 0, last_phase + 1)
    share, always = served_share(parts.settings)
    if share:  # blended with Theta on every row, as forecasting.predict blends it
        rows = plain.values[:, list(spec.target_index)]
        theta = np.stack([theta_forecast(rows[:, j][np.isfinite(rows[:, j])], spec.horizon,
                                         int(parts.data.get("season") or 1), always)
                          for j in range(rows.shape[1])], axis=1)  # (H, k)
        values = mix(values, theta, share)
    times = following(plain.times[-1], str(data["freq"]), spec.horizon)
    columns = _columns(parts, values)
    tz = parts.data.get("tz")
    tz = None if tz is None else str(tz)
    if precision is None:
        precision = digits.stored(parts.settings.get("precision"))
    text = (_json(parts, plain.times[-1], times, columns, tz, precision) if fmt == "json"
            else columns_csv(times, columns, tz, precision))
    return Prediction(text, spec.horizon, shown(plain.times[-1], tz),
                      list(parts.warnings), horizon=spec.horizon)


def _transforms(parts: Parts) -> tuple[Transforms, str | None] | None:
    """The lone series' target transforms and anchor (checked when the bundle was read)."""
    record = parts.data.get("transform")
    if record is None:
        return None
    t, anchors = from_json(record, [""], parts.spec.n_targets)
    return t, anchors[0]


def _options(parts: Parts) -> LoadOptions:
    # freq left out before the options check it: parsing a frequency needs pandas
    return replace(LoadOptions.from_settings({**parts.settings, "freq": None}),
                   time_col=str(parts.data["time_col"]))


def _plain_bundle(parts: Parts) -> bool:
    """One series, naive timestamps, no calendar inputs, an ONNX export, default reading."""
    o = _options(parts)
    reading = (o.sep in (None, ",") and o.decimal == "." and o.thousands is None
               and o.encoding.lower() in ("utf-8", "utf8", "utf-8-sig", "utf8-sig")
               and o.time_format is None and not o.dayfirst and o.time_unit is None
               and o.tz is None and o.id_col is None and o.fill == "none"
               and o.dedupe == "none" and not o.allow_missing)
    # a malformed config.json goes to the full path, which names what is wrong with it
    complete = all(key in parts.data for key in _SCHEMA_KEYS)
    return (reading and complete and ONNX in parts.manifest.get("files", {})
            and not parts.data.get("panel")
            and parts.settings.get("serving", "model") == "model"  # not --fallback's baseline
            and parts.data.get("tz") is None and not parts.settings.get("calendar")
            and parts.spec.n_future == 0)


def _fits(parts: Parts, plain: PlainSeries) -> bool:
    """No condition under which ``forecasting.check_compatible`` refuses or warns."""
    if len(plain.values) < parts.spec.lookback:
        return False
    try:
        trained_until = np.datetime64(str(parts.data["last_timestamp"]), "s")
    except ValueError:
        return False  # malformed: the full path refuses the bundle
    if plain.times[-1] < trained_until:
        return False  # the data ends before the training data: a warning
    # every column is range-checked: calendar bundles never take the quick path; the range is
    # widened by the rows seen at training (data.seen), as the full path's check is
    scaler = parts.scaler
    seen = (parts.data.get("seen") or {}).get("")
    try:
        if seen:
            scaler = scaler.widened(seen["data_min"], seen["data_max"])
    except (KeyError, TypeError, ValueError):
        return False  # malformed: the full path refuses the bundle
    return not bool(scaler.far_outside(plain.values[-parts.spec.lookback:]).any())


def _columns(parts: Parts, values: np.ndarray) -> dict[str, np.ndarray]:
    """values (H, k) → the value columns of the forecast table in ``forecasting``'s order:
    each target, then per interval level each target's lower and upper bound."""
    targets = [str(t) for t in parts.data["targets"]]
    columns = {name: values[:, j] for j, name in enumerate(targets)}
    if parts.intervals is not None:
        for level, (lo, hi) in parts.intervals.bounds(values).items():
            for j, name in enumerate(targets):
                columns[f"{name}_lower_{level_label(level)}"] = lo[:, j]
                columns[f"{name}_upper_{level_label(level)}"] = hi[:, j]
    return columns


def _json(parts: Parts, origin: np.datetime64, times: np.ndarray,
          columns: dict[str, np.ndarray], tz: str | None, precision: int | None) -> str:
    cells = {name: digits.rounded(col, precision) for name, col in columns.items()}
    records = [{"timestamp": str(stamp), "step": h + 1,
                **{name: json_float(col[h]) for name, col in cells.items()}}
               for h, stamp in enumerate(iso_text(times, tz))]
    head = forecast_head(str(parts.path), origin, str(parts.data["freq"]), parts.spec.horizon,
                         [str(t) for t in parts.data["targets"]], tz, precision)
    return json_document(head, records)
