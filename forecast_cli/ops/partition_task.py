"""One partition task (train or predict) in a fresh process: what a Dask worker runs.

The task is JSON (paths and settings, never a model). The Dask worker starts
``python -m forecast_cli.ops.partition_task`` with it on standard input, so TensorFlow's memory
is returned to the system when the partition is done and never accumulates in the long-lived
worker; the process is killed with the worker (``PR_SET_PDEATHSIG``), so a worker that dies
leaves no task running on behind it. The process prints one ``RESULT`` line of JSON: the
task's summary, or the error it raised (its class and message, so that the client fails with
the exit code a local run has).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from forecast_cli import errors

RESULT = "FORECAST-PARTITION-RESULT "
KINDS = ("train", "predict")


def run(kind: str, task: dict[str, Any]) -> dict[str, Any]:
    """Run one task in this process (the local path, and the child's body)."""
    if kind == "train":
        from forecast_cli.pipeline.partition_train import run_task

        return run_task(task)
    if kind == "predict":
        from forecast_cli.pipeline.partition_predict import run_task as predict_task

        return predict_task(task)
    raise ValueError(f"unknown partition task kind {kind!r}")


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def in_fresh_process(payload: str) -> str:
    """The Dask task: run ``payload`` ({"kind", "task"}) in a child process; its RESULT."""
    env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
    proc = subprocess.run([sys.executable, "-m", "forecast_cli.ops.partition_task"],
                          input=payload, capture_output=True, text=True, env=env,
                          preexec_fn=_die_with_parent, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT):
            return line[len(RESULT):]
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    how = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
           else f"exit code {proc.returncode}")
    return json.dumps({"error": "ForecastError", "message": f"its process ended without a "
                       f"result on {socket.gethostname()} ({how}): {tail or 'no output'}"})


def failure(result: dict[str, Any]) -> errors.ForecastError | None:
    """The error a task reported, as its own class (so its exit code), or None."""
    if "error" not in result:
        return None
    cls = getattr(errors, str(result["error"]), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ForecastError)):
        cls = errors.ForecastError
    return cls(str(result["message"]))


def main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        result = run(request["kind"], request["task"])
    except errors.ForecastError as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # a bug of ours: said as such
        result = {"error": "ForecastError",
                  "message": f"unexpected failure ({type(exc).__name__}: {exc})"}
    sys.stdout.write(RESULT + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no interpreter finalization: TensorFlow's is slow (see exits.leave)


if __name__ == "__main__":
    main()
