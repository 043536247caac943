"""Test hooks that make the process die, or a write fail, at a named point.

Setting ``FORECAST_TEST_KILL_AT`` to a point name (``training-epoch-2``, ``publish``,
``forecast-write``, ``latest-switch`` …) makes the process send itself SIGKILL when it reaches
that point: no ``finally`` block, no atexit handler and no flush runs, exactly like a crash or
an OOM kill. The crash-safety tests use it to prove that every output is either the old one or
the new one.

Setting ``FORECAST_TEST_FAIL_AT`` to a point name makes that point raise
``OSError(ENOSPC)`` instead, as a full disk would: the tests use it to prove that a write
failing there exits 74 and leaves the previous outputs untouched, without needing root to mount
a small filesystem. Every kill point is also a failure point.

Unset (always, outside tests) each costs one dictionary lookup.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "FORECAST_TEST_KILL_AT"
FAIL_ENV = "FORECAST_TEST_FAIL_AT"


def reached(point: str) -> None:
    """SIGKILL this process if ``FORECAST_TEST_KILL_AT`` names ``point``, raise a full disk's
    OSError if ``FORECAST_TEST_FAIL_AT`` does; otherwise do nothing."""
    if os.environ.get(ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_ENV) == point:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"(test failure at {point})")
