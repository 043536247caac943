"""The layout of the run history database (see ``history``) and its upgrades.

``PRAGMA user_version`` records the layout a file has. Opening a file of an older layout
upgrades it in one transaction, keeping every run, forecast and score it holds.
"""

from __future__ import annotations

import sqlite3

# the columns of a stored forecast point and of its interval bounds (see ``accuracy``)
POINT_FIELDS = ("series", "timestamp", "step", "target", "value")
BOUND_FIELDS = ("series", "timestamp", "target", "level", "lower", "upper")
VERSION = 1  # PRAGMA user_version of the current layout; 0: the first one (see _migrate)

TABLES = (
    """CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, batch TEXT, pid INTEGER,
  started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, message TEXT,
  data_file TEXT, rows INTEGER, data_fingerprint TEXT, config_hash TEXT, train_key TEXT,
  retrained INTEGER, reason TEXT, promoted INTEGER, model_version TEXT,
  champion_mae REAL, challenger_mae REAL, resumed_from_epoch INTEGER, epochs_run INTEGER,
  output TEXT, output_sha256 TEXT, forecast_changed INTEGER, seconds REAL)""",
    """CREATE TABLE IF NOT EXISTS forecasts (
  job TEXT NOT NULL, model_version TEXT NOT NULL, origin TEXT NOT NULL, run_id INTEGER,
  series TEXT NOT NULL DEFAULT '', timestamp TEXT NOT NULL, step INTEGER NOT NULL,
  target TEXT NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (job, model_version, origin, series, timestamp, target))""",
    """CREATE TABLE IF NOT EXISTS forecast_bounds (
  job TEXT NOT NULL, model_version TEXT NOT NULL, origin TEXT NOT NULL,
  series TEXT NOT NULL DEFAULT '', timestamp TEXT NOT NULL, target TEXT NOT NULL,
  level REAL NOT NULL, lower REAL NOT NULL, upper REAL NOT NULL,
  PRIMARY KEY (job, model_version, origin, series, timestamp, target, level))""",
    """CREATE TABLE IF NOT EXISTS accuracy (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, model_version TEXT NOT NULL,
  origin TEXT NOT NULL, series TEXT NOT NULL DEFAULT '', forecast_run_id INTEGER,
  scored_run_id INTEGER, scored_at TEXT, points INTEGER, mae REAL, mase REAL,
  UNIQUE (job, model_version, origin, series))""",
    """CREATE TABLE IF NOT EXISTS coverage (
  job TEXT NOT NULL, model_version TEXT NOT NULL, origin TEXT NOT NULL,
  series TEXT NOT NULL DEFAULT '', level REAL NOT NULL, points INTEGER NOT NULL,
  inside INTEGER NOT NULL, coverage REAL NOT NULL,
  PRIMARY KEY (job, model_version, origin, series, level))""",
)

# Layout 0 → 1: forecasts and accuracy gain `series` (in their keys, so the tables are
# rebuilt); the bounds move to forecast_bounds and coverage to its own table, one row per
# level. Layout 0 never stored a bound or a coverage (it looked for columns `predict` does
# not write), so nothing is lost.
MIGRATE_0 = (
    "INSERT INTO forecasts (job, model_version, origin, run_id, series, timestamp, step, "
    "target, value) SELECT job, model_version, origin, run_id, '', timestamp, step, target, "
    "value FROM forecasts_v0",
    "INSERT INTO accuracy (job, model_version, origin, series, forecast_run_id, "
    "scored_run_id, scored_at, points, mae, mase) SELECT job, model_version, origin, '', "
    "forecast_run_id, scored_run_id, scored_at, points, mae, mase FROM accuracy_v0",
    "DROP TABLE forecasts_v0",
    "DROP TABLE accuracy_v0",
)


def migrate(conn: sqlite3.Connection) -> None:
    """Create the tables, or bring an older layout up to ``VERSION``, in one transaction."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > VERSION:  # written by a newer forecast: its layout is unknown here
        raise sqlite3.DatabaseError(f"its layout {found} is newer than this forecast's "
                                    f"({VERSION}); upgrade forecast")
    if found == VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < VERSION:
            old = {str(r[0]) for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            layout_0 = {"forecasts", "accuracy"} <= old
            if layout_0:
                conn.execute("ALTER TABLE forecasts RENAME TO forecasts_v0")
                conn.execute("ALTER TABLE accuracy RENAME TO accuracy_v0")
            for table in TABLES:
                conn.execute(table)
            for statement in MIGRATE_0 if layout_0 else ():
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
