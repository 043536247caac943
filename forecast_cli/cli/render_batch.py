"""What `forecast batch` and `forecast history` show: one line per failed job, rich tables."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from forecast_cli.ops.batch import BatchResult

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
    if isinstance(value, float):
        return f"{value:.4g}"
    if key in ("started_at", "scored_at"):
        return str(value)[:16].replace("T", " ")
    return str(value)


def _training(run: dict[str, Any]) -> str:
    """"kept v0001 (new 3.2 > current 1.1)", "promoted", "resumed at epoch 2" … in a few words."""
    if not run.get("retrained"):
        return "no"
    words = "promoted" if run.get("promoted") else "not promoted"
    new, cur = run.get("challenger_mae"), run.get("champion_mae")
    if new is not None:
        words += f" (MAE new {_cell('', new)} vs current {_cell('', cur) or 'n/a'})"
    if run.get("resumed_from_epoch"):
        words += f"; resumed at epoch {run['resumed_from_epoch']}"
    return words


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Latest runs per job (newest first)")
    for label in ("job", "run", "started (UTC)", "status", "model"):
        table.add_column(label, no_wrap=True)
    table.add_column("trained", ratio=1)
    table.add_column("reason / error", ratio=2)
    for run in runs:
        table.add_row(run["job"], str(run["id"]), _cell("started_at", run["started_at"]),
                      run["status"], _cell("", run.get("model_version")), _training(run),
                      run.get("message") or run.get("reason") or "")
    return table


def _coverage(value: dict[str, float] | None) -> str:
    """{"80": 0.75, "95": 1.0} → "80 %: 0.75, 95 %: 1"."""
    return ", ".join(f"{level} %: {share:.4g}" for level, share in (value or {}).items())


def accuracy_table(rows: list[dict[str, Any]]) -> Table:
    """One row per scored forecast; a many-series forecast is followed by one per series."""
    table = Table(title="Realised accuracy of earlier forecasts")
    many = any(row.get("series") for row in rows)
    table.add_column("job")
    if many:
        table.add_column("series")
    for key, label in ACCURACY_COLUMNS:
        table.add_column(label, justify="left" if key == "coverage" else "right")
    for row in rows:
        parts = [(row, "all" if row.get("series") else "")]
        parts += [({**row, **part}, str(part["series"])) for part in row.get("series") or []]
        for shown, series in parts:
            cells = [_coverage(shown.get(k)) if k == "coverage" else _cell(k, shown.get(k))
                     for k, _ in ACCURACY_COLUMNS]
            table.add_row(row["job"], *([series] if many else []), *cells)
    return table
