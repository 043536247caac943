"""The run history: an embedded SQLite database in the batch's state directory.

Three tables: ``runs`` (one row per job per run: status, data, decision, scores, timings),
``forecasts`` (every published forecast point, so it can be scored later) and ``accuracy``
(realised accuracy of a forecast once all its actuals arrived). SQLite's journal makes every
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
from typing import Any

from forecast_cli.errors import OutputError
from forecast_cli.io.atomic import ensure_dir

DB_FILE = "history.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, batch TEXT, pid INTEGER,
  started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, message TEXT,
  data_file TEXT, rows INTEGER, data_fingerprint TEXT, config_hash TEXT, train_key TEXT,
  retrained INTEGER, reason TEXT, promoted INTEGER, model_version TEXT,
  champion_mae REAL, challenger_mae REAL, resumed_from_epoch INTEGER, epochs_run INTEGER,
  output TEXT, output_sha256 TEXT, forecast_changed INTEGER, seconds REAL);
CREATE TABLE IF NOT EXISTS forecasts (
  job TEXT NOT NULL, model_version TEXT NOT NULL, origin TEXT NOT NULL, run_id INTEGER,
  timestamp TEXT NOT NULL, step INTEGER NOT NULL, target TEXT NOT NULL, value REAL NOT NULL,
  lower REAL, upper REAL, PRIMARY KEY (job, model_version, origin, timestamp, target));
CREATE TABLE IF NOT EXISTS accuracy (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, model_version TEXT NOT NULL,
  origin TEXT NOT NULL, forecast_run_id INTEGER, scored_run_id INTEGER, scored_at TEXT,
  points INTEGER, mae REAL, mase REAL, coverage REAL,
  UNIQUE (job, model_version, origin));
"""

RUN_FIELDS = ("status", "message", "data_file", "rows", "data_fingerprint", "config_hash",
              "train_key", "retrained", "reason", "promoted", "model_version", "champion_mae",
              "challenger_mae", "resumed_from_epoch", "epochs_run", "output",
              "output_sha256", "forecast_changed", "seconds")
POINT_FIELDS = ("timestamp", "step", "target", "value", "lower", "upper")


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
            with self.conn:
                self.conn.executescript(SCHEMA)
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
                        points: Sequence[tuple[Any, ...]]) -> None:
        """Store forecast points (POINT_FIELDS tuples); a forecast already stored is kept."""
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO forecasts (job, model_version, origin, run_id, "
                "timestamp, step, target, value, lower, upper) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(job, version, origin, run_id, *p) for p in points])

    def unscored(self, job: str) -> Iterator[tuple[str, str, int, list[dict[str, Any]]]]:
        """(model_version, origin, run_id, points) of each stored forecast not yet scored."""
        cur = self.conn.execute(
            "SELECT DISTINCT f.model_version, f.origin, f.run_id FROM forecasts f "
            "LEFT JOIN accuracy a ON a.job = f.job AND a.model_version = f.model_version "
            "AND a.origin = f.origin WHERE f.job = ? AND a.id IS NULL ORDER BY f.origin",
            (job,))
        for version, origin, run_id in cur.fetchall():
            with closing(self.conn.execute(
                    f"SELECT {', '.join(POINT_FIELDS)} FROM forecasts WHERE job = ? AND "
                    "model_version = ? AND origin = ? ORDER BY target, step",
                    (job, version, origin))) as points:
                yield version, origin, run_id, _rows(points)

    def record_accuracy(self, job: str, version: str, origin: str, forecast_run: int,
                        scored_run: int, scores: dict[str, Any]) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO accuracy (job, model_version, origin, forecast_run_id, "
                "scored_run_id, scored_at, points, mae, mase, coverage) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (job, version, origin, forecast_run, scored_run, now_iso(), scores["points"],
                 scores["mae"], scores["mase"], scores.get("coverage")))

    def runs(self, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest ``limit`` runs per job, newest first."""
        sql = ("SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY job ORDER BY id DESC)"
               " AS k FROM runs WHERE ? IS NULL OR job = ?) WHERE k <= ? ORDER BY job, id DESC")
        with closing(self.conn.execute(sql, (job, job, limit))) as cur:
            return [{k: v for k, v in r.items() if k != "k"} for r in _rows(cur)]

    def accuracy(self, job: str | None = None) -> list[dict[str, Any]]:
        """Realised accuracy over time, oldest forecast first."""
        with closing(self.conn.execute(
                "SELECT job, origin, model_version, points, mae, mase, coverage, scored_at "
                "FROM accuracy WHERE ? IS NULL OR job = ? ORDER BY job, origin",
                (job, job))) as cur:
            return _rows(cur)


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
        return {"state_dir": str(state_dir), "runs": history.runs(job, limit),
                "accuracy": history.accuracy(job)}
