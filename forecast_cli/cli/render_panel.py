"""Per-series scores of a many-series training run: the worst few (all of them are in JSON)."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from forecast_cli.core.evaluation import MODEL, SEASONAL

WORST_SHOWN = 5


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4g}"


def worst_series_table(result: Any) -> Table:
    """Series with the highest LSTM MASE, beside seasonal naive on the same windows."""
    scores: dict[str, dict[str, dict[str, float]]] = result.series_scores
    ranked = sorted(scores, key=lambda sid: -_key(scores[sid][MODEL]["mase"]))
    table = Table(title=f"{min(WORST_SHOWN, len(ranked))} worst of {len(ranked)} series by "
                        "LSTM MASE (all in metrics.json)")
    for name in ("series", "LSTM MASE", "seasonal naive MASE", "LSTM MAE"):
        table.add_column(name, justify="left" if name == "series" else "right")
    for sid in ranked[:WORST_SHOWN]:
        table.add_row(sid, _fmt(scores[sid][MODEL]["mase"]), _fmt(scores[sid][SEASONAL]["mase"]),
                      _fmt(scores[sid][MODEL]["mae"]))
    return table


def _key(value: float) -> float:
    return -math.inf if value is None or math.isnan(value) else value
