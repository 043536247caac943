"""Everything the user sees: rich tables on stdout, messages and progress on stderr."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from forecast_cli.core.baselines import MODEL, NAIVE, SEASONAL  # not evaluation: it loads pandas

if TYPE_CHECKING:  # not at run time: predict and validate never load the training modules,
    # and rich is imported only where a table or a bar is drawn (predict draws neither)
    from rich.console import Console, RenderableType
    from rich.table import Table

    from forecast_cli.pipeline.backtest import BacktestResult
    from forecast_cli.pipeline.train_result import TrainResult

LABELS = {MODEL: "LSTM", NAIVE: "naive (last value)", SEASONAL: "seasonal naive"}
SHORT = {MODEL: "LSTM", NAIVE: "naive", SEASONAL: "s-naive"}
WORST_SERIES = 5  # series listed by the backtest's per-series table; --json lists all
COLUMNS = (("mae", "MAE"), ("rmse", "RMSE"), ("mape", "MAPE %"), ("smape", "sMAPE %"),
           ("mase", "MASE"))


def stdout() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _table(title: str) -> Table:
    from rich.table import Table

    return Table(title=title)


def message(text: str, quiet: bool = False) -> None:
    """A diagnostic line on stderr (suppressed by --quiet); no markup interpretation."""
    if not quiet:
        sys.stderr.write(text.rstrip("\n") + "\n")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4g}"


def scores_table(title: str, scores: dict[str, dict[str, float]]) -> Table:
    """One row per method (LSTM, naive, seasonal naive), one column per metric."""
    table = _table(title)
    table.add_column("method")
    for _, label in COLUMNS:
        table.add_column(label, justify="right")
    for name in (MODEL, NAIVE, SEASONAL):
        table.add_row(LABELS[name], *(_fmt(scores[name][key]) for key, _ in COLUMNS))
    return table


def metrics_table(result: TrainResult) -> Table:
    """Model against baselines on the identical test windows, original units."""
    s, ev = result.settings, result.evaluation
    return scores_table(f"Test period: {result.windows['test']} windows × horizon {s.horizon} "
                        f"({', '.join(s.target)}; season {s.season})", ev.scores)


def coverage_table(scores: dict[str, dict[str, float]], n_calibration: int | None,
                   where: str = "") -> Table:
    """Empirical coverage and mean width of the conformal intervals, per level."""
    source = f", {n_calibration} validation windows" if n_calibration else ""
    table = _table(f"Prediction intervals {where}(split conformal{source})")
    # unbounded intervals (too few calibration windows) are left out of coverage and width
    unbounded = any(sc.get("unbounded", 0.0) > 0 for sc in scores.values())
    for name in ("level", "coverage %", "mean width", *(("unbounded %",) if unbounded else ())):
        table.add_column(name, justify="right")
    for level, sc in scores.items():
        extra = (_fmt(sc.get("unbounded", 0.0)),) if unbounded else ()
        table.add_row(f"{level} %", _fmt(sc["coverage"]), _fmt(sc["mean_width"]), *extra)
    return table


def backtest_table(r: BacktestResult) -> RenderableType:
    """MAE and MASE of every method per fold, then the pooled scores.

    Several series: the scores are over every series, followed by the worst series
    (``backtest_series_table``); the run's warnings (series left out) go to stderr.
    """
    table = _table(f"Backtest: {len(r.folds)} folds, {r.settings.train_window} window, "
                   f"horizon {r.settings.horizon} ({', '.join(r.settings.target)})"
                   + (f", {len(r.layout.ids)} series" if r.panel else ""))
    table.add_column("fold")
    table.add_column("first target")
    for name in (MODEL, NAIVE, SEASONAL):
        table.add_column(f"{SHORT[name]} MAE", justify="right")
        table.add_column(f"{SHORT[name]} MASE", justify="right")
    for fr in r.folds:
        cells = [_fmt(fr.scores[n][m]) for n in (MODEL, NAIVE, SEASONAL) for m in ("mae", "mase")]
        table.add_row(str(fr.fold.index + 1) + ("" if fr.fold.refit else " (reused)"),
                      _first_targets(r.first_targets(fr)), *cells)
    table.add_row("all", "", *(_fmt(r.overall[n][m]) for n in (MODEL, NAIVE, SEASONAL)
                               for m in ("mae", "mase")), style="bold")
    if not r.panel:
        return table
    from rich.console import Group

    for warning in r.warnings:
        message(f"Warning: {warning}")
    return Group(table, backtest_series_table(r))


def _day(ts: Any) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _first_targets(stamps: list[Any]) -> str:
    """One series' first target; for several, the range when they differ."""
    first, last = min(stamps), max(stamps)
    return _day(first) if first == last else f"{_day(first)} … {_day(last)}"


def backtest_series_table(r: BacktestResult) -> Table:
    """The series with the highest LSTM MASE over every fold (all of them in --json)."""
    def key(sid: str) -> float:
        value = r.series[sid][MODEL]["mase"]
        return -math.inf if value is None or math.isnan(value) else value

    ranked = sorted(r.series, key=key, reverse=True)
    shown = ranked[:WORST_SERIES]
    table = _table("Series by LSTM MASE over all folds" + (
        f" ({len(shown)} worst of {len(ranked)}; all in --json)" if len(ranked) > len(shown)
        else ""))
    table.add_column("series")
    for name in (MODEL, NAIVE, SEASONAL):
        table.add_column(f"{SHORT[name]} MASE", justify="right")
    table.add_column(f"{SHORT[MODEL]} MAE", justify="right")
    for sid in shown:
        sc = r.series[sid]
        table.add_row(sid, *(_fmt(sc[n]["mase"]) for n in (MODEL, NAIVE, SEASONAL)),
                      _fmt(sc[MODEL]["mae"]))
    return table


def backtest_intervals_table(r: BacktestResult) -> Table:
    """Per fold: coverage % and mean width of each level on the fold's test window."""
    levels = list(r.intervals)
    table = _table("Prediction intervals by fold (split conformal on each fitted fold's "
                        "validation windows)")
    table.add_column("fold")
    table.add_column("calibration windows", justify="right")
    for lv in levels:
        table.add_column(f"{lv} % coverage", justify="right")
        table.add_column(f"{lv} % mean width", justify="right")
    for fr in r.folds:
        table.add_row(str(fr.fold.index + 1), str(fr.calibration_windows),
                      *(_fmt(fr.intervals[lv][m]) for lv in levels
                        for m in ("coverage", "mean_width")))
    table.add_row("all", "", *(_fmt(r.intervals[lv][m]) for lv in levels
                               for m in ("coverage", "mean_width")), style="bold")
    return table


def by_step_table(by_step: dict[str, list[float]]) -> Table:
    """MAE at each horizon step, per method."""
    table = _table("MAE by horizon step (all folds)")
    table.add_column("step", justify="right")
    for name in (MODEL, NAIVE, SEASONAL):
        table.add_column(LABELS[name], justify="right")
    for h in range(len(by_step[MODEL])):
        table.add_row(str(h + 1), *(_fmt(by_step[n][h]) for n in (MODEL, NAIVE, SEASONAL)))
    return table


def intervals_table(result: TrainResult) -> Table:
    """Empirical coverage and mean width of the conformal intervals on the test windows."""
    n = result.intervals.n_calibration if result.intervals else 0
    return coverage_table(result.interval_scores, n, "on the test period ")


def train_summary(result: TrainResult) -> str:
    ev = result.evaluation
    skill = ev.skill(SEASONAL)
    if skill is None or math.isnan(skill):  # MASE's scale is 0: the series repeats exactly
        verdict = ("no MASE skill: the in-sample seasonal naive error is 0 (the series "
                   "repeats each season exactly), compare the MAE above")
    else:
        lstm = "LSTM + Theta" if (result.ensemble or {}).get("theta_weight") else "LSTM"
        verdict = (f"{lstm} {'beats' if skill > 0 else 'does NOT beat'} seasonal naive on MASE "
                   f"(skill {_fmt(100 * skill)} %)")
    out = result.output_dir
    run = f"\nRun: {out / 'runs' / result.run} (now {out / 'latest'})" if result.run else ""
    return (f"{verdict}; "
            f"best epoch {result.best_epoch} of {len(result.history.get('loss', []))}.\n"
            f"Model bundle: {result.bundle_dir}\n"
            f"Metrics: {result.output_dir / 'metrics.json'}  "
            f"Test forecasts: {result.output_dir / 'test_forecasts.csv'}  "
            f"History: {result.output_dir / 'history.csv'}{run}\n"
            + ensemble_line(result) + validation_line(result))


def ensemble_line(result: TrainResult) -> str:
    """What the bundle's network is: the ensemble's candidate chosen on validation, its
    validation and test scores, and which fit the bundle holds. "" for one network."""
    e, fit = result.ensemble or {}, result.bundle_fit or {}
    held = (f"a refit on every window ({fit.get('epochs')} epochs; test scores from the "
            "held-out fit)" if fit.get("fit") == "refit" else "the held-out fit")
    if "validation" not in e:
        return f"Bundle: {held}.\n" if fit.get("fit") == "refit" else ""
    m, chosen = str(e.get("metric", "mase")), str(e["chosen"])
    val, test = e["validation"].get(chosen), e["test"].get(chosen)
    n = len(e["members"])
    what = f"Ensemble of {n}: serving the {chosen}" if n > 1 else f"Serving the {chosen}"
    return (f"{what}, chosen on validation "
            f"({m.upper()} {_fmt(val)}, test {_fmt(test)}); the bundle holds {held}.\n")


def validation_line(result: TrainResult) -> str:
    """The last line of ``train``: did the network beat seasonal naive on validation, the
    windows any choice is made on, and what the bundle serves."""
    v = result.validation or {}
    if v.get("beats_seasonal_naive") is None:
        return "Validation: no window with a season before it; seasonal naive not compared."
    m = str(v.get("metric", "mase"))
    mase = f"{m.upper()} {_fmt(v['model'][m])} vs seasonal naive {_fmt(v['seasonal_naive'][m])}"
    lstm = "the LSTM + Theta blend" if (result.ensemble or {}).get("theta_weight") else "the LSTM"
    if v["beats_seasonal_naive"]:
        return f"Validation: {lstm} beats seasonal naive ({mase}); the bundle serves it."
    if result.serving == "seasonal-naive":
        return (f"Validation: {lstm} does NOT beat seasonal naive ({mase}); the bundle "
                "serves seasonal naive (--fallback seasonal-naive).")
    return (f"Validation: {lstm} does NOT beat seasonal naive ({mase}); the bundle serves "
            "it anyway: pass --fallback seasonal-naive to serve the baseline.")


@contextmanager
def epoch_progress(total: int, enabled: bool) -> Iterator[Any]:
    """Yield an ``on_epoch(epoch, logs)`` callback drawing a bar on stderr, or None.

    Drawn only when ``enabled`` and stderr is a terminal: cron mail and pipes stay clean. The
    bar goes when training ends, and one line stays in its place: "Training stopped at epoch
    86 of 200 (early stopping), best 66, val_loss 0.0047" (the best is the lowest val_loss,
    whose weights early stopping restores).
    """
    console = stderr()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
               TextColumn("{task.fields[losses]}"), TimeElapsedColumn())
    seen: dict[str, float] = {"epoch": 0, "best": 0, "val_loss": math.inf}
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("train", total=total, losses="")

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            val = logs.get("val_loss", math.nan)
            losses = f"loss {logs.get('loss', math.nan):.4f}  val_loss {val:.4f}"
            progress.update(task, completed=epoch + 1, losses=losses)
            seen["epoch"] = epoch + 1
            if val < seen["val_loss"]:
                seen["best"], seen["val_loss"] = epoch + 1, val

        yield on_epoch
    if seen["epoch"]:
        message(last_epoch_line(int(seen["epoch"]), total, int(seen["best"]), seen["val_loss"]))


def last_epoch_line(epoch: int, total: int, best: int, val_loss: float) -> str:
    """The line that stays after the progress bar."""
    how = " (early stopping)" if epoch < total else ""
    best_part = f", best {best}, val_loss {val_loss:.4g}" if best else ""
    return f"Training stopped at epoch {epoch} of {total}{how}{best_part}"
