"""The batch file: a TOML list of forecasting jobs with shared defaults.

Example::

    state_dir = "state"                 # run history, logs, locks, training backups
    cluster = "tcp://10.0.0.5:8786"     # optional: run the jobs on this Dask scheduler
    [defaults]                          # any job key or `train` setting, for every job
    epochs = 50
    retrain = { every_days = 7, min_new_rows = 30 }
    [jobs.sales]
    data = "exports/sales-*.csv"        # a path or a glob (the last match in sorted order)
    model_dir = "models/sales"          # versioned bundles and the `current` pointer
    output = "forecasts/sales-{date}.csv"
    horizon = 14
    time_limit = 1800                   # seconds this job may run (default 3600)

Relative paths are relative to the batch file. ``{job}`` may appear in ``model_dir`` and
``output``, ``{date}`` (the run's UTC date, YYYY-MM-DD) in ``output``. Every other key is a
setting of ``forecast train``, with the same name. A job whose table is invalid fails alone.
A job that runs longer than its ``time_limit`` is stopped and fails alone (see ``worker``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from forecast_cli.checks import check_range
from forecast_cli.errors import ConfigError, InputMissingError
from forecast_cli.io.forecast_output import output_format
from forecast_cli.ops import registry
from forecast_cli.ops.policy import RetrainPolicy, parse_policy
from forecast_cli.settings import Settings, build_settings
from forecast_cli.tomlfile import read_toml

JOB_KEYS = ("data", "model_dir", "output", "retrain", "keep_versions", "time_limit")
TOP_KEYS = ("state_dir", "cluster", "defaults", "jobs")
DEFAULT_STATE_DIR = ".forecast-state"
STATE_DIR_ENV = "FORECAST_STATE_DIR"
DEFAULT_KEEP = 3
DEFAULT_TIME_LIMIT = 3600.0  # seconds: far above a daily job's training, far below a day


@dataclass(frozen=True)
class Job:
    """One job: where its data, model versions and forecasts live, and how it trains."""

    name: str
    data: str  # absolute path or glob pattern
    model_dir: Path
    output: str  # absolute path pattern; may contain {date}
    settings: Settings
    policy: RetrainPolicy
    keep_versions: int = DEFAULT_KEEP
    time_limit: float = DEFAULT_TIME_LIMIT  # seconds; a job running longer is stopped

    def data_path(self) -> Path:
        """The data file: the path itself, or the last match of the glob in sorted order."""
        if not glob.has_magic(self.data):
            return Path(self.data)
        matches = sorted(glob.glob(self.data))
        if not matches:
            raise InputMissingError(f"{self.data}: no file matches this pattern.")
        return Path(matches[-1])

    def output_path(self, run_date: date) -> Path:
        return Path(self.output.replace("{date}", run_date.isoformat()))

    def output_temporaries(self) -> list[Path]:
        """Temporary files an atomic write of this job's output left when it was killed."""
        pattern = Path(self.output.replace("{date}", "*"))
        return [Path(p) for p in glob.glob(str(pattern.parent / f".{pattern.name}.*.tmp"))]

    def clean_leftovers(self) -> list[str]:
        """Remove what a killed or stopped run of this job left; call holding its lock."""
        gone = registry.clean_leftovers(self.model_dir)
        for tmp in self.output_temporaries():
            with contextlib.suppress(OSError):
                tmp.unlink()
                gone.append(tmp.name)
        return gone


@dataclass(frozen=True)
class BatchSpec:
    """A parsed batch file. ``invalid``: job name → why its table was refused."""

    path: Path
    state_dir: Path
    jobs: tuple[Job, ...]
    invalid: dict[str, str] = field(default_factory=dict)
    cluster: str | None = None  # `cluster = "tcp://HOST:PORT"`: the Dask scheduler (see cluster)

    @property
    def names(self) -> list[str]:
        return sorted([j.name for j in self.jobs] + list(self.invalid))


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table. Got {raw!r}.")
    return raw


def _pattern(base: Path, value: Any, key: str, name: str, allow_date: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"`{key}` must be a non-empty path. Got {value!r}.")
    text = value.replace("{job}", name)
    rest = text.replace("{date}", "") if allow_date else text
    if "{" in rest or "}" in rest:
        allowed = "{job} and {date}" if allow_date else "{job}"
        raise ConfigError(f"`{key}`: only {allowed} may appear in braces. Got {value!r}.")
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else base / path)


def _keep(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`keep_versions` must be an integer ≥ 1. Got {value!r}.")
    return value


def parse_time_limit(value: Any) -> float:
    """A job's time limit in seconds: a number from 1 to LIMITS["time_limit"] (7 days)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"`time_limit` must be a number of seconds. Got {value!r}.")
    check_range("time_limit", value, float, 1.0)
    return float(value)


def _refuse_stdin(data: Any, where: str) -> None:
    """``data = "-"``: standard input means nothing to jobs that run unattended, one after
    another; a usage error of the whole file (exit 2), not one failed job."""
    if isinstance(data, str) and data.strip() == "-":
        raise ConfigError(f"{where}: `data` = \"-\" (standard input) cannot be a batch job's "
                          "data. Fix: name the data file (or a glob).")


def parse_job(name: str, raw: dict[str, Any], base: Path) -> Job:
    """Build one job from its merged table (defaults ← job); ConfigError names the bad key."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ConfigError(f"job name {name!r} may only use letters, digits, '_', '.' and '-'.")
    if "output_dir" in raw:
        raise ConfigError("`output_dir` is not used by batch jobs; set `model_dir` and "
                          "`output` instead.")
    for key in ("partitions", "partition_col"):  # a job's registry holds one bundle a version
        if key in raw:
            raise ConfigError(f"`{key}` is not used by batch jobs (one model per job); train "
                              f"a partitioned model with `forecast train --{key.replace('_', '-')}"
                              "` (docs/scaling.md).")
    if "data" not in raw:
        raise ConfigError("`data` is required (a CSV or Parquet path, or a glob).")
    _refuse_stdin(raw["data"], f"job {name!r}")
    training = {k: v for k, v in raw.items() if k not in JOB_KEYS}
    output = _pattern(base, raw.get("output", "forecasts/{job}.csv"), "output", name,
                      allow_date=True)
    output_format(Path(output), what="output")  # .csv, .json or .parquet, as for predict
    return Job(
        name=name,
        data=_pattern(base, raw["data"], "data", name, allow_date=False),
        model_dir=Path(_pattern(base, raw.get("model_dir", "models/{job}"), "model_dir", name,
                                allow_date=False)),
        output=output,
        settings=build_settings(training),
        policy=parse_policy(raw.get("retrain")),
        keep_versions=_keep(raw.get("keep_versions", DEFAULT_KEEP)),
        time_limit=parse_time_limit(raw.get("time_limit", DEFAULT_TIME_LIMIT)),
    )


def _clashes(jobs: list[Job]) -> dict[str, str]:
    """Jobs that would write over each other's files (or their own data): name → why.

    Two jobs may not share a model directory or an output, no output may be (or match) a
    job's data, and no output may lie inside a model directory, where it could replace
    ``current`` or a version's file. Outputs and data are compared as patterns ({date} and
    globs), so ``exports/s-*.csv`` clashes with ``exports/s-{date}.csv``.
    """
    def meet(a: str, b: str) -> bool:  # one path or pattern matches the other, part by part
        pa, pb = Path(a).parts, Path(b).parts
        return len(pa) == len(pb) and all(
            x == y or fnmatch.fnmatchcase(x, y) or fnmatch.fnmatchcase(y, x)
            for x, y in zip(pa, pb, strict=True))

    why: dict[str, str] = {}
    for job in jobs:
        out = job.output.replace("{date}", "*")
        for other in jobs:
            of = "" if other is job else f" of job {other.name!r}"
            if other is not job and other.model_dir == job.model_dir:
                why[job.name] = (f"`model_dir` {job.model_dir} is also the model directory{of};"
                                 " each job needs its own.")
            elif other is not job and meet(out, other.output.replace("{date}", "*")):
                why[job.name] = (f"`output` {job.output} is also the output{of}; each job needs "
                                 "its own.")
            elif meet(out, other.data):
                why[job.name] = (f"`output` {job.output} is the input file{of} ({other.data}); "
                                 "writing there would destroy the data. Name another output.")
            elif Path(out).is_relative_to(other.model_dir):
                why[job.name] = (f"`output` {job.output} lies inside the model directory "
                                 f"{other.model_dir}{of}, where it could replace a model file.")
    return why


def load_batch(path: Path, state_dir: Path | None = None) -> BatchSpec:
    """Parse a batch file. A broken file raises; a broken job lands in ``invalid``."""
    path = Path(path).resolve()
    raw = read_toml(path, "batch file")
    for key in raw:
        if key not in TOP_KEYS:
            raise ConfigError(f"{path}: unknown top-level key `{key}` (expected "
                              f"{', '.join(TOP_KEYS)}; job settings go under [jobs.NAME]).")
    defaults = _table(raw.get("defaults", {}), f"{path}: [defaults]")
    tables = _table(raw.get("jobs", {}), f"{path}: [jobs]")
    if not tables:
        raise ConfigError(f"{path}: no jobs; add at least one [jobs.NAME] table.")
    base = path.parent
    jobs: list[Job] = []
    invalid: dict[str, str] = {}
    for name, table in tables.items():
        if isinstance(table, dict):
            _refuse_stdin({**defaults, **table}.get("data"), f"{path}: job {name!r}")
        try:
            jobs.append(parse_job(name, {**defaults, **_table(table, f"[jobs.{name}]")}, base))
        except (ConfigError, InputMissingError) as exc:
            invalid[name] = f"{path}: job {name!r}: {exc}"
    for name, why in _clashes(jobs).items():
        invalid[name] = f"{path}: job {name!r}: {why}"
    jobs = [j for j in jobs if j.name not in invalid]
    if state_dir is None and os.environ.get(STATE_DIR_ENV):
        state_dir = Path(os.environ[STATE_DIR_ENV])
    top = raw.get("state_dir", DEFAULT_STATE_DIR)
    if not isinstance(top, str) or not top.strip():
        raise ConfigError(f"{path}: `state_dir` must be a non-empty path. Got {top!r}.")
    state = state_dir if state_dir is not None else base / top
    cluster = raw.get("cluster")
    if cluster is not None and not isinstance(cluster, str):
        raise ConfigError(f"{path}: `cluster` must be a scheduler address such as "
                          f'"tcp://10.0.0.5:8786". Got {cluster!r}.')
    return BatchSpec(path=path, state_dir=Path(state).expanduser().resolve(),
                     jobs=tuple(jobs), invalid=invalid, cluster=cluster)


def state_dir_for(cli: Path | None, batch_file: Path | None = None) -> Path:
    """Where history, logs, locks and backups go: --state-dir, else $FORECAST_STATE_DIR,
    else the batch file's ``state_dir`` (default ``.forecast-state`` beside it), else
    ``.forecast-state`` in the working directory."""
    if cli is not None:
        return cli.expanduser().resolve()
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV]).expanduser().resolve()
    if batch_file is not None:
        return load_batch(batch_file).state_dir
    return Path(DEFAULT_STATE_DIR).resolve()
