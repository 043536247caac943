"""Progress on a terminal for the verbs that run long without a word: backtest folds, batch
jobs. Nothing at all when stderr is not a terminal (pipes, cron mail) or with --quiet."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from forecast_cli.cli.render import stderr


@contextmanager
def steps(what: str, total: int | None, enabled: bool) -> Iterator[Any]:
    """Yield ``advance(done, total, note)`` drawing "what done/total note" with a bar, or
    None when not ``enabled`` or stderr is no terminal. The bar stays when done."""
    console = stderr()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn(f"{what} {{task.completed}}/{{task.fields[of]}}"), BarColumn(),
               TextColumn("{task.fields[note]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(what, total=total, note="", of=total or "?")

        def advance(done: int, of: int, note: str = "") -> None:
            progress.update(task, completed=done, total=of, note=note, of=of)

        yield advance


def fold_note(result: Any) -> str:
    """"LSTM MASE 0.52, seasonal naive 1.31" of one fold (a ``FoldResult``)."""
    scores = result.scores
    model = (scores.get("model") or {}).get("mase", math.nan)
    base = (scores.get("seasonal_naive") or {}).get("mase", math.nan)
    return f"last fold: LSTM MASE {model:.3g}, seasonal naive {base:.3g}"
