"""Inference with ONNX Runtime on the network exported at train time: no TensorFlow here.

Starting TensorFlow costs seconds and hundreds of megabytes, which a cron prediction of one
window should not pay. ``onnxruntime`` itself is imported lazily, when a network is loaded, so
importing this module is free.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.errors import BundleError
from forecast_cli.model import onnx_checks
from forecast_cli.model.bundle_files import MAX_ONNX_BYTES, one_line, read_bytes
from forecast_cli.model.spec import NetworkSpec


def _model_bytes(path: Path, sha256: str | None) -> bytes:
    """The file's bytes, checked: the digest the manifest lists (when given: the bytes loaded
    are the bytes verified) and no tensor kept in another file."""
    data = read_bytes(path, path.parent, MAX_ONNX_BYTES)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise BundleError(f"{path.parent}: {path.name} does not match its checksum in "
                          "manifest.json: the bundle was altered while being read.")
    try:
        external = onnx_checks.external_tensor(data)
    except ValueError as exc:
        raise BundleError(f"{path}: not an ONNX model ({exc}); use --engine keras or "
                          "retrain.") from None
    if external is not None:
        raise BundleError(f"{path}: tensor {external[:60]!r} of the exported network keeps its "
                          "data in another file; a bundle's model.onnx must hold all its "
                          "weights. Retrain the model.")
    return data


class OnnxNetwork:
    """An exported network loaded into an ONNX Runtime session (CPU)."""

    def __init__(self, path: Path, threads: int = 1, spec: NetworkSpec | None = None,
                 sha256: str | None = None) -> None:
        """Load ``path``; BundleError if ONNX Runtime cannot read it, if a tensor keeps its
        data in another file, if the bytes do not match ``sha256`` (the manifest's digest),
        or if the graph's inputs and outputs disagree with ``spec`` (the bundle's network).

        The session is made from the bytes checked, never from the path: ONNX Runtime has no
        directory to look for external data in. One intra-op thread by default: a forecast
        is a handful of small matrix products per time step, where a thread pool's start-up
        costs more than it saves.
        """
        import onnxruntime as ort

        data = _model_bytes(Path(path), sha256)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(
                data, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BundleError(f"{path}: ONNX Runtime cannot load the exported network "
                              f"({one_line(exc)}); use --engine keras or retrain.") from None
        self._path, self._spec = Path(path), spec
        inputs = self._session.get_inputs()
        problem = None if spec is None else onnx_checks.io_problem(
            inputs, self._session.get_outputs(), spec)
        if problem is not None:
            raise BundleError(f"{path}: the exported network does not match config.json: "
                              f"{problem}. Restore the bundle or retrain.")
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
        try:
            (out,) = self._session.run([self._output], feed)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BundleError(f"{self._path}: ONNX Runtime failed running the exported network "
                              f"({one_line(exc)}); use --engine keras or "
                              "retrain.") from None
        out = np.asarray(out, dtype=np.float64)
        spec = self._spec
        if spec is not None and out.shape != (x.shape[0], spec.horizon, spec.n_targets):
            raise BundleError(f"{self._path}: the exported network returned forecasts of shape "
                              f"{out.shape}; config.json's network says ({x.shape[0]}, "
                              f"{spec.horizon}, {spec.n_targets}). Restore the bundle or "
                              "retrain.")
        return out
