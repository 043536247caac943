"""Batch and job locks: the flock of ``forecast_cli.io.locking``, re-exported for ``ops``.

The lock moved to ``io`` so that ``forecast train`` (pipeline) can lock its output directory
with the same code; batch and job runs keep importing it from here.
"""

from __future__ import annotations

from forecast_cli.io.locking import POLL_SECONDS, hold

__all__ = ["POLL_SECONDS", "hold"]
