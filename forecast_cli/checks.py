"""Checks of setting values: types, ranges and choices, each failure a ConfigError (exit 2)
that names the setting and the bad value. Used by ``settings.validate``; imports no layer."""

from __future__ import annotations

import math
from typing import Any

from forecast_cli.errors import ConfigError

# Upper bounds of every size and count: checked before anything is allocated or looped over,
# so a typo (--lookback 1000000000) is a usage error at once, not hours of work or an
# exhausted machine. Far above anything useful on the data forecast is made for.
LIMITS: dict[str, int] = {
    "lookback": 100_000, "horizon": 10_000, "season": 100_000, "fold_step": 10_000_000,
    "lstm_units": 4_096, "lstm_layers": 16, "epochs": 100_000, "batch_size": 65_536,
    "folds": 1_000, "refit_every": 1_000, "patch_len": 100_000, "patience": 100_000,
    "ensemble_seeds": 8,
    "seed": 2**32 - 1, "dense_units": 4_096, "fill_limit": 1_000_000,
    "max_rows": 2_000_000_000, "keep_runs": 10_000,
    "time_limit": 7 * 86_400, "wait": 86_400,  # seconds: a batch job's run, a lock's wait
}
MAX_DENSE_LAYERS = 16
# Data values (and a bundle's scaler numbers) of larger magnitude are refused: squares and sums
# of squares of values this large (variance, MSE over any number of rows forecast reads) stay
# finite in float64; 1e308 would overflow the scaler and the window differences and train on
# NaN. No measurement comes near it.
MAX_MAGNITUDE = 1e100
MAX_DECIMALS = 15  # `precision`: beyond it a float64 is written in full (core.precision)


def check_range(name: str, value: Any, kind: type, low: float, high: float | None = None) -> None:
    int_for_float = kind is float and isinstance(value, int)
    if isinstance(value, bool) or not (isinstance(value, kind) or int_for_float):
        raise ConfigError(f"`{name}` must be a {kind.__name__}. Got {value!r}.")
    if kind is float and not math.isfinite(value):  # NaN compares false with every bound
        raise ConfigError(f"`{name}` must be a finite number. Got {value!r}.")
    if high is not None and not low <= value <= high:
        raise ConfigError(f"`{name}` must be between {low} and {high}. Got {value!r}.")
    if value < low:
        raise ConfigError(f"`{name}` must be ≥ {low}. Got {value!r}.")
    limit = LIMITS.get(name)
    if limit is not None and value > limit:
        raise ConfigError(f"`{name}` must be ≤ {limit:,}. Got {value:,}.")


MAX_LOOKBACKS = 8  # lookbacks of an ensemble; its members are lookbacks × seeds


def check_ensemble(seeds: Any, shares: tuple[Any, ...]) -> None:
    """``ensemble_seeds`` ≥ 1 and 1 … MAX_LOOKBACKS distinct ``ensemble_lookbacks`` shares of
    the lookback, each in (0, 1]."""
    check_range("ensemble_seeds", seeds, int, 1)
    if not shares or len(shares) > MAX_LOOKBACKS or len(set(shares)) != len(shares):
        raise ConfigError(f"`ensemble_lookbacks` must name 1 to {MAX_LOOKBACKS} distinct shares "
                          f"of `lookback`. Got {list(shares)}.")
    for share in shares:
        check_range("ensemble_lookbacks", share, float, 0.01, 1.0)


def check_columns(target: tuple[str, ...], features: tuple[str, ...]) -> None:
    """Each column named once: `target` and `features` are the value columns, in order."""
    for name, names in (("target", target), ("features", features)):
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"`{name}` names {twice[0]!r} more than once. Got "
                              f"{','.join(names)!r}.")
    both = [n for n in features if n in target]
    if both:
        raise ConfigError(f"`features` must not repeat a `target` column (targets are inputs "
                          f"already). Got {both[0]!r} in both.")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"`{name}` must be one of {', '.join(choices)}. Got {value!r}.")


BOOL_SETTINGS = ("calendar", "dayfirst", "allow_missing", "strict", "channel_independence",
                 "refit")
TEXT_SETTINGS = ("time_col", "sep", "freq", "id_col", "decimal", "thousands", "encoding",
                 "time_format", "tz", "partition_col")


def check_types(s: Any) -> None:
    """Switches are booleans and names are text, never coerced: in TOML ``strict = "false"``
    would be true and ``tz = 5`` a five-second offset."""
    for name in BOOL_SETTINGS:
        value = getattr(s, name)
        if not isinstance(value, bool):
            raise ConfigError(f"`{name}` must be true or false. Got {value!r}.")
    for name in TEXT_SETTINGS:
        value = getattr(s, name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"`{name}` must be a string. Got {value!r}.")


def check_marks(decimal: str | None, thousands: str | None) -> None:
    """The decimal mark and thousands separator are each one character, and never a digit, a
    line end or the quote character: those would split or join numbers and lines (``--decimal
    5`` misread every number). The field separator has its own check, ``loadoptions.check_sep``."""
    for name, value in (("decimal", decimal), ("thousands", thousands)):
        if value is None or not isinstance(value, str):
            continue  # not text: check_types names it
        if len(value) != 1:
            raise ConfigError(f"`{name}` must be a single character. Got {value!r}.")
        if value.isdigit() or value in '\r\n"':
            raise ConfigError(f"`{name}` cannot be {value!r}: a digit, a line end or the quote "
                              "character would be read as part of the data.")


MAX_PARTITIONS = 4_096


def check_partitions(s: Any) -> None:
    """``partitions`` / ``partition_col``: one of them, over a panel (``id_col``)."""
    if s.partitions is not None:
        check_range("partitions", s.partitions, int, 1, MAX_PARTITIONS)
    if s.partition_col is not None and not s.partition_col.strip():
        raise ConfigError(f"`partition_col` must be a column name. Got {s.partition_col!r}.")
    if s.partitions is not None and s.partition_col is not None:
        raise ConfigError("`partitions` and `partition_col` exclude each other: partition by "
                          f"a hash of the series id ({s.partitions}) or by the column "
                          f"{s.partition_col!r}, not both.")
    if (s.partitions is not None or s.partition_col is not None) and s.id_col is None:
        which = "partitions" if s.partitions is not None else "partition_col"
        raise ConfigError(f"`{which}` partitions the series of a panel: name its series id "
                          "column with --id-col (id_col). A file of one series is one "
                          "model; train it without partitions.")
    if s.partition_col is not None and s.partition_col in (*s.target, *s.features):
        raise ConfigError(f"`partition_col` {s.partition_col!r} is also a target or feature; "
                          "it names a grouping column, not a value column.")


def check_levels(levels: tuple[float, ...]) -> None:
    """Interval levels: each in (0, 100), no two alike (two columns of one name otherwise)."""
    if len(set(levels)) != len(levels):
        raise ConfigError(f"`levels` must differ from each other. Got {list(levels)}.")
    for level in levels:
        if not 0.0 < level < 100.0:
            raise ConfigError(f"`levels` must each be between 0 and 100 (exclusive). "
                              f"Got {level!r}.")
