"""Helpers for the tests of `forecast train`'s output directory: what OUT shows, whether it is
one whole run, an OUT of the old layout, and the publication step run alone in a subprocess."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import REPO

FOUR = ("model", "metrics.json", "test_forecasts.csv", "history.csv")
KILLED = -9

# The publication of a staged run, exactly as `forecast train` does it after training (lock,
# leftovers, migration, rename, pointer switch, pruning), without TensorFlow: each kill point
# costs a fraction of a second instead of a training. argv: OUT, a run's files to stage, keep.
PUBLISH = """
import shutil, sys
from pathlib import Path
from forecast_cli.io import atomic, locking
from forecast_cli.pipeline import outdir
out, src, keep = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
print("ready", flush=True)
with locking.hold(out / outdir.LOCK, "test"):
    outdir.prepare(out)
    staged = outdir.new_staging(out)
    shutil.copytree(src, staged, dirs_exist_ok=True)
    atomic.fsync_tree(staged)
    outdir.publish(out, staged, keep)
"""


def publish_cmd(out: Path, src: Path, keep: int = 3) -> list[str]:
    return [sys.executable, "-c", PUBLISH, str(out), str(src), str(keep)]


def env(**extra: str) -> dict[str, str]:
    full = {**os.environ, "PYTHONHASHSEED": "0", **extra}
    full.pop("FORECAST_DEBUG", None)
    return full


def publish(out: Path, src: Path, keep: int = 3, kill_at: str | None = None) -> int:
    """Run the publication in a subprocess (killed at ``kill_at``); its exit status."""
    extra = {"FORECAST_TEST_KILL_AT": kill_at} if kill_at else {}
    proc = subprocess.run(publish_cmd(out, src, keep), capture_output=True, text=True,
                          cwd=REPO, env=env(**extra), timeout=60, check=False)
    assert proc.returncode in (0, KILLED), proc.stderr
    return proc.returncode


def view(out: Path) -> dict[str, bytes]:
    """What a reader of OUT's four names sees, file by file (through any links)."""
    seen = {f"model/{n}": (out / "model" / n).read_bytes()
            for n in sorted(os.listdir(out / "model"))}
    seen.update({name: (out / name).read_bytes() for name in FOUR[1:]})
    return seen


def files(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (links not followed), by relative path."""
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def one_run(out: Path) -> str:
    """Assert OUT's four names show one whole, self-consistent run; return its number."""
    real = {name: Path(os.path.realpath(out / name)) for name in FOUR}
    runs = {p.parent for p in real.values()}
    assert len(runs) == 1, real
    run = runs.pop()
    assert run.parent == (out / "runs").resolve()
    assert os.readlink(out / "latest") == f"runs/{run.name}"
    metrics = json.loads((out / "metrics.json").read_text())
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    config = json.loads((out / "model" / "config.json").read_text())
    assert metrics["data"]["fingerprint"] == manifest["data_fingerprint"]
    # the bundle's settings add what it serves (the model or --fallback's baseline, and
    # Theta's share of the blend)
    assert metrics["settings"] == {k: v for k, v in config["settings"].items()
                                   if k not in ("serving", "theta_weight", "theta_always")}
    assert config["settings"]["serving"] == metrics["serving"]
    assert config["settings"]["theta_weight"] == metrics["ensemble"]["theta_weight"]
    history = [line for line in (out / "history.csv").read_text().splitlines() if line]
    assert len(history) - 1 == metrics["training"]["epochs_run"]
    return run.name


def leftovers(out: Path) -> list[str]:
    """Names that only a killed or failed run leaves behind."""
    names = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    if (out / "runs").is_dir():
        names += [f"runs/{p.name}" for p in (out / "runs").iterdir() if p.name.startswith(".")]
    return sorted(names)


def legacy_copy(run: Path, out: Path) -> Path:
    """An OUT of the old layout (a real model/ and real files) holding ``run``'s outputs."""
    out.mkdir(parents=True)
    for name in FOUR:
        if name == "model":
            shutil.copytree(run / name, out / name)
        else:
            shutil.copy2(run / name, out / name)
    return out


def changed_copy(run: Path, dest: Path, mark: int = 1) -> Path:
    """``run``'s files with metrics, forecasts and history made recognisably different (by
    ``mark``; the bundle's bytes are kept: its checksums must hold); still one whole run."""
    shutil.copytree(run, dest)
    metrics = json.loads((dest / "metrics.json").read_text())
    metrics["training"]["seconds"] = 10000.0 + mark
    (dest / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for name in ("test_forecasts.csv", "history.csv"):
        with (dest / name).open("a") as fh:
            fh.write("\n" * mark)  # blank last lines: the same table to a CSV reader
    return dest


@contextlib.contextmanager
def lock_held(path: Path) -> Iterator[Any]:
    """Hold the flock a train takes on ``path``, as another train would."""
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield fh
