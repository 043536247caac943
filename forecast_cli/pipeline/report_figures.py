"""The figures of ``forecast report``, drawn from a run's test_forecasts.csv (no data file,
no network): the last test window of each series shown, with the baselines, the intervals and
the actuals, joined to the history before it. Matplotlib (Agg) is imported lazily.

Figures are PNG bytes, to be inlined in the page as data URIs (no network fetch).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

COLORS = {"model": "tab:blue", "seasonal_naive": "tab:green", "naive": "tab:grey"}
LABELS = {"model": "LSTM", "seasonal_naive": "seasonal naive", "naive": "naive (last value)"}
MAX_PANELS = 4


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def last_window(table: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the one-step actuals of every test window, the last window's rows) for ``target`` of
    one series' rows of test_forecasts.csv."""
    rows = table[table["target"] == target]
    tail = rows[rows["origin"] == rows["origin"].max()].sort_values("step")
    actual = pd.concat([rows[rows["step"] == 1], tail]).drop_duplicates("timestamp")
    return actual[["origin", "timestamp", "actual"]].sort_values("timestamp"), tail


def draw_window(ax: Any, actual: pd.DataFrame, tail: pd.DataFrame, levels: list[str]) -> None:
    """Actuals of the test period, then the last window's forecasts, each line joined to the
    last actual before its first step, and its interval bands (widest lightest)."""
    x = pd.to_datetime(actual["timestamp"])
    ax.plot(x, actual["actual"], color="black", lw=1.2, label="actual")
    known = actual[x <= pd.to_datetime(tail["origin"].iloc[0])]
    join_x = pd.to_datetime(known["timestamp"]).iloc[-1:] if len(known) else None
    join_y = known["actual"].to_numpy()[-1:] if len(known) else np.array([])
    fx = pd.to_datetime(tail["timestamp"])
    xs = fx if join_x is None else pd.concat([join_x, fx])
    for level, alpha in zip(sorted(levels, key=float, reverse=True), (0.15, 0.3, 0.4),
                            strict=False):
        lo, hi = tail[f"lower_{level}"].to_numpy(), tail[f"upper_{level}"].to_numpy()
        ax.fill_between(xs, np.r_[join_y, lo], np.r_[join_y, hi], color="tab:blue",
                        alpha=alpha, lw=0, label=f"{level} % interval")
    for method in ("naive", "seasonal_naive", "model"):
        if method in tail:
            ax.plot(xs, np.r_[join_y, tail[method].to_numpy()], color=COLORS[method],
                    lw=2 if method == "model" else 1.2, ls="-" if method == "model" else "--",
                    label=LABELS[method])
    ax.grid(alpha=0.3)


def interval_levels(table: pd.DataFrame) -> list[str]:
    return [c.removeprefix("lower_") for c in table.columns if c.startswith("lower_")]


def forecast_figure(table: pd.DataFrame, target: str, id_col: str | None, shown: list[str],
                    title: str, unit: str, notes: dict[str | None, str] | None = None) -> bytes:
    """One panel per series in ``shown`` (or the one series), shared x axis, one legend;
    ``notes``: the text at the right above each panel (its score), by series (None: the one
    series)."""
    plt = pyplot()
    n = max(1, len(shown))
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.6 + 2.2 * (n - 1)) if n > 1 else (9, 3.6),
                             sharex=True, squeeze=False)
    levels = interval_levels(table)
    panels: list[str | None] = list(shown) or [None]
    for ax, sid in zip(axes[:, 0], panels, strict=True):
        rows = table if sid is None or id_col is None else table[table[id_col].astype(str) == sid]
        actual, tail = last_window(rows, target)
        draw_window(ax, actual, tail, levels)
        ax.set_ylabel(target)
        if sid is not None and id_col is not None:
            ax.set_title(f"{sid}", fontsize=10, loc="left", fontweight="bold")
        if (notes or {}).get(sid):
            ax.set_title((notes or {})[sid], fontsize=9, loc="right", color="#333333")
    axes[-1, 0].set_xlabel(unit)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(title, y=1.06 if n == 1 else 1.03, fontsize=12)
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    axes[-1, 0].xaxis.set_major_locator(locator)
    axes[-1, 0].xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    fig.tight_layout()
    return png(fig)


def backtest_figure(folds: list[tuple[str, dict[str, Any]]], title: str) -> bytes:
    """Each forecast origin's MASE (x: the fold's first target, in words) for the LSTM and
    the baselines, as grouped bars: does the model win at every origin, or only on average?"""
    plt = pyplot()
    methods = [m for m in ("model", "seasonal_naive", "naive")
               if any(m in scores for _, scores in folds)]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    x = np.arange(len(folds))
    width = 0.8 / max(1, len(methods))
    for k, m in enumerate(methods):
        values = [_mase(scores, m) for _, scores in folds]
        bars = ax.bar(x + (k - (len(methods) - 1) / 2) * width, values, width,
                      color=COLORS[m], label=LABELS[m], alpha=0.9 if m == "model" else 0.6)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.axhline(1.0, color="#888888", lw=0.8, ls=":")
    ax.set_xticks(x, [label for label, _ in folds])
    ax.set_ylabel("MASE (lower is better)")
    ax.set_xlabel("forecast origin (first forecast step)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.14), ncol=len(methods), fontsize=8,
              frameon=False)
    fig.suptitle(title, y=1.08, fontsize=12)
    return png(fig)


def _mase(scores: dict[str, Any], method: str) -> float:
    value = (scores.get(method) or {}).get("mase") if isinstance(scores, dict) else None
    return float(value) if isinstance(value, int | float) else float("nan")
