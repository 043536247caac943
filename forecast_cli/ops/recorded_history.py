"""The run history as a job on a cluster sees it: read from a snapshot, written to a list.

On a cluster the jobs run on other machines, but the history stays one SQLite file written by
one process, the client's (SQLite over a network filesystem is not safe to share). So before
a job is sent the client takes a ``snapshot`` of what the job reads from the history (the
train keys that lost, its last forecast, its forecasts not yet scored), and the job runs
against a ``RecordedHistory``: it answers from the snapshot and records every write, as JSON.
The client ``replay``\\ s the writes into the real history when the job's result comes back,
so the database ends as the local batch would have left it. Everything is plain JSON: tasks
carry data, never Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from forecast_cli.ops.history import History
from forecast_cli.ops.history_schema import BOUND_FIELDS, POINT_FIELDS

if TYPE_CHECKING:  # not at run time: the client needs no pandas (accuracy imports it)
    from forecast_cli.ops.accuracy import Realised, Score

Snapshot = dict[str, Any]
Write = list[Any]  # [kind, *arguments], JSON


def snapshot(history: History, job: str) -> Snapshot:
    """What job ``job`` reads from the history during a run, as JSON."""
    return {"job": job, "rejected_keys": sorted(history.rejected_keys(job)),
            "last_forecast": history.last_forecast(job),
            "unscored": [[version, origin, run_id, points, bounds]
                         for version, origin, run_id, points, bounds in history.unscored(job)]}


def _score_json(score: Score) -> dict[str, Any]:
    return {"points": score.points, "mae": score.mae, "mase": score.mase,
            "coverage": [[level, inside, n] for level, (inside, n) in score.coverage.items()]}


def _score(data: dict[str, Any]) -> Score:
    from forecast_cli.ops.accuracy import Score

    return Score(points=int(data["points"]), mae=float(data["mae"]), mase=float(data["mase"]),
                 coverage={float(lv): (int(i), int(n)) for lv, i, n in data["coverage"]})


def realised_json(realised: Realised) -> dict[str, Any]:
    return {"overall": _score_json(realised.overall),
            "series": {sid: _score_json(s) for sid, s in realised.series.items()}}


def realised_of(data: dict[str, Any]) -> Realised:
    from forecast_cli.ops.accuracy import Realised

    return Realised(_score(data["overall"]),
                    {sid: _score(s) for sid, s in data["series"].items()})


class RecordedHistory:
    """The methods of ``History`` a job calls, answered from ``snap``; writes go to
    ``writes`` (JSON lists) for the client to ``replay``."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.writes: list[Write] = []
        self._unscored: list[list[Any]] = list(snap["unscored"])

    def close(self) -> None:
        """Nothing to close: the real history is the client's."""

    def rejected_keys(self, job: str) -> frozenset[str]:
        return frozenset(self.snap["rejected_keys"])

    def last_forecast(self, job: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.snap["last_forecast"]
        return found

    def update_run(self, run_id: int, record: dict[str, Any]) -> None:
        """Progress notes are for a run killed midway; here the job's result carries all."""

    def record_forecast(self, job: str, version: str, origin: str, run_id: int,
                        points: Sequence[tuple[Any, ...]],
                        bounds: Sequence[tuple[Any, ...]] = ()) -> None:
        self.writes.append(["forecast", job, version, origin, run_id,
                            [list(p) for p in points], [list(b) for b in bounds]])
        if any(u[0] == version and u[1] == origin for u in self._unscored):
            return  # stored already: the database keeps the first (INSERT OR IGNORE)
        # as History.unscored returns them: dicts, points by series, target, step
        pts = sorted((dict(zip(POINT_FIELDS, p, strict=True)) for p in points),
                     key=lambda p: (p["series"], p["target"], p["step"]))
        bds = sorted((dict(zip(BOUND_FIELDS, b, strict=True)) for b in bounds),
                     key=lambda b: (b["series"], b["target"], b["timestamp"], b["level"]))
        self._unscored.append([version, origin, run_id, pts, bds])
        self._unscored.sort(key=lambda u: u[1])

    def unscored(self, job: str) -> Iterator[tuple[str, str, int, list[dict[str, Any]],
                                                  list[dict[str, Any]]]]:
        for version, origin, run_id, points, bounds in list(self._unscored):
            yield str(version), str(origin), int(run_id), points, bounds

    def record_accuracy(self, job: str, version: str, origin: str, forecast_run: int,
                        scored_run: int, realised: Realised) -> None:
        self.writes.append(["accuracy", job, version, origin, forecast_run, scored_run,
                            realised_json(realised)])


def replay(history: History, writes: list[Write]) -> None:
    """Apply a job's recorded writes to the real history, in the order it made them."""
    for kind, *args in writes:
        if kind == "forecast":
            job, version, origin, run_id, points, bounds = args
            history.record_forecast(job, version, origin, run_id,
                                    [tuple(p) for p in points], [tuple(b) for b in bounds])
        elif kind == "accuracy":
            job, version, origin, forecast_run, scored_run, realised = args
            history.record_accuracy(job, version, origin, forecast_run, scored_run,
                                    realised_of(realised))
        else:  # a newer client's write: refuse it rather than lose it silently
            raise ValueError(f"unknown history write {kind!r}")
