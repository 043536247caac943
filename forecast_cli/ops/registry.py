"""Versioned model bundles per job, with a pointer to the current one that switches atomically.

Layout of a job's ``model_dir``::

    current               the name of the current version ("v0003"), replaced atomically
    versions/v0003/       one `forecast train` output: model/ (the bundle), metrics.json,
                          test_forecasts.csv, history.csv, and version.json (what it was
                          trained on, and the holdout scores that promoted it)
    .staging-<key>/       a training in progress (left by a killed run; removed next run)
    .current.*.tmp        a new pointer not yet renamed into place (idem)

A version directory is complete before it is renamed into ``versions/``, and ``current`` is
rewritten by rename only after that, so a reader (or a run killed at any instant) always finds
the previous or the new version whole. Roll back by writing an older name into ``current``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError, WriteError
from forecast_cli.io import atomic

CURRENT = "current"
VERSIONS = "versions"
META = "version.json"
BUNDLE = "model"
STAGING_PREFIX = ".staging-"
_NAME = re.compile(r"^v(\d{4,})$")


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    meta: dict[str, Any]

    @property
    def bundle_dir(self) -> Path:
        return self.path / BUNDLE


def version_names(model_dir: Path) -> list[str]:
    """Names of the complete versions, oldest first."""
    root = model_dir / VERSIONS
    if not root.is_dir():
        return []
    names = [p.name for p in root.iterdir() if _NAME.match(p.name) and p.is_dir()]
    return sorted(names, key=lambda n: int(n[1:]))


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BundleError(f"{path}: {META} is missing or unreadable ({exc}).") from None
    if not isinstance(meta, dict):
        raise BundleError(f"{path}: {META} is not a JSON object.")
    return meta


def current(model_dir: Path) -> Version | None:
    """The version ``current`` points to, or ``None`` when no model was published yet."""
    pointer = model_dir / CURRENT
    try:
        mode = pointer.stat().st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):  # reading a named pipe would wait for a writer forever
        raise BundleError(f"{pointer}: is {atomic.kind_of(mode)}, not a regular file; write "
                          "the name of a version into it, or delete it to retrain.")
    with pointer.open("rb") as fh:
        name = fh.read(64).decode("utf-8", errors="replace").strip()
    path = model_dir / VERSIONS / name
    if not _NAME.match(name) or not path.is_dir():
        raise BundleError(f"{pointer}: points to {name!r}, which is not a version in "
                          f"{model_dir / VERSIONS}; write the name of an existing version "
                          f"({', '.join(version_names(model_dir)) or 'none'}) into it, or "
                          "delete it to retrain.")
    return Version(name=name, path=path, meta=_read_meta(path))


def staging_dir(model_dir: Path, key: str) -> Path:
    """A fresh directory where a training writes its outputs before publication."""
    path = model_dir / f"{STAGING_PREFIX}{key}"
    shutil.rmtree(path, ignore_errors=True)
    return atomic.ensure_dir(path)


def clean_leftovers(model_dir: Path) -> list[str]:
    """Remove the leftovers of killed runs: staging directories, and the temporary file of a
    ``current`` whose rename never happened (the version it named stays, unused, until
    pruned); return their names. Call holding the job's lock."""
    if not model_dir.is_dir():
        return []
    stale = [p for p in model_dir.iterdir() if p.name.startswith(STAGING_PREFIX)
             or (p.name.startswith(f".{CURRENT}.") and p.name.endswith(".tmp"))]
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return [p.name for p in stale]


def _next_name(model_dir: Path) -> str:
    names = version_names(model_dir)
    return f"v{(int(names[-1][1:]) + 1) if names else 1:04d}"


def publish(model_dir: Path, staged: Path, meta: dict[str, Any]) -> Version:
    """Make a complete staged training output the new current version."""
    atomic.write_text(staged / META, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    root = atomic.ensure_dir(model_dir / VERSIONS)
    name = _next_name(model_dir)
    try:
        os.rename(staged, root / name)
    except OSError as exc:
        raise WriteError(f"{root / name}: could not publish ({exc.strerror}); "
                         "the current model is unchanged.") from None
    _fsync_dir(root)  # the version is durable before the pointer names it
    atomic.write_bytes(model_dir / CURRENT, f"{name}\n".encode(), kill_point="publish")
    return Version(name=name, path=root / name, meta=meta)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune(model_dir: Path, keep: int) -> list[str]:
    """Delete all but the current version and the newest ``keep - 1`` others."""
    cur = current(model_dir)
    others = [n for n in version_names(model_dir) if cur is None or n != cur.name]
    doomed = others[: max(0, len(others) - (keep - 1))]
    for name in doomed:
        shutil.rmtree(model_dir / VERSIONS / name, ignore_errors=True)
    return doomed
