"""Checks of an exported network before and after ONNX Runtime loads it, without ``onnx``.

``external_tensor``: an ONNX file may keep tensors in other files (``data_location:
EXTERNAL``, ``external_data`` naming a path), which ONNX Runtime reads from beside the model,
past every checksum of the bundle. A bundle's model.onnx holds all its weights, so any tensor
with external data is refused. The protobuf wire format is walked directly (the ``onnx``
package costs ~0.3 s to import on predict's quick path), iteratively: nested subgraphs cannot
exhaust the stack.

``io_problem``: the graph's inputs and outputs must have the shapes the bundle's spec says:
window (batch, lookback, n_inputs), future (batch, horizon, n_future) when the network has
known-future inputs, output (batch, horizon, n_targets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from forecast_cli.model.spec import NetworkSpec

# message → {field number: message of that field} for every field that can hold a tensor
_MODEL, _GRAPH, _NODE, _ATTR, _TENSOR, _SPARSE, _FUNCTION, _TRAINING = range(8)
_CHILDREN: dict[int, dict[int, int]] = {
    _MODEL: {7: _GRAPH, 20: _TRAINING, 25: _FUNCTION},  # graph, training_info, functions
    _GRAPH: {1: _NODE, 5: _TENSOR, 15: _SPARSE},  # node, initializer, sparse_initializer
    _NODE: {5: _ATTR},  # attribute
    _ATTR: {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: _SPARSE, 23: _SPARSE},
    _SPARSE: {1: _TENSOR, 2: _TENSOR},  # values, indices
    _FUNCTION: {7: _NODE},  # node
    _TRAINING: {1: _GRAPH, 2: _GRAPH},  # initialization, algorithm
    _TENSOR: {},
}
_TENSOR_NAME, _EXTERNAL_DATA, _DATA_LOCATION, _EXTERNAL = 8, 13, 14, 1


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start, end or varint value) of each field in buf[start:end]."""
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == 2:
            size, pos = _varint(buf, pos, end)
            first, pos = pos, pos + size
        elif wire in (1, 5):
            first, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("a field runs past the end of its message")
        yield number, wire, first, pos


def external_tensor(buf: bytes) -> str | None:
    """The name of the first tensor of the ONNX model ``buf`` that keeps its data in another
    file, "" if unnamed; None when every tensor is inside. ValueError if ``buf`` is not a
    well-formed protobuf message."""
    stack = [(_MODEL, 0, len(buf))]
    while stack:
        kind, start, end = stack.pop()
        children = _CHILDREN[kind]
        name, external = "", False
        for number, wire, a, b in _fields(buf, start, end):
            if kind == _TENSOR:
                if number == _TENSOR_NAME and wire == 2:
                    name = buf[a:b].decode("utf-8", "replace")
                external |= (number == _EXTERNAL_DATA
                             or (number == _DATA_LOCATION and wire == 0 and a == _EXTERNAL))
            elif number in children and wire == 2:
                stack.append((children[number], a, b))
        if external:
            return name
    return None


def _dims(shape: Any) -> tuple[Any, ...]:
    return tuple(shape) if isinstance(shape, (list, tuple)) else ()


def _fits(got: tuple[Any, ...], want: tuple[int, ...]) -> bool:
    """A batch dimension, then ``want``. A dimension the graph leaves symbolic (a name, not a
    number) fits anything here; ``OnnxNetwork.predict`` checks the shape of what comes out."""
    return not got or (len(got) == len(want) + 1 and all(
        not isinstance(g, int) or g == w for g, w in zip(got[1:], want, strict=True)))


def io_problem(inputs: list[Any], outputs: list[Any], spec: NetworkSpec) -> str | None:
    """What about the graph's inputs and outputs disagrees with ``spec``, in words; or None.
    ``inputs``/``outputs``: ONNX Runtime's NodeArg lists (``.name``, ``.shape``)."""
    window = (spec.lookback, spec.n_inputs)
    expected = 1 + (spec.n_future > 0)
    if len(inputs) != expected or len(outputs) != 1:
        return (f"it has {len(inputs)} inputs and {len(outputs)} outputs; config.json's network "
                f"has {expected} and 1")
    by_name = sorted(inputs, key=lambda arg: str(arg.name).startswith("future"))
    checks = [("window input", by_name[0], window),
              ("output", outputs[0], (spec.horizon, spec.n_targets))]
    if spec.n_future:
        checks.append(("future input", by_name[1], (spec.horizon, spec.n_future)))
    for what, arg, want in checks:
        got = _dims(arg.shape)
        if not _fits(got, want):
            shown = ", ".join(str(d) for d in got)
            return (f"its {what} has shape ({shown}); config.json's network says "
                    f"(batch, {', '.join(map(str, want))})")
    return None
