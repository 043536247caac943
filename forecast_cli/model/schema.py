"""What the data must look like for a model: config.json's ``data`` object as a dataclass.

pandas is imported when a schema is parsed (``from_json``): predict's quick path never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DataSchema:
    """What the data must look like for this model."""

    time_col: str
    inputs: tuple[str, ...]  # columns fed to the network, in order
    targets: tuple[str, ...]  # columns forecast, in order (a subset of inputs)
    freq: str
    season: int
    first_timestamp: pd.Timestamp
    last_timestamp: pd.Timestamp  # last row the model was trained or validated on
    tz: str | None = None  # "UTC", an IANA zone (--tz), or None for naive timestamps
    fixes: tuple[str, ...] = ()  # normalisations applied to the training data, in words
    # many series: {"id_col": …, "skipped": [ids], "series": {id: scaler JSON}}; else None
    panel: dict[str, Any] | None = None
    # per series id ("" without --id-col): {"data_min": [F], "data_max": [F]} of all the rows
    # seen at training, test rows too; {} in bundles made before it was recorded
    seen: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # per-series target transforms (pipeline.transforming.record); None: none (older bundles)
    transform: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"time_col": self.time_col, "inputs": list(self.inputs),
                "targets": list(self.targets), "freq": self.freq, "season": self.season,
                "first_timestamp": self.first_timestamp.isoformat(),
                "last_timestamp": self.last_timestamp.isoformat(), "tz": self.tz,
                "fixes": list(self.fixes), "panel": self.panel, "seen": self.seen,
                **({} if self.transform is None else {"transform": self.transform})}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DataSchema:
        import pandas as pd

        tz = raw.get("tz")
        return cls(time_col=str(raw["time_col"]), inputs=tuple(map(str, raw["inputs"])),
                   targets=tuple(map(str, raw["targets"])), freq=str(raw["freq"]),
                   season=int(raw["season"]),
                   first_timestamp=pd.Timestamp(raw["first_timestamp"]),
                   last_timestamp=pd.Timestamp(raw["last_timestamp"]),
                   tz=None if tz is None else str(tz),
                   fixes=tuple(map(str, raw.get("fixes", ()))),
                   panel=dict(raw["panel"]) if raw.get("panel") else None,
                   seen={str(k): {b: [float(x) for x in v[b]] for b in ("data_min", "data_max")}
                         for k, v in (raw.get("seen") or {}).items()},
                   transform=dict(raw["transform"]) if raw.get("transform") else None)
