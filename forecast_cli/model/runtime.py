"""TensorFlow and Keras, imported lazily and quietly; seeding; the cores this process may use.

Importing this module is cheap: TensorFlow is loaded the first time ``tf_module`` (or
``keras_module``) is called, with its C++ start-up chatter silenced so it never reaches the
user. Every other module of the model layer reaches TensorFlow through these two functions.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logs bypass Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


THREADS_ENV = "FORECAST_THREADS"  # TensorFlow threads of this process (docs/scaling.md)


@cache
def tf_module() -> Any:
    """Import TensorFlow once, quietly, on ``$FORECAST_THREADS`` threads when that is set."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stderr_silenced():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    threads = thread_count()
    if threads is not None:  # before any op runs: the thread pools are made by the first
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf


def thread_count() -> int | None:
    """``$FORECAST_THREADS`` as a count ≥ 1; None (TensorFlow's own choice: every core) when
    unset or not a positive integer. Several jobs side by side on one machine (``forecast
    batch --workers N``) each get their share of the cores instead of all of them: TensorFlow's
    thread pools spin while they wait for work, so oversubscribed cores are burnt, not shared.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def keras_module() -> Any:
    """The Keras 3 package, after TensorFlow has been imported quietly."""
    tf_module()
    import keras

    return keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's kernels deterministic.

    On a GPU, op determinism is switched on. On CPU it is left off: the CPU kernels this network
    uses are deterministic already (tests/test_fit_speed.py trains twice and compares every
    weight bit for bit), and Keras refuses XLA while it is on, which costs 2-4× per epoch here.
    """
    keras_module().utils.set_random_seed(seed)
    if on_gpu():
        tf_module().config.experimental.enable_op_determinism()


def on_gpu() -> bool:
    """Whether TensorFlow sees a GPU (then Keras runs the LSTM through cuDNN, and no XLA)."""
    return bool(tf_module().config.list_physical_devices("GPU"))


def cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
