"""The model bundle: a directory of JSON and a Keras weights file, checksummed, never pickled.

Layout::

    model.weights.h5   network weights (HDF5, written by Keras)
    model.onnx         the same network exported to ONNX for TensorFlow-free inference
                       (optional: bundles written before the export load without it)
    config.json        network spec, columns, frequency, last timestamp seen, settings
    scaler.json        scaler parameters as numbers
    intervals.json     conformal half-widths per level, step and target (optional); for a
                       many-series model, per series (``panel_intervals.SeriesIntervals``)
    scores.json        the training run's test scores against the baselines, interval coverage,
                       data span and training summary (metrics.json's content), so that what a
                       bundle is and how well it did travel with it (optional; ``forecast
                       inspect`` reads it, forecasting never does)
    manifest.json      format version, library versions, sha256 of every file, data fingerprint

Loading checks the manifest's format version (and, with a bundle key, its signature:
``signing``), that the directory holds exactly the files the manifest lists, each a regular
file matching its checksum (``bundle_files``), then every field of the JSON files for type and
bounds and against the network (``bundle_checks``), before anything is built. The network is
rebuilt from ``config.json`` with our own code and only the weights are loaded. What this does
and does not protect against: docs/bundles.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
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
from forecast_cli.model import bundle_checks, bundle_files, interval_checks, signing
from forecast_cli.model.schema import DataSchema as DataSchema
from forecast_cli.model.spec import NetworkSpec, parameter_count

FORMAT = "forecast-bundle"
FORMAT_VERSION = 1
WEIGHTS = "model.weights.h5"
CONFIG = "config.json"
SCALER = "scaler.json"
MANIFEST = "manifest.json"
INTERVALS = "intervals.json"  # optional: bundles without it forecast without intervals
ONNX = "model.onnx"
SCORES = "scores.json"  # optional: bundles written before it inspect without scores
REQUIRED = (WEIGHTS, CONFIG, SCALER)
FILES = (WEIGHTS, ONNX, CONFIG, SCALER, INTERVALS, SCORES)  # every name a manifest may list
# the JSON files, read into memory to be parsed: at most this many bytes each
_JSON_LIMITS = {CONFIG: bundle_files.MAX_JSON_BYTES, SCALER: 16 << 20,
                INTERVALS: bundle_files.MAX_JSON_BYTES, SCORES: bundle_files.MAX_JSON_BYTES}
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    root: Path | None = None  # the directory ``path`` resolves to, where files are read
    warnings: tuple[str, ...] = ()  # for the user: a signature that could not be checked
    scores: dict[str, Any] | None = None  # scores.json as read (a JSON object), when listed

    @property
    def weights(self) -> Path:
        return (self.root or self.path) / WEIGHTS

    @property
    def onnx(self) -> Path | None:
        """The ONNX export, only when the manifest lists it (and so its checksum was checked)."""
        files = self.manifest.get("files", {})
        return (self.root or self.path) / ONNX if ONNX in files else None

    @property
    def onnx_sha256(self) -> str | None:
        """The export's sha256 as the manifest lists it (``OnnxNetwork`` checks the bytes)."""
        digest = self.manifest.get("files", {}).get(ONNX)
        return None if digest is None else str(digest)


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
                 write_onnx: Callable[[Path], None] | None = None,
                 scores: dict[str, Any] | None = None) -> Path:
    """Write a complete bundle to a temporary sibling directory, then publish it at ``target``.

    ``intervals`` (``Intervals.to_json()``) is written to intervals.json when given;
    ``write_onnx`` (optional) writes the ONNX export; ``scores`` (metrics.json's content, strict
    JSON) goes to scores.json. Every file written is checksummed; with
    a bundle key in the environment (``signing.bundle_key``) the manifest is signed.
    """
    key = signing.bundle_key()  # a bad key fails before anything is written
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
        if scores is not None:
            (tmp / SCORES).write_text(_dump(scores), encoding="utf-8")
            names.append(SCORES)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": _versions(), "data_fingerprint": fingerprint,
                    "files": {name: sha256_file(tmp / name) for name in names}}
        if key is not None:
            manifest[signing.SIGNATURE] = signing.sign(manifest, key)
        (tmp / MANIFEST).write_text(_dump(manifest), encoding="utf-8")
    return target


def _manifest(raw: dict[str, Any], shown: Path) -> dict[str, Any]:
    """The manifest's format, version and file list, checked before anything else is read."""
    if raw.get("format") != FORMAT:
        raise BundleError(f"{shown}: {MANIFEST} is not a forecast bundle manifest.")
    version = raw.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise BundleError(f"{shown}: bundle format version {version!r} is not supported "
                          f"(this forecast reads version {FORMAT_VERSION}); retrain the model.")
    files = raw.get("files")
    if not isinstance(files, dict) or any(name not in files for name in REQUIRED):
        raise BundleError(f"{shown}: {MANIFEST} does not list every bundle file "
                          f"({', '.join(REQUIRED)} at least).")
    for name, digest in files.items():
        if name not in FILES:
            raise BundleError(f"{shown}: {MANIFEST} lists {name[:60]!r}, which is not a bundle "
                              f"file (a bundle holds {', '.join(FILES)}).")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(f"{shown}: {MANIFEST}: the checksum of {name} is not a sha256 "
                              f"digest. Got {str(digest)[:70]!r}.")
    return raw


def _verified(root: Path, shown: Path, files: dict[str, str]) -> tuple[dict[str, bytes],
                                                                       dict[str, int]]:
    """Each listed file checked against its digest: the JSON files' bytes (read once: the
    bytes parsed are the bytes verified) and every file's size."""
    texts, sizes = {}, {}
    for name, expected in sorted(files.items()):
        if name in _JSON_LIMITS:
            texts[name] = bundle_files.read_bytes(root / name, shown, _JSON_LIMITS[name])
            digest, sizes[name] = hashlib.sha256(texts[name]).hexdigest(), len(texts[name])
        else:
            limit = (bundle_files.MAX_ONNX_BYTES if name == ONNX
                     else bundle_files.MAX_WEIGHTS_BYTES)
            digest, sizes[name] = bundle_files.sha256_stream(root / name, shown, limit)
        if digest != expected:
            raise BundleError(f"{shown}: {name} does not match its checksum in {MANIFEST}: "
                              "the bundle was altered or truncated; retrain or restore it.")
    return texts, sizes


def _checked(shown: Path, name: str, check: Callable[..., Any], *args: Any) -> Any:
    try:
        return check(*args)
    except bundle_checks.FieldError as exc:
        raise BundleError(f"{shown}: {name}: {exc}") from None


@dataclass(frozen=True)
class Parts:
    """A verified bundle before its data schema is parsed (no pandas: predict's quick path).

    ``path`` is the bundle as named, ``root`` the directory it resolves to, where every file is
    read (once resolved, a symbolic link swapped in place of the bundle changes nothing).
    ``data`` is config.json's "data" object as read (``DataSchema.from_json`` parses it).
    ``warnings``: what to tell the user (a signature that could not be checked).
    ``scores``: scores.json as read, a JSON object whose fields are for people only (``inspect``
    and ``report`` show them; nothing computes with them), when the manifest lists it.
    """

    path: Path
    manifest: dict[str, Any]
    spec: NetworkSpec
    data: dict[str, Any]
    scaler: Scaler
    settings: dict[str, Any]
    intervals: Intervals | None
    series_intervals: SeriesIntervals | None
    root: Path
    warnings: tuple[str, ...] = ()
    scores: dict[str, Any] | None = None


def _malformed(path: Path, exc: Exception) -> BundleError:
    return BundleError(f"{path}: {CONFIG}, {SCALER} or {INTERVALS} is malformed ({exc}).")


def _open(shown: Path) -> tuple[Path, dict[str, Any], list[str], dict[str, bytes],
                                dict[str, int]]:
    """The directory, manifest, warnings, JSON bytes and sizes of a bundle whose every file is
    listed, regular and matches its checksum, and whose signature holds when a key is set."""
    root = Path(os.path.realpath(shown))
    if not root.exists():
        raise InputMissingError(f"{shown}: model bundle not found.")
    if not root.is_dir():
        raise BundleError(f"{shown}: a model bundle is a directory; this is a file.")
    found = bundle_files.entries(root, shown)
    if MANIFEST not in found:
        raise BundleError(f"{shown}: not a model bundle (no {MANIFEST}).")
    raw = bundle_files.read_bytes(root / MANIFEST, shown, bundle_files.MAX_MANIFEST_BYTES)
    manifest = _manifest(bundle_files.parse_json(raw, MANIFEST, shown), shown)
    warnings = signing.verify(manifest, signing.bundle_key(), shown)
    bundle_files.check_entries(found, {*manifest["files"], MANIFEST}, shown)
    texts, sizes = _verified(root, shown, manifest["files"])
    return root, manifest, warnings, texts, sizes


def read_parts(path: Path) -> Parts:
    """Load and verify a bundle's files; BundleError (exit 65) on any inconsistency."""
    shown = Path(path)
    root, manifest, warnings, texts, sizes = _open(shown)
    config = bundle_files.parse_json(texts[CONFIG], CONFIG, shown)
    spec = _checked(shown, CONFIG, lambda: bundle_checks.network(
        bundle_checks.get(config, "network", "")))
    data = _checked(shown, CONFIG, lambda: bundle_checks.data(
        bundle_checks.get(config, "data", ""), spec))
    settings = _checked(shown, CONFIG, lambda: bundle_checks.settings(
        bundle_checks.get(config, "settings", ""), spec))
    raw_scaler = bundle_files.parse_json(texts[SCALER], SCALER, shown)
    _checked(shown, SCALER, bundle_checks.scaler, raw_scaler, "", spec.n_inputs)
    needed = 4 * parameter_count(spec)
    if sizes[WEIGHTS] < needed:
        raise BundleError(f"{shown}: {CONFIG}'s network has {needed // 4:,} weights "
                          f"({needed:,} bytes as float32); {WEIGHTS} holds {sizes[WEIGHTS]:,} "
                          "bytes. The two do not belong together: restore the bundle or "
                          "retrain.")
    raw_iv = None
    if INTERVALS in texts:
        raw_iv = bundle_files.parse_json(texts[INTERVALS], INTERVALS, shown)
        if data.get("panel"):
            _checked(shown, INTERVALS, interval_checks.series_intervals, raw_iv, spec,
                     set(data["panel"]["series"]))
        else:
            _checked(shown, INTERVALS, interval_checks.intervals, raw_iv, spec)
    scores = bundle_files.parse_json(texts[SCORES], SCORES, shown) if SCORES in texts else None
    try:  # every field was checked above: these only build the objects
        panel = bool(data.get("panel"))
        return Parts(path=shown, manifest=manifest, spec=spec, data=data,
                     scaler=Scaler.from_json(raw_scaler), settings=settings,
                     intervals=Intervals.from_json(raw_iv) if raw_iv and not panel else None,
                     series_intervals=SeriesIntervals.from_json(raw_iv) if raw_iv and panel
                     else None, root=root, warnings=tuple(warnings), scores=scores)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(shown, exc) from None


def read_bundle(path: Path) -> Bundle:
    """Load and verify a bundle; BundleError (exit 65) on any inconsistency."""
    parts = read_parts(path)
    try:
        schema = DataSchema.from_json(parts.data)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(parts.path, exc) from None
    return Bundle(path=parts.path, spec=parts.spec, schema=schema, scaler=parts.scaler,
                  settings=parts.settings, manifest=parts.manifest, intervals=parts.intervals,
                  series_intervals=parts.series_intervals, root=parts.root,
                  warnings=parts.warnings, scores=parts.scores)
