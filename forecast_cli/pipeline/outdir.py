"""The output directory of ``forecast train``: numbered runs behind one pointer.

Layout of OUT::

    .lock                     held (flock) by the train writing here; released when it exits
    runs/0001/ … runs/0003/   complete runs: model/, metrics.json, test_forecasts.csv,
                              history.csv; the newest ``keep_runs`` are kept
    latest -> runs/0003       the published run, switched by one rename
    model -> latest/model     and metrics.json, test_forecasts.csv, history.csv: links through
                              ``latest`` that never change, so all four switch together
    runs/.staging-*           a run being written (left by a killed run; removed by the next)
    runs/.deleting-*          a pruned run being deleted (likewise)

A run is written and fsynced under ``runs/.staging-*``, renamed to the next number, and only
then published by pointing ``latest`` at it, so a reader, or a run killed at any instant, finds
the previous run or the new one, whole. An OUT written before runs were kept (a real ``model/``
and real files) becomes run 0001 by copying, the copy published, then each real name replaced
by its link: the old outputs stay readable at every step. Every function here expects OUT's
lock to be held (``runs.train`` holds it); none trains anything.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from forecast_cli.errors import OutputError, WriteError
from forecast_cli.io import atomic, killpoints, links

BUNDLE_DIR = "model"
METRICS_FILE = "metrics.json"
FORECASTS_FILE = "test_forecasts.csv"
HISTORY_FILE = "history.csv"
OUTPUTS = (BUNDLE_DIR, METRICS_FILE, FORECASTS_FILE, HISTORY_FILE)
RUNS = "runs"
LATEST = "latest"
LOCK = ".lock"
STAGING = ".staging-"
DELETING = ".deleting-"
LEGACY_ASIDE = f".{BUNDLE_DIR}.old-"  # where the old writer moved a bundle while replacing it
_RUN = re.compile(r"^\d{4,}$")
_OURS = re.compile(r"^\.(?:latest|model|metrics\.json|test_forecasts\.csv|history\.csv)\..*\.tmp$")


def run_names(out: Path) -> list[str]:
    """The runs in ``OUT/runs``, oldest first."""
    root = out / RUNS
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if _RUN.match(p.name) and p.is_dir()), key=int)


def latest(out: Path) -> str | None:
    """The run ``OUT/latest`` points to; None when there is none (or it names no run)."""
    pointer = out / LATEST
    try:
        target = os.readlink(pointer)
    except FileNotFoundError:
        return None
    except OSError:
        mode = os.lstat(pointer).st_mode
        raise OutputError(f"{pointer}: is {atomic.kind_of(mode)}, not the link to the latest run "
                          "that forecast keeps there; move it away.") from None
    name = Path(target).name
    ok = target == f"{RUNS}/{name}" and _RUN.match(name) and (out / RUNS / name).is_dir()
    return name if ok else None


def _write_error(path: Path, exc: OSError) -> WriteError | OutputError:
    reason = atomic.disk_error(exc)
    if reason is not None:
        return WriteError(f"{path}: write failed ({reason}); the previous run is unchanged.")
    return OutputError(f"{path}: cannot be created ({exc.strerror}).")


def new_staging(out: Path) -> Path:
    """A fresh, empty ``runs/.staging-*`` directory to write a run into."""
    root = atomic.ensure_dir(out / RUNS)
    try:
        path = Path(tempfile.mkdtemp(prefix=STAGING, dir=root))
        os.chmod(path, 0o777 & ~_umask())  # mkdtemp makes 0700
    except OSError as exc:
        raise _write_error(root, exc) from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def clean(out: Path) -> list[str]:
    """Remove what killed runs left: staging and half-deleted runs, temporary links and files,
    and (once OUT has a published run) the old writer's bundles set aside. Returns their names.
    """
    stale = [p for p in (out / RUNS).glob(".*")
             if p.name.startswith((STAGING, DELETING))] if (out / RUNS).is_dir() else []
    stale += [p for p in out.glob(".*") if _OURS.match(p.name)]
    if latest(out) is not None:
        stale += [p for p in out.glob(f"{LEGACY_ASIDE}*")]
    for path in stale:
        _remove(path)
    return sorted(str(p.relative_to(out)) for p in stale)


def _same(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` hold the same bytes (regular files, or trees of them)."""
    if a.is_file() and b.is_file():
        return filecmp.cmp(a, b, shallow=False)
    if not (a.is_dir() and b.is_dir()):
        return False
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        _same(a / n, b / n) for n in names)


def _legacy(out: Path) -> dict[str, Path]:
    """The outputs of the old layout in OUT: real files and a real model/ directory (or, when
    a killed old writer left none, the bundle it had set aside)."""
    found: dict[str, Path] = {}
    for name in OUTPUTS:
        path = out / name
        with contextlib.suppress(FileNotFoundError):
            mode = os.lstat(path).st_mode
            want = stat.S_ISDIR if name == BUNDLE_DIR else stat.S_ISREG
            if stat.S_ISLNK(mode):
                continue
            if not want(mode):
                raise OutputError(f"{path}: is {atomic.kind_of(mode)}; forecast keeps "
                                  f"{'a directory' if name == BUNDLE_DIR else 'a file'} or "
                                  "a link there. Move it away.")
            if name == BUNDLE_DIR and not (path / "manifest.json").is_file():
                raise OutputError(f"{path}: is a directory but not a model bundle (no "
                                  "manifest.json); forecast keeps its link to the latest "
                                  "bundle there. Move it away or choose another --output-dir.")
            found[name] = path
    if BUNDLE_DIR not in found:
        aside = sorted(out.glob(f"{LEGACY_ASIDE}*"), key=lambda p: p.stat().st_mtime)
        if aside and (aside[-1] / "manifest.json").is_file():
            found[BUNDLE_DIR] = aside[-1]
    if found and BUNDLE_DIR not in found:  # every old run had its bundle: not ours
        path = next(iter(found.values()))
        raise OutputError(f"{path}: is a file forecast did not write (no model bundle beside "
                          f"it), where train keeps a link to its latest run's {path.name}. "
                          "Move it away or choose another --output-dir.")
    return found


def _copy_legacy(out: Path, found: dict[str, Path]) -> Path:
    staged = new_staging(out)
    try:
        for name, path in found.items():
            if name == BUNDLE_DIR:
                shutil.copytree(path, staged / name, symlinks=True)
            else:
                shutil.copy2(path, staged / name)
        atomic.fsync_tree(staged)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise _write_error(out / RUNS, exc) from None
    return staged


def migrate(out: Path) -> str | None:
    """Make the outputs of the old layout a numbered run and publish it; its name, or None
    when there was nothing to migrate. The old files stay in place (``link_outputs`` replaces
    them by links once the copy is published)."""
    if latest(out) is not None:
        return None
    found = _legacy(out)
    if not found:
        return None
    names = run_names(out)
    newest = out / RUNS / names[-1] if names else None
    if newest is not None and set(found) == {p.name for p in newest.iterdir()} and all(
            _same(path, newest / name) for name, path in found.items()):
        name = newest.name  # copied by a migration killed before it was published
    else:
        name = _rename_in(out, _copy_legacy(out, found), "migrate-copied")
    links.replace_link(out / LATEST, f"{RUNS}/{name}", kill_point="migrate-latest")
    return name


def _rename_in(out: Path, staged: Path, kill_point: str) -> str:
    """Rename a complete staged run to the next number; its name."""
    killpoints.reached(kill_point)
    names = run_names(out)
    name = f"{int(names[-1]) + 1 if names else 1:04d}"
    try:
        os.rename(staged, out / RUNS / name)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise _write_error(out / RUNS / name, exc) from None
    atomic.fsync_dir(out / RUNS)  # the run is durable before ``latest`` names it
    return name


def link_outputs(out: Path) -> None:
    """Make each of the four names in OUT a link through ``latest``.

    A missing name or a stray link is (re)made; a real file or directory (the old layout) is
    replaced only when it holds the same bytes as the latest run's, else OutputError: forecast
    never deletes what it did not write.
    """
    run = latest(out)
    if run is None:
        return
    for name in OUTPUTS:
        path, target = out / name, f"{LATEST}/{name}"
        if not (out / RUNS / run / name).exists():
            continue
        if path.is_symlink():
            if os.readlink(path) != target:
                links.replace_link(path, target, kill_point=f"link-{name}")
        elif not path.exists():
            links.replace_link(path, target, kill_point=f"link-{name}")
        elif not _same(path, out / RUNS / run / name):
            raise OutputError(f"{path}: is not the output of the latest run ({out / LATEST}) "
                              f"and would be replaced by a link to it; move it away.")
        elif path.is_dir():
            links.dir_to_link(path, target, kill_point=f"link-{name}")
        else:
            links.replace_link(path, target, kill_point=f"link-{name}")


def prepare(out: Path) -> list[str]:
    """Before a new run (under the lock): remove leftovers, migrate the old layout, repair the
    links. Returns the names of the leftovers removed."""
    gone = clean(out)
    migrate(out)
    link_outputs(out)
    return gone + clean(out)


def publish(out: Path, staged: Path, keep: int) -> tuple[str, list[str]]:
    """Make the complete, fsynced run in ``staged`` the latest; (its name, the runs pruned).

    On a failure the run is removed and the previous one stays published (WriteError, 74).
    """
    previous = latest(out)
    name = _rename_in(out, staged, "run-rename")
    try:
        links.replace_link(out / LATEST, f"{RUNS}/{name}", kill_point="latest-switch")
    except WriteError as exc:
        shutil.rmtree(out / RUNS / name, ignore_errors=True)  # never published
        raise WriteError(f"{exc} The new run was removed; the previous one stays "
                         "published.") from None
    link_outputs(out)
    return name, prune(out, keep, previous)


def prune(out: Path, keep: int, previous: str | None = None) -> list[str]:
    """Delete the runs beyond ``keep``: the latest is kept first, then ``previous`` (the run it
    replaced), then the newest others. Returns the names deleted.

    A complete run a killed train never published is one of the others. Each doomed run is
    renamed to ``runs/.deleting-*`` first, so a kill mid-delete leaves no half run behind.
    """
    current, names = latest(out), run_names(out)
    first = list(dict.fromkeys(n for n in (current, previous) if n in names))
    order = first + [n for n in reversed(names) if n not in first]  # most worth keeping first
    doomed = [n for n in order[max(1, keep):] if n != current]
    for name in doomed:
        aside = out / RUNS / f"{DELETING}{name}"
        try:
            os.rename(out / RUNS / name, aside)
        except OSError:
            continue  # kept, to be pruned by a later run
        killpoints.reached("prune-delete")
        shutil.rmtree(aside, ignore_errors=True)
    return doomed
