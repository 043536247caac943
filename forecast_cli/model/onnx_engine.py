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
        inputs = self._session.get_inputs()
        if not 1 <= len(inputs) <= 2:
            raise BundleError(f"{path}: the exported network has {len(inputs)} inputs; "
                              "expected window (and future). Retrain the model.")
        if len(inputs) == 2 and inputs[0].name.startswith("future"):
            inputs = inputs[::-1]  # feed by name: window first, then future
        self._input = inputs[0]
        self._future = inputs[1] if len(inputs) == 2 else None
        self._output = self._session.get_outputs()[0].name

    @property
    def input_shape(self) -> tuple[Any, ...]:
        """(batch, lookback, n_inputs); batch is a free dimension (a name, not a number)."""
        return tuple(self._input.shape)

    @property
    def future_shape(self) -> tuple[Any, ...] | None:
        """(batch, horizon, n_future) of the known-future input, None when there is none."""
        return None if self._future is None else tuple(self._future.shape)

    def predict(self, x: np.ndarray, future: np.ndarray | None = None) -> np.ndarray:
        """x (B, lookback, F) scaled [and future (B, horizon, n_future)] → (B, horizon, k)
        float64, scaled. B may be anything ≥ 1; ``future`` exactly when the export has it."""
        _, lookback, n_inputs = self.input_shape
        if x.ndim != 3 or x.shape[1:] != (lookback, n_inputs):
            raise BundleError(f"the exported network expects windows of shape (B, {lookback}, "
                              f"{n_inputs}); got {x.shape}.")
        feed = {self._input.name: np.ascontiguousarray(x, np.float32)}
        if self._future is not None:
            _, horizon, n_future = self._future.shape
            if future is None or future.shape != (x.shape[0], horizon, n_future):
                got = "none" if future is None else str(future.shape)
                raise BundleError(f"the exported network expects future inputs of shape "
                                  f"({x.shape[0]}, {horizon}, {n_future}); got {got}.")
            feed[self._future.name] = np.ascontiguousarray(future, np.float32)
        elif future is not None:
            raise BundleError(f"the exported network takes no future inputs; got "
                              f"{future.shape}.")
        (out,) = self._session.run([self._output], feed)
        return np.asarray(out, dtype=np.float64)
