"""`forecast train` publishes a run as one unit (issue 14) and never destroys the previous
model (issue 13): real trainings, the CLI in subprocesses, SIGKILL at every rename and write of
the publication and at random instants, a locked OUT, a full disk.

Trainings are what cost time, so one trained OUT (module fixture) is copied into each test, and
the publication step alone (``run_helpers.PUBLISH``: what `forecast train` runs after training,
without TensorFlow) is what most kill points are tried on, in a subprocess each. The trainings
nothing kills, and the refusal of a data file at an output name, run the CLI in this process
(``cli_helpers.run_cli``).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from forecast_cli.errors import ConfigError, OutputError, WriteError
from forecast_cli.io import links
from forecast_cli.pipeline import outdir, runs
from forecast_cli.pipeline.quickpredict import predict_output
from forecast_cli.settings import build_settings
from tests.cli_helpers import run_cli
from tests.conftest import REPO, TINY_ARGS, run_forecast, seasonal_series, write_series
from tests.run_helpers import (
    FOUR,
    KILLED,
    changed_copy,
    env,
    files,
    leftovers,
    legacy_copy,
    lock_held,
    one_run,
    publish,
    publish_cmd,
    view,
)

ARGS = (*TINY_ARGS, "--epochs", "2", "--quiet")  # the last --epochs wins
KILL = "FORECAST_TEST_KILL_AT"


@dataclass(frozen=True)
class Base:
    data: Path
    out: Path  # run 0001, published
    shown: dict[str, bytes]  # what its four names show
    seconds: float  # how long its training took, start to exit


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("runs")
    data = write_series(root / "daily.csv", seasonal_series(120))
    started = time.monotonic()
    proc = run_forecast("train", data, *ARGS, "-o", root / "out")
    assert proc.returncode == 0, proc.stderr
    return Base(data, root / "out", view(root / "out"), time.monotonic() - started)


def _copy(base: Base, dest: Path) -> Path:
    return Path(shutil.copytree(base.out, dest, symlinks=True))


def _predicts(out: Path, data: Path) -> None:
    """`forecast predict --model OUT/model` works (the same code, in this process)."""
    assert predict_output(out / "model", data).rows == 4


def test_a_run_is_numbered_behind_four_links_that_switch_together(base: Base) -> None:
    out = base.out
    assert sorted(os.listdir(out)) == [".lock", "history.csv", "latest", "metrics.json", "model",
                                       "runs", "test_forecasts.csv"]
    assert {name: os.readlink(out / name) for name in FOUR} == {
        name: f"latest/{name}" for name in FOUR}
    assert one_run(out) == "0001"
    assert links.resolved(out / "model") == (out / "runs" / "0001" / "model").resolve()
    assert leftovers(out) == []


@pytest.mark.parametrize(("point", "shows"), [
    ("run-rename", "old"),  # the new run complete in runs/.staging-*, not yet numbered
    ("latest-switch", "old"),  # numbered, the new link made, not yet renamed over `latest`
    ("prune-delete", "new"),  # published; an old run renamed to .deleting-*, not yet deleted
])
def test_a_kill_at_each_step_of_publication_leaves_one_whole_run(
        base: Base, tmp_path: Path, point: str, shows: str) -> None:
    out = _copy(base, tmp_path / "out")
    shutil.copytree(out / "runs" / "0001", out / "runs" / "0000")  # an older run, to prune
    new = changed_copy(out / "runs" / "0001", tmp_path / "new")
    previous = files(out / "runs" / "0001")
    assert publish(out, new, keep=2, kill_at=point) == KILLED
    assert view(out) == {"old": base.shown, "new": view(new)}[shows]
    assert one_run(out) == {"old": "0001", "new": "0002"}[shows]
    assert files(out / "runs" / "0001") == previous  # the previous run is untouched
    _predicts(out, base.data)
    assert publish(out, new, keep=2) == 0  # the next run cleans up and publishes
    assert leftovers(out) == []
    assert view(out) == view(new)
    # kept: the latest and the run it replaced; an unpublished run is the first to go
    assert outdir.run_names(out) == sorted({one_run(out), "0002" if shows == "new" else "0001"})


def test_random_kills_during_publication_leave_the_old_run_or_the_new(
        base: Base, tmp_path: Path) -> None:
    out = _copy(base, tmp_path / "out")
    sources = [changed_copy(out / "runs" / "0001", tmp_path / f"new{i}", mark=i + 1)
               for i in range(2)]
    started = time.monotonic()
    assert publish(out, sources[1]) == 0
    span = time.monotonic() - started  # a whole publication: the kills fall anywhere in it
    rng = random.Random(14)
    for i in range(8):
        before, new = view(out), sources[i % 2]
        proc = subprocess.Popen(publish_cmd(out, new), stdout=subprocess.PIPE, text=True,
                                cwd=REPO, env=env())
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, span))
        proc.kill()
        assert proc.wait(timeout=60) in (0, KILLED)
        assert view(out) in (before, view(new))  # one or the other, never a mix
        run = one_run(out)
        assert files(out / "runs" / run) in (files(sources[0]), files(sources[1]))
    _predicts(out, base.data)
    assert publish(out, sources[0]) == 0
    assert (leftovers(out), view(out)) == ([], view(sources[0]))


MIGRATION = ("migrate-copied", "migrate-latest", "link-model", "link-test_forecasts.csv")


def _killed_after(seconds: float, *args: str | Path) -> int:
    """`forecast train ARGS` SIGKILLed after ``seconds`` (or finished sooner); its status."""
    proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "train", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
    return proc.wait(timeout=60)


def test_an_old_out_is_migrated_safely_and_kept_through_kills_and_reruns(
        base: Base, tmp_path: Path) -> None:
    old = legacy_copy(base.out / "runs" / "0001", tmp_path / "out")
    (old / ".model.x1y2.tmp").mkdir()  # what the old writer left when killed
    (old / ".metrics.json.x1y2.tmp").write_text("{")
    assert view(old) == base.shown
    for point in MIGRATION:  # each kill leaves the old outputs readable, as they were
        proc = run_forecast("train", base.data, *ARGS, "-o", old, env={KILL: point})
        assert proc.returncode == KILLED, (point, proc.stderr)
        assert view(old) == base.shown, point
        _predicts(old, base.data)
    assert ".model.x1y2.tmp" not in leftovers(old)  # cleaned by the next run, under its lock
    # A kill at a random instant of a whole training (after it finished migrating), then a
    # training that completes.
    seconds = random.Random(13).uniform(0.3, 0.8) * base.seconds
    assert _killed_after(seconds, base.data, *ARGS, "--seed", "8", "-o", old) in (KILLED, 0)
    assert files(old / "runs" / "0001") == files(base.out / "runs" / "0001")  # migrated
    if one_run(old) == "0001":
        assert view(old) == base.shown
    _predicts(old, base.data)
    proc = run_cli("train", base.data, *ARGS, "--seed", "9", "-o", old)  # in this process
    assert proc.returncode == 0, proc.stderr
    assert leftovers(old) == []
    assert one_run(old) not in ("0001", None)
    assert files(old / "runs" / "0001") == files(base.out / "runs" / "0001")  # issue 13
    shown = run_cli("predict", "-m", old / "model", base.data)
    assert (shown.returncode, len(shown.stdout.splitlines())) == (0, 5), shown.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    """A 4 MiB tmpfs at tmp_path/fs (root only), or None where it cannot be mounted."""
    root = tmp_path / "fs"
    root.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)],
            capture_output=True, check=False).returncode != 0:
        yield None
        return
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def _fill(root: Path, free: int) -> None:
    """Shrink the tmpfs at ``root`` to what it holds plus ``free`` bytes."""
    st = os.statvfs(root)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    subprocess.run(["mount", "-o", f"remount,size={used + free}", str(root)], check=True)


def test_a_full_disk_exits_74_and_leaves_the_previous_run(
        base: Base, tmp_path: Path, small_disk: Path | None) -> None:
    """On a real full filesystem where one can be mounted (the test forecasts and history fit,
    the bundle's weights do not), else by the failure hook inside the bundle's writing."""
    out = _copy(base, (small_disk or tmp_path) / "out")
    if small_disk is not None:
        _fill(small_disk, 20 * 1024)
    hook = {} if small_disk is not None else {"FORECAST_TEST_FAIL_AT": "bundle-weights"}
    before = files(out)
    proc = run_forecast("train", base.data, *ARGS, "-o", out, env=hook)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr == (  # one line: none of h5py's tracebacks of each failed close
        f"Error: {out}: writing the new run failed (No space left on device); the previous "
        "run is unchanged and the partial one was removed.\n")
    assert {k: v for k, v in files(out).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"}
    assert leftovers(out) == []
    assert one_run(out) == "0001"
    _predicts(out, base.data)


def test_a_train_into_a_locked_out_exits_75_and_changes_nothing(
        base: Base, tmp_path: Path) -> None:
    out = _copy(base, tmp_path / "out")
    before = files(out)
    with lock_held(out / ".lock") as fh:  # as a train running there holds it
        fh.truncate(0)
        fh.write("pid 4242 since 2026-01-01T00:00:00+00:00")
        fh.flush()
        proc = run_forecast("train", base.data, *ARGS, "-o", out, timeout=120)
    assert proc.returncode == 75, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Error: output directory {out} is locked by another run (held by pid 4242 since "
        f"2026-01-01T00:00:00+00:00); lock file {out / '.lock'}. Another `forecast train` is "
        "writing there; retry when it has finished.")
    assert {k: v for k, v in files(out).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"}
    assert leftovers(out) == []


def test_a_failed_pointer_switch_removes_the_new_run(
        base: Base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _copy(base, tmp_path / "out")
    staged = outdir.new_staging(out)
    shutil.copytree(changed_copy(out / "runs" / "0001", tmp_path / "new"), staged,
                    dirs_exist_ok=True)
    monkeypatch.setenv("FORECAST_TEST_FAIL_AT", "latest-switch")
    with pytest.raises(WriteError, match="latest: could not point it to runs/0002"):
        outdir.publish(out, staged, 3)
    assert (view(out), outdir.run_names(out), leftovers(out)) == (base.shown, ["0001"], [])


def test_a_file_that_is_not_the_latest_runs_is_never_replaced(
        base: Base, tmp_path: Path) -> None:
    out = _copy(base, tmp_path / "out")
    (out / "metrics.json").unlink()
    (out / "metrics.json").write_text("mine\n")
    with pytest.raises(OutputError, match=r"metrics\.json: is not the output of the latest run"):
        outdir.prepare(out)
    assert (out / "metrics.json").read_text() == "mine\n"


def test_a_data_file_at_an_output_name_is_never_taken_for_an_old_run(
        base: Base, tmp_path: Path) -> None:
    """`forecast train out/history.csv -o out` used to migrate the data as a run and replace it
    by a link (exit 0): a file without a bundle beside it was never written by forecast."""
    out = tmp_path / "out"
    out.mkdir()
    data = out / "history.csv"
    shutil.copy(base.data, data)
    before = data.read_bytes()
    proc = run_cli("train", data, *ARGS, "-o", out)
    assert proc.returncode == 73, proc.stderr
    assert f"{data}: is a file forecast did not write" in proc.stderr
    assert not data.is_symlink()
    assert data.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [".lock", "history.csv"]


def test_pruning_keeps_the_latest_the_run_it_replaced_and_then_the_newest(
        tmp_path: Path) -> None:
    for n in range(1, 7):
        (tmp_path / "runs" / f"{n:04d}").mkdir(parents=True)
    (tmp_path / "latest").symlink_to("runs/0002")  # rolled back to 0002
    assert outdir.prune(tmp_path, 3, previous="0004") == ["0005", "0003", "0001"]
    assert outdir.run_names(tmp_path) == ["0002", "0004", "0006"]
    assert outdir.prune(tmp_path, 1) == ["0006", "0004"]
    assert outdir.run_names(tmp_path) == ["0002"]


def test_write_failures_are_recognised_however_a_library_wraps_them() -> None:
    import errno

    from forecast_cli.errors import TrainingError

    full = OSError(errno.ENOSPC, "No space left on device")
    wrapped = RuntimeError("saving failed")
    wrapped.__cause__ = full
    h5py_text = RuntimeError("Unable to create file (file write failed: errno = 28, ...)")
    assert [runs.write_failure(e) for e in (full, wrapped, h5py_text)] == [
        "No space left on device"] * 3
    assert runs.write_failure(OSError(errno.EIO, "x")) == "Input/output error"
    assert runs.write_failure(ValueError("bad")) is None
    assert runs.write_failure(TrainingError("No space left on device?")) is None


@pytest.mark.parametrize(("given", "message"), [
    ({"keep_runs": 0}, "`keep_runs` must be ≥ 1. Got 0."),
    ({"keep_runs": 10_001}, "`keep_runs` must be ≤ 10,000. Got 10,001."),
    ({"keep_runs": "2"}, "`keep_runs` must be a int. Got '2'."),
])
def test_keep_runs_is_checked_like_every_setting(given: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_settings(given)
    assert str(info.value) == message
    assert "keep_runs" not in build_settings({"keep_runs": 5}).to_json()
