"""The trained network to files and back: Keras weights, the ONNX export, and loading.

Importing this module is cheap; TensorFlow (and tf2onnx) are loaded when they are needed.
"""

from __future__ import annotations

import sys
from io import StringIO
from pathlib import Path
from typing import Any

from forecast_cli.io.atomic import disk_error
from forecast_cli.model.network import build_network
from forecast_cli.model.runtime import stderr_silenced, tf_module
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec


def save_weights(model: Any, path: Path) -> None:
    """Keras HDF5 weights file (name must end in ``.weights.h5``); no pickle involved.

    On a full disk h5py raises the failure, and also prints a traceback for each HDF5 object
    it then fails to close ("Exception ignored in … __dealloc__": dozens of lines, where a cron
    user expects one ``Error:`` line). What the save prints on stderr is held back, and dropped
    when the save failed on a disk error.
    """
    shown, held = sys.stderr, StringIO()
    sys.stderr = held
    try:
        model.save_weights(str(path))
    except BaseException as exc:
        if disk_error(exc) is not None:
            held = StringIO()
        raise
    finally:
        sys.stderr = shown
        shown.write(held.getvalue())


ONNX_OPSET = 17


def export_onnx(model: Any, spec: NetworkSpec, path: Path) -> None:
    """Convert the network to ONNX (tf2onnx, opset 17) and write it to ``path``.

    The graph takes ``window`` (B, lookback, n_inputs) float32 with a free batch dimension —
    and, when ``spec.n_future > 0``, ``future`` (B, horizon, n_future) float32 — and returns
    (B, horizon, n_targets) float32, window normalisation included.
    """
    tf = tf_module()
    with stderr_silenced():
        import tf2onnx

    window_spec = tf.TensorSpec((None, spec.lookback, spec.n_inputs), tf.float32,
                                name=ONNX_INPUT)
    if spec.n_future == 0:
        signature: tuple[Any, ...] = (window_spec,)
        forward = tf.function(lambda window: model(window, training=False))
    else:
        signature = (window_spec, tf.TensorSpec((None, spec.horizon, spec.n_future),
                                                tf.float32, name=ONNX_FUTURE))
        forward = tf.function(lambda window, future: model(
            {ONNX_INPUT: window, ONNX_FUTURE: future}, training=False))
    with stderr_silenced():
        proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature,
                                                 opset=ONNX_OPSET)
    path.write_bytes(proto.SerializeToString())


def load_network(spec: NetworkSpec, weights: Path) -> Any:
    """Rebuild the architecture with our own code, then load the weights into it."""
    model = build_network(spec)
    model.load_weights(str(weights))
    return model
