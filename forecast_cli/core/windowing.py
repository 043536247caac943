"""Sliding windows addressed by index.

A window with origin ``t`` (see ``splits``) has inputs ``values[t - lookback : t]`` and
targets ``values[t : t + horizon]``. Windows are gathered only for the origins asked for.
Training's input pipeline (``model.window_dataset``) gathers them a batch at a time, so memory
grows with rows × features, not rows × lookback; only when all the windows together fit in
``model.dataset.STORED_WINDOWS_BYTES`` (64 MB) are they cut once and kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowSpec:
    """How a window is cut: ``lookback`` input rows, then ``horizon`` target rows."""

    lookback: int
    horizon: int

    def __str__(self) -> str:
        return (f"WindowSpec(lookback={self.lookback}, horizon={self.horizon}): "
                f"inputs rows [t-{self.lookback}, t), targets rows [t, t+{self.horizon})")

    def input_index(self, origins: np.ndarray) -> np.ndarray:
        """Row numbers of the inputs of each window. Shape (m, lookback)."""
        return origins[:, None] + np.arange(-self.lookback, 0)

    def target_index(self, origins: np.ndarray) -> np.ndarray:
        """Row numbers of the targets of each window. Shape (m, horizon)."""
        return origins[:, None] + np.arange(self.horizon)

    def inputs(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Gather inputs: values (n, f), origins (m,) → (m, lookback, f)."""
        self._check(values, origins)
        return np.asarray(values[self.input_index(origins)])

    def targets(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Gather targets: values (n, k), origins (m,) → (m, horizon, k)."""
        self._check(values, origins)
        return np.asarray(values[self.target_index(origins)])

    def _check(self, values: np.ndarray, origins: np.ndarray) -> None:
        if origins.size and (origins.min() < self.lookback or
                             origins.max() + self.horizon > len(values)):
            raise IndexError(f"origins must lie in [{self.lookback}, {len(values) - self.horizon}]"
                             f"; got [{origins.min()}, {origins.max()}]")
