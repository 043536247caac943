"""The series of a bundle and of a data file, for one series and many alike.

A bundle trained without ``--id-col`` holds one scaler and one set of interval half-widths; one
trained with it holds them per series (``schema.panel``, ``series_intervals``). Both are read
here into the same shape, keyed by series id, so predict and evaluate have one implementation.
The lone series of a plain file has the id ``""`` (``SINGLE``).
"""

from __future__ import annotations

from forecast_cli.core.intervals import Intervals
from forecast_cli.core.panel_intervals import OWN, SeriesCalibration, SeriesIntervals
from forecast_cli.core.scaling import Scaler
from forecast_cli.data.frame import Frame
from forecast_cli.errors import BundleError
from forecast_cli.model.bundle import Bundle

SINGLE = ""  # the id of the series of a file without --id-col


def frame_ids(frame: Frame) -> tuple[str, ...]:
    """The series ids of ``frame`` in row order: ``("",)`` for a file without ``--id-col``."""
    return tuple(frame.series_ids) if frame.id_col is not None else (SINGLE,)


def scalers(bundle: Bundle) -> dict[str, Scaler]:
    """Each trained series' scaler, by id; BundleError when the bundle's are malformed."""
    info = bundle.schema.panel
    if info is None:
        return {SINGLE: bundle.scaler}
    try:
        return {str(k): Scaler.from_json(v) for k, v in dict(info["series"]).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{bundle.path}: per-series scalers are malformed ({exc}).") from None


def intervals(bundle: Bundle) -> SeriesIntervals | None:
    """Calibrated half-widths per series, by id; None when the bundle has none."""
    if bundle.schema.panel is not None:
        return bundle.series_intervals
    if bundle.intervals is None:
        return None
    return single_intervals(bundle.intervals,
                            bundle.scaler.select(list(bundle.spec.target_index)))


def single_intervals(iv: Intervals, scaler: Scaler) -> SeriesIntervals:
    """One series' ``Intervals`` as the panel of one: its own windows served every level."""
    calibration = SeriesCalibration(iv.half_widths, (OWN,) * len(iv.levels), iv.n_calibration,
                                    scaler.scale)
    return SeriesIntervals(iv.levels, {SINGLE: calibration}, iv.n_calibration)
