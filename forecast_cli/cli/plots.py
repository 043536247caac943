"""Figures for ``--plot FILE``: what a manager is shown (layout: ``plot_layout``).

Each figure has one panel per target column, or for many series one per series (at most
``MAX_PANELS``: those asked for with ``--series`` / ``--plot-series``, else the ones that
matter, and the title says which). Every forecast is drawn with the baselines it is scored
against, joined to the last observation before it, with its intervals shaded and its score in
the panel. Titles are words, dates at the data's resolution ("Dec 2001"). The extension
chooses the format (PNG, SVG or PDF; ``options.check_plot`` refuses others before any work).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast_cli.cli.plot_layout import (
    COLORS,
    MAX_PANELS,
    bands,
    choose,
    finish,
    joined,
    label_panel,
    panels,
    save,
)
from forecast_cli.pipeline.wording import METHOD_WORDS, date_words, mase_note, step_word

if TYPE_CHECKING:
    from forecast_cli.data.frame import Frame
    from forecast_cli.pipeline.backtest import BacktestResult
    from forecast_cli.pipeline.forecasting import Forecast
    from forecast_cli.pipeline.train_result import TrainResult

BASELINES = ("naive", "seasonal_naive")


def plot_train(r: TrainResult, path: Path, series: tuple[str, ...] | None = None) -> Path:
    """Draw ``train_figure`` to ``path``."""
    return save(train_figure(r, series), path)


def train_figure(r: TrainResult, series: tuple[str, ...] | None = None) -> Any:
    """The last test window of each panel: the full-horizon LSTM forecast beside the naive
    and seasonal naive ones (what the scores are about), the actuals and the intervals; below,
    the losses. For many series: the ``MAX_PANELS`` with the largest LSTM MASE, or ``series``."""
    f, s = r.frame, r.settings
    many = f.id_col is not None
    if many:
        key = {sid: float((sc.get("model") or {}).get("mase", np.nan))
               for sid, sc in r.per_series.items()}
        ids, why = choose(list(r.panel.ids), series, key, "LSTM MASE")
        views = [(list(r.panel.ids).index(sid), 0, sid) for sid in ids]
    else:
        views, why = [(0, j, name) for j, name in enumerate(s.target)][:MAX_PANELS], ""
    fig, axes, (loss_ax,) = panels(len(views), f.tz, extra=1)
    for (i, j, name), ax in zip(views, axes, strict=True):
        _test_panel(ax, r, i, j)
        scores = r.per_series[r.panel.ids[i]] if many else r.evaluation.scores
        label_panel(ax, name if many else f"{name}", s.target[j], mase_note(scores))
    _loss_panel(loss_ax, r)
    finish(fig, axes, f"{f.path.name}: the last test window, LSTM against the baselines",
           f.freq, f.tz, why)
    return fig


def _test_panel(ax: Any, r: TrainResult, i: int, j: int) -> None:
    """Series ``i``'s target ``j``: its test period's actuals, and its last test window's
    forecasts (LSTM and baselines) joined to the last observation, with interval bands."""
    f, s = r.frame, r.settings
    assert s.horizon is not None
    assert s.lookback is not None
    start, b = int(r.panel.starts[i]), r.panel.bounds[i]
    test_start, end = start + b.val_end, start + b.n
    first = max(start, end - max(6 * s.horizon, 2 * s.lookback), test_start - s.lookback)
    mine = np.flatnonzero(r.test_which == i)
    last = int(mine[-1])
    origin = int(r.test_origins[last])  # first target row of the last test window
    col = f.columns.index(s.target[j])
    ax.plot(f.timestamps[first:end], f.values[first:end, col], color=COLORS["actual"], lw=1.2,
            label="actual")
    x = f.timestamps[origin: origin + s.horizon]
    x0, y0 = f.timestamps[origin - 1], float(f.values[origin - 1, col])
    widths = r.calibration.series[r.panel.ids[i]].half_widths  # (levels, H, k)
    pred = r.evaluation.forecasts["model"][last, :, j]  # (H,)
    band = []
    for lv, w in zip(r.calibration.levels, widths, strict=True):
        xs, lo, hi = joined(x0, y0, x, pred - w[:, j], pred + w[:, j])
        band.append((f"{lv:g}", lo, hi))
    bands(ax, xs, band)
    for method in (*BASELINES, "model"):
        xs, ys = joined(x0, y0, x, r.evaluation.forecasts[method][last, :, j])
        ax.plot(xs, ys, color=COLORS[method], lw=2 if method == "model" else 1.2,
                ls="-" if method == "model" else "--", label=METHOD_WORDS[method])
    if first <= test_start:
        ax.axvline(f.timestamps[test_start], color="grey", ls=":", lw=0.8,
                   label="test period starts")


def _loss_panel(ax: Any, r: TrainResult) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    epochs = np.arange(1, len(r.history.get("loss", [])) + 1)
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        if key in r.history:
            ax.plot(epochs, r.history[key], marker=".", label=label)
    ax.axvline(r.best_epoch, color="grey", ls=":", label=f"best epoch ({r.best_epoch})")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))  # 0.02, not 2×10⁻²
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled)")
    ax.set_title(f"Training: stopped at epoch {len(epochs)}, best {r.best_epoch}", loc="left",
                 fontsize=10, fontweight="bold")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.8)


def _recent(fc: Forecast, data_path: Path) -> tuple[Frame, int]:
    """The data the forecast was made from, and how many recent rows to draw."""
    spec = fc.bundle.spec
    frame = fc.frame
    if frame is None:  # a Forecast built by hand: read the data as the model was trained
        from forecast_cli.pipeline.inputs import load_for

        frame = load_for(fc.bundle, Path(data_path))
    return frame, max(spec.lookback, 3 * spec.horizon)


def _forecast_panel(ax: Any, t: pd.DataFrame, name: str, times: Any,
                    history: np.ndarray) -> None:
    """One target of one series: history, then the forecast joined to its last value, with
    the shaded intervals from table ``t``."""
    ax.plot(times, history, color=COLORS["actual"], lw=1.2, label="history")
    x0, y0 = times[-1], float(history[-1])
    band = []
    for c in (c for c in t.columns if c.startswith(f"{name}_lower_")):
        xs, lo, hi = joined(x0, y0, t["timestamp"], t[c].to_numpy(),
                            t[c.replace("_lower_", "_upper_")].to_numpy())
        band.append((c.rsplit("_", 1)[1], lo, hi))
    xs, ys = joined(x0, y0, t["timestamp"], t[name].to_numpy())
    bands(ax, xs, band)
    ax.plot(xs, ys, color=COLORS["model"], lw=2, label="LSTM forecast")
    ax.plot(xs[1:], ys[1:], color=COLORS["model"], lw=0, marker=".")


def plot_forecast(fc: Forecast, data_path: Path, path: Path) -> Path:
    """Draw ``forecast_figure`` to ``path``."""
    return save(forecast_figure(fc, data_path), path)


def forecast_figure(fc: Forecast, data_path: Path) -> Any:
    """Recent history of ``data_path`` and the forecast with its intervals shaded.

    One panel per target (at most ``MAX_PANELS``); for a many-series model, one per series:
    those of ``--series``, else the ``MAX_PANELS`` with the largest recent volume (mean
    absolute value of the rows drawn), as the title says.
    """
    frame, n = _recent(fc, data_path)
    schema, t, tz = fc.bundle.schema, fc.table, fc.bundle.schema.tz
    h, freq = fc.bundle.spec.horizon, schema.freq
    origin = (pd.Timestamp(fc.origin) if tz is None  # naive UTC for zoned data: shown in tz
              else pd.Timestamp(fc.origin).tz_localize("UTC").tz_convert(tz))
    when = f"the next {h} {step_word(freq)}s after {date_words(origin, freq)}"
    if frame.id_col is None:
        targets = list(schema.targets)[:MAX_PANELS]
        fig, axes, _ = panels(len(targets), tz)
        for name, ax in zip(targets, axes, strict=True):
            col = frame.columns.index(name)
            _forecast_panel(ax, t, name, frame.timestamps[-n:], frame.values[-n:, col])
            label_panel(ax, name, name)
        finish(fig, axes, f"Forecast of {', '.join(targets)}: {when}", freq, tz)
        return fig
    name, ids = schema.targets[0], t[frame.id_col].astype(str)
    edges, col = frame.bounds(), frame.columns.index(name)
    rows = {sid: slice(max(edges[j], edges[j + 1] - n), edges[j + 1])
            for j, sid in enumerate(frame.series_ids)}
    present = list(dict.fromkeys(ids))
    volume = {sid: float(np.nanmean(np.abs(frame.values[rows[sid], col]))) for sid in present}
    shown, why = choose(present, None, volume, "recent volume")
    fig, axes, _ = panels(len(shown), tz)
    for sid, ax in zip(shown, axes, strict=True):
        _forecast_panel(ax, t[ids == sid], name, frame.timestamps[rows[sid]],
                        frame.values[rows[sid], col])
        label_panel(ax, sid, name)
    finish(fig, axes, f"Forecast of {name}: {when}", freq, tz, why)
    return fig


def plot_backtest(r: BacktestResult, path: Path, series: tuple[str, ...] | None = None) -> Path:
    """Draw ``backtest_figure`` to ``path``."""
    return save(backtest_figure(r, series), path)


def backtest_figure(r: BacktestResult, series: tuple[str, ...] | None = None) -> Any:
    """The series over the backtest span with each fold's LSTM and seasonal naive forecasts,
    the intervals of each fold, and each fold's MASE (LSTM / seasonal naive) above it.

    One panel per target column; with several series, one per series (``series``, else the
    ``MAX_PANELS`` with the largest LSTM MASE over the folds), for the first target.
    """
    from forecast_cli.cli.plots_backtest import draw_folds

    f, s = r.frame, r.settings
    if r.panel:
        key = {sid: float((sc.get("model") or {}).get("mase", np.nan))
               for sid, sc in r.series.items()}
        ids, why = choose(list(r.layout.ids), series, key, "LSTM MASE")
        shown = [(list(r.layout.ids).index(sid), 0) for sid in ids]
    else:
        shown, why = [(0, j) for j in range(len(s.target))][:MAX_PANELS], ""
    fig, axes, _ = panels(len(shown), f.tz)
    for ax, (i, j) in zip(axes, shown, strict=True):
        draw_folds(ax, r, i, j)
        scores = r.series[r.layout.ids[i]] if r.panel else r.overall
        label_panel(ax, r.layout.ids[i] if r.panel else s.target[j], s.target[j],
                    mase_note(scores))
    title = (f"{f.path.name}: backtest, {len(r.folds)} forecast origins "
             f"({s.train_window} training window), {s.horizon} {step_word(f.freq)}s ahead")
    finish(fig, axes, title, f.freq, f.tz, why)
    return fig
