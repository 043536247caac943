"""Every field of a bundle's JSON files checked for type and bounds, and against the network.

A checksum proves only that a file is the one the manifest lists; whoever can rewrite the
manifest can make any config.json "consistent". So nothing read from a bundle is trusted before
it is checked here: sizes within ``checks.LIMITS`` (as a training run's settings are), numbers
finite, scales positive, array lengths equal to the network's inputs and targets, interval
half-widths of shape (levels, horizon, targets), levels strictly between 0 and 100 %. Types are
checked, never coerced (``"8"`` is not an integer, ``true`` is not 1).

Each check raises ``FieldError`` naming the field and the bad value (``network.horizon must be
≤ 10,000. Got 1,000,000,000.``); ``bundle`` adds the bundle and the file. Numbers only: no
pandas, no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.checks import LIMITS, MAX_DENSE_LAYERS, MAX_MAGNITUDE
from forecast_cli.core import transform
from forecast_cli.core.scaling import SCALER_KINDS
from forecast_cli.errors import ConfigError
from forecast_cli.model.spec import MAX_INPUTS, NetworkSpec, with_members

WINDOW_NORMS = ("none", "last", "mean")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?([+-]\d{2}:\d{2})?")
_SHORT = 1000  # names, frequencies, zones: longer is not a name


class FieldError(ValueError):
    """A field of a bundle's JSON is missing, of the wrong type or out of bounds."""


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) < 10**30 else f"an integer of {len(str(value))} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def get(obj: dict[str, Any], key: str, where: str, default: Any = ...) -> Any:
    if key in obj:
        return obj[key]
    if default is ...:
        raise FieldError(f"`{where}{key}` is missing.")
    return default


def mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"`{name}` must be a JSON object. Got {_show(value)}.")
    return value


def seq(value: Any, name: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f"`{name}` must be a list. Got {_show(value)}.")
    if length is not None and len(value) != length:
        raise FieldError(f"`{name}` must have {length:,} entr{'y' if length == 1 else 'ies'}. "
                         f"Got {len(value):,}.")
    return value


def integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"`{name}` must be an integer. Got {_show(value)}.")
    if value < low:
        raise FieldError(f"`{name}` must be ≥ {low:,}. Got {_show(value)}.")
    if value > high:
        raise FieldError(f"`{name}` must be ≤ {high:,}. Got {_show(value)}.")
    return value


def number(value: Any, name: str) -> float:
    """A finite number (the parser has refused NaN, infinity and overflow)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(f"`{name}` must be a number. Got {_show(value)}.")
    return float(value)


def text(value: Any, name: str, optional: bool = False, short: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or (short and len(value) > _SHORT):
        raise FieldError(f"`{name}` must be a non-empty string"
                         f"{f' of at most {_SHORT} characters' if short else ''}. "
                         f"Got {_show(value)}.")
    return value


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"`{name}` must be true or false. Got {_show(value)}.")
    return value


def names(value: Any, name: str, length: int | None = None, empty: bool = False) -> list[str]:
    """Distinct strings; ``empty``: "" is one too (a series id may be empty)."""
    items = [v if empty and v == "" else str(text(v, f"{name}[{i}]"))
             for i, v in enumerate(seq(value, name, length))]
    if len(set(items)) != len(items):
        raise FieldError(f"`{name}` names a column twice. Got {_show(items)}.")
    return items


def network(raw: Any) -> NetworkSpec:
    """config.json's ``network`` → the spec, every size within ``checks.LIMITS``."""
    n, w = mapping(raw, "network"), "network."
    sizes: dict[str, Any] = {key: integer(get(n, key, w), w + key, 1, LIMITS[key])
                             for key in ("lookback", "horizon", "lstm_units", "lstm_layers")}
    n_inputs = integer(get(n, "n_inputs", w), w + "n_inputs", 1, MAX_INPUTS)
    index = seq(get(n, "target_index", w), w + "target_index")
    if not 1 <= len(index) <= n_inputs:
        raise FieldError(f"`{w}target_index` must name 1 to {n_inputs:,} inputs. "
                         f"Got {len(index):,}.")
    targets = tuple(integer(v, f"{w}target_index[{i}]", 0, n_inputs - 1)
                    for i, v in enumerate(index))
    if len(set(targets)) != len(targets):
        raise FieldError(f"`{w}target_index` names an input twice. Got {_show(index)}.")
    dense = seq(get(n, "dense_units", w), w + "dense_units")
    if len(dense) > MAX_DENSE_LAYERS:
        raise FieldError(f"`{w}dense_units` may name at most {MAX_DENSE_LAYERS} layers. "
                         f"Got {len(dense)}.")
    dropout = number(get(n, "dropout", w), w + "dropout")
    if not 0.0 <= dropout <= 0.95:
        raise FieldError(f"`{w}dropout` must be between 0.0 and 0.95. Got {dropout!r}.")
    norm = get(n, "window_norm", w)
    if norm not in WINDOW_NORMS:
        raise FieldError(f"`{w}window_norm` must be one of {', '.join(WINDOW_NORMS)}. "
                         f"Got {_show(norm)}.")
    spec = NetworkSpec(
        **sizes, n_inputs=n_inputs, target_index=targets,
        dense_units=tuple(integer(v, f"{w}dense_units[{i}]", 1, LIMITS["dense_units"])
                          for i, v in enumerate(dense)),
        dropout=dropout, window_norm=norm,
        seed=integer(get(n, "seed", w), w + "seed", 0, LIMITS["seed"]),
        channel_independence=flag(get(n, "channel_independence", w, False),
                                  w + "channel_independence"),
        patch_len=integer(get(n, "patch_len", w, 1), w + "patch_len", 1, sizes["lookback"]),
        n_future=integer(get(n, "n_future", w, 0), w + "n_future", 0, MAX_INPUTS),
        linear_skip=flag(get(n, "linear_skip", w, False), w + "linear_skip"))
    try:  # an ensemble's members and the ones served (none: one network)
        return with_members(spec, n.get("members", []))
    except ValueError as exc:
        raise FieldError(f"`{w}members`: {exc}.") from None


def scaler(raw: Any, name: str, n: int) -> dict[str, Any]:
    """A scaler's JSON: a known kind, four lists of ``n`` finite numbers, scale > 0,
    data_min ≤ data_max."""
    s, w = mapping(raw, name or "scaler"), f"{name}." if name else ""
    kind = get(s, "kind", w)
    if kind not in SCALER_KINDS:
        raise FieldError(f"`{w}kind` must be one of {', '.join(SCALER_KINDS)}. "
                         f"Got {_show(kind)}.")
    positive(_numbers(s, w, n, ("offset", "scale", "data_min", "data_max"))["scale"],
             f"{w}scale")
    return s


def _numbers(s: dict[str, Any], w: str, n: int, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Lists of ``n`` finite numbers under ``keys``; data_min ≤ data_max."""
    arrays = {key: np.asarray([number(v, f"{w}{key}[{i}]") for i, v in
                               enumerate(seq(get(s, key, w), f"{w}{key}", n))], dtype=float)
              for key in keys}
    for key, arr in arrays.items():  # as the data itself: beyond it, forecasts overflow to inf
        big = np.flatnonzero(np.abs(arr) > MAX_MAGNITUDE)
        if len(big):
            raise FieldError(f"`{w}{key}[{big[0]}]` must be within ±{MAX_MAGNITUDE:g}, as "
                             f"the data is. Got {float(arr[big[0]])!r}.")
    bad = np.flatnonzero(arrays["data_min"] > arrays["data_max"])
    if len(bad):
        raise FieldError(f"`{w}data_min[{bad[0]}]` must not exceed `{w}data_max[{bad[0]}]`. "
                         f"Got {float(arrays['data_min'][bad[0]])!r} > "
                         f"{float(arrays['data_max'][bad[0]])!r}.")
    return arrays


def positive(values: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(values <= 0)
    if len(bad):
        raise FieldError(f"`{name}[{bad[0]}]` must be > 0. Got {float(values[bad[0]])!r}.")


def data(raw: Any, spec: NetworkSpec) -> dict[str, Any]:
    """config.json's ``data``: columns agreeing with the network, timestamps, panel scalers."""
    d, w = mapping(raw, "data"), "data."
    text(get(d, "time_col", w), w + "time_col")
    inputs = names(get(d, "inputs", w), w + "inputs", spec.n_inputs)
    targets = names(get(d, "targets", w), w + "targets", spec.n_targets)
    expected = [inputs[i] for i in spec.target_index]
    if targets != expected:
        raise FieldError(f"`{w}targets` must be the inputs `network.target_index` names "
                         f"({_show(expected)}). Got {_show(targets)}.")
    text(get(d, "freq", w), w + "freq")
    integer(get(d, "season", w), w + "season", 1, LIMITS["season"])
    for key in ("first_timestamp", "last_timestamp"):
        stamp = get(d, key, w)
        if not isinstance(stamp, str) or not _TIMESTAMP.fullmatch(stamp):
            raise FieldError(f"`{w}{key}` must be an ISO-8601 timestamp "
                             f"(2024-01-31T00:00:00). Got {_show(stamp)}.")
    text(get(d, "tz", w, None), w + "tz", optional=True)
    for i, fix in enumerate(seq(get(d, "fixes", w, []), w + "fixes")):
        text(fix, f"{w}fixes[{i}]", short=False)
    panel = get(d, "panel", w, None)
    if panel is not None:
        p = mapping(panel, w + "panel")
        text(get(p, "id_col", w + "panel."), w + "panel.id_col")
        names(get(p, "skipped", w + "panel.", []), w + "panel.skipped", empty=True)
        series = mapping(get(p, "series", w + "panel."), w + "panel.series")
        if not series:
            raise FieldError(f"`{w}panel.series` must hold the scaler of every series. Got {{}}.")
        for sid, s in series.items():
            scaler(s, f"{w}panel.series[{sid[:40]!r}]", spec.n_inputs)
    if get(d, "transform", w, None) is not None:  # per-series target transforms
        ids = list(d["panel"]["series"]) if panel is not None else [""]
        try:
            transform.from_json(d["transform"], ids, spec.n_targets)
        except ValueError as exc:
            raise FieldError(f"`{w}transform`: {exc}") from None
    for sid, r in mapping(get(d, "seen", w, {}), w + "seen").items():  # absent in old bundles
        _numbers(mapping(r, f"{w}seen[{sid[:40]!r}]"), f"{w}seen[{sid[:40]!r}].",
                 spec.n_inputs, ("data_min", "data_max"))
    return d


def settings(raw: Any, spec: NetworkSpec) -> dict[str, Any]:
    """config.json's ``settings``, checked by ``settings.validate`` as a training run's are;
    names this forecast does not know are ignored (nothing reads them)."""
    from forecast_cli.settings import SETTING_NAMES, Settings, validate

    s = mapping(raw, "settings")
    known = {k: v for k, v in s.items() if k in SETTING_NAMES}
    for key, kind in (("target", str), ("features", str), ("dense_units", int),
                      ("levels", float), ("ensemble_lookbacks", float)):
        if key in known:
            items = seq(known[key], f"settings.{key}")
            if kind is str:
                known[key] = tuple(text(v, f"settings.{key}[{i}]") for i, v in enumerate(items))
            elif kind is int:
                known[key] = tuple(integer(v, f"settings.{key}[{i}]", 1, LIMITS["dense_units"])
                                   for i, v in enumerate(items))
            else:
                known[key] = tuple(number(v, f"settings.{key}[{i}]") for i, v in enumerate(items))
    if "output_dir" in known:
        known["output_dir"] = Path(str(text(known["output_dir"], "settings.output_dir",
                                            short=False)))
    try:  # freq: a short string (checked above); parsing it needs pandas, which predict's
        # quick path never imports, and the full path refuses a bad one when it reads the data
        checked = validate(replace(Settings(), **{**known, "freq": None}))
    except (ConfigError, TypeError) as exc:
        raise FieldError(f"settings: {exc}") from None
    for key in ("lookback", "horizon"):
        if getattr(checked, key) not in (None, getattr(spec, key)):
            raise FieldError(f"`settings.{key}` must equal `network.{key}` "
                             f"({getattr(spec, key):,}). Got {getattr(checked, key):,}.")
    return s
