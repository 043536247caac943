"""What a training run produced: ``TrainResult``, read by the writers, renderers and ops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import Evaluation
from forecast_cli.core.intervals import Intervals
from forecast_cli.core.panel_intervals import SeriesIntervals
from forecast_cli.core.splits import SplitBounds
from forecast_cli.data.frame import Frame
from forecast_cli.pipeline.outdir import BUNDLE_DIR, FORECASTS_FILE, HISTORY_FILE, METRICS_FILE
from forecast_cli.pipeline.panel import Panel
from forecast_cli.settings import Settings

__all__ = ["BUNDLE_DIR", "FORECASTS_FILE", "HISTORY_FILE", "METRICS_FILE", "TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced and where it wrote it. Scores are kept per series always
    (one entry for one series); ``series_scores`` shows them only for an ``--id-col`` file."""

    settings: Settings  # with every derived value filled in
    frame: Frame
    panel: Panel  # the series trained on, their splits
    bounds: SplitBounds  # the first (for one series: the) series' split
    windows: dict[str, int]  # windows per part, all series
    evaluation: Evaluation  # test windows of every series, in panel order
    test_origins: np.ndarray  # (m,) global row of each test window's first target
    test_which: np.ndarray  # (m,) series index (into panel.ids) of each test window
    per_series: dict[str, dict[str, dict[str, float]]]  # series id → method → metric
    calibration: SeriesIntervals  # per-series half-widths from the validation windows
    interval_scores: dict[str, dict[str, float]]  # test coverage and width per level
    series_interval_scores: dict[str, dict[str, Any]]  # the same per series
    history: dict[str, list[float]]
    best_epoch: int
    seconds: float
    output_dir: Path
    warnings: tuple[str, ...] = ()
    intervals: Intervals | None = None  # one series: its half-widths (None for --id-col)
    run: str | None = None  # its number in output_dir/runs (runs.train); None: a plain dir
    cleaned: tuple[str, ...] = ()  # leftovers of killed runs removed before it (runs.train)
    # model vs seasonal naive on the validation windows (fitting.validation_verdict)
    validation: dict[str, Any] | None = None
    serving: str = "model"  # what the bundle serves: "model" or "seasonal-naive" (--fallback)
    # the ensemble's members, the candidates' validation and test scores, the one chosen
    ensemble: dict[str, Any] | None = None
    # which fit the bundle holds: "refit" on every window (test scores from the held-out fit)
    # or "held-out" (--no-refit, or a refit that diverged)
    bundle_fit: dict[str, Any] | None = None
    # the per-series target transforms (``transforming.record``); None: no series transformed
    transform: dict[str, Any] | None = None

    @property
    def bundle_dir(self) -> Path:
        return self.output_dir / BUNDLE_DIR

    @property
    def series_scores(self) -> dict[str, dict[str, dict[str, float]]] | None:
        """Per-series scores of an ``--id-col`` run; None for a file without one."""
        return self.per_series if self.frame.id_col is not None else None
