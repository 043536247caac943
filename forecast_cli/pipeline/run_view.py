"""One training run as ``inspect``, ``compare`` and ``report`` read it, from any of its names.

A run directory argument may be OUT (its ``latest`` run), OUT/latest or OUT/runs/NNNN; it is
resolved once, so a train publishing meanwhile cannot mix two runs' files (docs/outputs.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast_cli.errors import DataError, InputMissingError
from forecast_cli.pipeline.train_result import (
    BUNDLE_DIR,
    FORECASTS_FILE,
    HISTORY_FILE,
    METRICS_FILE,
)

LATEST = "latest"
MAX_METRICS_BYTES = 256 << 20


@dataclass(frozen=True)
class RunView:
    """A run's directory (resolved) and its metrics.json as read."""

    shown: Path  # as the user named it
    root: Path  # the run directory it resolves to
    metrics: dict[str, Any]

    @property
    def bundle(self) -> Path:
        return self.root / BUNDLE_DIR

    @property
    def forecasts(self) -> Path:
        return self.root / FORECASTS_FILE

    @property
    def history(self) -> Path:
        return self.root / HISTORY_FILE


def run_root(path: Path) -> Path:
    """The run directory ``path`` names (OUT → OUT/latest's run), resolved; InputMissingError
    (66) when it names no run."""
    path = Path(path)
    if (path / LATEST).exists():
        path = path / LATEST
    root = Path(os.path.realpath(path))
    if not (root / METRICS_FILE).is_file():
        raise InputMissingError(f"{path}: not a training run (no {METRICS_FILE}); name OUT, "
                                f"OUT/latest or OUT/runs/NNNN of a `forecast train -o OUT`.")
    return root


def read_run(path: Path) -> RunView:
    """``path``'s run and its metrics.json (DataError, exit 65, when that is not JSON)."""
    root = run_root(path)
    file = root / METRICS_FILE
    if file.stat().st_size > MAX_METRICS_BYTES:
        raise DataError(f"{file}: larger than {MAX_METRICS_BYTES >> 20} MiB; not a metrics.json.")
    try:
        metrics = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: is not JSON ({str(exc)[:200]}).") from None
    if not isinstance(metrics, dict):
        raise DataError(f"{file}: is not a JSON object.")
    return RunView(shown=Path(path), root=root, metrics=metrics)
