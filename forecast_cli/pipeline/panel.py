"""Many series in one long file (``--id-col``): layout, per-series splits, scaling and scores.

The frame stacks the series (``Frame.bounds()``). Every series is split by time on its own
(``splits.split_bounds`` on its rows), scaled with statistics of its own training rows, and
contributes windows whose rows all lie inside it: a window origin ``t`` of series ``i`` has
``start_i + lookback ≤ t`` and ``t + horizon ≤ end_i``, so no window crosses two series. With
``--fill drop`` no window reads a row with a missing value either (``keepout``). All windows of
all series then go through one global network in batches.

A series too short for that split is kept, flagged ``short``: its test part is its last
horizon, its validation part the horizon before, it trains on what is left, and its windows
may start before ``lookback`` rows of it: the rows before its first are read as its first
(edge padding: ``window_dataset``'s ``first_rows``), so it is forecast and validated on its
own last horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast_cli.core import keepout, metrics
from forecast_cli.core.scaling import SeriesScalers, fit_scaler
from forecast_cli.core.splits import (
    PARTS,
    Part,
    SplitBounds,
    check_length,
    origins,
    split_bounds,
)
from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError


@dataclass(frozen=True)
class Panel:
    """The series kept for training, with their local split bounds and global row offsets."""

    ids: tuple[str, ...]
    starts: np.ndarray  # (S,) global row of each kept series' first row
    bounds: tuple[SplitBounds, ...]  # local rows of each kept series
    skipped: tuple[str, ...]  # series too short, with the reason in ``warnings``
    warnings: tuple[str, ...]
    missing: np.ndarray | None = None  # (n,) bool rows kept out by --fill drop; None: none
    season: int | None = None  # scored (test) windows also need their seasonal-naive rows
    short: tuple[bool, ...] = ()  # per kept series: too short for the split, edge-padded

    def is_short(self, i: int) -> bool:
        """Series ``i`` has the short layout (last horizons held out, padded windows)."""
        return bool(self.short and self.short[i])

    def origins(self, part: Part, lookback: int, horizon: int,
                complete_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Global origins of every window of ``part`` and the series index of each. (m,), (m,).

        ``complete_only``: only windows that read no missing row (all of them without any).
        """
        found = [(self._complete(self.starts[i] + origins(b, part, self._reach(i, lookback),
                                                          horizon),
                                 part, lookback, horizon, complete_only, int(self.starts[i])), i)
                 for i, b in enumerate(self.bounds)]
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        glob = np.concatenate([o for o, _ in found]).astype(np.int64)
        if len(found) == 1:  # one series: a read-only view of 0, no 8 bytes per window
            return glob, np.broadcast_to(np.int64(found[0][1]), glob.shape)
        which = np.concatenate([np.full(len(o), i, np.int64) for o, i in found])
        return glob, which

    def _reach(self, i: int, lookback: int) -> int:
        """The first local origin of series ``i``: ``lookback``, or ``SHORT_REACH`` padded."""
        return min(SHORT_REACH, lookback) if self.is_short(i) else lookback

    def _complete(self, at: np.ndarray, part: Part, lookback: int, horizon: int,
                  complete_only: bool, start: int) -> np.ndarray:
        if self.missing is None or not complete_only:
            return at
        reads = np.minimum(lookback, at - start)  # a padded window reads its rows from start
        return keepout.complete(self.missing, at, reads, horizon,
                                self.season if part == "test" else None)


SHORT_REACH = 1  # a padded window of a short series reads at least this many of its own rows
MIN_ROWS = 2  # fewer rows than this: nothing to learn a level from; the series is refused


def short_bounds(n: int, horizon: int, season: int) -> SplitBounds:
    """Split of a series too short for the fractions: test its last horizon, validation the
    horizon before, training the rest. A part with no room is empty (``val_end == n``: no
    test window; ``train_end == val_end``: no validation window). Test needs ``season`` rows
    before it for seasonal naive, validation at least one row of training before it."""
    val_end = n - horizon if n - horizon >= max(season, SHORT_REACH) else n
    train_end = val_end - horizon if val_end - horizon >= SHORT_REACH else val_end
    return SplitBounds(n=n, train_end=train_end, val_end=val_end)


def layout(frame: Frame, train_frac: float, val_frac: float, lookback: int, horizon: int,
           season: int, strict: bool) -> Panel:
    """Split every series; skip (or, with ``strict``, refuse) those without a window per part.

    A file without ``--id-col`` is a panel of one whose series cannot be skipped: it is
    checked as one series and refused with the reason (``_single``).
    """
    if frame.id_col is None:
        return _single(frame, train_frac, val_frac, lookback, horizon, season)
    edges = frame.bounds()
    keep: list[int] = []
    bounds: list[SplitBounds] = []
    padded: list[bool] = []
    short: list[str] = []
    tiny: list[str] = []
    missing = frame.missing_rows()
    for i, name in enumerate(frame.series_ids):
        n = int(edges[i + 1] - edges[i])
        b = split_bounds(n, train_frac, val_frac)
        gone = missing[edges[i]: edges[i + 1]]
        found = {p: keepout.complete(gone, origins(b, p, lookback, horizon), lookback, horizon,
                                     season if p == "test" else None) for p in PARTS}
        fits = min(len(o) for o in found.values()) > 0 and found["test"][0] >= season
        if fits or n - int(gone.sum()) >= MIN_ROWS:
            bounds.append(b if fits else short_bounds(n, horizon, season))
            short += [] if fits else [f"{name} ({n} rows)"]
            padded.append(not fits)
        else:
            tiny.append(f"{name} ({n} rows" + (f", {int(gone.sum())} kept out)" if gone.any()
                                                else ")"))
            continue
        keep.append(i)
    warnings = _short_warnings(frame, short, tiny, lookback, horizon, strict or not keep)
    return Panel(ids=tuple(frame.series_ids[i] for i in keep),
                 starts=np.asarray([edges[i] for i in keep], np.int64), bounds=tuple(bounds),
                 skipped=tuple(s.split(" (")[0] for s in tiny), warnings=warnings,
                 missing=missing if missing.any() else None, season=season,
                 short=tuple(padded) if any(padded) else ())


def _short_warnings(frame: Frame, short: list[str], tiny: list[str], lookback: int,
                    horizon: int, refuse: bool) -> tuple[str, ...]:
    """What the layout says about short series (kept, padded) and those refused (fewer than
    ``MIN_ROWS`` complete rows); DataError for the refused ones when ``refuse`` (--strict, or
    nothing left)."""
    out: list[str] = []
    if short:
        out.append(f"{frame.path}: {len(short)} series too short for lookback {lookback} + "
                   f"horizon {horizon} with a window in train, validation and test are forecast "
                   "from padded windows and validated on their own last horizon "
                   "(short_history in metrics.json and the forecasts): "
                   + ", ".join(short[:20]) + (" …" if len(short) > 20 else "") + ".")
    if tiny:
        text = (f"{frame.path}: {len(tiny)} series with fewer than {MIN_ROWS} complete rows, "
                "left out: " + ", ".join(tiny[:20]) + (" …" if len(tiny) > 20 else ""))
        if refuse:
            raise DataError(text + ". Fix: drop them from the file, or give them more rows.")
        out.append(text + ".")
    return tuple(out)


def _single(frame: Frame, train_frac: float, val_frac: float, lookback: int, horizon: int,
            season: int) -> Panel:
    """The panel of one series: DataError naming what is short (rows, complete windows,
    rows before the test period for seasonal naive) instead of skipping it."""
    source = str(frame.path)
    bounds = check_length(len(frame.values), train_frac, val_frac, lookback, horizon, source)
    parts = keepout.split_origins(frame.values, bounds, lookback, horizon, season, source)
    if parts["test"][0] < season:
        raise DataError(f"{frame.path}: season {season} is longer than the {parts['test'][0]} "
                        "rows before the test period; seasonal naive cannot be scored. Pass a "
                        "shorter --season.")
    missing = frame.missing_rows()
    return Panel(ids=("",), starts=np.zeros(1, np.int64), bounds=(bounds,), skipped=(),
                 warnings=(), missing=missing if missing.any() else None, season=season)


def series_scalers(frame: Frame, panel: Panel, kind: str) -> SeriesScalers:
    """One scaler per kept series, fitted on its own training rows only (a short series with
    fewer than ``MIN_ROWS`` complete training rows: on its rows before the test part)."""
    return SeriesScalers(tuple(
        fit_scaler(kind, frame.values[fit_rows(frame, panel, i)])
        for i in range(len(panel.ids))))


def fit_rows(frame: Frame, panel: Panel, i: int) -> slice:
    """The global rows series ``i``'s scaler is fitted on."""
    a, b = int(panel.starts[i]), panel.bounds[i]
    rows = slice(a, a + b.train_end)
    if panel.is_short(i) and np.isfinite(frame.values[rows]).all(axis=1).sum() < MIN_ROWS:
        rows = slice(a, a + max(b.val_end, b.train_end))
    return rows


def mase_scales(frame: Frame, panel: Panel, season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE of each kept series' training rows (a short series: its
    rows before the test part, as the M competitions scale it). (S, k)."""
    return np.stack([metrics.mase_scale(
        frame.values[int(a): int(a) + (b.val_end if panel.is_short(i) else b.train_end)],
        season) for i, (a, b) in enumerate(zip(panel.starts, panel.bounds, strict=True))])


def scores(actual: np.ndarray, forecast: np.ndarray, which: np.ndarray,
           scales: np.ndarray) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Overall and per-series metrics. MASE overall: mean |error| / its own series' scale."""
    per = {int(i): metrics.score(actual[which == i], forecast[which == i], scales[i])
           for i in np.unique(which)}
    if len(scales) == 1:  # one series: the overall score is that series' score
        return dict(per.get(0, metrics.score(actual, forecast, scales[0]))), per
    overall = metrics.score(actual, forecast, np.ones(actual.shape[-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.abs(actual - forecast) / scales[which][:, None, :]
    finite = scaled[np.isfinite(scaled)]  # none when every series' scale is 0: undefined
    overall["mase"] = float(finite.mean()) if finite.size else float("nan")
    return overall, per


def score_methods(actual: np.ndarray, forecasts: dict[str, np.ndarray], which: np.ndarray,
                  scales: np.ndarray, ids: tuple[str, ...] | list[str],
                  ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """``scores`` of every method: overall (method → metric) and per series id (id → method →
    metric). actual and each forecast (m, H, k); which (m,) indexes ``ids`` and scales (S, k)."""
    overall: dict[str, dict[str, float]] = {}
    per: dict[str, dict[str, dict[str, float]]] = {sid: {} for sid in ids}
    for method, f in forecasts.items():
        overall[method], by_series = scores(actual, f, which, scales)
        for i, sc in by_series.items():
            per[ids[i]][method] = sc
    return overall, {sid: m for sid, m in per.items() if m}  # a short series may have no test
