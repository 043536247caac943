"""Shared helpers: real CSV files on disk and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "co2_monthly.csv"

# Settings small enough that a real TensorFlow fit takes a few seconds on 2 cores.
# One network, no refit: the ensemble and the refit have their own tests (test_ensemble.py).
SINGLE: tuple[str, ...] = ("--ensemble-seeds", "1", "--ensemble-lookbacks", "1", "--no-refit")
TINY_ARGS: tuple[str, ...] = ("--lookback", "8", "--horizon", "4", "--lstm-units", "8",
                              "--epochs", "3", "--batch-size", "16", "--patience", "2",
                              "--seed", "7", *SINGLE)


def run_forecast(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
                 timeout: float = 300, stdin: Any = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m forecast_cli ARGS`` as a user would; returns code, stdout, stderr.

    ``stdin``: an open file (or pipe) for standard input; none by default (/dev/null)."""
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    full_env.pop("FORECAST_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "forecast_cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=full_env,
                          timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL if stdin is None else stdin)


def write_series(path: Path, values: Sequence[float] | np.ndarray, start: str = "2020-01-01",
                 freq: str = "D", time_col: str = "timestamp",
                 columns: Sequence[str] = ("value",)) -> Path:
    """Write a regular series as CSV: values (n,) or (n, k) under ``columns``."""
    arr = np.asarray(values, dtype=float)
    arr = arr.reshape(len(arr), -1)
    frame = pd.DataFrame(arr, columns=list(columns))
    frame.insert(0, time_col, pd.date_range(start, periods=len(arr), freq=freq))
    frame.to_csv(path, index=False)
    return path


def seasonal_series(n: int, period: int = 7, trend: float = 0.05, noise: float = 0.1,
                    seed: int = 0) -> np.ndarray:
    """A sine of ``period`` steps on a linear trend with a little seeded noise. Shape (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + trend * t + np.sin(2 * np.pi * t / period) + noise * rng.standard_normal(n)


@pytest.fixture
def seasonal_csv(tmp_path: Path) -> Path:
    """240 daily rows of a weekly sine on a trend."""
    return write_series(tmp_path / "daily.csv", seasonal_series(240))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    """A valid, drawn PNG: the signature, and more bytes than an empty canvas takes."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000


def tree_digest(root: Path) -> dict[str, bytes]:
    """Every entry under ``root`` by relative path: a file's bytes, a link's target."""
    seen: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            seen[rel] = os.readlink(p).encode()
        elif p.is_file() and p.name != ".lock":
            seen[rel] = p.read_bytes()
    return seen


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Path, Path, subprocess.CompletedProcess[str]]]:
    """One tiny `forecast train --quiet` per test worker, shared by every module that only
    reads it: (its 120-row daily CSV, its output directory, the finished process).

    Tests that change the run copy it first (``shutil.copytree(out, dest, symlinks=True)``);
    the teardown fails the session if any test changed the shared files."""
    d = tmp_path_factory.mktemp("tiny")
    data = write_series(d / "daily.csv", seasonal_series(120))
    proc = run_forecast("train", data, *TINY_ARGS, "-o", d / "run", "--quiet")
    assert proc.returncode == 0, proc.stderr
    before = tree_digest(d)
    yield data, d / "run", proc
    assert tree_digest(d) == before, "a test changed the shared tiny run; copy it first"


@pytest.fixture(scope="session")
def tiny_model(tiny_run: tuple[Path, Path, subprocess.CompletedProcess[str]]
               ) -> tuple[Path, Path]:
    """The shared tiny model (``tiny_run``): (its 120-row daily CSV, its bundle). Read only."""
    data, out, _ = tiny_run
    return data, out / "model"


def _ours(defs: Sequence[Any] | None, scope: str) -> Any:
    """The fixture definition in effect, if it is one of this suite's (not pytest's own) and
    of ``scope``; else None."""
    if not defs or defs[-1].scope != scope:
        return None
    code = defs[-1].func.__code__
    return defs[-1] if Path(code.co_filename).resolve().is_relative_to(REPO / "tests") else None


def _shared_fixture_keys(item: pytest.Item) -> set[str]:
    """The shared (module or session scope) fixtures of ours that a test uses, as group keys.

    Such fixtures train, or write data, once per worker that runs one of their tests; keeping
    their tests on one worker sets each up once. Module fixtures are keyed by module; session
    fixtures by the one they are built on (``tiny_model`` reads ``tiny_run``: one key).
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    names = info.name2fixturedefs

    def base(name: str) -> str:
        below = [a for a in names[name][-1].argnames if _ours(names.get(a), "session")]
        return base(below[0]) if below else name

    keys = {item.module.__name__ for n in item.fixturenames  # type: ignore[attr-defined]
            if _ours(names.get(n), "module")}
    return keys | {base(n) for n in item.fixturenames if _ours(names.get(n), "session")}


def _keys_of(item: pytest.Item) -> set[str]:
    """A test's own ``xdist_group`` mark, else its shared-fixture keys."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))}
    return _shared_fixture_keys(item)


def worker_groups(items: Sequence[pytest.Item]) -> dict[str, str]:
    """``{node id: group}`` of every test with a key: keys that one test shares join one group
    (a module whose module fixture reads the session's ``tiny_run`` is in tiny_run's group), so
    no shared fixture is set up on two workers."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keyed = {item.nodeid: sorted(k) for item in items if (k := _keys_of(item))}
    for keys in keyed.values():
        root(keys[0])
        for other in keys[1:]:
            a, b = sorted((root(keys[0]), root(other)))
            parent[b] = a
    members: dict[str, set[str]] = {}
    for key in list(parent):
        members.setdefault(root(key), set()).add(key)
    name = {r: "+".join(sorted(ks)) for r, ks in members.items()}
    return {nodeid: name[root(keys[0])] for nodeid, keys in keyed.items()}


# --- under `pytest -n N --dist loadgroup` (make test) --------------------------------------
# Each worker writes every collected test's group to a file the controller named; the
# controller's scheduler (below) sends each group to one worker, and the other tests one by one,
# largest groups first. (xdist's own loadgroup renames the tests' node ids, which pytest 9
# ignores: it would spread every group.)

@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_configure_node(node: Any) -> None:
    """Controller: tell each worker where to write the groups."""
    config = node.config
    if not hasattr(config, "_forecast_groups"):
        config._forecast_groups = tempfile.mkdtemp(prefix="forecast-test-groups-")
    node.workerinput["forecast_groups"] = config._forecast_groups


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Worker: write ``{node id: group}`` for the controller's scheduler."""
    folder = getattr(config, "workerinput", {}).get("forecast_groups")
    if folder:
        groups = worker_groups(items)
        worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
        tmp = Path(folder) / f".{worker}.json"
        tmp.write_text(json.dumps(groups), encoding="utf-8")
        tmp.rename(Path(folder) / f"{worker}.json")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_forecast_groups", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: xdist's scope scheduling with our groups as the scopes."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):  # type: ignore[misc]
        """A group is one unit of work (one worker); any other test is a unit of its own."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:
                folder = getattr(config, "_forecast_groups", None)
                found = sorted(Path(folder).glob("gw*.json")) if folder else []
                self._groups = json.loads(found[0].read_text(encoding="utf-8")) if found else {}
            group = self._groups.get(nodeid)
            return f"group:{group}" if group else nodeid

    return SharedFixtureScheduling(config, log)
