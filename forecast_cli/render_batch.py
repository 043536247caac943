"""What `forecast batch` and `forecast history` show: one line per failed job, rich tables."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from forecast_cli.batch import BatchResult

RUN_COLUMNS = (("id", "run"), ("started_at", "started (UTC)"), ("status", "status"),
               ("rows", "rows"), ("model_version", "model"), ("retrained", "retrained"),
               ("promoted", "promoted"), ("challenger_mae", "new MAE"),
               ("champion_mae", "current MAE"), ("forecast_changed", "forecast changed"),
               ("seconds", "seconds"), ("message", "reason / error"))
ACCURACY_COLUMNS = (("origin", "forecast from"), ("model_version", "model"),
                    ("points", "points"), ("mae", "MAE"), ("mase", "MASE"),
                    ("coverage", "coverage"), ("scored_at", "scored (UTC)"))


def failure_lines(result: BatchResult) -> list[str]:
    """One line per job that did not succeed (messages folded onto one line)."""
    return [f"job {o.job!r} {o.status}: {' '.join(o.message.split())}"
            for o in result.outcomes if o.status != "ok"]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in ("retrained", "promoted", "forecast_changed"):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Latest runs per job (newest first)")
    table.add_column("job")
    for _, label in RUN_COLUMNS:
        table.add_column(label, overflow="fold")
    for run in runs:
        reason = run.get("message") or run.get("reason")
        values = {**run, "message": reason}
        table.add_row(run["job"], *(_cell(k, values.get(k)) for k, _ in RUN_COLUMNS))
    return table


def accuracy_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Realised accuracy of earlier forecasts")
    table.add_column("job")
    for _, label in ACCURACY_COLUMNS:
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(row["job"], *(_cell(k, row.get(k)) for k, _ in ACCURACY_COLUMNS))
    return table
