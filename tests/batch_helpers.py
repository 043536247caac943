"""Helpers for the batch tests: batch files, snapshots of output trees, the history as JSON."""

from __future__ import annotations

import fcntl
import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import run_forecast

# Tiny but real training: a few seconds on 2 cores. patience = epochs: never stops early, so
# the number of epochs a run trains is known in advance (the resume test relies on it).
# One network without refit, as TINY_ARGS (the ensemble and the refit: test_ensemble.py).
TINY_JOB: dict[str, Any] = {"lookback": 8, "horizon": 4, "lstm_units": 4, "epochs": 4,
                            "batch_size": 16, "patience": 4, "seed": 7, "ensemble_seeds": 1,
                            "ensemble_lookbacks": 1.0, "refit": False}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_batch(path: Path, jobs: dict[str, dict[str, Any]],
                defaults: dict[str, Any] | None = None) -> Path:
    """A batch file with [defaults] and one [jobs.NAME] table per job."""
    lines = ["[defaults]"] + [f"{k} = {_toml_value(v)}" for k, v in (defaults or {}).items()]
    for name, table in jobs.items():
        lines += ["", f"[jobs.{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    """A `forecast train --config` file: the same settings as a flat table."""
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in settings.items()),
                    encoding="utf-8")
    return path


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under ``roots`` (lock files excluded: their content is informative only)."""
    out: dict[str, bytes] = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            if f.name != ".lock":
                out[str(f)] = f.read_bytes()
    return out


def history_json(batch: Path, *args: str) -> dict[str, Any]:
    proc = run_forecast("history", batch, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def runs(state_dir: Path, job: str) -> list[dict[str, Any]]:
    """The job's rows of the run history, newest first, read straight from the SQLite file."""
    with sqlite3.connect(state_dir / "history.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM runs WHERE job = ? ORDER BY id DESC", (job,))
        return [dict(r) for r in rows.fetchall()]


def lock_is_held(path: Path) -> bool:
    """Whether another process holds ``path``'s flock (a batch's or a job's lock)."""
    if not path.exists():
        return False
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False
