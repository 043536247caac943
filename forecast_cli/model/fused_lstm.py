"""The fused CPU LSTM layer: Keras's ``LSTM`` with its time loop in TensorFlow's ``BlockLSTM`` op.

Used for training on CPU only (``network.training_network``); what is saved, exported and used
to predict is the plain Keras network holding the same weights (``network.portable_network``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

from forecast_cli.model.runtime import cores, keras_module, tf_module

# slices of a batch the fused LSTM computes in parallel, one core each (see _sharded); read
# when a step is traced, so a change applies to networks traced after it
LSTM_SHARDS = max(1, min(4, cores()))


@cache
def fused_lstm_class() -> Any:
    """``keras.layers.LSTM`` whose time loop is TensorFlow's fused ``BlockLSTM`` op: training only.

    Keras 3 runs an LSTM on CPU as a generic ``while_loop``, a dozen small kernels per step,
    forward and backward. ``BlockLSTM`` runs all steps in one op, and its registered gradient in
    one more, on one core: the batch is split into one op per core (``_sharded``). A training
    step of the issue's workload on 2 cores: 70 ms through Keras's loop, 54 through XLA, 38
    fused (bench/README.md). The weights are the layer's own, in Keras's layout (kernel
    (F, 4U), recurrent_kernel (U, 4U), bias (4U,), gates i, f, c, o), reordered per call to the
    op's i, c, f, o: a trained network's weights load into the plain ``LSTM`` network unchanged
    (``network.portable_network``). BlockLSTM has no XLA kernel: a network with this layer is
    never jit-compiled (``fit.use_xla``).
    """
    tf, keras = tf_module(), keras_module()

    def icfo(w: Any) -> Any:  # (…, 4U) gates i, f, c, o → i, c, f, o
        i, f, c, o = tf.split(w, 4, axis=-1)
        return tf.concat([i, c, f, o], axis=-1)

    class FusedLSTM(keras.layers.LSTM):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.supports_jit = False  # keeps Keras from compiling it with XLA

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any,
                       training: bool = False) -> Any:
            """sequences (B, L, F) → (last h (B, U), h (B, L, U) or (B, 1, U), [h, c])."""
            cell = self.cell
            if (mask is not None or self.go_backwards or self.dropout or self.recurrent_dropout
                    or cell.activation is not keras.activations.tanh
                    or cell.recurrent_activation is not keras.activations.sigmoid):
                return super().inner_loop(sequences, initial_state, mask, training=training)
            w = icfo(tf.concat([cell.kernel.value, cell.recurrent_kernel.value], axis=0))
            b = icfo(cell.bias.value)
            steps = tf.transpose(sequences, (1, 0, 2))  # (L, B, F): time major
            h0, c0 = initial_state  # (B, U) each
            c_last, h = _sharded(lambda x, h_, c_: block(x, h_, c_, w, b), steps, h0, c0)
            last = h[-1]  # (B, U)
            seq = tf.transpose(h, (1, 0, 2)) if self.return_sequences else last[:, None, :]
            return last, seq, [last, c_last]

    def block(steps: Any, h0: Any, c0: Any, w: Any, b: Any) -> tuple[Any, Any]:
        """One BlockLSTM op: steps (L, b, F) → last cell state (b, U), h (L, b, U)."""
        no_peephole = tf.zeros(tf.shape(h0)[1:], steps.dtype)
        out = tf.raw_ops.BlockLSTM(
            seq_len_max=tf.cast(tf.shape(steps)[0], tf.int64), x=steps, cs_prev=c0,
            h_prev=h0, w=w, wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=b,
            forget_bias=0.0, cell_clip=-1.0, use_peephole=False)
        return out[1][-1], out[6]

    def _sharded(run: Callable[[Any, Any, Any], tuple[Any, Any]], steps: Any, h0: Any,
                 c0: Any) -> tuple[Any, Any]:
        """``run`` on LSTM_SHARDS slices of the batch, which TensorFlow runs in parallel.

        One BlockLSTM op computes on one core; the windows of a batch are independent, so
        slices of it fill the others (their weight gradients are summed in a fixed order:
        deterministic). A batch smaller than the shard count runs whole: the op's weight
        gradient is garbage on an empty batch.
        """
        n, size = LSTM_SHARDS, tf.shape(steps)[1]

        def split() -> tuple[Any, Any]:
            cuts = [size * i // n for i in range(n + 1)]
            parts = [run(steps[:, a:z], h0[a:z], c0[a:z]) for a, z in itertools.pairwise(cuts)]
            return tf.concat([p[0] for p in parts], 0), tf.concat([p[1] for p in parts], 1)

        if n == 1:
            return run(steps, h0, c0)
        return tf.cond(size >= n, split, lambda: run(steps, h0, c0))  # type: ignore[no-any-return]

    return FusedLSTM
