"""A partitioned model on disk: one bundle per partition and the index that routes series to them.

Layout of a partitioned model directory (``OUT/model`` of ``forecast train --partitions K``)::

    partitions.json     the index (below)
    p000/ p001/ …       each partition's model bundle, exactly as ``forecast train`` writes one

The index is JSON: ``format`` ("forecast-partitioned-model"), ``version``, the ``scheme``
(``{"kind": "hash", "partitions": K}`` or ``{"kind": "column", "column": COL}``), the
``id_col``, one entry per partition (``name``, ``value`` of the column or the hash bucket,
``series`` count, ``manifest_sha256``: the sha256 of its bundle's manifest.json, which itself
lists every file's checksum) and ``series``: series id → partition name. A partition without
series (a hash bucket nobody fell into) has no bundle and no entry.

The hash is ``sha256(id as UTF-8)``'s first 8 bytes, big-endian, modulo K: the same on every
machine, Python version and run (Python's own ``hash`` of a string is salted per process).
No pandas and no TensorFlow here: ``inspect`` and ``predict`` read it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError, DataError, InputMissingError
from forecast_cli.io import atomic

INDEX = "partitions.json"
FORMAT = "forecast-partitioned-model"
VERSION = 1
MANIFEST = "manifest.json"


def hash_bucket(series_id: str, k: int) -> int:
    """The hash partition (0 … k-1) of one series id: stable across runs and machines."""
    digest = hashlib.sha256(series_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % k


def partition_name(i: int) -> str:
    """The directory name of partition ``i``: p000, p001 … (p1000 beyond 999)."""
    return f"p{i:03d}"


def by_hash(ids: list[str], k: int) -> dict[str, tuple[str, str]]:
    """series id → (partition name, bucket as text) for ``k`` hash partitions."""
    return {sid: (partition_name(b), str(b)) for sid in ids for b in [hash_bucket(sid, k)]}


def by_value(values: dict[str, str]) -> dict[str, tuple[str, str]]:
    """series id → (partition name, value): one partition per distinct value, numbered in the
    values' sorted order (so names do not depend on the file's row order)."""
    names = {v: partition_name(i) for i, v in enumerate(sorted(set(values.values())))}
    return {sid: (names[v], v) for sid, v in values.items()}


@dataclass(frozen=True)
class Partition:
    """One partition of a model: its name (and bundle directory), value and series ids."""

    name: str
    value: str
    series: tuple[str, ...]


def group(assigned: dict[str, tuple[str, str]]) -> list[Partition]:
    """The partitions of an assignment, in name order, each with its series in sorted order."""
    members: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for sid, (name, value) in assigned.items():
        members.setdefault(name, []).append(sid)
        values[name] = value
    return [Partition(n, values[n], tuple(sorted(members[n]))) for n in sorted(members)]


@dataclass(frozen=True)
class Index:
    """A partitioned model's index, read and verified (``read``)."""

    root: Path
    scheme: dict[str, Any]
    id_col: str
    partitions: list[dict[str, Any]]
    series: dict[str, str]  # series id → partition name

    def bundle(self, name: str) -> Path:
        return self.root / name

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "scheme": self.scheme,
                "id_col": self.id_col, "partitions": self.partitions, "series": self.series}


def manifest_digest(bundle: Path) -> str:
    try:
        return hashlib.sha256((bundle / MANIFEST).read_bytes()).hexdigest()
    except OSError as exc:
        raise BundleError(f"{bundle}: partition bundle missing or unreadable "
                          f"({exc.strerror}); the partitioned model is incomplete.") from None


def write(root: Path, scheme: dict[str, Any], id_col: str, parts: list[Partition]) -> Index:
    """Write the index of the bundles already in ``root`` (one per partition), atomically."""
    entries = [{"name": p.name, "value": p.value, "series": len(p.series),
                "manifest_sha256": manifest_digest(root / p.name)} for p in parts]
    index = Index(root, scheme, id_col, entries,
                  {sid: p.name for p in parts for sid in p.series})
    atomic.write_text(root / INDEX, json.dumps(index.to_json(), indent=1, sort_keys=True) + "\n")
    return index


def is_partitioned(path: Path) -> bool:
    """Whether ``path`` is a partitioned model (or a run directory whose ``model`` is one)."""
    path = Path(path)
    return (path / INDEX).is_file() or (path / "model" / INDEX).is_file()


def model_root(path: Path) -> Path:
    """The partitioned model ``path`` names: itself, or a run's (OUT, OUT/latest) ``model``."""
    path = Path(path)
    return path if (path / INDEX).is_file() else path / "model"


def read(path: Path) -> Index:
    """The index of the partitioned model at ``path``, each partition's manifest checked
    against it. InputMissingError (66) when absent, BundleError (65) when altered."""
    root = model_root(path)
    where = root / INDEX
    try:
        raw = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputMissingError(f"{where}: partitioned model index not found.") from None
    except (OSError, ValueError) as exc:
        raise BundleError(f"{where}: unreadable partition index ({exc}).") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise BundleError(f"{where}: not a partition index of format {FORMAT} version "
                          f"{VERSION}; retrain the model with this version of forecast.")
    try:
        index = Index(root, dict(raw["scheme"]), str(raw["id_col"]), list(raw["partitions"]),
                      {str(k): str(v) for k, v in dict(raw["series"]).items()})
        names = {str(p["name"]) for p in index.partitions}
        for entry in index.partitions:
            if manifest_digest(root / str(entry["name"])) != entry["manifest_sha256"]:
                raise BundleError(f"{root / str(entry['name'])}: its manifest.json does not "
                                  f"match the checksum in {where}; the partition was altered "
                                  "or replaced. Retrain the partitioned model.")
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{where}: malformed partition index ({exc!r}).") from None
    stray = sorted(set(index.series.values()) - names)
    if stray:
        raise BundleError(f"{where}: series are routed to partition {stray[0]!r}, which it "
                          "does not list; the index is inconsistent. Retrain.")
    return index


def route(index: Index, ids: list[str], where: str) -> dict[str, list[str]]:
    """partition name → the given series ids it serves; DataError (65) naming the first ids
    the model has no partition for (they were not in its training data)."""
    unknown = [sid for sid in ids if sid not in index.series]
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise DataError(f"{where}: series {shown}{more} of column {index.id_col!r} "
                        f"{'is' if len(unknown) == 1 else 'are'} not in the partitioned "
                        f"model {index.root} (not in its training data): no partition "
                        f"serves {'it' if len(unknown) == 1 else 'them'}. Train again with "
                        f"{'it' if len(unknown) == 1 else 'them'}, or leave "
                        f"{'it' if len(unknown) == 1 else 'them'} out (--series).")
    out: dict[str, list[str]] = {}
    for sid in ids:
        out.setdefault(index.series[sid], []).append(sid)
    return {name: out[name] for name in sorted(out)}
