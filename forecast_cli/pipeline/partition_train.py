"""``forecast train --partitions K`` / ``--partition-col COL``: one global model per partition.

The parts, each usable alone (``ops.partitions`` runs them, in-process or on a Dask cluster):

1. ``plan``: the whole panel is read and checked once (bad data fails before any work), the
   settings are resolved on it (targets, season, horizon, lookback, frequency, precision: the
   same for every partition, so their forecasts form one table) and every series is assigned
   a partition (``partition_index``: a stable hash of its id, or its value of COL).
2. ``split_inputs``: each partition's rows are written to a part file of the data's own format
   in the run's staging directory (``io.splitrows``), and one task is made per partition:
   JSON naming that file, the resolved settings and where the partition's outputs go.
3. ``run_task`` (on a worker, or here): ``training.train`` on the part file, exactly as
   ``forecast train PART --id-col ID`` with the resolved settings would, into a private
   directory renamed into place when complete (a retried task starts afresh).
4. ``assemble``: the partitions' bundles become one model directory with the index, their
   metrics one metrics.json, their test forecasts one test_forecasts.csv.

So a partition's forecasts are those of training its series alone with the same settings
and seed: the partition is the whole training set of its model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.errors import DataError, OutputError
from forecast_cli.io import atomic, splitrows, stdin
from forecast_cli.pipeline import partition_index as pindex
from forecast_cli.pipeline import training
from forecast_cli.pipeline.outdir import BUNDLE_DIR, FORECASTS_FILE, METRICS_FILE
from forecast_cli.settings import Settings, build_settings

PARTS = "parts"  # in the staging run: the tasks' outputs, and their data (.data)
PARTITIONS = "partitions"  # in the published run: each partition's metrics, forecasts, history
DATA = ".data"


@dataclass(frozen=True)
class Plan:
    """A partitioned training, decided: nothing written yet."""

    data: Path  # the file to split (standard input: its spooled copy)
    label: str  # how messages name it
    settings: Settings  # resolved on the whole panel; partitions cleared
    scheme: dict[str, Any]
    given: Settings  # as the user gave them (partitions, output_dir, keep_runs)
    warnings: tuple[str, ...]


def plan(data_path: Path, settings: Settings) -> Plan:
    """Read and check the whole panel, resolve the settings on it; no output is touched."""
    if settings.partitions is None and settings.partition_col is None:
        raise ValueError("plan() is for a partitioned training")
    prep = training.prepare(Path(data_path), replace(settings, partitions=None,
                                                     partition_col=None))
    frame = prep.frame
    if frame.id_col is None:  # settings.validate already requires id_col
        raise DataError(f"{frame.path}: partitions need a panel read with --id-col.")
    resolved = replace(prep.settings, batch_size=settings.batch_size)  # auto per partition
    scheme: dict[str, Any] = ({"kind": "hash", "partitions": settings.partitions,
                               "hash": "sha256(id)[:8] big-endian mod partitions"}
                              if settings.partitions is not None else
                              {"kind": "column", "column": settings.partition_col})
    source = stdin.spool(settings.max_rows) if stdin.is_stdin(data_path) else Path(data_path)
    return Plan(source, str(frame.path), resolved, scheme, settings,
                (*frame.fixes, *frame.warnings))


class _Router:
    """Each row's partition, by its id (hash) or its value of the column (one per series)."""

    def __init__(self, plan_: Plan) -> None:
        self.k = plan_.scheme.get("partitions")
        self.label = plan_.label
        self.column = plan_.scheme.get("column")
        self.seen: dict[str, tuple[str, int]] = {}  # id → (its value, the line it came from)

    def __call__(self, keys: tuple[str, ...], where: int) -> str | None:
        sid = keys[0]
        if not sid:
            return None  # the loader refused such rows already; not possible here
        if self.k is not None:
            if sid not in self.seen:
                self.seen[sid] = (pindex.partition_name(pindex.hash_bucket(sid, self.k)), where)
            return self.seen[sid][0]
        value = keys[1]
        first = self.seen.setdefault(sid, (value, where))
        if first[0] != value:
            raise DataError(f"{self.label}, line {where}: series {sid!r} has {self.column} "
                            f"{value!r}, but {first[0]!r} on line {first[1]}; a series "
                            f"belongs to one partition. Give each series one {self.column}.")
        if not value:
            raise DataError(f"{self.label}, line {where}: series {sid!r} has no "
                            f"{self.column} (an empty cell); every series needs its partition.")
        return _slot(value)


def _slot(value: str) -> str:
    """A file name for a partition value before the final names (sorted values) are known."""
    return "v" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:20]


def split_inputs(p: Plan, staged: Path) -> list[dict[str, Any]]:
    """Write each partition's rows into ``staged/parts/.data`` and return one task per
    partition (JSON-able), in partition order."""
    data_dir = atomic.ensure_dir(staged / PARTS / DATA)
    s = p.settings
    router = _Router(p)
    keys = (str(s.id_col),) if p.scheme["kind"] == "hash" else (str(s.id_col),
                                                                 str(p.given.partition_col))
    files = splitrows.split(p.data, keys, router, data_dir, label=p.label, sep=s.sep,
                            encoding=s.encoding)
    if p.scheme["kind"] == "hash":
        assigned = pindex.by_hash(list(router.seen), int(p.scheme["partitions"]))
    else:
        assigned = pindex.by_value({sid: v for sid, (v, _) in router.seen.items()})
        renamed: dict[str, Path] = {}
        for name, value in {name: value for name, value in assigned.values()}.items():
            slot = files[_slot(value)]
            renamed[name] = slot.rename(slot.with_name(name + slot.suffix))
        files = renamed
    parts = pindex.group(assigned)
    settings_json = s.to_json()
    return [{"name": part.name, "value": part.value, "series": list(part.series),
             "data": str(files[part.name]), "out": str(staged / PARTS / part.name),
             "settings": settings_json} for part in parts]


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train one partition (a task of ``split_inputs``) into ``task["out"]``; its summary.

    The outputs are written into a private directory beside ``out`` and renamed to it once
    complete, so a task killed midway and run again never mixes two attempts."""
    started = time.perf_counter()
    out = Path(task["out"])
    work = out.with_name(f".{out.name}-{uuid.uuid4().hex[:8]}")
    settings = build_settings({**task["settings"], "output_dir": str(work)})
    try:
        result = training.train(Path(task["data"]), settings)
        atomic.fsync_tree(work)
        if out.exists():  # a previous attempt finished but was not reported: replace it
            shutil.rmtree(out)
        os.rename(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {"name": task["name"], "series": len(result.panel.ids),
            "windows": result.windows, "epochs_run": len(result.history.get("loss", [])),
            "seconds": round(time.perf_counter() - started, 3), "ran_on":
            f"{socket.gethostname()} pid {os.getpid()}", "peak_rss_mb": peak_rss_mb(),
            "warnings": list(result.warnings)}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux: ru_maxrss is in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def assemble(p: Plan, staged: Path, tasks: list[dict[str, Any]],
             results: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn the finished partitions under ``staged/parts`` into the run's outputs; return
    the summary metrics (also written to ``staged/metrics.json``)."""
    model = atomic.ensure_dir(staged / BUNDLE_DIR)
    own = atomic.ensure_dir(staged / PARTITIONS)
    metrics: dict[str, Any] = {}
    for task in tasks:
        done = Path(task["out"])
        if not (done / BUNDLE_DIR).is_dir():
            raise OutputError(f"{done}: partition {task['name']} has no bundle; the run is "
                              "incomplete and was not published.")
        os.rename(done / BUNDLE_DIR, model / task["name"])
        metrics[task["name"]] = json.loads((done / METRICS_FILE).read_text(encoding="utf-8"))
        os.rename(done, own / task["name"])
    shutil.rmtree(staged / PARTS)
    parts = [pindex.Partition(t["name"], t["value"], tuple(t["series"])) for t in tasks]
    pindex.write(model, p.scheme, str(p.settings.id_col), parts)
    _join_forecasts([own / t["name"] / FORECASTS_FILE for t in tasks], staged / FORECASTS_FILE)
    summary = summary_metrics(p, metrics, {r["name"]: {**r, "value": t["value"]}
                                           for t, r in zip(tasks, results, strict=True)})
    atomic.write_text(staged / METRICS_FILE, json.dumps(summary, indent=2) + "\n")
    return summary


def _join_forecasts(files: list[Path], out: Path) -> None:
    """Every partition's test forecasts in one CSV (one header), partitions in order."""
    with open(out, "wb") as sink:
        for i, path in enumerate(files):
            with open(path, "rb") as source:
                header = source.readline()
                if i == 0:
                    sink.write(header)
                shutil.copyfileobj(source, sink)


def summary_metrics(p: Plan, metrics: dict[str, dict[str, Any]],
                    results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """metrics.json of a partitioned run: the scheme, each partition's own metrics.json,
    and the test scores averaged over every series of every partition."""
    per_series = {sid: scores for m in metrics.values() for sid, scores in m["series"].items()}
    mean: dict[str, dict[str, list[float]]] = {}
    for scores in per_series.values():
        for method, values in scores.items():
            if isinstance(values, dict):
                for metric, value in values.items():
                    if isinstance(value, (int, float)):
                        mean.setdefault(method, {}).setdefault(metric, []).append(value)
    averaged = {method: {metric: _finite_mean(vals) for metric, vals in by.items()}
                for method, by in mean.items()}
    first = next(iter(metrics.values()))
    return {"schema_version": first["schema_version"], "partitioned": True,
            "scheme": p.scheme, "id_col": p.settings.id_col, "data": {"file": p.label},
            "series_count": len(per_series), "partition_count": len(metrics),
            "settings": {**p.settings.to_json(), "partitions": p.given.partitions,
                         "partition_col": p.given.partition_col},
            "test_mean_over_series": averaged,
            "partitions": {name: {"value": results.get(name, {}).get("value"),
                                  "series_count": m.get("series_count"), "test": m["test"],
                                  "training": m["training"], "serving": m.get("serving"),
                                  "ran_on": results.get(name, {}).get("ran_on"),
                                  "peak_rss_mb": results.get(name, {}).get("peak_rss_mb"),
                                  "metrics": f"{PARTITIONS}/{name}/{METRICS_FILE}"}
                           for name, m in metrics.items()}}


def _finite_mean(values: Any) -> float | None:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if len(arr) else None
