"""What a model bundle is, from its own files: ``forecast inspect MODEL``.

Everything comes from the bundle (verified as ``predict`` verifies it: listing, checksums,
signature, every field), so a bundle copied away from its run still says what it was trained
on and how well it did: its scores.json carries the training run's metrics. No pandas, no
TensorFlow: the data schema is read as JSON, never built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from forecast_cli.core.theta import served_share
from forecast_cli.core.transform import record_counts
from forecast_cli.errors import InputMissingError
from forecast_cli.io.forecast_output import SCHEMA_VERSION
from forecast_cli.model.bundle import MANIFEST, SCORES, read_parts
from forecast_cli.model.signing import SIGNATURE
from forecast_cli.model.spec import parameter_count
from forecast_cli.pipeline.train_result import BUNDLE_DIR

METHODS = ("model", "naive", "seasonal_naive")  # the order tables show them in


def bundle_path(path: Path) -> Path:
    """The bundle ``path`` names: a bundle itself, or a run (OUT, OUT/latest, OUT/runs/NNNN)
    whose ``model`` it is."""
    path = Path(path)
    if not (path / MANIFEST).exists() and (path / BUNDLE_DIR / MANIFEST).exists():
        return path / BUNDLE_DIR
    if not path.exists():
        raise InputMissingError(f"{path}: model bundle not found.")
    return path


def describe(path: Path) -> dict[str, Any]:
    """The bundle at ``path`` (or a run's), verified, as one JSON-able dict.

    Keys (docs/json.md): schema_version, bundle, resolved, checks, created_at, versions,
    data_fingerprint, network, data, settings, serves, scores (None for a bundle written before
    scores travelled with it), warnings.
    """
    shown = bundle_path(path)
    parts = read_parts(shown)
    signed = SIGNATURE in parts.manifest
    files = sorted(parts.manifest["files"])
    spec = parts.spec
    info: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "bundle": str(shown), "resolved": os.path.realpath(shown),
        "checks": {"checksums": "ok", "files": files,
                   "signature": ("verified" if signed and not parts.warnings else
                                 "not checked (no bundle key set)" if signed else "unsigned")},
        "created_at": parts.manifest.get("created_at"),
        "versions": parts.manifest.get("versions"),
        "data_fingerprint": parts.manifest.get("data_fingerprint"),
        "network": {**spec.to_json(), "parameters": parameter_count(spec)},
        "data": _data(parts.data),
        "settings": parts.settings,
        "serves": _serves(parts.spec, parts.settings, parts.scores),
        "scores": _scores(parts.scores) if parts.scores is not None else None,
        "warnings": list(parts.warnings),
    }
    return info


def _data(raw: dict[str, Any]) -> dict[str, Any]:
    panel = raw.get("panel") or None
    return {"time_col": raw.get("time_col"), "inputs": raw.get("inputs"),
            "targets": raw.get("targets"), "freq": raw.get("freq"), "season": raw.get("season"),
            "first": raw.get("first_timestamp"), "last": raw.get("last_timestamp"),
            "tz": raw.get("tz"), "id_col": panel.get("id_col") if panel else None,
            "series_count": len(panel.get("series", {})) if panel else 1,
            "transform": record_counts(raw["transform"], len(panel.get("series", {})) if panel
                                       else 1) if raw.get("transform") else None}


def _serves(spec: Any, settings: dict[str, Any], scores: Any) -> dict[str, Any]:
    """What the bundle forecasts with: ``serving`` (model or seasonal-naive), the ensemble's
    candidate chosen on validation (None before the ensemble), the members as [lookback,
    seed], Theta's weight in the blend and its seasonality rule, and which fit the weights
    are (refit, held-out)."""
    raw = scores if isinstance(scores, dict) else {}

    def part(key: str) -> dict[str, Any]:
        value = raw.get(key)
        return value if isinstance(value, dict) else {}
    ensemble, fit = part("ensemble"), part("bundle_fit")
    members = [list(m) for m in spec.members] or [[spec.lookback, spec.seed]]
    return {"serving": settings.get("serving", "model"), "chosen": ensemble.get("chosen"),
            "members": members, "theta_weight": served_share(settings)[0],
            "theta_always": served_share(settings)[1], "fit": fit.get("fit")}


def _scores(raw: dict[str, Any]) -> dict[str, Any]:
    """The parts of scores.json people look at (tolerant: a key missing is None, and keys a
    newer run adds, an ensemble's say, are kept in ``test``)."""
    intervals = raw.get("intervals") if isinstance(raw.get("intervals"), dict) else {}
    return {"test": raw.get("test") if isinstance(raw.get("test"), dict) else {},
            "skill_mase": raw.get("skill_mase"),
            "intervals": intervals.get("test") if isinstance(intervals, dict) else None,
            "windows": raw.get("windows"), "training": raw.get("training"),
            "data": raw.get("data"), "series_count": raw.get("series_count"),
            "source": SCORES}


def methods(test: dict[str, Any]) -> list[str]:
    """The scored methods of a ``test`` section: the model and baselines first, then any
    others a newer run adds (an ensemble, a fallback), in their order."""
    return [m for m in METHODS if m in test] + [m for m in test if m not in METHODS]
