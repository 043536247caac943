"""One panel of ``backtest --plot``: the actuals, and each fold's forecasts with the intervals
computed for it and its score above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from forecast_cli.cli.plot_layout import COLORS, bands, joined
from forecast_cli.pipeline.wording import METHOD_WORDS

if TYPE_CHECKING:
    from forecast_cli.pipeline.backtest import BacktestResult


def draw_folds(ax: Any, r: BacktestResult, i: int, j: int) -> None:
    """Series ``i``'s target ``j`` from two lookbacks before the first origin to its end; at
    each origin, that fold's MASE (LSTM, seasonal naive)."""
    f, s = r.frame, r.settings
    assert s.lookback is not None
    assert s.horizon is not None
    a, n = int(r.layout.starts[i]), int(r.layout.lengths[i])
    col = f.columns.index(s.target[j])
    start = a + max(0, r.folds[0].folds[i].origin - 2 * s.lookback)
    ax.plot(f.timestamps[start:a + n], f.values[start:a + n, col], color=COLORS["actual"],
            lw=1.2, label="actual")
    sid = r.layout.ids[i]
    for fr in r.folds:
        origin = a + fr.folds[i].origin
        x = f.timestamps[origin:origin + s.horizon]
        x0, y0 = f.timestamps[origin - 1], float(f.values[origin - 1, col])
        pred = fr.forecasts["model"][i, :, j]  # (H,)
        calib = fr.calibration.series.get(sid)
        if calib is not None:
            band = []
            for lv, w in zip(fr.calibration.levels, calib.half_widths, strict=True):
                xs, lo, hi = joined(x0, y0, x, pred - w[:, j], pred + w[:, j])
                band.append((f"{lv:g}", lo, hi))
            bands(ax, xs, band)
        for method in ("seasonal_naive", "model"):
            xs, ys = joined(x0, y0, x, fr.forecasts[method][i, :, j])
            ax.plot(xs, ys, color=COLORS[method], lw=2 if method == "model" else 1.2,
                    ls="-" if method == "model" else "--", label=METHOD_WORDS[method])
        ax.axvline(x0, color="grey", ls=":", lw=0.8, label="forecast origin")
        scores = fr.series_scores[i] if r.panel else fr.scores
        model = (scores.get("model") or {}).get("mase", np.nan)
        base = (scores.get("seasonal_naive") or {}).get("mase", np.nan)
        if np.isfinite(model) and np.isfinite(base):
            ax.annotate(f"LSTM {model:.2f}\ns-naive {base:.2f}", xy=(x0, 1.0),
                        xycoords=("data", "axes fraction"), xytext=(3, -3),
                        textcoords="offset points", va="top",
                        fontsize=7, color="#333333",
                        bbox={"facecolor": "white", "alpha": 0.75, "lw": 0, "pad": 1})
