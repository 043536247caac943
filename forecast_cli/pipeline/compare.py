"""``forecast compare RUN_DIR…``: the settings that differ between runs, and their scores.

One column per run; rows are the settings whose values are not all equal (the output
directory aside: it differs by construction), then the data file when it differs, then the
test scores of the model and of each baseline, interval coverage and the training summary.
Keys a newer run adds to metrics.json (another method, say) appear as rows of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forecast_cli.io.forecast_output import SCHEMA_VERSION
from forecast_cli.pipeline.bundle_info import methods
from forecast_cli.pipeline.run_view import RunView, read_run

IGNORED = ("output_dir",)  # always differs: where the run was written, not how it was made
METRICS = ("mase", "mae", "rmse")


def compare(paths: list[Path]) -> dict[str, Any]:
    """Runs ``paths`` side by side: {"runs": [...], "settings": {key: [value per run]},
    "scores": {label: [value per run]}}; a value a run lacks is None."""
    runs = [read_run(p) for p in paths]
    return {"schema_version": SCHEMA_VERSION,
            "runs": [{"path": str(r.shown), "run": str(r.root)} for r in runs],
            "settings": _differing(runs), "scores": _scores(runs)}


def _differing(runs: list[RunView]) -> dict[str, list[Any]]:
    settings = [r.metrics.get("settings") or {} for r in runs]
    keys = list(dict.fromkeys(k for s in settings for k in s if k not in IGNORED))
    rows = {k: [s.get(k) for s in settings] for k in keys}
    files = [(r.metrics.get("data") or {}).get("file") for r in runs]
    rows["data file"] = files
    return {k: v for k, v in rows.items() if any(x != v[0] for x in v)}


def _scores(runs: list[RunView]) -> dict[str, list[Any]]:
    tests = [r.metrics.get("test") or {} for r in runs]
    names = list(dict.fromkeys(m for t in tests for m in methods(t)))
    rows: dict[str, list[Any]] = {}
    for metric in METRICS:
        for m in names:
            rows[f"{m} {metric}"] = [_get(t, m, metric) for t in tests]
    coverage = [_get(r.metrics, "intervals", "test") or {} for r in runs]
    for level in dict.fromkeys(lv for c in coverage for lv in c):
        rows[f"{level} % interval coverage"] = [_get(c, level, "coverage") for c in coverage]
    for key in ("epochs_run", "best_epoch", "seconds"):
        rows[f"training {key}"] = [_get(r.metrics, "training", key) for r in runs]
    return {k: v for k, v in rows.items() if any(x is not None for x in v)}


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
