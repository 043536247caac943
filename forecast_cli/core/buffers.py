"""64-byte aligned numpy arrays, which TensorFlow can read in place.

TensorFlow's kernels require tensor data on a 64-byte boundary (it aborts the process
otherwise), while numpy's large arrays start 16 bytes past a page. ``tf.constant`` therefore
copies every array, and its allocator kept about twice the array's size resident in a
measurement. The loader builds its value array with ``aligned_empty`` so that training can hand
it to TensorFlow through DLPack with no copy at all (``model.dataset.shared_tensor``).
"""

from __future__ import annotations

import math

import numpy as np

ALIGN = 64  # bytes: Eigen's EIGEN_MAX_ALIGN_BYTES in TensorFlow's CPU build


def aligned_empty(shape: tuple[int, ...], dtype: np.dtype | type = np.float64) -> np.ndarray:
    """An uninitialised, writeable, C-contiguous array whose data starts on a 64-byte boundary."""
    dt = np.dtype(dtype)
    nbytes = math.prod(shape) * dt.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start:start + nbytes].view(dt).reshape(shape)


def is_aligned(values: np.ndarray) -> bool:
    """Writeable, C-contiguous and starting on a 64-byte boundary: TensorFlow can share it."""
    return bool(values.flags["C_CONTIGUOUS"] and values.flags["WRITEABLE"]
                and values.ctypes.data % ALIGN == 0)


def aligned(values: np.ndarray) -> np.ndarray:
    """``values`` itself when TensorFlow can share it, else an aligned copy (same dtype)."""
    if is_aligned(values):
        return values
    out = aligned_empty(values.shape, values.dtype)
    out[...] = values
    return out


class ColumnBuffers:
    """Column buffers grown in place as batches arrive: no final concatenation copy."""

    def __init__(self, capacity: int, k: int, with_ids: bool) -> None:
        self.n = 0
        self.arrays = {"ns": np.empty(capacity, np.int64), "aware": np.empty(capacity, bool),
                       "values": np.empty((capacity, k)), "lines": np.empty(capacity, np.int64)}
        if with_ids:
            self.arrays["ids"] = np.empty(capacity, np.int64)

    def append(self, **parts: np.ndarray) -> None:
        m = len(parts["ns"])
        if self.n + m > len(self.arrays["ns"]):
            cap = max(self.n + m, int(len(self.arrays["ns"]) * 1.5))
            for key, old in self.arrays.items():
                new = np.empty((cap, *old.shape[1:]), old.dtype)
                new[: self.n] = old[: self.n]
                self.arrays[key] = new
        for key, part in parts.items():
            self.arrays[key][self.n:self.n + m] = part
        self.n += m

    def view(self, key: str) -> np.ndarray:
        return self.arrays[key][: self.n]
