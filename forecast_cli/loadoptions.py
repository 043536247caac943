"""How a CSV is read and normalised: the data-reading part of ``config.Settings``.

The names are the settings' names (``sep``, ``decimal``, ``time_format`` …), so a TOML config,
the command line and a bundle's ``config.json`` all describe reading the same way. The choices
of each enumerated option are defined here once, as a ``Literal``; the tuples the settings check
against and the command line's choices are both built from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
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
TAB_NAMES = ("\\t", "tab")  # how a tab is written on a command line: --sep '\t', --sep tab


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
        """The checks ``settings.validate`` makes of these options, for the library's callers
        (``load_csv``, ``check_csv``) too: a bad one is a ConfigError, never a crash."""
        check_sep(self.sep)
        check_encoding(self.encoding)
        check_freq(self.freq)
        check_time_format(self.time_format)

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


def given_over(recorded: LoadOptions, given: Mapping[str, Any] | None) -> LoadOptions:
    """``recorded`` (how a bundle's training data was read) with the options ``given`` for a new
    file in their place: ``{"sep": ";", "decimal": ","}`` reads this month's export from another
    tool. ``id_col`` can rename the id column of a model trained on many series, never make one
    of a model trained on one (ConfigError). The values are checked by
    ``settings.reading_given``."""
    if not given:
        return recorded
    unknown = sorted(set(given) - set(READING_NAMES))
    if unknown:
        raise ConfigError(f"unknown reading option `{unknown[0]}`.")
    if given.get("id_col") is not None and recorded.id_col is None:
        raise ConfigError(f"`id_col` {given['id_col']!r}: the model was trained on one "
                          "series (without --id-col), so it cannot read a file of many.")
    return replace(recorded, **given)


def check_sep(sep: str | None) -> None:
    """ConfigError unless ``sep`` is one ASCII character that can separate fields: not a
    letter, digit, quote or line break (``\\t`` and ``tab`` stand for a tab)."""
    if sep is None or sep in TAB_NAMES:
        return
    if (len(sep) != 1 or not sep.isascii() or sep.isalnum() or sep in "\"\r\n"):
        raise ConfigError(f"`sep` must be one character that is not a letter, digit, quote or "
                          f"line break, e.g. ',', ';', '|' or tab. Got {sep!r}.")


def check_encoding(encoding: str) -> None:
    """ConfigError unless ``encoding`` names a text encoding Python can decode with (rot13 and
    base64 are codecs, but of text to text or bytes to bytes)."""
    import codecs

    try:
        codecs.lookup(encoding)
        "a".encode(encoding)  # LookupError for a codec that is not a text encoding
    except (LookupError, UnicodeError, TypeError):
        raise ConfigError(f"`encoding` must be a text encoding, e.g. utf-8, latin-1, cp1252, "
                          f"utf-16. Got {encoding!r}.") from None


def check_time_format(fmt: str | None) -> None:
    """ConfigError unless ``fmt`` is a strptime format with at least one directive that
    parses what it writes (``%Q`` and repeated groups are refused here, not mid-read)."""
    if fmt is None:
        return
    import re
    from datetime import UTC, datetime

    problem = None
    if "%" not in fmt or len(fmt) > 200:
        problem = "must hold strftime directives such as %Y-%m-%d %H:%M (at most 200 characters)"
    else:
        try:
            sample = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # aware: %z and %Z write
            datetime.strptime(sample.strftime(fmt), fmt)
        except (ValueError, re.error) as exc:
            problem = f"is not a usable strptime format ({exc})"
    if problem is not None:
        raise ConfigError(f"`time_format` {problem}. Got {fmt[:80]!r}.")


def check_freq(freq: str | None) -> None:
    """ConfigError unless ``freq`` is a pandas frequency of a positive step (h, 15min, D, MS)."""
    if freq is None:
        return
    from pandas.tseries.frequencies import to_offset  # here: `forecast --help` imports this

    try:
        step = to_offset(freq).n
    except (ValueError, TypeError):
        step = None
    if step is None or step <= 0:
        raise ConfigError(f"`freq` must be a pandas frequency with a positive step, e.g. h, "
                          f"15min, D, W, MS. Got {freq!r}.")
