"""The interval files of a bundle (intervals.json) checked field by field against the network:
levels strictly between 0 and 100 %, half-widths of shape (levels, horizon, targets), each ≥ 0
or null (infinite), and for a panel one calibration per series of config.json. Raises
``bundle_checks.FieldError`` naming the field and the value, as every other bundle check."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast_cli.core.intervals import level_label
from forecast_cli.core.panel_intervals import METHOD, OWN, POOLED
from forecast_cli.model.bundle_checks import (
    FieldError,
    _show,
    get,
    integer,
    mapping,
    number,
    positive,
    seq,
)
from forecast_cli.model.spec import NetworkSpec


def _levels(raw: dict[str, Any]) -> list[float]:
    levels = [number(v, f"levels[{i}]") for i, v in enumerate(seq(get(raw, "levels", ""),
                                                                   "levels"))]
    for i, level in enumerate(levels):
        if not 0.0 < level < 100.0:
            raise FieldError(f"`levels[{i}]` must be between 0 and 100 (exclusive). "
                             f"Got {level!r}.")
    if len({level_label(lv) for lv in levels}) != len(levels):
        raise FieldError(f"`levels` names a level twice. Got {_show(levels)}.")
    return levels


def widths(raw: Any, name: str, n_levels: int, spec: NetworkSpec) -> None:
    """Half-widths of shape (levels, horizon, targets): each ≥ 0, or null (infinite: too few
    calibration windows for the level)."""
    for i, level in enumerate(seq(raw, name, n_levels)):
        for h, step in enumerate(seq(level, f"{name}[{i}]", spec.horizon)):
            row = seq(step, f"{name}[{i}][{h}]", spec.n_targets)
            for j, v in enumerate(row):
                if v is not None and (number(v, f"{name}[{i}][{h}][{j}]") < 0):
                    raise FieldError(f"`{name}[{i}][{h}][{j}]` must be ≥ 0 or null. "
                                     f"Got {_show(v)}.")


def intervals(raw: dict[str, Any], spec: NetworkSpec) -> None:
    """intervals.json of one series: method, levels, n_calibration, half_widths."""
    if get(raw, "method", "") != "split-conformal":
        raise FieldError(f"`method` must be 'split-conformal'. Got {_show(raw['method'])}.")
    levels = _levels(raw)
    integer(get(raw, "n_calibration", ""), "n_calibration", 0, 2**62)
    widths(get(raw, "half_widths", ""), "half_widths", len(levels), spec)


def series_intervals(raw: dict[str, Any], spec: NetworkSpec, ids: set[str]) -> None:
    """intervals.json of many series: one calibration per series of config.json's panel."""
    if get(raw, "method", "") != METHOD:
        raise FieldError(f"`method` must be {METHOD!r}. Got {_show(raw['method'])}.")
    levels = _levels(raw)
    integer(get(raw, "n_pooled", ""), "n_pooled", 0, 2**62)
    series = mapping(get(raw, "series", ""), "series")
    if set(series) != ids:
        odd = sorted(set(series) ^ ids)[0]
        raise FieldError(f"`series` must calibrate exactly the series of config.json; "
                         f"{odd[:60]!r} is in one of them only.")
    for sid, c in series.items():
        w = f"series[{sid[:40]!r}]"
        c = mapping(c, w)
        calibration = mapping(get(c, "calibration", w + "."), w + ".calibration")
        for level in levels:
            method = get(calibration, level_label(level), w + ".calibration.")
            if method not in (OWN, POOLED):
                raise FieldError(f"`{w}.calibration.{level_label(level)}` must be {OWN!r} or "
                                 f"{POOLED!r}. Got {_show(method)}.")
        integer(get(c, "n_calibration", w + "."), w + ".n_calibration", 0, 2**62)
        scale = seq(get(c, "scale", w + "."), w + ".scale", spec.n_targets)
        positive(np.asarray([number(v, f"{w}.scale[{i}]") for i, v in enumerate(scale)]),
                 w + ".scale")
        widths(get(c, "half_widths", w + "."), w + ".half_widths", len(levels), spec)
