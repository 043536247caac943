"""Figures for ``--plot FILE``: matplotlib with the headless Agg backend, imported lazily.

Each figure shows one panel per target column (at most ``MAX_PANELS``): recent history, the
forecasts, the actuals where known and the prediction intervals shaded, with a title, dated x
axis, the column name as y label and a legend. The extension chooses the format (PNG, SVG or
PDF; ``options.check_plot`` refuses others before any work). A time axis is labelled in the
data's zone (``--tz``, or UTC for timestamps with offsets). The file is written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast_cli.io import atomic
from forecast_cli.io.forecast_output import stamp

if TYPE_CHECKING:
    from forecast_cli.data.frame import Frame
    from forecast_cli.pipeline.backtest import BacktestResult
    from forecast_cli.pipeline.forecasting import Forecast
    from forecast_cli.pipeline.train_result import TrainResult

MAX_PANELS = 4
BAND_ALPHA = {0: 0.15, 1: 0.3, 2: 0.4}  # widest band first and lightest


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lower().lstrip(".") or "png", dpi=110,
                bbox_inches="tight")
    _pyplot().close(fig)
    atomic.write_bytes(Path(path), buf.getvalue())
    return Path(path)


def _bands(ax: Any, x: Any, bounds: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Shade intervals, widest first; bounds: (label, lower (H,), upper (H,))."""
    order = sorted(bounds, key=lambda b: -float(np.nanmean(b[2] - b[1])))
    for i, (label, lo, hi) in enumerate(order):
        ax.fill_between(x, lo, hi, color="tab:blue", alpha=BAND_ALPHA.get(i, 0.4), lw=0,
                        label=f"{label} % interval")


def _panels(plt: Any, k: int, tz: str | None, extra: int = 0) -> tuple[Any, list[Any]]:
    """A figure of ``min(k, MAX_PANELS)`` time panels (their ticks in zone ``tz``: the data is
    naive UTC) and ``extra`` others below them."""
    n = min(k, MAX_PANELS) + extra
    fig, axes = plt.subplots(n, 1, figsize=(10, 3.2 * n), squeeze=False)
    if tz is not None:
        for ax in axes[: n - extra, 0]:
            ax.xaxis_date(tz)  # before anything is drawn: it sets the axis' units
    return fig, list(axes[:, 0])


def _finish(ax: Any, column: str, freq: str, tz: str | None = None) -> None:
    ax.set_ylabel(column)
    ax.set_xlabel(f"time ({tz}, step: {freq})" if tz else f"time (step: {freq})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)


def plot_train(r: TrainResult, path: Path) -> Path:
    """End of the test period: actuals, 1-step forecasts, the last window with intervals; losses.

    One panel per target for one series; for many series (``--id-col``) one panel per series
    (the first target, the first ``MAX_PANELS`` series). Each covers the last
    ``max(6·horizon, 2·lookback)`` rows of its series (at most its test period plus one
    lookback), so the final window and its intervals stay legible.
    """
    plt = _pyplot()
    f, s = r.frame, r.settings
    many = f.id_col is not None
    views = ([(i, 0, f"{s.target[0]} ({f.id_col} {sid})") for i, sid in enumerate(r.panel.ids)]
             if many else [(0, j, name) for j, name in enumerate(s.target)])
    fig, axes = _panels(plt, len(views), f.tz, extra=1)
    for (i, j, label), ax in zip(views, axes[:-1], strict=False):
        _test_panel(ax, r, i, j, label)
    shown = f"{min(len(views), MAX_PANELS)} of {len(views)} series, " if many else ""
    axes[0].set_title(f"forecast train: {f.path.name}, {shown}end of the test period")
    _loss_panel(axes[-1], r)
    fig.tight_layout()
    return _save(fig, path)


def _test_panel(ax: Any, r: TrainResult, i: int, j: int, label: str) -> None:
    """Series ``i``'s target ``j``: recent actuals, its test windows' 1-step forecasts, and
    its last test window with the interval bands."""
    f, s = r.frame, r.settings
    assert s.horizon is not None
    assert s.lookback is not None
    start, b = int(r.panel.starts[i]), r.panel.bounds[i]
    test_start, end = start + b.val_end, start + b.n
    first = max(start, end - max(6 * s.horizon, 2 * s.lookback), test_start - s.lookback)
    mine = r.test_which == i
    origins, pred = r.test_origins[mine], r.evaluation.forecasts["model"][mine]  # (m_i, H, k)
    col = f.columns.index(s.target[j])
    ax.plot(f.timestamps[first:end], f.values[first:end, col], color="black", lw=1,
            label="actual")
    near = origins >= first
    ax.plot(f.timestamps[origins[near]], pred[near, 0, j], color="tab:orange", lw=1,
            label="1-step-ahead forecast")
    last_x = f.timestamps[int(origins[-1]): int(origins[-1]) + s.horizon]
    widths = r.calibration.series[r.panel.ids[i]].half_widths  # (levels, H, k)
    _bands(ax, last_x, [(f"{lv:g}", pred[-1, :, j] - w[:, j], pred[-1, :, j] + w[:, j])
                        for lv, w in zip(r.calibration.levels, widths, strict=True)])
    ax.plot(last_x, pred[-1, :, j], color="tab:blue", lw=1.5,
            label=f"last test window ({s.horizon} steps)")
    if first <= test_start:
        ax.axvline(f.timestamps[test_start], color="grey", ls=":", label="test period")
    _finish(ax, label, f.freq, f.tz)


def _loss_panel(ax: Any, r: TrainResult) -> None:
    epochs = np.arange(1, len(r.history.get("loss", [])) + 1)
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        if key in r.history:
            ax.plot(epochs, r.history[key], marker=".", label=label)
    ax.axvline(r.best_epoch, color="grey", ls=":", label=f"best epoch ({r.best_epoch})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled units)")
    ax.set_title("loss curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _recent(fc: Forecast, data_path: Path) -> tuple[Frame, int]:
    """The data the forecast was made from, and how many recent rows to draw."""
    spec = fc.bundle.spec
    frame = fc.frame
    if frame is None:  # a Forecast built by hand: read the data as the model was trained
        from forecast_cli.pipeline.inputs import load_for

        frame = load_for(fc.bundle, Path(data_path))
    return frame, max(spec.lookback, 3 * spec.horizon)


def _forecast_panel(ax: Any, t: pd.DataFrame, name: str, times: Any, history: np.ndarray,
                    label: str, freq: str, tz: str | None) -> None:
    """One target of one series: history, forecast and shaded intervals from table ``t``."""
    ax.plot(times, history, color="black", lw=1, label="history")
    bands = [(c.rsplit("_", 1)[1], t[c].to_numpy(), t[c.replace("_lower_", "_upper_")]
              .to_numpy()) for c in t.columns if c.startswith(f"{name}_lower_")]
    _bands(ax, t["timestamp"], bands)
    ax.plot(t["timestamp"], t[name], color="tab:blue", lw=1.5, marker=".", label="forecast")
    _finish(ax, label, freq, tz)


def plot_forecast(fc: Forecast, data_path: Path, path: Path) -> Path:
    """Recent history of ``data_path`` and the forecast with its intervals shaded.

    One panel per target (at most ``MAX_PANELS``); for a many-series model, one panel per
    series (the first target, the first ``MAX_PANELS`` series of the forecast).
    """
    plt = _pyplot()
    frame, n = _recent(fc, data_path)
    schema, t, tz = fc.bundle.schema, fc.table, fc.bundle.schema.tz
    if frame.id_col is None:
        targets = list(schema.targets)
        fig, axes = _panels(plt, len(targets), tz)
        for name, ax in zip(targets, axes, strict=False):
            col = frame.columns.index(name)
            _forecast_panel(ax, t, name, frame.timestamps[-n:], frame.values[-n:, col], name,
                            schema.freq, tz)
        axes[0].set_title(f"forecast predict: {len(t)} steps after {stamp(fc.origin, tz)}")
    else:
        name, ids = schema.targets[0], t[frame.id_col].astype(str)
        shown = list(dict.fromkeys(ids))
        fig, axes = _panels(plt, len(shown), tz)
        edges, col = frame.bounds(), frame.columns.index(name)
        for sid, ax in zip(shown, axes, strict=False):
            j = frame.series_ids.index(sid)
            rows = slice(max(edges[j], edges[j + 1] - n), edges[j + 1])
            _forecast_panel(ax, t[ids == sid], name, frame.timestamps[rows],
                            frame.values[rows, col], f"{name} ({frame.id_col} {sid})",
                            schema.freq, tz)
        axes[0].set_title(f"forecast predict: {min(len(shown), MAX_PANELS)} of {len(shown)} "
                          f"series, {fc.bundle.spec.horizon} steps each")
    fig.tight_layout()
    return _save(fig, path)


def plot_backtest(r: BacktestResult, path: Path) -> Path:
    """The series over the backtest span with each fold's forecast and baseline.

    One panel per target column; with several series, one per series (the first
    ``MAX_PANELS``), for the first target.
    """
    plt = _pyplot()
    f, s = r.frame, r.settings
    assert s.lookback is not None
    assert s.horizon is not None
    shown = ([(0, j) for j in range(len(s.target))] if not r.panel else
             [(i, 0) for i in range(len(r.layout.ids))])
    fig, axes = _panels(plt, len(shown), f.tz)
    for ax, (i, j) in zip(axes, shown, strict=False):
        a, n = int(r.layout.starts[i]), int(r.layout.lengths[i])
        col = f.columns.index(s.target[j])
        start = a + max(0, r.folds[0].folds[i].origin - 2 * s.lookback)
        ax.plot(f.timestamps[start:a + n], f.values[start:a + n, col], color="black", lw=1,
                label="actual")
        for k, fr in enumerate(r.folds):
            origin = a + fr.folds[i].origin
            x = f.timestamps[origin:origin + s.horizon]
            ax.plot(x, fr.forecasts["model"][i, :, j], color="tab:blue", lw=1.5,
                    label="LSTM" if k == 0 else None)
            ax.plot(x, fr.forecasts["seasonal_naive"][i, :, j], color="tab:green", lw=1,
                    ls="--", label="seasonal naive" if k == 0 else None)
            ax.axvline(f.timestamps[origin], color="grey", ls=":", lw=0.8,
                       label="fold origin" if k == 0 else None)
        _finish(ax, s.target[j] + (f" ({r.layout.ids[i]})" if r.panel else ""), f.freq, f.tz)
    axes[0].set_title(f"forecast backtest: {f.path.name}, {len(r.folds)} folds "
                      f"({s.train_window} window), horizon {s.horizon}"
                      + (f", {len(shown)} of {len(r.layout.ids)} series" if r.panel else ""))
    fig.tight_layout()
    return _save(fig, path)
