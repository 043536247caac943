"""The fused CPU LSTM used for training (model.build_network(fused=True)) is the same network:
same weights, same forward values and gradients as Keras's LSTM, deterministic, and what is
saved is the plain Keras network (ONNX export and predict unchanged).
"""

from __future__ import annotations

import numpy as np

from forecast_cli.model import api as model
from forecast_cli.pipeline.fitting import fit_network, one_series
from forecast_cli.settings import Settings


def _spec(layers: int = 2, ci: bool = False) -> model.NetworkSpec:
    return model.NetworkSpec(lookback=12, horizon=3, n_inputs=2, target_index=(0,),
                             lstm_units=6, lstm_layers=layers, dense_units=(4,), dropout=0.0,
                             window_norm="last", seed=7, channel_independence=ci)


def _windows(m: int) -> np.ndarray:
    """(m, 12, 2): sines and ramps with a different phase per window."""
    t = np.arange(12)[None, :] + 5.0 * np.arange(m)[:, None]
    return np.stack([np.sin(t / 4), 0.1 * t - 2.0], axis=2).astype(np.float32)


def _loss_and_grads(net: object, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    tf = model.tf_module()
    with tf.GradientTape() as tape:
        out = net(x, training=True)  # type: ignore[operator]
        loss = tf.reduce_mean(tf.square(out - 1.0))
    grads = tape.gradient(loss, net.trainable_weights)  # type: ignore[attr-defined]
    return np.asarray(out), [np.asarray(g) for g in grads]


def test_fused_network_holds_the_same_weights_and_computes_the_same_values_and_gradients() -> None:
    x = _windows(5)
    for spec in (_spec(layers=2), _spec(layers=1, ci=True)):
        plain, fused = model.build_network(spec), model.build_network(spec, fused=True)
        assert [w.shape for w in fused.get_weights()] == [w.shape for w in plain.get_weights()]
        rng = np.random.default_rng(0)  # random biases too: all four gates differ
        weights = [rng.normal(0, 0.5, w.shape).astype(np.float32) for w in plain.get_weights()]
        plain.set_weights(weights)
        fused.set_weights(weights)
        for batch in (x, x[:1]):  # split across fused_lstm.LSTM_SHARDS ops, and whole
            out_p, grads_p = _loss_and_grads(plain, batch)
            out_f, grads_f = _loss_and_grads(fused, batch)
            assert np.abs(out_p - out_f).max() <= 1e-5
            assert len(grads_p) == len(grads_f) == len(weights)
            for gp, gf in zip(grads_p, grads_f, strict=True):
                assert np.abs(gp - gf).max() <= 1e-5 * max(1.0, float(np.abs(gp).max()))
        assert not model.use_xla(fused, None, model.FitOptions("adam", 1e-3, 1.0, 1, 1, True))
        assert "BlockLSTM" in _op_types(fused, x)
        assert "BlockLSTM" not in _op_types(plain, x)


def _op_types(net: object, x: np.ndarray) -> set[str]:
    """The TensorFlow op types of one traced call of ``net`` on ``x``, nested functions
    (``tf.cond`` branches, ``while_loop`` bodies) included."""
    tf = model.tf_module()
    graph = tf.function(lambda t: net(t)).get_concrete_function(  # type: ignore[operator]
        tf.TensorSpec(x.shape, tf.float32)).graph.as_graph_def()
    return ({node.op for node in graph.node}
            | {node.op for fn in graph.library.function for node in fn.node_def})


def _fit_once() -> tuple[object, dict[str, list[float]]]:
    spec, t = _spec(layers=1), np.arange(220, dtype=np.float64)
    values = np.stack([np.sin(t / 3), np.cos(t / 7)], axis=1)  # (220, 2)
    s = Settings(optimizer="adam", learning_rate=1e-2, clipnorm=1.0, epochs=2, patience=5,
                 batch_size=16, seed=3)
    return fit_network(values, one_series(np.arange(12, 160)), one_series(np.arange(160, 217)),
                       spec, s)


def test_training_through_the_fused_lstm_is_deterministic_and_returns_the_plain_network() -> None:
    (first, hist1), (second, hist2) = _fit_once(), _fit_once()
    assert hist1 == hist2
    assert len(hist1["loss"]) == 2
    w1, w2 = first.get_weights(), second.get_weights()  # type: ignore[attr-defined]
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert not np.array_equal(w1[0], model.build_network(_spec(layers=1)).get_weights()[0])
    lstm = first.get_layer("lstm_0")  # type: ignore[attr-defined]
    assert type(lstm) is model.keras_module().layers.LSTM  # what is saved and exported
