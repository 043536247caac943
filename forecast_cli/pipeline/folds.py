"""Rolling-origin folds of a backtest, for every series of a frame (one without ``--id-col``).

Fold ``i`` of ``K`` (0-based) forecasts the ``horizon`` rows from its origin
``o_i = n − horizon − (K − 1 − i)·step``, so the last fold ends at the series' last row and
origins are ``step`` rows apart. Its training part is rows ``[start_i, o_i)``: ``start_i = 0``
for an expanding window, ``o_i − o_0`` for a sliding one (the length of fold 0's part). The
last ``val_share`` of the training part (``val_frac / (train_frac + val_frac)``) is held out for
early stopping and the scaler is fitted on the rest, so nothing at or after the origin is ever
seen.

With several series (``--id-col``) each series gets the folds of its own length ``n``, in rows
local to it: fold ``i`` of a series that ends later starts later, and no window crosses from
one series into the next. A series of a panel too short for the folds with the lookback gets
them with padded windows (reading at least ``SHORT_REACH`` rows of its own, the rest its first
row's, as ``train``'s short series), flagged ``short_history``; one too short even so is left
out with a warning; the backtest is refused when none is left, or with ``strict``. One series
is the same computation with ``S = 1``, and keeps today's messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast_cli.data.frame import Frame
from forecast_cli.errors import DataError

SHOWN = 20  # skipped series named in a message
SHORT_REACH = 1  # a padded window reads at least this many rows of its own (panel.SHORT_REACH)


@dataclass(frozen=True)
class Fold:
    """Row boundaries of one fold. Rows are 0-based; ranges half-open."""

    index: int
    train_start: int  # first row of the training part
    val_start: int  # first row held out for early stopping; training part ends at ``origin``
    origin: int  # first forecast row: targets are rows [origin, origin + horizon)
    fitted_at: int  # index of the fold whose network (and scaler) forecasts this one

    @property
    def refit(self) -> bool:
        return self.fitted_at == self.index


def fold_plan(n: int, lookback: int, horizon: int, folds: int, step: int, window: str,
              val_share: float, refit_every: int, source: str = "data",
              short: bool = False) -> list[Fold]:
    """The folds of a rolling-origin backtest over ``n`` rows; DataError when too short.
    ``short``: the validation part is the last horizon before each origin (train's short
    layout), not ``val_share`` of the training part."""
    first = n - horizon - (folds - 1) * step  # origin of fold 0 = length of its training part
    plan = []
    for i in range(folds):
        origin = first + i * step
        start = 0 if window == "expanding" else origin - first
        val_start = origin - (horizon if short else round((origin - start) * val_share))
        plan.append(Fold(i, start, val_start, origin, i - i % refit_every))
    _check_plan(plan[0], n, lookback, horizon, folds, step, source)
    return plan


def _check_plan(f: Fold, n: int, lookback: int, horizon: int, folds: int, step: int,
                source: str) -> None:
    """Fold 0 (the shortest history) must have a training and a validation window."""
    train_ok = f.val_start - horizon >= max(f.train_start + lookback, lookback)
    val_ok = f.origin - horizon >= max(f.val_start, f.train_start + lookback)
    if f.origin > 0 and train_ok and val_ok:
        return
    raise DataError(
        f"{source}: series too short for {folds} folds {step} rows apart with lookback "
        f"{lookback} and horizon {horizon}: fold 1 would train on rows [{f.train_start}, "
        f"{f.origin}) of {n}, which leaves no training or validation window. Use fewer "
        "--folds, a smaller --fold-step, a shorter lookback or horizon, or more data.")


def fold_origins(f: Fold, lookback: int, horizon: int) -> dict[str, np.ndarray]:
    """Training and validation window origins of a fold (targets never reach ``f.origin``)."""
    low = max(f.train_start + lookback, lookback)
    return {"train": np.arange(low, f.val_start - horizon + 1, dtype=np.int64),
            "val": np.arange(max(f.val_start, low), f.origin - horizon + 1, dtype=np.int64)}


@dataclass(frozen=True)
class FoldLayout:
    """The series kept for the backtest and the folds of each, in rows local to the series.

    ``plans[i][j]`` is fold ``j`` of series ``i``; series ``i`` is global rows
    ``[starts[i], starts[i] + lengths[i])`` of the frame. Fold ``j`` has the same index and
    the same refit in every series.
    """

    ids: tuple[str, ...]  # ("",) for a file of one series
    starts: np.ndarray  # (S,) int64
    lengths: np.ndarray  # (S,) int64
    plans: tuple[tuple[Fold, ...], ...]  # (S,) × K
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    short: tuple[bool, ...] = ()  # per series: too short for the lookback, padded windows

    def reach(self, i: int, lookback: int) -> int:
        """Rows of its own series ``i``'s first window reads: ``lookback``, or ``SHORT_REACH``
        for a short series, whose windows are padded with its first row (as train's)."""
        return min(SHORT_REACH, lookback) if self.short and self.short[i] else lookback

    @property
    def short_ids(self) -> tuple[str, ...]:
        return tuple(sid for i, sid in enumerate(self.ids) if self.short and self.short[i])

    @property
    def n_folds(self) -> int:
        return len(self.plans[0])

    def fold(self, j: int) -> tuple[Fold, ...]:
        """Fold ``j`` of every kept series. (S,)."""
        return tuple(plan[j] for plan in self.plans)

    def test_origins(self, j: int) -> np.ndarray:
        """Global origin of fold ``j``'s one forecast window in each series. (S,) int64."""
        return np.asarray([a + f.origin for a, f in zip(self.starts, self.fold(j), strict=True)],
                          dtype=np.int64)

    def origins(self, j: int, part: str, lookback: int,
                horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Global origins of fold ``j``'s ``part`` ("train" or "val") windows of every series,
        and the series index of each. (m,), (m,) int64."""
        found = [self.starts[i] + fold_origins(f, self.reach(i, lookback), horizon)[part]
                 for i, f in enumerate(self.fold(j))]
        glob = np.concatenate(found).astype(np.int64, copy=False)
        which = np.concatenate([np.full(len(o), i, np.int64) for i, o in enumerate(found)])
        return glob, which


def layout(frame: Frame, lookback: int, horizon: int, season: int, folds: int, step: int,
           window: str, val_share: float, refit_every: int, strict: bool) -> FoldLayout:
    """Plan the folds of every series; skip (or, ``strict``, refuse) those too short."""
    edges = frame.bounds()
    panel = frame.id_col is not None
    ids = frame.series_ids if panel else ("",)
    keep: list[int] = []
    plans: list[tuple[Fold, ...]] = []
    padded: list[bool] = []
    short: list[tuple[str, int]] = []  # (id, rows)
    for i, name in enumerate(ids):
        n = int(edges[i + 1] - edges[i])
        source = f"{frame.path}, series {name!r}" if panel else str(frame.path)
        plan = None
        for reach in (lookback, SHORT_REACH) if panel else (lookback,):
            try:  # a panel's series too short for the lookback: padded windows, as train's
                plan = fold_plan(n, reach, horizon, folds, step, window, val_share,
                                 refit_every, source, short=reach != lookback)
                _check_season(plan[0], season, source)
                break
            except DataError:
                if not panel:
                    raise
                plan = None
        if plan is None:
            short.append((name, n))
            continue
        keep.append(i)
        plans.append(tuple(plan))
        padded.append(reach != lookback)
    warnings: tuple[str, ...] = ()
    if short:
        text = (f"{frame.path}: {len(short)} series too short for {folds} folds {step} rows "
                f"apart with lookback {lookback} and horizon {horizon} (fold 1 needs a "
                f"training and a validation window and {season} rows before its origin), "
                "left out: " + ", ".join(f"{sid} ({n} rows)" for sid, n in short[:SHOWN])
                + (" …" if len(short) > SHOWN else ""))
        if strict or not keep:
            raise DataError(text + ". Fix: drop them from the file, or use fewer --folds, a "
                            "smaller --fold-step, a shorter lookback or horizon.")
        warnings = (text + ".",)
    if any(padded):
        names = [ids[i] for i, p in zip(keep, padded, strict=True) if p]
        warnings += (f"{frame.path}: {len(names)} series too short for lookback {lookback} "
                     "are backtested on padded windows, validated on the horizon before each "
                     "origin (short_history): " + ", ".join(names[:SHOWN])
                     + (" …" if len(names) > SHOWN else "") + ".",)
    return FoldLayout(ids=tuple(ids[i] for i in keep),
                      starts=np.asarray([edges[i] for i in keep], np.int64),
                      lengths=np.asarray([edges[i + 1] - edges[i] for i in keep], np.int64),
                      plans=tuple(plans), skipped=tuple(sid for sid, _ in short),
                      warnings=warnings, short=tuple(padded) if any(padded) else ())


def _check_season(f: Fold, season: int, source: str) -> None:
    """Seasonal naive copies the season before each origin: it must lie in the series."""
    if f.origin < season:
        raise DataError(f"{source}: season {season} is longer than the {f.origin} rows before "
                        "the first fold's origin; seasonal naive cannot be scored. Pass a "
                        "shorter --season, fewer --folds or a smaller --fold-step.")
