"""The `forecast` command run inside the test process: for the many cases that end before any
training (bad input, usage errors, refusals), where a Python start-up per case is most of the
cost.

``run_cli`` calls the very Typer app ``python -m forecast_cli`` runs, with the same arguments,
environment and working directory, no standard input and no terminal, and returns what
``conftest.run_forecast`` returns: the exit code, stdout and stderr. Parsing, the library call,
the error gate (``cli/exits.py``) and the rendering are the real ones; only the process
boundary is left out, and the tests that use it also run cases through ``run_forecast`` and
require the same bytes (one real subprocess per surface). Nothing that must prove what a
process imports or prints from native code (TensorFlow's own logging) belongs here.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

PROG = "python -m forecast_cli"  # the name Click gives the subprocess in its usage lines


@contextlib.contextmanager
def _as_a_process(cwd: Path | None, env: dict[str, str] | None) -> Iterator[None]:
    """os.environ as ``run_forecast`` builds it, ``cwd``, standard input from /dev/null; all
    restored after."""
    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    # a pipe is 80 columns wide for rich unless COLUMNS says otherwise, whatever the terminal
    # the tests were started from
    os.environ.update({"PYTHONHASHSEED": "0", "COLUMNS": os.environ.get("COLUMNS", "80"),
                       **(env or {})})
    os.environ.pop("FORECAST_DEBUG", None)
    with open(os.devnull, encoding="utf-8") as devnull:
        try:
            if cwd is not None:
                os.chdir(cwd)
            sys.stdin = devnull
            yield
        finally:
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)


class CliTimeout(BaseException):
    """The command ran past its ``timeout`` (a BaseException: the error gate lets it pass)."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise CliTimeout after ``seconds`` (SIGALRM; main thread only, else no limit)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CliTimeout(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``forecast ARGS`` in this process; its exit code, stdout and stderr as text.

    ``timeout``: seconds after which the run is abandoned with CliTimeout, as
    ``run_forecast``'s subprocess.TimeoutExpired."""
    from forecast_cli.cli.app import app

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with _as_a_process(cwd, env), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), _deadline(timeout):
        try:
            app(argv, prog_name=PROG)
            code = 0
        except SystemExit as exc:  # Click ends every run so, success included
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess([PROG, *argv], code, out.getvalue(), err.getvalue())
