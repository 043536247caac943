"""The machinery of bench/adversarial.py: cases, the CLI in subprocesses, checks, fixtures.

A case is a function of a ``Ctx`` (its own directory, the shared fixtures, a ``cli`` runner)
that returns when the CLI held and raises ``Broken`` (why, and the run that showed it)
otherwise. ``simple`` declares the common shape in one line: files, one command, the exit
codes it may end with and the words its message must contain.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
TIMEOUT = 60.0  # seconds: a command that reads, checks and refuses needs one or two
HANG_TIMEOUT = 30.0  # for the cases built to hang: they must be refused at once
TRAIN_TIMEOUT = 240.0  # a tiny training (TensorFlow's import is most of it)
TINY = ("--lookback", "8", "--horizon", "4", "--lstm-units", "4", "--epochs", "3",
        "--batch-size", "16", "--patience", "3", "--seed", "7")
TINY_TOML = ("lookback = 8\nhorizon = 4\nlstm_units = 4\nepochs = 3\nbatch_size = 16\n"
             "patience = 3\nseed = 7\n")
KILLED = -signal.SIGKILL


@dataclass
class Proc:
    """One finished command: exit code (None: killed at its timeout), output, duration."""

    args: tuple[str, ...]
    code: int | None
    out: str
    err: str
    seconds: float


class Broken(Exception):  # a verdict on the CLI, not an error of the script
    def __init__(self, why: str, proc: Proc | None = None) -> None:
        super().__init__(why)
        self.why, self.proc = why, proc


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    run: Callable[[Ctx], None]
    expect: str  # what held means, in words, for the report
    slow: bool = False  # trains a network
    uses_batch: bool = False  # needs the shared trained batch


@dataclass
class Result:
    case: Case
    held: bool
    why: str
    proc: Proc | None
    seconds: float


_CASES: list[Case] = []


def case(kind: str, name: str, expect: str, slow: bool = False, batch: bool = False
         ) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    def register(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        _CASES.append(Case(kind, name, fn, expect, slow, batch))
        return fn
    return register


def all_cases() -> list[Case]:
    from bench import adversarial_files, adversarial_runs  # noqa: F401 (they register)

    names = [c.name for c in _CASES]
    assert len(names) == len(set(names)), "two cases share a name"
    return list(_CASES)


Mention = str | tuple[str, ...]  # a word the message must contain, or alternatives


def expect(p: Proc, codes: Iterable[int], mentions: Sequence[Mention] = ()) -> None:
    """Held: ended in time, no traceback, an expected code, and (when it failed) a message
    naming each of ``mentions`` (case-insensitive)."""
    codes = tuple(codes)
    if p.code is None:
        raise Broken(f"hang: still running after {p.seconds:.0f} s (killed)", p)
    text = p.err
    if "Traceback (most recent call last)" in text:
        raise Broken("a traceback", p)
    if "unexpected failure" in text:
        raise Broken("an unexpected failure (a bug, exit 1)", p)
    if p.code not in codes:
        raise Broken(f"exit {p.code}, expected {'/'.join(map(str, codes))}", p)
    if p.code != 0:
        for m in mentions:
            alternatives = (m,) if isinstance(m, str) else m
            if not any(a.lower() in text.lower() for a in alternatives):
                raise Broken(f"the message does not name {' or '.join(map(repr, alternatives))}",
                             p)


# --- files ------------------------------------------------------------------------------------

def series_rows(n: int = 120, start: date = date(2020, 1, 1), seed: int = 0
                ) -> list[tuple[str, str]]:
    """(ISO date, value) of a weekly sine on a trend: the data every case starts from."""
    return [((start + timedelta(days=i)).isoformat(),
             f"{10 + 0.05 * i + math.sin(2 * math.pi * i / 7) + 0.01 * ((i * 37 + seed) % 11):.4f}")
            for i in range(n)]


def series_csv(n: int = 120, start: date = date(2020, 1, 1), header: str = "timestamp,value",
               eol: str = "\n") -> str:
    return header + eol + "".join(f"{t},{v}{eol}" for t, v in series_rows(n, start))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rehash(model: Path, extra: Iterable[str] = ()) -> None:
    """Rewrite a bundle's manifest with the checksums of its files as they are now (a tamperer
    who knows the format), listing ``extra`` names too."""
    path = model / "manifest.json"
    manifest = json.loads(path.read_text())
    names = [n for n in manifest["files"] if (model / n).is_file()] + list(extra)
    manifest["files"] = {n: sha256(model / n) for n in names}
    path.write_text(json.dumps(manifest, indent=2))


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    out = change(data)
    path.write_text(json.dumps(data if out is None else out, indent=2))


def snapshot(*roots: Path) -> dict[str, Any]:
    """What is at ``roots``: each file's bytes, each link's target, each other node's kind."""
    out: dict[str, Any] = {}
    for root in roots:
        deep = root.is_dir() and not root.is_symlink()
        paths = [root, *sorted(root.rglob("*"))] if deep else [root]
        for p in paths:
            try:
                mode = p.lstat().st_mode
            except FileNotFoundError:
                out[str(p)] = None
                continue
            if stat.S_ISLNK(mode):
                out[str(p)] = ("link", os.readlink(p))
            elif stat.S_ISREG(mode):
                out[str(p)] = p.read_bytes() if p.name != ".lock" else b""
            elif not stat.S_ISDIR(mode):
                out[str(p)] = ("node", stat.S_IFMT(mode))
    return out


def unchanged(before: dict[str, Any], after: dict[str, Any], p: Proc | None) -> None:
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        raise Broken(f"destroyed: {', '.join(Path(c).name for c in changed[:4])} changed", p)


# --- a case's context -------------------------------------------------------------------------

def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECAST_")}
    env.update(PYTHONPATH=str(REPO), PYTHONHASHSEED="0", **(extra or {}))
    return env


@dataclass
class Shared:
    """Built once per run: a 120-row daily CSV, a tiny trained bundle, a trained batch."""

    root: Path
    base: Path
    run: Path  # `forecast train` output (model/ inside)
    batch: Path | None  # a directory: batch.toml, daily.csv, models/, out/, .forecast-state

    @staticmethod
    def build(root: Path, need_batch: bool) -> Shared:
        root.mkdir(parents=True)
        base = root / "base.csv"
        base.write_text(series_csv())
        batch = root / "batch" if need_batch else None
        jobs = [[PY, "-m", "forecast_cli", "train", str(base), *TINY, "-o", str(root / "run"),
                 "--quiet"]]
        if batch is not None:
            batch.mkdir()
            shutil.copy(base, batch / "daily.csv")
            (batch / "batch.toml").write_text(BATCH_TOML)
            jobs.append([PY, "-m", "forecast_cli", "batch", str(batch / "batch.toml")])

        def go(cmd: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(cmd, capture_output=True, text=True, env=_env(None),
                                  timeout=TRAIN_TIMEOUT, check=False)

        with ThreadPoolExecutor(2) as pool:
            for proc in pool.map(go, jobs):
                if proc.returncode != 0:
                    sys.exit(f"fixture failed: {' '.join(proc.args)}\n{proc.stderr}")
        return Shared(root, base, root / "run", batch)


BATCH_TOML = ("[defaults]\n" + TINY_TOML + "\n[jobs.daily]\ndata = \"daily.csv\"\n"
              "model_dir = \"models/{job}\"\noutput = \"out/{job}.csv\"\n")


@dataclass
class Ctx:
    d: Path
    shared: Shared
    last: Proc | None = None
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def base(self, name: str = "data.csv") -> Path:
        path = self.d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.shared.base, path)
        return path

    def run_dir(self, name: str = "run") -> Path:
        return Path(shutil.copytree(self.shared.run, self.d / name, symlinks=True))

    def model(self) -> Path:
        return self.run_dir() / "model"

    def batch(self, name: str = "b") -> Path:
        assert self.shared.batch is not None
        return Path(shutil.copytree(self.shared.batch, self.d / name, symlinks=True)) / "batch.toml"

    def fifo(self, name: str) -> Path:
        path = self.d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return path

    def start(self, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen([PY, "-m", "forecast_cli", *map(str, args)], cwd=self.d,
                                env=_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.started.append(proc)
        return proc

    def finish(self, proc: subprocess.Popen[str], timeout: float, began: float) -> Proc:
        try:
            out, err = proc.communicate(timeout=max(0.1, timeout - (time.monotonic() - began)))
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            code = None
        self.last = Proc(tuple(map(str, proc.args)), code, out, err, time.monotonic() - began)
        return self.last

    def cli(self, *args: str | Path, env: dict[str, str] | None = None,
            timeout: float = TIMEOUT) -> Proc:
        began = time.monotonic()
        return self.finish(self.start(*args, env=env), timeout, began)

    def reap(self) -> None:
        """Nothing a case started outlives it (its process group is killed)."""
        for proc in self.started:
            _kill_group(proc)
            if proc.poll() is None:
                proc.wait()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def simple(kind: str, name: str, args: Sequence[str], codes: Iterable[int],
           mentions: Sequence[Mention] = (), setup: Callable[[Ctx], None] | None = None,
           timeout: float = TIMEOUT, check: Callable[[Ctx, Proc], None] | None = None,
           slow: bool = False, batch: bool = False) -> None:
    """A case of one command: ``setup`` builds files, ``args`` run in the case's directory."""
    codes = tuple(codes)
    words = ", ".join(m if isinstance(m, str) else "/".join(m) for m in mentions)
    wanted = f"exit {'/'.join(map(str, codes))}" + (f" naming {words}" if words else "")

    def run(ctx: Ctx) -> None:
        if setup is not None:
            setup(ctx)
        p = ctx.cli(*args, timeout=timeout)
        expect(p, codes, mentions)
        if check is not None:
            check(ctx, p)

    case(kind, name, wanted, slow=slow, batch=batch)(run)
