"""Naive forecasts scored on exactly the windows the model is scored on.

Both read the series itself (original units), so they need no lookback of their own beyond
what the window's origin has before it.
"""

from __future__ import annotations

import numpy as np

# The forecasters compared on every window: the network and the two baselines.
MODEL = "model"
NAIVE = "naive"
SEASONAL = "seasonal_naive"


def naive(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value. values (n, k), origins (m,) → (m, horizon, k)."""
    last = values[origins - 1]  # (m, k)
    return np.repeat(last[:, None, :], horizon, axis=1)


def seasonal_naive(values: np.ndarray, origins: np.ndarray, horizon: int,
                   season: int) -> np.ndarray:
    """Repeat the last observed season: step s of origin t takes row t + s - season·(s//season + 1).

    values (n, k), origins (m,) → (m, horizon, k). Needs ``origins ≥ season``.
    """
    if origins.size and origins.min() < season:
        raise ValueError(f"seasonal naive needs {season} rows before each origin; "
                         f"the first origin is row {origins.min()}")
    steps = np.arange(horizon)
    back = season * (steps // season + 1)
    return np.asarray(values[origins[:, None] + steps[None, :] - back[None, :]])
