"""``forecast predict`` with a partitioned model: each partition's series by its own bundle.

1. ``plan``: the index is read and every partition's manifest checked against it; DATA is
   read as the partitions' training data was (reading options given replace those).
2. ``split_inputs``: DATA's rows are routed by series id to one part file per partition
   (``io.splitrows``, the file's own format) in a work directory; a series the index does not
   know is a DataError (65) naming it (``partition_index.route``). One task per partition.
3. ``run_task`` (on a worker, or here): ``forecasting.predict`` on the part file with that
   partition's bundle (ONNX Runtime: no TensorFlow), the raw forecast table saved as Parquet
   (float64 and timestamps exactly, not yet rounded or formatted).
4. ``assemble``: the tables in partition order (within one, the series in sorted order, as
   every forecast is) rendered once by the one forecast writer: a CSV, JSON or Parquet file,
   or a Parquet dataset directory of one file per partition. The bytes depend only on the
   tables, never on which worker ran what: a cluster run and a local run write the same.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError, DataError
from forecast_cli.io import atomic, splitrows, stdin
from forecast_cli.loadoptions import LoadOptions, given_over
from forecast_cli.model.bundle import read_parts
from forecast_cli.pipeline import partition_index as pindex

DATASET_INDEX = "_forecast.json"  # in a Parquet dataset directory: what it holds


@dataclass(frozen=True)
class PredictPlan:
    index: pindex.Index
    options: LoadOptions  # how DATA is read
    data: Path  # standard input: its spooled copy
    label: str
    series: tuple[str, ...] | None  # --series


def plan(model_dir: Path, data_path: Path, reading: Mapping[str, Any] | None = None,
         series: tuple[str, ...] | None = None) -> PredictPlan:
    """The index, verified, and how DATA is read; nothing written, no pandas."""
    index = pindex.read(model_dir)
    if not index.partitions:
        raise BundleError(f"{index.root}: the partitioned model has no partition.")
    first = read_parts(index.bundle(str(index.partitions[0]["name"])))
    recorded = LoadOptions.from_settings({**first.settings, "freq": None})
    options = given_over(recorded, dict(reading or {}))
    source = (stdin.spool(options.max_rows) if stdin.is_stdin(data_path) else Path(data_path))
    label = stdin.label(data_path)
    return PredictPlan(index, options, source, label, series)


def split_inputs(p: PredictPlan, work: Path, engine: str = "auto",
                 reading: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Route DATA's rows into ``work/.data``; one task per partition with series there."""
    data_dir = atomic.ensure_dir(work / ".data")
    wanted = set(p.series) if p.series else None
    seen: dict[str, str | None] = {}
    unknown: list[str] = []

    def route(keys: tuple[str, ...], where: int) -> str | None:
        sid = keys[0]
        if sid not in seen:
            name = p.index.series.get(sid)
            if name is None and (wanted is None or sid in wanted):
                unknown.append(sid)
            seen[sid] = name if wanted is None or sid in wanted else None
        return seen[sid]

    id_col = p.options.id_col or p.index.id_col
    files = splitrows.split(p.data, (id_col,), route, data_dir, label=p.label,
                            sep=p.options.sep, encoding=p.options.encoding)
    pindex.route(p.index, sorted(unknown), p.label)  # raises, naming them, if any
    missing = sorted(wanted - set(seen)) if wanted else []
    if missing:
        raise DataError(f"{p.label}: --series {', '.join(repr(s) for s in missing[:5])} "
                        f"not in the data (column {id_col!r}).")
    routed = pindex.route(p.index, [sid for sid, name in seen.items() if name], p.label)
    return [{"name": name, "series": sorted(ids), "bundle": str(p.index.bundle(name)),
             "data": str(files[name]), "out": str(work / f"{name}.parquet"),
             "engine": engine, "reading": dict(reading or {})}
            for name, ids in routed.items()]


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Forecast one partition's series; the raw table to ``task["out"]`` (Parquet)."""
    import io

    from forecast_cli.pipeline.forecasting import predict
    from forecast_cli.pipeline.partition_train import peak_rss_mb

    started = time.perf_counter()
    fc = predict(Path(task["bundle"]), Path(task["data"]), None, engine=task["engine"],
                 reading=task["reading"] or None)
    buf = io.BytesIO()
    fc.table.to_parquet(buf, index=False)
    atomic.write_bytes(Path(task["out"]), buf.getvalue())
    return {"name": task["name"], "rows": len(fc.table), "origin": str(fc.origin),
            "warnings": list(fc.warnings), "seconds": round(time.perf_counter() - started, 3),
            "ran_on": f"{socket.gethostname()} pid {os.getpid()}",
            "peak_rss_mb": peak_rss_mb()}


def tables(tasks: list[dict[str, Any]]) -> list[Any]:
    """The partitions' forecast tables, in partition order; the flag column ``short_history``
    (only where a partition has a short series) false elsewhere."""
    import pandas as pd

    out = [pd.read_parquet(t["out"]) for t in tasks]
    if any("short_history" in t.columns for t in out):
        out = [t if "short_history" in t.columns else t.assign(short_history=False)
               for t in out]
    return out


def forecast_of(p: PredictPlan, tasks: list[dict[str, Any]], results: list[dict[str, Any]],
                parts: list[Any] | None = None) -> Any:
    """One ``forecasting.Forecast`` of every partition (its bundle: the first partition's,
    named as the partitioned model), for the one writer."""
    import pandas as pd

    from forecast_cli.model.bundle import read_bundle
    from forecast_cli.pipeline.forecasting import Forecast

    bundle = read_bundle(Path(tasks[0]["bundle"]))
    table = pd.concat(parts if parts is not None else tables(tasks), ignore_index=True)
    warnings = list(dict.fromkeys(w for r in results for w in r["warnings"]))
    origin = max(pd.Timestamp(r["origin"]) for r in results)
    return Forecast(table=table, bundle=replace(bundle, path=p.index.root), origin=origin,
                    warnings=warnings)


def horizon(p: PredictPlan) -> int:
    """Steps forecast per series (the same in every partition: settings resolved once)."""
    return read_parts(p.index.bundle(str(p.index.partitions[0]["name"]))).spec.horizon


def origin_text(p: PredictPlan, results: list[dict[str, Any]]) -> str:
    """The latest series end of every partition, as a message shows it (the data's zone)."""
    import pandas as pd

    from forecast_cli.io.forecast_output import shown

    tz = read_parts(p.index.bundle(str(p.index.partitions[0]["name"]))).data.get("tz")
    return shown(max(pd.Timestamp(r["origin"]) for r in results),
                 None if tz is None else str(tz))


def write_dataset(p: PredictPlan, tasks: list[dict[str, Any]], results: list[dict[str, Any]],
                  target: Path, precision: int | None) -> int:
    """A Parquet dataset directory at ``target``: NAME.parquet per partition and
    ``_forecast.json`` (partition → file, rows), swapped in whole; the rows written."""
    import json

    from forecast_cli.pipeline.forecasting import forecast_bytes

    rows = 0
    listing: dict[str, Any] = {"format": "forecast-partitioned-forecast", "version": 1,
                               "model": str(p.index.root), "files": {}}
    parts = tables(tasks)
    with atomic.staged_dir(target) as tmp:
        for task, result, table in zip(tasks, results, parts, strict=True):
            fc = forecast_of(p, [task], [result], [table])
            (tmp / f"{task['name']}.parquet").write_bytes(forecast_bytes(fc, "parquet",
                                                                         precision))
            listing["files"][task["name"]] = {"file": f"{task['name']}.parquet",
                                              "rows": len(table)}
            rows += len(table)
        (tmp / DATASET_INDEX).write_text(json.dumps(listing, indent=1) + "\n",
                                         encoding="utf-8")
        atomic.fsync_tree(tmp)
    return rows


def check_dataset_target(target: Path) -> None:
    """OutputError unless ``target`` is absent or a dataset directory forecast wrote (it is
    replaced whole; anything else is never deleted)."""
    from forecast_cli.errors import OutputError

    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target}: is not a directory; a Parquet dataset directory goes "
                          "there. Name another path (or a .parquet file).")
    if target.is_dir() and any(target.iterdir()) and not (target / DATASET_INDEX).is_file():
        raise OutputError(f"{target}: is a directory forecast did not write (no "
                          f"{DATASET_INDEX}); it would be replaced. Name a new directory.")
