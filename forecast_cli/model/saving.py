"""The trained network to files and back: Keras weights, the ONNX export, and loading.

Importing this module is cheap; TensorFlow (and tf2onnx) are loaded when they are needed.
"""

from __future__ import annotations

import errno
import os
import sys
from io import StringIO
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError
from forecast_cli.io.atomic import disk_error
from forecast_cli.model.bundle_files import one_line
from forecast_cli.model.network import build_network
from forecast_cli.model.runtime import stderr_silenced, tf_module
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec, parameter_count

# HDF5's own bytes beside the float32 values (a tiny model's file is ~40 KB for ~5 KB of
# values): room asked for on top of the values before a save starts
WEIGHTS_OVERHEAD = 256 * 1024


def save_weights(model: Any, path: Path) -> None:
    """Keras HDF5 weights file (name must end in ``.weights.h5``); no pickle involved.

    On a full disk h5py raises the failure, and also prints a traceback for each HDF5 object
    it then fails to close ("Exception ignored in … __dealloc__": dozens of lines, where a cron
    user expects one ``Error:`` line). What the save prints on stderr is held back, and dropped
    when the save failed on a disk error.
    """
    _check_room(path, 4 * int(model.count_params()))
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
    """Rebuild the architecture with our own code, then load the weights into it (checked
    first by ``check_weights``)."""
    check_weights(weights, parameter_count(spec))
    model = build_network(spec)
    try:
        model.load_weights(str(weights))
    except ValueError as exc:  # Keras: a variable's shape differs from the file's
        raise BundleError(f"{weights.parent}: {weights.name} does not fit config.json's "
                          f"network ({one_line(exc)}); restore the bundle or "
                          "retrain.") from None
    return model


MAX_H5_OBJECTS = 10_000  # groups and datasets of a weights file: a network has a few dozen
_SLACK = 1024  # values beyond the weights: random-seed states of dropout layers


def check_weights(path: Path, n_params: int) -> None:
    """BundleError unless the HDF5 file holds at most ``n_params`` (+ a little) numbers, all
    inside it: Keras reads every dataset in full before comparing its shape, so a dataset
    declared huge (chunked, never written: a small file) would be allocated, and an external
    link, external storage or a virtual dataset would read another file."""
    import h5py

    where = f"{path.parent}: {path.name}"
    total, seen = 0, 0
    try:
        with h5py.File(path, "r") as fh:
            stack: list[Any] = [fh]
            while stack:
                group = stack.pop()
                for name in group:
                    seen += 1
                    if seen > MAX_H5_OBJECTS:
                        raise BundleError(f"{where} holds more than {MAX_H5_OBJECTS:,} objects.")
                    link = group.get(name, getlink=True)
                    if not isinstance(link, h5py.HardLink):
                        raise BundleError(f"{where}: {name!r} is a link "
                                          f"({type(link).__name__}); a weights file holds its "
                                          "weights itself. Retrain the model.")
                    item = group[name]
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                        continue
                    if (not isinstance(item, h5py.Dataset) or item.external or item.is_virtual
                            or item.dtype.kind not in "fiub"):
                        raise BundleError(f"{where}: {name!r} is not a numeric dataset held "
                                          "in the file itself. Retrain the model.")
                    total += int(item.size)
    except (OSError, KeyError, ValueError) as exc:
        raise BundleError(f"{where} is not a readable HDF5 file ({exc}).") from None
    if total > n_params + _SLACK:
        raise BundleError(f"{where} declares {total:,} values; config.json's network has "
                          f"{n_params:,} weights. The two do not belong together: restore "
                          "the bundle or retrain.")


def _check_room(path: Path, weight_bytes: int) -> None:
    """OSError(ENOSPC) before h5py starts when the filesystem cannot hold the weights (float32
    values plus HDF5's overhead): h5py crashes the process (SIGSEGV in ``File.close``) when the
    disk fills up while it writes, instead of raising."""
    st = os.statvfs(path.parent)
    if st.f_bavail * st.f_frsize < weight_bytes + WEIGHTS_OVERHEAD:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

