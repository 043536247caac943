"""The options several commands share, each declared once, and how a command takes a group of them.

Each alias carries its help text once; the parameter names are the ``settings.Settings`` names,
and the choices are the library's ``Literal`` types, so a flag, a ``--config`` key and what the
library accepts cannot drift apart. Two groups are added to a command whole by ``@shared``:
``READING`` (every field of ``loadoptions.LoadOptions``: validate, train, backtest, predict,
evaluate) and ``options_model.MODEL`` (the windows, network and fit: train, backtest).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from forecast_cli.errors import ConfigError
from forecast_cli.loadoptions import Dedupe, DstGap, Fill, TimeUnit
from forecast_cli.settings import Settings

Command = Callable[..., None]
Given = dict[str, Any]  # setting name → value from the command line; None: not given

# Help panels: every command's options are grouped under these titles, in this order.
READING_PANEL = "Data reading"
READING_OVER_PANEL = "Data reading (default: as the model's training data was read)"
WINDOWS_PANEL = "Windows and splits"
NETWORK_PANEL = "Network"
TRAINING_PANEL = "Training"
INTERVALS_PANEL = "Intervals"
OUTPUT_PANEL = "Output"
BACKTEST_PANEL = "Backtest"
PARTITIONS_PANEL = "Partitions and cluster (large panels, docs/scaling.md)"
PANEL_ORDER = (None, READING_PANEL, READING_OVER_PANEL, WINDOWS_PANEL, NETWORK_PANEL,
               TRAINING_PANEL, INTERVALS_PANEL, BACKTEST_PANEL, PARTITIONS_PANEL, OUTPUT_PANEL)

_DEFAULTS: dict[str, Any] = {f.name: f.default if f.default_factory is MISSING
                             else f.default_factory() for f in fields(Settings)}


def shown(value: Any) -> str:
    """A setting's default as a user would type it: ``(80.0, 95.0)`` → ``80,95``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return ",".join(shown(v) for v in value) if value else "none"
    return str(value)


def with_default(text: str, default: str) -> str:
    """Help ``text`` ending in ``[default: …]``, escaped so Rich prints it instead of taking
    it for markup."""
    return f"{text} \\[default: {default}]".strip()


def setting_option(name: str, panel: str, text: str, *decls: str, default: str | None = None,
                   **kw: Any) -> Any:
    """The option of setting ``name`` in help ``panel``; its help ends with the default: the
    words in ``default`` for one derived from the data, else ``Settings``' own value (so the
    help cannot drift from what runs). Flags (bool settings) get no metavar."""
    if default is None:
        default = shown(_DEFAULTS[name])
    if isinstance(_DEFAULTS.get(name), bool):
        kw.setdefault("metavar", "")
    return typer.Option(*decls, help=with_default(text, default), rich_help_panel=panel,
                        show_default=False, **kw)


DataArg = Annotated[Path, typer.Argument(help="CSV or Parquet file (- for standard input): a time "
                                         "column and numeric columns.",
                                         metavar="DATA", show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option(
    help=with_default("TOML file of settings (same names, snake_case); the command line wins.",
                      "none"), metavar="PATH", rich_help_panel=OUTPUT_PANEL, show_default=False)]
ModelDir = Annotated[Path, typer.Option("--model", "-m", help="Model bundle directory "
                                        "(written by `forecast train`).", metavar="DIR")]
Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print nothing but errors and the result asked for (--json, -o -).",
    metavar="", rich_help_panel=OUTPUT_PANEL)]
PLOT_FORMATS = (".png", ".svg", ".pdf")  # matplotlib writes each; the extension chooses
PlotOpt = Annotated[Path | None, typer.Option("--plot", help=with_default(
                                                  "Also draw a figure here: PNG, SVG or PDF by "
                                                  "the extension.", "none"),
                                              metavar="PATH", rich_help_panel=OUTPUT_PANEL,
                                              show_default=False)]
PrecisionOpt = Annotated[int | None, setting_option(
    "precision", OUTPUT_PANEL, "Decimal places of the values written.",
    default="the training data's decimals + 3", min=0, max=15, metavar="N")]
ScorePrecisionOpt = Annotated[int | None, setting_option(  # backtest, evaluate: scores only
    "precision", OUTPUT_PANEL, "Decimal places of the scores, coverages and widths in --json.",
    default="every digit", min=0, max=15, metavar="N")]
FEATURES_HELP = "Extra numeric input columns (past covariates), comma-separated or repeated."
Features = Annotated[list[str] | None, setting_option("features", READING_PANEL, FEATURES_HELP,
                                                metavar="COLS")]


def json_flag(text: str) -> Any:
    """The ``--json`` flag of a command: ``text`` says what is printed."""
    return typer.Option("--json", help=text, metavar="", rich_help_panel=OUTPUT_PANEL)


def check_plot(path: Path | None, data: Path) -> None:
    """ConfigError (exit 2) unless ``--plot`` names a .png, .svg or .pdf file, OutputError (73)
    unless it may be written (a regular file, not the ``data``, not inside a bundle): called
    before any work, so that a typo does not cost a training run."""
    if path is None:
        return
    from forecast_cli.io import atomic

    atomic.check_output(path, (data,))
    ext = path.suffix.lower()
    if ext not in PLOT_FORMATS:
        got = f"the extension {ext!r}" if ext else "no extension"
        raise ConfigError(f"`--plot` {path}: the figure's format follows the extension: "
                          f"{', '.join(PLOT_FORMATS)}. Got {got}.")


def draw_plot(path: Path | None, kind: str, *args: Any, quiet: bool, **kw: Any) -> None:
    """Draw figure ``kind`` (a function of forecast_cli.cli.plots) when --plot was given
    (checked by ``check_plot`` before the work); ``kw``: its options (``series``)."""
    if path is None:
        return
    from forecast_cli.cli import plots, render

    getattr(plots, kind)(*args, path, **kw)
    render.message(f"Plot written to {path}", quiet)


def reading_option(name: str, text: str, *decls: str, **kw: Any) -> Any:
    return setting_option(name, READING_PANEL, text, *decls, **kw)


READING: Mapping[str, Any] = {
    "time_col": Annotated[str | None, reading_option(
        "time_col", "Timestamp column.", default="the one column that parses as ISO-8601",
        metavar="COL")],
    "id_col": Annotated[str | None, reading_option(
        "id_col", "Series id column of a long-format file of many series.",
        default="none: one series", metavar="COL")],
    "sep": Annotated[str | None, reading_option("sep", "Field delimiter.",
                                                default="sniffed from the header", metavar="CHAR")],
    "decimal": Annotated[str | None, reading_option("decimal", "Decimal mark, e.g. ','.",
                                                    metavar="CHAR")],
    "thousands": Annotated[str | None, reading_option(
        "thousands", "Thousands separator to remove, e.g. ','.",
        default="none; such cells are refused", metavar="CHAR")],
    "encoding": Annotated[str | None, reading_option("encoding", "Text encoding.", metavar="NAME")],
    "time_format": Annotated[str | None, reading_option(
        "time_format", "strftime format of the timestamps, e.g. '%d.%m.%Y %H:%M'.",
        default="ISO-8601 only", metavar="FORMAT")],
    "dayfirst": Annotated[bool | None, reading_option("dayfirst", "Read DD/MM/YYYY dates.",
                                                      "--dayfirst")],
    "time_unit": Annotated[TimeUnit | None, reading_option(
        "time_unit", "The time column holds epoch numbers in this unit.",
        default="none: timestamps are text")],
    "tz": Annotated[str | None, reading_option(
        "tz", "IANA zone of naive local timestamps, e.g. Europe/Berlin.",
        default="none: naive timestamps", metavar="ZONE")],
    "dst_gap": Annotated[DstGap | None, reading_option(
        "dst_gap", "Nonexistent local times at a DST change.")],
    "freq": Annotated[str | None, reading_option("freq", "Pandas frequency alias (h, D, MS …).",
                                                 default="inferred", metavar="ALIAS")],
    "fill": Annotated[Fill | None, reading_option(  # METHOD: the choices would wrap mid-word
        "fill", "Gaps and missing values: none, interpolate, ffill or drop. interpolate or "
        "ffill fill runs of up to --fill-limit steps; drop keeps the rows on the time grid but "
        "out of every window (any run length). All refuse a series more than 20% missing.",
        default="none, i.e. refuse them", metavar="METHOD")],
    "fill_limit": Annotated[int | None, reading_option(
        "fill_limit", "Longest run of missing steps --fill interpolate/ffill may fill (drop "
        "invents nothing and ignores it).", min=1, metavar="N")],
    "dedupe": Annotated[Dedupe | None, reading_option(
        "dedupe", "Merge duplicate timestamps with different values.",
        default="none, i.e. refuse them")],
    "allow_missing": Annotated[bool | None, reading_option(
        "allow_missing", "Count absent trailing fields as missing values instead of refusing.",
        "--allow-missing")],
    "strict": Annotated[bool | None, reading_option("strict", "Treat warnings as errors.",
                                                    "--strict")],
    "max_rows": Annotated[int | None, reading_option(
        "max_rows", "Refuse files with more data rows.", min=1, metavar="N")],
}



def _over_bundle(group: Mapping[str, Any]) -> dict[str, Any]:
    """``group`` for predict and evaluate, whose reading options default to how the model's
    training data was read (``loadoptions.given_over``), not to ``Settings``' defaults."""
    out = {}
    for name, kind in group.items():
        base, info = get_args(kind)
        info = copy.copy(info)
        info.help = info.help.split(" \\[default:")[0]
        info.rich_help_panel = READING_OVER_PANEL
        out[name] = Annotated[base, info]
    return out


READING_OVER_BUNDLE: Mapping[str, Any] = _over_bundle(READING)


def joined(value: Any) -> Any:
    """A repeated option's values (a list) as its comma form: ``--target a --target b``."""
    return ",".join(value) if isinstance(value, list) else value


def _panel_rank(param: inspect.Parameter) -> int:
    """Where a parameter's help panel comes in ``PANEL_ORDER``; arguments (-1) come first and
    keep their order, and so do the options within a panel."""
    info = next((m for m in getattr(param.annotation, "__metadata__", ())
                 if isinstance(m, typer.models.ParameterInfo)), None)
    if info is None or isinstance(info, typer.models.ArgumentInfo):
        return -1
    panel = info.rich_help_panel
    return PANEL_ORDER.index(panel) if panel in PANEL_ORDER else 0


def shared(group: Mapping[str, Any], into: str) -> Callable[[Command], Command]:
    """Add every option of ``group`` to a command; it receives them as the dict ``into``.

    The command declares ``into`` as a keyword-only ``Given`` parameter; Typer sees the
    group's options in its place (keyword-only, default None = not given), so ``--help``, the
    parsing and the choices are Typer's own. Decorators stack (one per group).
    """
    def add(command: Command) -> Command:
        own = inspect.signature(command, eval_str=True)
        if into not in own.parameters:
            raise TypeError(f"{command.__name__} takes no `{into}` for its shared options")
        params = [p for name, p in own.parameters.items() if name != into]
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=kind) for name, kind in group.items()]
        params.sort(key=_panel_rank)  # stable: help panels in PANEL_ORDER, arguments first
        params = [p if _panel_rank(p) < 0 else p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                  for p in params]

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> None:
            values = {name: joined(kwargs.pop(name)) for name in group}
            command(*args, **kwargs, **{into: values})

        with_group.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        return with_group

    return add
