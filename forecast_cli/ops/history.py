"""The run history: an embedded SQLite database in the batch's state directory.

Tables: ``runs`` (one row per job per run: status, data, decision, scores, timings),
``forecasts`` (every published forecast point, per series, so it can be scored later),
``forecast_bounds`` (their interval bounds, one row per point and level), ``accuracy``
(realised MAE and MASE of a forecast once all its actuals arrived: series '' for all of it,
plus one row per series of a many-series job) and ``coverage`` (the realised share of actuals
inside each interval level, for the same rows). SQLite's journal makes every
write all-or-nothing, so a run killed mid-write leaves the database as it was. A run that was
killed leaves its row as ``running``; the next run marks such rows ``killed``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast_cli.core.intervals import level_label
from forecast_cli.errors import OutputError
from forecast_cli.io.atomic import ensure_dir
from forecast_cli.io.forecast_output import SCHEMA_VERSION
from forecast_cli.ops import history_schema
from forecast_cli.ops.history_schema import BOUND_FIELDS, POINT_FIELDS

if TYPE_CHECKING:  # not at run time: the batch process itself needs no pandas
    from forecast_cli.ops.accuracy import Realised

DB_FILE = "history.sqlite"
RUN_FIELDS = ("status", "message", "data_file", "rows", "data_fingerprint", "config_hash",
              "train_key", "retrained", "reason", "promoted", "model_version", "champion_mae",
              "challenger_mae", "resumed_from_epoch", "epochs_run", "output",
              "output_sha256", "forecast_changed", "seconds")
FLAGS = ("retrained", "promoted", "forecast_changed")  # 0/1 in SQLite, booleans in JSON


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _rows(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class History:
    """A connection to one state directory's history database."""

    def __init__(self, state_dir: Path) -> None:
        path = ensure_dir(Path(state_dir)) / DB_FILE
        try:
            self.conn = sqlite3.connect(path, timeout=30)
            history_schema.migrate(self.conn)
        except sqlite3.Error as exc:
            raise OutputError(f"{path}: cannot open the run history ({exc}).") from None
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def mark_killed(self, batch: str) -> int:
        """Rows of ``batch`` left ``running`` by a run that died; call holding its lock."""
        with self.conn:
            cur = self.conn.execute(
                "UPDATE runs SET status = 'killed', message = 'the run was killed before it "
                "finished; its outputs were left as they were' WHERE status = 'running' "
                "AND batch = ?", (batch,))
        return cur.rowcount

    def start_run(self, job: str, batch: str) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO runs (job, batch, pid, started_at, status) "
                "VALUES (?, ?, ?, ?, 'running')", (job, batch, os.getpid(), now_iso()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update_run(self, run_id: int, record: dict[str, Any]) -> None:
        """Save the fields known so far: a run killed later still shows how far it got."""
        values = {k: v for k, v in record.items() if k in RUN_FIELDS and k != "status"}
        sets = ", ".join(f"{k} = ?" for k in values)
        if sets:
            with self.conn:
                self.conn.execute(f"UPDATE runs SET {sets} WHERE id = ?",
                                  (*values.values(), run_id))

    def finish_run(self, run_id: int, record: dict[str, Any]) -> None:
        values = {k: record.get(k) for k in RUN_FIELDS}
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.conn:
            self.conn.execute(f"UPDATE runs SET finished_at = ?, {sets} WHERE id = ?",
                              (now_iso(), *values.values(), run_id))

    def end_run(self, run_id: int, status: str, message: str, seconds: float) -> None:
        """Finish a run whose job was stopped or died: the fields it saved are kept."""
        with self.conn:
            self.conn.execute("UPDATE runs SET finished_at = ?, status = ?, message = ?, "
                              "seconds = ? WHERE id = ?",
                              (now_iso(), status, message, seconds, run_id))

    def last_forecast(self, job: str) -> dict[str, Any] | None:
        """Data, model and output of the job's latest successful forecast, if any."""
        with closing(self.conn.execute(
                "SELECT data_fingerprint, model_version, output, output_sha256 FROM runs "
                "WHERE job = ? AND status = 'ok' AND output_sha256 IS NOT NULL "
                "ORDER BY id DESC LIMIT 1", (job,))) as cur:
            found = _rows(cur)
        return found[0] if found else None

    def rejected_keys(self, job: str) -> frozenset[str]:
        """Train keys whose model lost the champion-challenger comparison."""
        cur = self.conn.execute("SELECT DISTINCT train_key FROM runs WHERE job = ? AND "
                                "status = 'ok' AND retrained = 1 AND promoted = 0", (job,))
        return frozenset(str(r[0]) for r in cur.fetchall() if r[0] is not None)

    def record_forecast(self, job: str, version: str, origin: str, run_id: int,
                        points: Sequence[tuple[Any, ...]],
                        bounds: Sequence[tuple[Any, ...]] = ()) -> None:
        """Store a forecast: ``accuracy.POINT_FIELDS`` tuples and, when it has intervals,
        ``accuracy.BOUND_FIELDS`` tuples (one per point and level). A forecast already stored
        is kept."""
        key = (job, version, origin)
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO forecasts (job, model_version, origin, run_id, series, "
                "timestamp, step, target, value) VALUES (?,?,?,?,?,?,?,?,?)",
                [(*key, run_id, *p) for p in points])
            self.conn.executemany(
                "INSERT OR IGNORE INTO forecast_bounds (job, model_version, origin, series, "
                "timestamp, target, level, lower, upper) VALUES (?,?,?,?,?,?,?,?,?)",
                [(*key, *b) for b in bounds])

    def unscored(self, job: str) -> Iterator[tuple[str, str, int, list[dict[str, Any]],
                                                  list[dict[str, Any]]]]:
        """(model_version, origin, run_id, points, bounds) of each forecast not yet scored."""
        cur = self.conn.execute(
            "SELECT DISTINCT f.model_version, f.origin, f.run_id FROM forecasts f "
            "LEFT JOIN accuracy a ON a.job = f.job AND a.model_version = f.model_version "
            "AND a.origin = f.origin AND a.series = '' WHERE f.job = ? AND a.id IS NULL "
            "ORDER BY f.origin", (job,))
        for version, origin, run_id in cur.fetchall():
            key = (job, version, origin)
            where = "WHERE job = ? AND model_version = ? AND origin = ?"
            with closing(self.conn.execute(
                    f"SELECT {', '.join(POINT_FIELDS)} FROM forecasts {where} "
                    "ORDER BY series, target, step", key)) as cur_points:
                points = _rows(cur_points)
            with closing(self.conn.execute(
                    f"SELECT {', '.join(BOUND_FIELDS)} FROM forecast_bounds {where} "
                    "ORDER BY series, target, timestamp, level", key)) as cur_bounds:
                yield version, origin, run_id, points, _rows(cur_bounds)

    def record_accuracy(self, job: str, version: str, origin: str, forecast_run: int,
                        scored_run: int, realised: Realised) -> None:
        """Store a forecast's scores: one row for all of it (series ''), one per series of a
        many-series forecast, and the coverage of each of those per level."""
        parts = [("", realised.overall), *realised.series.items()]
        key = (job, version, origin)
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO accuracy (job, model_version, origin, series, "
                "forecast_run_id, scored_run_id, scored_at, points, mae, mase) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(*key, sid, forecast_run, scored_run, now_iso(), sc.points, sc.mae, sc.mase)
                 for sid, sc in parts])
            self.conn.executemany(
                "INSERT OR IGNORE INTO coverage (job, model_version, origin, series, level, "
                "points, inside, coverage) VALUES (?,?,?,?,?,?,?,?)",
                [(*key, sid, level, n, inside, inside / n) for sid, sc in parts
                 for level, (inside, n) in sc.coverage.items() if n])

    def runs(self, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest ``limit`` runs per job, newest first."""
        sql = ("SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY job ORDER BY id DESC)"
               " AS k FROM runs WHERE ? IS NULL OR job = ?) WHERE k <= ? ORDER BY job, id DESC")
        with closing(self.conn.execute(sql, (job, job, limit))) as cur:
            return [{k: v for k, v in r.items() if k != "k"} for r in _rows(cur)]

    def accuracy(self, job: str | None = None) -> list[dict[str, Any]]:
        """Realised accuracy over time, oldest forecast first. ``coverage``: level ("80") →
        share of actuals inside, or None without intervals; ``series``: the same per series
        (many-series jobs; else empty)."""
        where = "WHERE ? IS NULL OR job = ?"
        with closing(self.conn.execute(
                "SELECT job, origin, model_version, series, points, mae, mase, scored_at "
                f"FROM accuracy {where} ORDER BY job, origin, model_version, series",
                (job, job))) as cur:
            rows = _rows(cur)
        with closing(self.conn.execute(
                f"SELECT job, origin, model_version, series, level, coverage FROM coverage "
                f"{where} ORDER BY level", (job, job))) as cur:
            shares: dict[tuple[str, ...], dict[str, float]] = {}
            for c in _rows(cur):
                at = (c["job"], c["origin"], c["model_version"], c["series"])
                shares.setdefault(at, {})[level_label(c["level"])] = c["coverage"]
        out: list[dict[str, Any]] = []
        for r in rows:
            at = (r["job"], r["origin"], r["model_version"], r.pop("series"))
            r["coverage"] = shares.get(at)
            if at[3] == "":
                out.append({**r, "series": []})
            else:  # rows are sorted: the forecast's own row ('') comes first
                out[-1]["series"].append({"series": at[3], **{k: r[k] for k in (
                    "points", "mae", "mase", "coverage")}})
        return out


@contextmanager
def opened(state_dir: Path) -> Iterator[History]:
    history = History(state_dir)
    try:
        yield history
    finally:
        history.close()


def report(state_dir: Path, job: str | None = None, limit: int = 10) -> dict[str, Any]:
    """The last ``limit`` runs per job and the realised accuracy over time, as plain data."""
    path = Path(state_dir) / DB_FILE
    if not path.is_file():
        from forecast_cli.errors import InputMissingError

        raise InputMissingError(f"{path}: no run history here; run `forecast batch` first or "
                                "pass --state-dir (the batch file's state_dir).")
    with opened(Path(state_dir)) as history:
        runs = [{k: _flag(v) if k in FLAGS else v for k, v in r.items()}
                for r in history.runs(job, limit)]
        return {"schema_version": SCHEMA_VERSION, "state_dir": str(state_dir), "runs": runs,
                "accuracy": history.accuracy(job)}


def _flag(value: Any) -> bool | None:
    """A yes/no column (SQLite stores 0/1) as JSON's true/false; None while unknown."""
    return None if value is None else bool(value)
