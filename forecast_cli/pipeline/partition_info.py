"""What a partitioned model is: ``forecast inspect OUT/model`` of ``train --partitions``.

The index is read and every partition's bundle verified as ``inspect`` verifies one bundle
(``bundle_info.describe``: listing, checksums, signature); no pandas, no TensorFlow. Verbs that
need one bundle or run (``evaluate``, ``report``, ``compare``; ``backtest`` and batch jobs with
partition settings) refuse it with a message saying what works instead (``refuse``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forecast_cli.errors import ConfigError
from forecast_cli.pipeline import partition_index as pindex
from forecast_cli.pipeline.bundle_info import describe


def describe_partitioned(path: Path) -> dict[str, Any]:
    """The partitioned model at ``path`` (or a run's), verified, as one JSON-able dict:
    partitioned (true), model, scheme, id_col, series_count, partitions (each: name, value,
    series, and its bundle's ``describe``), warnings."""
    index = pindex.read(path)
    parts = []
    warnings: list[str] = []
    for entry in index.partitions:
        info = describe(index.bundle(str(entry["name"])))
        warnings += [w for w in info["warnings"] if w not in warnings]
        parts.append({"name": entry["name"], "value": entry["value"],
                      "series": entry["series"], "bundle": info})
    return {"partitioned": True, "model": str(index.root), "scheme": index.scheme,
            "id_col": index.id_col, "series_count": len(index.series),
            "partitions": parts, "warnings": warnings}


def refuse(path: Path, verb: str) -> None:
    """ConfigError (exit 2) when ``path`` is a partitioned model, which ``verb`` cannot use."""
    if pindex.is_partitioned(Path(path)):
        raise ConfigError(f"{path}: is a partitioned model (train --partitions); `forecast "
                          f"{verb}` takes one bundle or run. Use one partition's "
                          f"({pindex.model_root(Path(path))}/pNNN; `forecast inspect` lists "
                          "them and their series), or `forecast predict` with the whole model.")


def refuse_settings(settings: Any, verb: str) -> None:
    """ConfigError when partition settings reach a verb that trains one model."""
    for name in ("partitions", "partition_col"):
        if getattr(settings, name, None) is not None:
            raise ConfigError(f"`{name}`: {verb} trains one model; partitioned training is "
                              f"`forecast train --{name.replace('_', '-')}` (docs/scaling.md).")
