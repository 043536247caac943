"""Same seed → identical weights, bit for bit, through XLA on CPU (the suite checks it without).

    .venv/bin/python bench/check_xla_determinism.py

Trains the tiny network of tests/test_fit_speed.py twice with ``jit_compile=True``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_fit_speed import train_once


def main() -> None:
    first, second = train_once(jit=True), train_once(jit=True)
    same = all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    print(f"XLA, same seed twice: weights identical bit for bit: {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
