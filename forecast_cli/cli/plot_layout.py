"""The layout every ``--plot`` figure shares, as a presenter wants it.

Time panels stacked on one shared x axis (a series that stopped early shows where it
stopped), tick labels only under the bottom one and never colliding (concise date labels),
the x label in words ("quarter", not "QS-JAN"), the series' name as each panel's title, one
legend for the figure above the panels (never over the data), a title in words. Matplotlib
with the headless Agg backend, imported lazily; the file is written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.io import atomic
from forecast_cli.pipeline.wording import step_word

MAX_PANELS = 4
HEADER = 1.15  # inches above the panels: the title (two lines at most), then the legend
BAND_ALPHA = {0: 0.15, 1: 0.3, 2: 0.4}  # widest band first and lightest
COLORS = {"model": "tab:blue", "seasonal_naive": "tab:green", "naive": "tab:grey",
          "actual": "black"}


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lower().lstrip(".") or "png", dpi=110,
                bbox_inches="tight")
    pyplot().close(fig)
    atomic.write_bytes(Path(path), buf.getvalue())
    return Path(path)


def panels(n: int, tz: str | None, extra: int = 0) -> tuple[Any, list[Any], list[Any]]:
    """A figure of ``n`` time panels sharing one x axis (ticks in zone ``tz``: the data is
    naive UTC), and ``extra`` panels of their own below; (figure, time axes, extra axes)."""
    plt = pyplot()
    import matplotlib.dates as mdates

    heights = [2.8] * n + [2.4] * extra
    height = HEADER + sum(heights) + 0.55 * (n + extra)  # room for each panel's title
    fig = plt.figure(figsize=(10, height))
    grid = fig.add_gridspec(n + extra, 1, height_ratios=heights, top=1 - HEADER / height,
                            bottom=0.5 / height, hspace=0.3 + 0.1 * (extra > 0))
    first = fig.add_subplot(grid[0])
    times = [first] + [fig.add_subplot(grid[i], sharex=first) for i in range(1, n)]
    for ax in times:
        if tz is not None:
            ax.xaxis_date(tz)  # before anything is drawn: it sets the axis' units
        locator = mdates.AutoDateLocator(  # type: ignore[no-untyped-call]
            minticks=3, maxticks=8, tz=tz)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
            locator, tz=tz))
        ax.grid(alpha=0.3)
    for ax in times[:-1]:
        ax.tick_params(labelbottom=False)
    others = [fig.add_subplot(grid[n + i]) for i in range(extra)]
    return fig, times, others


def label_panel(ax: Any, title: str, ylabel: str, note: str | None = None) -> None:
    """The series' name as the panel title, the column as y label, a score at the right."""
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    if note:
        ax.set_title(note, loc="right", fontsize=9, color="#333333")
    ax.set_ylabel(ylabel)


def finish(fig: Any, times: list[Any], title: str, freq: str | None, tz: str | None,
           why: str = "") -> None:
    """The x label in words under the bottom time panel, one legend, the title (and, on a
    second line, ``why`` these panels: "the 4 of 8 series with the largest LSTM MASE")."""
    times[-1].set_xlabel(step_word(freq) + (f" ({tz})" if tz else ""))
    handles: dict[str, Any] = {}
    for ax in times:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    height = fig.get_figheight()
    fig.suptitle(title, y=1 - 0.1 / height, va="top", fontsize=12)
    if why:
        fig.text(0.5, 1 - 0.38 / height, f"Panels: {why}", ha="center", va="top", fontsize=9,
                 color="#444444")
    fig.legend(list(handles.values()), list(handles), loc="upper center", frameon=False,
               ncol=len(handles) if len(handles) <= 7 else 4, fontsize=8,
               bbox_to_anchor=(0.5, 1 - 0.62 / height))


def bands(ax: Any, x: Any, bounds: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Shade intervals, widest first; bounds: (label, lower (H,), upper (H,))."""
    order = sorted(bounds, key=lambda b: -float(np.nanmean(b[2] - b[1])))
    for i, (label, lo, hi) in enumerate(order):
        ax.fill_between(x, lo, hi, color="tab:blue", alpha=BAND_ALPHA.get(i, 0.4), lw=0,
                        label=f"{label} % interval")


def joined(x0: Any, y0: float, x: Any, *ys: np.ndarray) -> tuple[Any, ...]:
    """``x`` and each ``ys`` (H,) with the last observation (x0, y0) in front, so that a
    forecast line (and its band, at zero width) starts where the history ends."""
    import pandas as pd

    xs = pd.DatetimeIndex([x0]).append(pd.DatetimeIndex(x))
    return (xs, *(np.r_[y0, y] for y in ys))


def choose(ids: list[str], wanted: tuple[str, ...] | None, key: dict[str, float],
           what: str) -> tuple[list[str], str]:
    """The series to draw and the words for why: ``wanted`` when given (those the run has),
    else the ``MAX_PANELS`` with the largest ``key`` (``what`` names it: "LSTM MASE"). The
    figure comes after the work: a name the run lacks is said in the figure, never an error."""
    unknown = [s for s in wanted or () if s not in ids]
    shown = [s for s in wanted or () if s in ids][:MAX_PANELS]
    if shown:
        lacks = f"; not in the data: {', '.join(unknown[:3])}" if unknown else ""
        return shown, f"{len(shown)} of {len(ids)} series, as asked{lacks}"
    if unknown:
        default, why = choose(ids, None, key, what)
        return default, f"{why} (none of {', '.join(unknown[:3])} is in the data)"
    ranked = sorted(ids, key=lambda s: -key.get(s, -np.inf) if np.isfinite(
        key.get(s, np.nan)) else np.inf)
    shown = ranked[:MAX_PANELS]
    if len(ids) <= MAX_PANELS:
        return shown, f"all {len(ids)} series, largest {what} first"
    return shown, f"the {len(shown)} of {len(ids)} series with the largest {what}"
