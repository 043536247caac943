"""How a CSV is read and normalised: the data-reading part of ``config.Settings``.

The names are the settings' names (``sep``, ``decimal``, ``time_format`` …), so a TOML config,
the command line and a bundle's ``config.json`` all describe reading the same way. The choices
of each enumerated option are defined here once, as a ``Literal``; the tuples the settings check
against and the command line's choices are both built from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Literal, get_args

from forecast_cli.errors import ConfigError

Fill = Literal["none", "interpolate", "ffill", "drop"]
Dedupe = Literal["none", "first", "last", "mean"]
DstGap = Literal["raise", "shift_forward"]
TimeUnit = Literal["s", "ms", "us", "ns"]

FILLS: tuple[str, ...] = get_args(Fill)
DEDUPES: tuple[str, ...] = get_args(Dedupe)
DST_GAPS: tuple[str, ...] = get_args(DstGap)
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)
DEFAULT_MAX_ROWS = 20_000_000

# The reading options given for the files read inside ``reading(...)``; see there.
_GIVEN: ContextVar[Mapping[str, Any]] = ContextVar("forecast_reading_given",
                                                   default=MappingProxyType({}))


@dataclass(frozen=True)
class LoadOptions:
    """Reading and normalisation options; every default is the strict, guess-nothing one."""

    time_col: str | None = None
    id_col: str | None = None
    sep: str | None = None  # None: sniffed from the header line
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    time_format: str | None = None  # None: ISO-8601 only
    dayfirst: bool = False
    time_unit: TimeUnit | None = None  # epoch numbers
    tz: str | None = None  # zone of naive timestamps; kept as UTC internally
    dst_gap: DstGap = "raise"
    freq: str | None = None
    fill: Fill = "none"
    fill_limit: int = 3  # longest run of missing steps interpolate / ffill may fill
    dedupe: Dedupe = "none"
    allow_missing: bool = False  # a row with too few fields counts as missing values
    strict: bool = False
    max_rows: int = DEFAULT_MAX_ROWS

    def __post_init__(self) -> None:
        given = _GIVEN.get()
        if given.get("id_col") is not None and self.id_col is None:
            raise ConfigError(f"`id_col` {given['id_col']!r}: the model was trained on one "
                              "series (without --id-col), so it cannot read a file of many.")
        for name, value in given.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, settings: Any) -> LoadOptions:
        """Take every field of the same name from a ``Settings`` (or any object / dict)."""
        if isinstance(settings, dict):
            raw = {n: settings[n] for n in READING_NAMES if n in settings}
        else:
            raw = {n: getattr(settings, n) for n in READING_NAMES if hasattr(settings, n)}
        return cls(**raw)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


READING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(LoadOptions))


@contextmanager
def reading(given: Mapping[str, Any]) -> Iterator[None]:
    """Read every file inside the block with the options ``given`` in place of the recorded ones.

    ``forecast predict`` and ``evaluate`` read new data as the model's training data was read
    (the bundle records how); the reading options of their command line replace those, for
    that file: ``{"sep": ";", "decimal": ","}`` reads this month's export from another tool.
    Each ``LoadOptions`` made inside takes the given values, so they also survive the
    ``replace(…, freq=None, time_col=…)`` with which a bundle's options are adapted. ``id_col``
    can rename the id column of a model trained on many series, never make one of a model
    trained on one (ConfigError). The values are checked by ``settings.reading_given``.

    This is the seam until ``pipeline.forecasting.load_for`` takes the options as a parameter.
    """
    unknown = sorted(set(given) - set(READING_NAMES))
    if unknown:
        raise ConfigError(f"unknown reading option `{unknown[0]}`.")
    token = _GIVEN.set(MappingProxyType(dict(given)))
    try:
        yield
    finally:
        _GIVEN.reset(token)
