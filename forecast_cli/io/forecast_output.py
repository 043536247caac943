"""The forecast as the user receives it: CSV, a JSON document or Parquet, one writer for every path.

``predict``'s full path (a pandas table) and its quick path (numpy columns) both render here,
so their outputs agree byte for byte by construction. The same rules hold for every table
``forecast`` writes (the forecast, ``test_forecasts.csv``, a batch job's forecast):

- the format follows the file's extension (``output_format``): .csv, .json or .parquet;
- timestamps are ISO 8601 (``iso_text``): in the data's zone with its UTC offset when the
  data was read with ``--tz`` (``2024-03-31T03:00:00+02:00``), in UTC marked ``Z`` when the
  file's timestamps carried offsets, and naive (no zone invented) when they were naive;
- values are rounded to the ``precision`` setting's decimals (``core.precision``).

Internally every timestamp is naive UTC (``data.timeaxis``); only here is it shown in a zone.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast_cli.core.precision import rounded
from forecast_cli.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1  # of every JSON document forecast writes (docs/json.md); bumped on change
FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet"}
STDOUT = "-"
TIME_COLUMNS = ("origin", "timestamp")  # the columns of a table written as ISO 8601 text


def output_format(path: Path | None, given: str | None = None, what: str = "--out") -> str:
    """The format of an output file, from its extension; ``path`` None: standard output,
    written as ``given`` (``--format``/``--json``), else CSV.

    ConfigError (exit 2) for any other extension, or a ``given`` format that contradicts it.
    """
    if path is None:
        return given or "csv"
    ext = Path(path).suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        got = f"the extension {ext!r}" if ext else "no extension"
        raise ConfigError(f"`{what}` {path}: the format follows the extension: .csv, .json or "
                          f".parquet. Got {got}." + (" Use - for standard output."
                                                     if what == "--out" else ""))
    if given is not None and given != fmt:
        flags = "--json or --format json" if given == "json" else f"--format {given}"
        raise ConfigError(f"`{what}` {path} is {fmt.upper()} by its extension, but "
                          f"{given.upper()} was asked for ({flags}); name the file "
                          f"{next(e for e, f in FORMATS.items() if f == given)}.")
    return fmt


def _offsets(seconds: np.ndarray) -> np.ndarray:
    """UTC offsets in seconds (n,) → ``+HH:MM`` text (n,)."""
    found, where = np.unique(seconds, return_inverse=True)
    text = []
    for s in found.tolist():
        hours, minutes = divmod(abs(int(s)) // 60, 60)
        text.append(f"{'-' if s < 0 else '+'}{hours:02d}:{minutes:02d}")
    return np.asarray(text)[where.ravel()]


def iso_text(times: Any, tz: str | None) -> np.ndarray:
    """Naive UTC timestamps (n,) → ISO 8601 text to the second (n,), vectorised (``to_csv``'s
    own date_format runs strftime row by row: 0.6 s of a 1,000-series forecast).

    ``tz`` None: as they are, naive; ``"UTC"``: with ``Z``; a zone: its local time and
    offset. Only a zone imports pandas (the quick path never has one).
    """
    utc = np.asarray(times).astype("datetime64[s]")
    text = np.datetime_as_string(utc, unit="s")
    if tz is None:
        return text
    if tz == "UTC":
        return np.char.add(text, "Z")
    import pandas as pd

    index = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    wall = index.to_numpy().astype("datetime64[s]")
    offsets = (wall - utc).astype(np.int64)
    return np.char.add(np.datetime_as_string(wall, unit="s"), _offsets(offsets))


def stamp(ts: Any, tz: str | None) -> str:
    """One naive UTC timestamp as ``iso_text`` writes it."""
    return str(iso_text(np.asarray([np.datetime64(ts, "s")]), tz)[0])


def shown(ts: Any, tz: str | None) -> str:
    """A timestamp in a message: ``2021-01-17 15:00:00`` when naive, ``2001-12-01`` at
    midnight (daily, monthly… data has no time of day to show), else as ``stamp``."""
    if tz is not None:
        return stamp(ts, tz)
    text = str(np.datetime64(ts, "s")).replace("T", " ")
    return text.removesuffix(" 00:00:00")


def json_float(value: float) -> float | None:
    """Strict JSON has no infinity: an unbounded interval end is written as null."""
    return float(value) if math.isfinite(value) else None


def forecast_head(model: str, origin: Any, freq: str, horizon: int, targets: list[str],
                  tz: str | None, precision: int | None) -> dict[str, Any]:
    """What ``predict --json`` says before the rows (both paths build it here)."""
    return {"schema_version": SCHEMA_VERSION, "model": model, "origin": stamp(origin, tz),
            "freq": freq, "horizon": horizon, "targets": targets, "tz": tz,
            "precision": precision}


def json_document(head: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """``predict --json``: the forecast rows under the bundle's identification."""
    return json.dumps({**head, "forecast": records}, indent=2) + "\n"


def prepared(table: pd.DataFrame, tz: str | None, precision: int | None) -> pd.DataFrame:
    """``table`` as it is written: its time columns as ISO 8601 text in ``tz``, its float
    columns rounded to ``precision`` decimals."""
    changed: dict[str, Any] = {}
    for name in table.columns:
        kind = table[name].dtype.kind
        if name in TIME_COLUMNS and kind == "M":
            changed[str(name)] = iso_text(table[name].to_numpy(), tz)
        elif kind == "f":
            changed[str(name)] = rounded(table[name].to_numpy(), precision)
    return table.assign(**changed)


def table_json(table: pd.DataFrame, head: dict[str, Any]) -> str:
    """A forecast table (timestamp, step, values…; an id column first for a panel) as JSON."""
    records = prepared(table, head["tz"], head["precision"]).to_dict("records")
    for row in records:
        for key, value in row.items():
            if key == "step":
                row[key] = int(value)
            elif isinstance(value, float):
                row[key] = json_float(value)
    return json_document(head, [{str(k): v for k, v in row.items()} for row in records])


def table_csv(table: pd.DataFrame, tz: str | None, precision: int | None) -> str:
    """A table as CSV: ISO 8601 timestamps, floats as their shortest repr after rounding."""
    return str(prepared(table, tz, precision).to_csv(index=False))


def table_parquet(table: pd.DataFrame, tz: str | None, precision: int | None) -> bytes:
    """A table as Parquet: the CSV's values, timestamps as timestamps (zone-aware when the
    data has a zone), so that ``pandas.read_parquet`` gives back what the CSV says."""
    import pandas as pd

    changed: dict[str, Any] = {}
    for name in table.columns:
        kind = table[name].dtype.kind
        if name in TIME_COLUMNS and kind == "M":
            seconds = table[name].to_numpy().astype("datetime64[s]")  # as the CSV has them
            index = pd.DatetimeIndex(seconds.astype("datetime64[ns]"))
            changed[str(name)] = index if tz is None else index.tz_localize("UTC").tz_convert(tz)
        elif kind == "f":
            changed[str(name)] = rounded(table[name].to_numpy(), precision)
    buf = io.BytesIO()
    table.assign(**changed).to_parquet(buf, index=False)
    return buf.getvalue()


def columns_csv(times: np.ndarray, columns: dict[str, np.ndarray], tz: str | None,
                precision: int | None) -> str:
    """numpy columns as ``table_csv`` writes the same table: floats as numpy's shortest repr
    (what pandas' to_csv writes), ISO 8601 timestamps."""
    cells = [iso_text(times, tz), np.arange(1, len(times) + 1).astype(str),
             *(rounded(col, precision).astype(str) for col in columns.values())]
    lines = [",".join(["timestamp", "step", *columns])]
    lines += [",".join(row) for row in zip(*cells, strict=True)]
    return "\n".join(lines) + "\n"
