"""Settings for a run: one vocabulary of names shared by the CLI, TOML config files and batch jobs.

Every setting has a flat name (``lookback``, ``horizon``, ``lstm_units`` …). A TOML file given
with ``--config`` uses the same names at its top level; the command line wins over the file, the
file over the defaults. Validation messages name the setting and show the bad value.

Each enumerated choice is one ``Literal`` (here, or in ``loadoptions`` for the reading options):
the settings are checked against the tuple built from it, and the CLI offers exactly its values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from forecast_cli.checks import LIMITS as LIMITS
from forecast_cli.checks import (
    MAX_DECIMALS,
    MAX_DENSE_LAYERS,
    check_choice,
    check_columns,
    check_ensemble,
    check_levels,
    check_marks,
    check_partitions,
    check_range,
    check_types,
)
from forecast_cli.errors import ConfigError
from forecast_cli.loadoptions import (
    DEDUPES,
    DEFAULT_MAX_ROWS,
    DST_GAPS,
    FILLS,
    TIME_UNITS,
    Dedupe,
    DstGap,
    Fill,
    TimeUnit,
    check_encoding,
    check_freq,
    check_sep,
    check_time_format,
)
from forecast_cli.tomlfile import read_toml

ScalerKind = Literal["standard", "minmax"]
OptimizerKind = Literal["adam", "rmsprop"]
WindowNorm = Literal["none", "last", "mean"]
Fallback = Literal["none", "seasonal-naive"]
TrainWindow = Literal["expanding", "sliding"]
Transform = Literal["none", "log", "boxcox"]  # per series, where its training rows are > 0
Deseasonalize = Literal["none", "auto", "always"]  # auto: where Theta's test finds the season
Combine = Literal["auto", "theta", "none"]  # auto: the Theta blend where it validates better
# how `predict` runs the network, and what it writes (not settings: options of that command)
Engine = Literal["auto", "keras", "onnx"]
OutputFormat = Literal["csv", "json", "parquet"]  # parquet on stdout: into a pipe only

SCALERS: tuple[str, ...] = get_args(ScalerKind)
OPTIMIZERS: tuple[str, ...] = get_args(OptimizerKind)
WINDOW_NORMS: tuple[str, ...] = get_args(WindowNorm)
FALLBACKS: tuple[str, ...] = get_args(Fallback)
TRAIN_WINDOWS: tuple[str, ...] = get_args(TrainWindow)
TRANSFORMS: tuple[str, ...] = get_args(Transform)
DESEASONALIZES: tuple[str, ...] = get_args(Deseasonalize)
COMBINES: tuple[str, ...] = get_args(Combine)
ENGINES: tuple[str, ...] = get_args(Engine)
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)


@dataclass(frozen=True)
class Settings:
    """All settings of ``forecast train``; ``None`` means "derive from the data"."""

    # data
    time_col: str | None = None
    target: tuple[str, ...] = ()
    sep: str | None = None
    freq: str | None = None
    season: int | None = None
    # reading and checking the data (see loadoptions.LoadOptions and docs/bad-inputs.md)
    id_col: str | None = None
    features: tuple[str, ...] = ()
    calendar: bool = False
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    time_format: str | None = None
    dayfirst: bool = False
    time_unit: TimeUnit | None = None
    tz: str | None = None
    dst_gap: DstGap = "raise"
    fill: Fill = "none"
    fill_limit: int = 3
    dedupe: Dedupe = "none"
    allow_missing: bool = False
    strict: bool = False
    max_rows: int = DEFAULT_MAX_ROWS
    # windows and splits
    lookback: int | None = None
    horizon: int | None = None
    train_frac: float = 0.7
    val_frac: float = 0.15
    test_frac: float = 0.15
    scaler: ScalerKind = "standard"
    # network
    lstm_units: int = 64
    lstm_layers: int = 1
    dense_units: tuple[int, ...] = ()
    dropout: float = 0.1
    window_norm: WindowNorm = "last"
    channel_independence: bool = False  # one shared network over each column as its own series
    patch_len: int = 1  # input rows fed to the LSTM per step (segments); 1 = one row per step
    # optimisation
    optimizer: OptimizerKind = "adam"
    epochs: int = 200
    batch_size: int | None = None  # None: 32, more for big panels (fitting.auto_batch)
    learning_rate: float = 1e-3
    patience: int | None = None  # None: 20, 5 for big panels (fitting.auto_patience)
    clipnorm: float = 1.0
    seed: int = 42
    # prediction intervals (split conformal, calibrated on the validation windows)
    levels: tuple[float, ...] = (80.0, 95.0)
    # backtest (rolling origin)
    folds: int = 5
    fold_step: int | None = None  # rows between fold origins; None: one horizon
    train_window: TrainWindow = "expanding"
    refit_every: int = 1
    # accuracy (issue 15): NLinear skip; what is served when the network loses on validation;
    # each series' target transform and seasonal indices, chosen on its training rows
    linear_skip: bool = True
    fallback: Fallback = "none"
    transform: Transform = "log"  # measured: bench/results/m3_transform.md
    deseasonalize: Deseasonalize = "auto"
    # the ensemble: ``ensemble_seeds`` members per lookback share of ``lookback`` (1, (1.0,): one
    # network), its median's members chosen on validation; ``refit`` on every window after
    ensemble_seeds: int = 2
    ensemble_lookbacks: tuple[float, ...] = (1.0, 0.5)
    refit: bool = True
    combine: Combine = "auto"  # the mean of the network's and the Theta method's forecasts
    # where results go, and how: decimals of the values written (None: the training data's
    # own + 3, see core.precision; train records the number it used in the bundle)
    output_dir: Path = field(default_factory=lambda: Path("forecast-output"))
    keep_runs: int = 3  # `forecast train`: runs kept in output_dir/runs, the latest included
    precision: int | None = None
    partitions: int | None = None  # one model per partition: K by a hash of the series id,
    partition_col: str | None = None  # or one per value of this column (partition_train.py)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples as lists, paths as strings).

        Left out: ``keep_runs`` (housekeeping, not how a model was made: a batch job's config
        hash, its retrain trigger, must not change with it); unset partition settings, likewise.
        """
        out = {k: v for k, v in asdict(self).items() if k != "keep_runs"
               and not (k in ("partitions", "partition_col") and v is None)}
        for name in ("target", "features", "dense_units", "levels"):
            out[name] = list(getattr(self, name))
        out["ensemble_lookbacks"] = list(self.ensemble_lookbacks)
        out["output_dir"] = str(self.output_dir)
        return out


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))


def _suggest(name: str) -> str:
    import difflib  # here, not at import: `forecast --help` imports this module

    close = difflib.get_close_matches(name, SETTING_NAMES, n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def _as_tuple(name: str, value: Any, kind: type) -> tuple[Any, ...]:
    """Accept a list, a tuple or a comma-separated string (as the CLI gives it)."""
    if value is None:
        return ()
    items: list[Any]
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if kind is str and not all(isinstance(v, str) for v in items):  # [["value"]], [1, 2]
        raise ConfigError(f"`{name}` must be a list of column names. Got {value!r}.")
    if kind is int and any(isinstance(v, (bool, float)) for v in items):
        # int(2.7) would silently be 2 (a TOML list of floats, dense_units = [1.9, 2.7])
        raise ConfigError(f"`{name}` must be a list of int. Got {value!r}.")
    try:
        return tuple(kind(v) for v in items)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be a list of {kind.__name__}. Got {value!r}.") from None


def _coerce(name: str, value: Any) -> Any:
    """Convert a raw value (from TOML or the CLI) to the type of setting ``name``."""
    if name in ("target", "features"):
        return _as_tuple(name, value, str)
    if name == "dense_units":
        return _as_tuple(name, value, int)
    if name in ("levels", "ensemble_lookbacks"):
        # The CLI gives a list of strings, each possibly comma-separated ("80,95").
        parts = value if isinstance(value, (list, tuple)) else [value]
        joined = ",".join(str(p) for p in parts)
        return _as_tuple(name, joined, float)
    if name == "output_dir":
        if not isinstance(value, (str, Path)) or not str(value).strip():
            raise ConfigError(f"`output_dir` must be a non-empty path. Got {value!r}.")
        return Path(value)
    return value


def validate(s: Settings) -> Settings:
    """Check every setting; return ``s`` unchanged or raise ConfigError naming the first bad one."""
    check_types(s)
    for name in ("lookback", "horizon", "season", "fold_step", "batch_size"):
        if getattr(s, name) is not None:
            check_range(name, getattr(s, name), int, 1)
    for name in ("lstm_units", "lstm_layers", "epochs", "folds", "refit_every", "patch_len"):
        check_range(name, getattr(s, name), int, 1)
    if s.patience is not None:
        check_range("patience", s.patience, int, 0)
    check_ensemble(s.ensemble_seeds, s.ensemble_lookbacks)
    if s.precision is not None:
        check_range("precision", s.precision, int, 0, MAX_DECIMALS)
    if str(s.output_dir) == "-":
        raise ConfigError("`output_dir` must be a directory (the bundle, metrics and forecasts "
                          "go there); standard output cannot hold them. Got '-'.")
    check_range("seed", s.seed, int, 0)
    check_range("keep_runs", s.keep_runs, int, 1)
    check_partitions(s)
    if len(s.dense_units) > MAX_DENSE_LAYERS:
        raise ConfigError(f"`dense_units` may name at most {MAX_DENSE_LAYERS} layers. Got "
                          f"{len(s.dense_units)}.")
    for units in s.dense_units:
        check_range("dense_units", units, int, 1)
    check_range("dropout", s.dropout, float, 0.0, 0.95)
    check_range("learning_rate", s.learning_rate, float, 1e-12, 10.0)
    check_range("clipnorm", s.clipnorm, float, 1e-12, 1e6)
    for name in ("train_frac", "val_frac", "test_frac"):
        check_range(name, getattr(s, name), float, 0.01, 0.98)
    total = s.train_frac + s.val_frac + s.test_frac
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(
            f"`train_frac` + `val_frac` + `test_frac` must be 1. Got "
            f"{s.train_frac} + {s.val_frac} + {s.test_frac} = {total:g}."
        )
    for name, choices in (("scaler", SCALERS), ("optimizer", OPTIMIZERS),
                          ("window_norm", WINDOW_NORMS), ("fallback", FALLBACKS),
                          ("transform", TRANSFORMS), ("deseasonalize", DESEASONALIZES),
                          ("combine", COMBINES)):
        check_choice(name, getattr(s, name), choices)
    _validate_reading(s)
    check_choice("train_window", s.train_window, TRAIN_WINDOWS)
    if s.lookback is not None and s.patch_len > s.lookback:
        raise ConfigError(f"`patch_len` must be ≤ `lookback` ({s.lookback}). Got {s.patch_len}.")
    check_levels(s.levels)
    return s


def _validate_reading(s: Settings) -> None:
    """The data-reading settings (see loadoptions)."""
    check_choice("fill", s.fill, FILLS)
    check_choice("dedupe", s.dedupe, DEDUPES)
    check_choice("dst_gap", s.dst_gap, DST_GAPS)
    if s.time_unit is not None:
        check_choice("time_unit", s.time_unit, TIME_UNITS)
    check_range("fill_limit", s.fill_limit, int, 1)
    check_range("max_rows", s.max_rows, int, 1)
    for name in ("decimal", "thousands"):
        value = getattr(s, name)
        if value is not None and (not isinstance(value, str) or len(value) != 1):
            raise ConfigError(f"`{name}` must be a single character. Got {value!r}.")
    check_sep(s.sep)  # its own message, and `\t` / `tab` for a tab
    check_marks(s.decimal, s.thousands)
    if s.thousands is not None and s.thousands == s.decimal:
        raise ConfigError(f"`thousands` and `decimal` must differ. Got {s.thousands!r} for both.")
    check_encoding(s.encoding)
    check_freq(s.freq)
    check_time_format(s.time_format)
    check_columns(s.target, s.features)
    if s.sep is not None and s.sep == s.decimal:
        raise ConfigError(f"`sep` and `decimal` must differ. Got {s.sep!r} for both; a "
                          "European export usually needs --sep ';' --decimal ','.")


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a flat TOML table of settings; unknown names are refused with a suggestion."""
    raw = read_toml(path, "config file")
    for key in raw:
        if key not in SETTING_NAMES:
            raise ConfigError(f"{path}: unknown setting `{key}`.{_suggest(key)}")
    return raw


def build_settings(
    cli: Mapping[str, Any] | None = None, config_file: Path | None = None
) -> Settings:
    """Defaults ← config file ← command line (values that are ``None`` on the CLI are unset)."""
    merged: dict[str, Any] = {}
    if config_file is not None:
        merged.update(read_config_file(config_file))
    for key, value in (cli or {}).items():
        if key not in SETTING_NAMES:
            raise ConfigError(f"unknown setting `{key}`.{_suggest(key)}")
        if value is not None:
            merged[key] = value
    coerced = {k: _coerce(k, v) for k, v in merged.items()}
    return validate(replace(Settings(), **coerced))


def reading_given(cli: Mapping[str, Any]) -> dict[str, Any]:
    """The reading options given in ``cli`` (``None``: not given), checked and converted as
    ``build_settings`` does; for ``loadoptions.given_over`` (predict and evaluate)."""
    settings = build_settings(cli)
    return {name: getattr(settings, name) for name, value in cli.items() if value is not None}
