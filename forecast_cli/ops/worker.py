"""Batch jobs run in a worker process, so that one running past its time limit is stopped and
fails alone.

A batch that never ends holds its lock, and every later run exits 75 with no job done. A Python
alarm cannot stop a job stuck in C code (a TensorFlow op) or blocked in a read; the kernel can
stop a process. So the batch hands each job to a child process (``multiprocessing``, spawn:
nothing is inherited but the request) and waits for its result up to the job's ``time_limit``;
past it the worker gets SIGTERM, then SIGKILL after ``KILL_GRACE`` seconds. Every write of a job
is atomic or staged, so stopping it at any instant leaves the previous model and forecast whole.
The next job runs in a fresh worker.

One worker serves job after job while none overruns, so pandas and TensorFlow are imported once
per batch, as they were in-process; a worker costs about the start of a Python process plus
the import of ``job_run`` (~1 s on 2 cores), and only a stopped job makes the next one pay it
again. The worker dies with the batch (``PR_SET_PDEATHSIG`` on Linux, a thread watching its
parent elsewhere): a killed batch leaves no job running that would hold a job's lock.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast_cli.errors import ForecastError, LockedError
from forecast_cli.io import killpoints
from forecast_cli.ops.jobs import Job

if TYPE_CHECKING:
    from forecast_cli.ops.history import History

KILL_GRACE = 5.0  # seconds from SIGTERM to SIGKILL, and from SIGKILL to giving up on the wait
START_SECONDS = 300.0  # a worker not ready by then (its imports) is given up
Log = Callable[[str], None]


@dataclass(frozen=True)
class Request:
    """What a worker needs to run one job (pickled to it)."""

    job: Job
    batch: Path
    state_dir: Path
    now: datetime
    wait: float  # seconds left to wait for the job's lock
    run_id: int
    snapshot: dict[str, Any] | None = None  # on a cluster: the history the job reads (JSON)


@dataclass
class Done:
    """How a job ended. ``complete``: its worker reported the end, and ``record`` is whole;
    otherwise the worker was stopped or died, and the history keeps what the job saved."""

    status: str  # ok | failed | locked
    message: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    scored: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    writes: list[list[Any]] = field(default_factory=list)  # with a snapshot: history writes


# --- in the worker ----------------------------------------------------------------------------

def serve(conn: Connection, parent: int) -> None:
    """The worker's loop: run each request received, until ``None`` or the batch is gone."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    from forecast_cli.ops import job_run  # noqa: F401 (pandas and the rest, before "ready")
    from forecast_cli.ops.history import History

    histories: dict[Path, History] = {}

    def history(state_dir: Path) -> History:
        if state_dir not in histories:
            histories[state_dir] = History(state_dir)
        return histories[state_dir]

    conn.send(("ready", os.getpid()))
    while (request := _next(conn)) is not None:
        conn.send(("done", _run(request, history, lambda text: conn.send(("log", text)))))
    for h in histories.values():
        h.close()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)  # no interpreter finalization: TensorFlow's is slow (see exits.leave)


def _next(conn: Connection) -> Request | None:
    try:
        request: Request | None = conn.recv()
    except (EOFError, OSError):
        return None
    return request


def _run(request: Request, history: Callable[[Path], History], log: Log) -> Done:
    from forecast_cli.ops.job_run import JobContext, run_job
    from forecast_cli.ops.recorded_history import RecordedHistory

    done = Done(status="ok")
    recorded = None if request.snapshot is None else RecordedHistory(request.snapshot)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ctx = JobContext(batch=request.batch, state_dir=request.state_dir,
                             history=recorded or history(request.state_dir), log=log,
                             now=request.now,
                             deadline=time.monotonic() + request.wait)
            done.scored = run_job(request.job, ctx, request.run_id, done.record)
        except LockedError as exc:
            done.status, done.message = "locked", str(exc)
        except ForecastError as exc:
            done.status, done.message = "failed", str(exc)
        except Exception as exc:  # a bug of ours must not stop the other jobs
            done.status = "failed"
            done.message = f"unexpected failure ({type(exc).__name__}: {exc})"
    for w in caught:
        log(f"warning: {w.category.__name__}: {w.message}")
    if recorded is not None:
        done.writes = recorded.writes
    return done


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this process when the batch dies (a thread, where it cannot)."""
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            armed = ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) == 0  # PDEATHSIG
    if not armed:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the batch died before that took effect
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGKILL)


# --- in the batch -----------------------------------------------------------------------------

class Worker:
    """The batch's handle on its worker process: started when a job needs it, replaced after
    a job was stopped. Use as a context manager: the worker never outlives the batch."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.proc: BaseProcess | None = None
        self.conn: Connection | None = None
        self.busy = False

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, request: Request, limit: float) -> Done:
        """Run one job; past ``limit`` seconds stop it and say so."""
        conn = self._ready()
        if conn is None:
            return self._died("could not start")
        try:
            conn.send(request)
        except OSError:
            return self._died("ended unexpectedly")
        self.busy = True
        deadline = time.monotonic() + limit
        while (left := deadline - time.monotonic()) > 0:
            try:
                if not conn.poll(left):
                    continue
                kind, value = conn.recv()
            except Exception:  # EOF, or a message torn by the worker's death
                return self._died("ended unexpectedly")
            if kind == "log":
                self.log(value)
            elif kind == "done":
                self.busy = False
                return value  # type: ignore[no-any-return]
        self.stop()
        return Done("failed", f"exceeded its time limit of {limit:g} s and was stopped; its "
                    "previous model and forecast are kept, and an interrupted training "
                    "resumes from its last completed epoch next run. Raise `time_limit` if "
                    "the job needs longer.", complete=False)

    def _ready(self) -> Connection | None:
        if self.proc is not None and self.proc.is_alive() and self.conn is not None:
            return self.conn
        self.stop()
        spawn = multiprocessing.get_context("spawn")
        mine, theirs = spawn.Pipe()
        self.proc = spawn.Process(target=serve, args=(theirs, os.getpid()), name="forecast-job")
        self.proc.start()
        theirs.close()
        self.conn = mine
        try:
            if mine.poll(START_SECONDS):
                _, pid = mine.recv()
                self.log(f"job worker pid {pid} started")
                return mine
        except Exception:  # it died while starting
            pass
        return None

    def _died(self, what: str) -> Done:
        if self.proc is not None:
            self.proc.join(KILL_GRACE)  # it closed its end: it is ending, or has ended
        code = self.stop()
        if code == -signal.SIGKILL and os.environ.get(killpoints.ENV):
            os.kill(os.getpid(), signal.SIGKILL)  # a test's kill point kills the whole batch
        return Done("failed", f"its process {what} ({_how(code)}); its previous model and "
                    "forecast are kept.", complete=False)

    def stop(self) -> int | None:
        """End the worker now (SIGTERM, then SIGKILL); return its exit code."""
        proc, self.proc, self.busy = self.proc, None, False
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if proc is None:
            return None
        for end in (proc.terminate, proc.kill):
            if proc.exitcode is not None:
                break
            end()
            proc.join(KILL_GRACE)
        code = proc.exitcode
        if code is not None:
            proc.close()
        return code

    def close(self) -> None:
        """Let an idle worker end by itself; stop a busy one."""
        if self.proc is not None and self.conn is not None and not self.busy:
            with contextlib.suppress(OSError):
                self.conn.send(None)
                self.proc.join(KILL_GRACE)
        self.stop()


def _how(code: int | None) -> str:
    if code is None:
        return "it did not end even when killed"
    if code < 0:
        name = signal.Signals(-code).name
        return f"killed by {name}" + (", perhaps for lack of memory"
                                      if code == -signal.SIGKILL else "")
    return f"exit code {code}"
