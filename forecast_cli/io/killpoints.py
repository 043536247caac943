"""A test hook that makes the process die at a named point, as ``kill -9`` would.

Setting ``FORECAST_TEST_KILL_AT`` to a point name (``training-epoch-2``, ``publish``,
``forecast-write``) makes the process send itself SIGKILL when it reaches that point: no
``finally`` block, no atexit handler and no flush runs, exactly like a crash or an OOM kill.
The crash-safety tests use it to prove that every output is either the old one or the new one.
Unset (always, outside tests) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "FORECAST_TEST_KILL_AT"


def reached(point: str) -> None:
    """SIGKILL this process if ``FORECAST_TEST_KILL_AT`` names ``point``; otherwise do nothing."""
    if os.environ.get(ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
