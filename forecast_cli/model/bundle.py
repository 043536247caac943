"""The model bundle: a directory of JSON and a Keras weights file, checksummed, never pickled.

Layout::

    model.weights.h5   network weights (HDF5, written by Keras)
    model.onnx         the same network exported to ONNX for TensorFlow-free inference
                       (optional: bundles written before the export load without it)
    config.json        network spec, columns, frequency, last timestamp seen, settings
    scaler.json        scaler parameters as numbers
    intervals.json     conformal half-widths per level, step and target (optional); for a
                       many-series model, per series (``panel_intervals.SeriesIntervals``)
    manifest.json      format version, library versions, sha256 of every file, data fingerprint

Loading checks the manifest's format version and every checksum before reading anything else,
rebuilds the network from ``config.json`` with our own code and loads only the weights.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from forecast_cli.core.intervals import Intervals
from forecast_cli.core.panel_intervals import SeriesIntervals
from forecast_cli.core.scaling import Scaler
from forecast_cli.errors import BundleError, InputMissingError
from forecast_cli.io import atomic
from forecast_cli.model.schema import DataSchema as DataSchema
from forecast_cli.model.spec import NetworkSpec

FORMAT = "forecast-bundle"
FORMAT_VERSION = 1
WEIGHTS = "model.weights.h5"
CONFIG = "config.json"
SCALER = "scaler.json"
MANIFEST = "manifest.json"
INTERVALS = "intervals.json"  # optional: bundles without it forecast without intervals
ONNX = "model.onnx"
REQUIRED = (WEIGHTS, CONFIG, SCALER)


@dataclass(frozen=True)
class Bundle:
    """A loaded, verified bundle (the network itself is built on demand by ``model``)."""

    path: Path
    spec: NetworkSpec
    schema: DataSchema
    scaler: Scaler
    settings: dict[str, Any]
    manifest: dict[str, Any]
    intervals: Intervals | None = None
    series_intervals: SeriesIntervals | None = None  # many series (schema.panel) only

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS

    @property
    def onnx(self) -> Path | None:
        """The ONNX export, only when the manifest lists it (and so its checksum was checked)."""
        files = self.manifest.get("files", {})
        return self.path / ONNX if ONNX in files else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    return {"forecast_cli": _version("forecast-cli"),
            "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
            "keras": _version("keras"), "numpy": _version("numpy"),
            "python": platform.python_version()}


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write_bundle(target: Path, spec: NetworkSpec, schema: DataSchema, scaler: Scaler,
                 settings: dict[str, Any], fingerprint: str,
                 write_weights: Callable[[Path], None],
                 intervals: dict[str, Any] | None = None,
                 write_onnx: Callable[[Path], None] | None = None) -> Path:
    """Write a complete bundle to a temporary sibling directory, then publish it at ``target``.

    ``intervals`` (``Intervals.to_json()``) is written to intervals.json when given;
    ``write_onnx`` (optional) writes the ONNX export. Every file written is checksummed.
    """
    with atomic.staged_dir(target) as tmp:
        write_weights(tmp / WEIGHTS)
        names = list(REQUIRED)
        if write_onnx is not None:
            write_onnx(tmp / ONNX)
            names.append(ONNX)
        (tmp / CONFIG).write_text(_dump({"network": spec.to_json(), "data": schema.to_json(),
                                         "settings": settings}), encoding="utf-8")
        (tmp / SCALER).write_text(_dump(scaler.to_json()), encoding="utf-8")
        if intervals is not None:
            (tmp / INTERVALS).write_text(_dump(intervals), encoding="utf-8")
            names.append(INTERVALS)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": _versions(), "data_fingerprint": fingerprint,
                    "files": {name: sha256_file(tmp / name) for name in names}}
        (tmp / MANIFEST).write_text(_dump(manifest), encoding="utf-8")
    return target


def _read_json(path: Path, bundle: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{bundle}: {path.name} is unreadable or not JSON ({exc}).") from None
    if not isinstance(raw, dict):
        raise BundleError(f"{bundle}: {path.name} is not a JSON object.")
    return raw


def _verify_manifest(path: Path) -> dict[str, Any]:
    if not (path / MANIFEST).is_file():
        raise BundleError(f"{path}: not a model bundle (no {MANIFEST}).")
    manifest = _read_json(path / MANIFEST, path)
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: {MANIFEST} is not a forecast bundle manifest.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(f"{path}: bundle format version {version!r} is not supported "
                          f"(this forecast reads version {FORMAT_VERSION}); retrain the model.")
    files = manifest.get("files")
    if not isinstance(files, dict) or any(name not in files for name in REQUIRED):
        raise BundleError(f"{path}: {MANIFEST} does not list every bundle file.")
    for name, expected in files.items():
        file = path / str(name)
        if "/" in str(name) or not file.is_file():
            raise BundleError(f"{path}: {name} is missing.")
        if sha256_file(file) != expected:
            raise BundleError(f"{path}: {name} does not match its checksum in {MANIFEST}: "
                              "the bundle was altered or truncated; retrain or restore it.")
    return manifest


@dataclass(frozen=True)
class Parts:
    """A verified bundle before its data schema is parsed (no pandas: predict's quick path).

    ``data`` is config.json's "data" object as read (``DataSchema.from_json`` parses it).
    """

    path: Path
    manifest: dict[str, Any]
    spec: NetworkSpec
    data: dict[str, Any]
    scaler: Scaler
    settings: dict[str, Any]
    intervals: Intervals | None
    series_intervals: SeriesIntervals | None

    def _check(self) -> None:
        spec, path = self.spec, self.path
        if len(self.scaler.offset) != spec.n_inputs or len(self.data["inputs"]) != spec.n_inputs:
            raise BundleError(f"{path}: {CONFIG} and {SCALER} disagree on the number of inputs.")
        shapes = [c.half_widths.shape[1:] for c in
                  ([self.intervals] if self.intervals is not None else [])
                  + list(self.series_intervals.series.values() if self.series_intervals
                         else [])]
        if any(shape != (spec.horizon, spec.n_targets) for shape in shapes):
            raise BundleError(f"{path}: {INTERVALS} does not match the horizon and targets.")


def _malformed(path: Path, exc: Exception) -> BundleError:
    return BundleError(f"{path}: {CONFIG}, {SCALER} or {INTERVALS} is malformed ({exc}).")


def read_parts(path: Path) -> Parts:
    """Load and verify a bundle's files; BundleError (exit 65) on any inconsistency."""
    path = Path(path)
    if not path.exists():
        raise InputMissingError(f"{path}: model bundle not found.")
    if not path.is_dir():
        raise BundleError(f"{path}: a model bundle is a directory; this is a file.")
    manifest = _verify_manifest(path)
    config = _read_json(path / CONFIG, path)
    try:
        data = dict(config["data"])
        panel = bool(data.get("panel"))
        intervals, series_iv = None, None
        if INTERVALS in manifest["files"]:
            raw = _read_json(path / INTERVALS, path)
            if panel:
                series_iv = SeriesIntervals.from_json(raw)
            else:
                intervals = Intervals.from_json(raw)
        parts = Parts(path=path, manifest=manifest, spec=NetworkSpec.from_json(config["network"]),
                      data=data, scaler=Scaler.from_json(_read_json(path / SCALER, path)),
                      settings=dict(config["settings"]), intervals=intervals,
                      series_intervals=series_iv)
        parts._check()
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(path, exc) from None
    return parts


def read_bundle(path: Path) -> Bundle:
    """Load and verify a bundle; BundleError (exit 65) on any inconsistency."""
    parts = read_parts(path)
    try:
        schema = DataSchema.from_json(parts.data)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(parts.path, exc) from None
    return Bundle(path=parts.path, spec=parts.spec, schema=schema, scaler=parts.scaler,
                  settings=parts.settings, manifest=parts.manifest, intervals=parts.intervals,
                  series_intervals=parts.series_intervals)
