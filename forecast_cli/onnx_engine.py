"""Inference with ONNX Runtime on the network exported at train time: no TensorFlow here.

Starting TensorFlow costs seconds and hundreds of megabytes, which a cron prediction of one
window should not pay. ``onnxruntime`` itself is imported lazily, when a network is loaded, so
importing this module is free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.errors import BundleError


class OnnxNetwork:
    """An exported network loaded into an ONNX Runtime session (CPU)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        """Load ``path``; BundleError if ONNX Runtime cannot read it.

        One intra-op thread by default: a forecast is a handful of small matrix products per
        time step, where a thread pool's start-up costs more than it saves.
        """
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BundleError(f"{path}: ONNX Runtime cannot load the exported network "
                              f"({exc}); use --engine keras or retrain.") from None
        self._input = self._session.get_inputs()[0]
        self._output = self._session.get_outputs()[0].name

    @property
    def input_shape(self) -> tuple[Any, ...]:
        """(batch, lookback, n_inputs); batch is a free dimension (a name, not a number)."""
        return tuple(self._input.shape)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (B, lookback, F) scaled → (B, horizon, k) float64, scaled. B may be anything ≥ 1."""
        _, lookback, n_inputs = self.input_shape
        if x.ndim != 3 or x.shape[1:] != (lookback, n_inputs):
            raise BundleError(f"the exported network expects windows of shape (B, {lookback}, "
                              f"{n_inputs}); got {x.shape}.")
        (out,) = self._session.run([self._output],
                                   {self._input.name: np.ascontiguousarray(x, np.float32)})
        return np.asarray(out, dtype=np.float64)
