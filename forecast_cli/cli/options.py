"""Typer option types of the data-reading settings, shared by train and validate.

Each alias carries its help text once; the parameter names are the ``config.Settings`` names.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Fill(StrEnum):
    none = "none"
    interpolate = "interpolate"
    ffill = "ffill"
    drop = "drop"


class Dedupe(StrEnum):
    none = "none"
    first = "first"
    last = "last"
    mean = "mean"


class TimeUnit(StrEnum):
    s = "s"
    ms = "ms"
    us = "us"
    ns = "ns"


class DstGap(StrEnum):
    raise_ = "raise"
    shift_forward = "shift_forward"


ConfigOpt = Annotated[Path | None, typer.Option(help="TOML file of settings (same names, "
                                                "snake_case); the command line wins.")]
TimeCol = Annotated[str | None, typer.Option(help="Timestamp column. [default: the one "
                                             "column that parses as ISO-8601]")]
Target = Annotated[str | None, typer.Option(help="Column(s) to forecast, comma-separated. "
                                            "[default: the only value column]")]
Features = Annotated[str | None, typer.Option(help="Extra numeric input columns (past "
                                              "covariates), comma-separated.")]
IdCol = Annotated[str | None, typer.Option(help="Series id column of a long-format file of "
                                           "many series.")]
Sep = Annotated[str | None, typer.Option(help="Field delimiter. [default: sniffed from the "
                                         "header]")]
Decimal = Annotated[str | None, typer.Option(help="Decimal mark, e.g. ','. [default: .]")]
Thousands = Annotated[str | None, typer.Option(help="Thousands separator to remove, e.g. ','. "
                                               "[default: none; such cells are refused]")]
Encoding = Annotated[str | None, typer.Option(help="Text encoding. [default: utf-8]")]
TimeFormat = Annotated[str | None, typer.Option(help="strftime format of the timestamps, e.g. "
                                                "'%d.%m.%Y %H:%M'. [default: ISO-8601 only]")]
DayFirst = Annotated[bool | None, typer.Option("--dayfirst", help="Read DD/MM/YYYY dates.",
                                               show_default=False)]
TimeUnitOpt = Annotated[TimeUnit | None, typer.Option(help="The time column holds epoch "
                                                      "numbers in this unit.")]
Tz = Annotated[str | None, typer.Option(help="IANA zone of naive local timestamps, e.g. "
                                        "Europe/Berlin (kept as UTC internally).")]
DstGapOpt = Annotated[DstGap | None, typer.Option(help="Nonexistent local times at a DST "
                                                  "change: raise or shift_forward. "
                                                  "[default: raise]")]
Freq = Annotated[str | None, typer.Option(help="Pandas frequency alias (h, D, MS …). "
                                          "[default: inferred]")]
FillOpt = Annotated[Fill | None, typer.Option(help="Gaps and missing values: interpolate or "
                                              "ffill fill runs of up to --fill-limit steps; "
                                              "drop keeps the rows on the time grid but out of "
                                              "every window (any run length). All refuse a "
                                              "series more than 20% missing. [default: none, "
                                              "i.e. refuse them]")]
FillLimit = Annotated[int | None, typer.Option(min=1, help="Longest run of missing steps "
                                               "--fill interpolate/ffill may fill (drop invents "
                                               "nothing and ignores it). [default: 3]")]
DedupeOpt = Annotated[Dedupe | None, typer.Option(help="Merge duplicate timestamps with "
                                                  "different values. [default: none, i.e. "
                                                  "refuse them]")]
AllowMissing = Annotated[bool | None, typer.Option("--allow-missing", show_default=False,
                                                   help="Count absent trailing fields as "
                                                   "missing values instead of refusing.")]
Strict = Annotated[bool | None, typer.Option("--strict", show_default=False,
                                             help="Treat warnings as errors.")]
MaxRows = Annotated[int | None, typer.Option(min=1, help="Refuse files with more data rows. "
                                             "[default: 20000000]")]
