"""The model layer as the pipeline calls it: ``from forecast_cli.model import api as model``.

Re-exports only; each name is defined (and documented) in the module named after its job:

- ``spec``: NetworkSpec, ONNX_INPUT, ONNX_FUTURE
- ``runtime``: tf_module, keras_module, seed_everything (lazy, quiet TensorFlow)
- ``network``: build_network, training_network, portable_network, member_networks,
  select_members (the Keras network, one or an ensemble)
- ``fused_lstm``: the fused CPU LSTM layer used for training (LSTM_SHARDS)
- ``dataset``: window_dataset (batches of windows, scaled on the fly; STORED_WINDOWS_BYTES)
- ``fit``: FitOptions, EpochCallback, fit, use_xla, predict, predict_array
- ``saving``: save_weights, export_onnx, load_network

Module-level settings (STORED_WINDOWS_BYTES, LSTM_SHARDS, STEPS_PER_EXECUTION, XLA_MIN_WORK)
are deliberately not re-exported: the module that reads one is the only place setting it has
an effect, so a test or benchmark must set it there (``monkeypatch.setattr(dataset, …)``).
Importing this module loads no TensorFlow.
"""

from __future__ import annotations

from forecast_cli.model.dataset import window_dataset
from forecast_cli.model.fit import EpochCallback, FitOptions, fit, predict, predict_array, use_xla
from forecast_cli.model.network import (
    build_network,
    member_networks,
    portable_network,
    select_members,
    training_network,
)
from forecast_cli.model.runtime import keras_module, seed_everything, tf_module
from forecast_cli.model.saving import export_onnx, load_network, save_weights
from forecast_cli.model.spec import ONNX_FUTURE, ONNX_INPUT, NetworkSpec

__all__ = [
    "ONNX_FUTURE",
    "ONNX_INPUT",
    "EpochCallback",
    "FitOptions",
    "NetworkSpec",
    "build_network",
    "export_onnx",
    "fit",
    "keras_module",
    "load_network",
    "member_networks",
    "portable_network",
    "predict",
    "predict_array",
    "save_weights",
    "seed_everything",
    "select_members",
    "tf_module",
    "training_network",
    "use_xla",
    "window_dataset",
]
