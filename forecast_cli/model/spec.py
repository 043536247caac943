"""What a network is: its sizes and options (``NetworkSpec``, saved as JSON in the bundle) and
the names of its inputs, which the Keras network, the input pipeline and the ONNX export share.

Numbers only: importing this module loads no TensorFlow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from forecast_cli.checks import LIMITS, MAX_DENSE_LAYERS

ONNX_INPUT = "window"  # names of the network's inputs, in Keras and in the ONNX export
ONNX_FUTURE = "future"


@dataclass(frozen=True)
class NetworkSpec:
    """Everything needed to rebuild the network exactly; saved as JSON in the bundle."""

    lookback: int
    horizon: int
    n_inputs: int
    target_index: tuple[int, ...]  # which input columns are the targets, in output order
    lstm_units: int
    lstm_layers: int
    dense_units: tuple[int, ...]
    dropout: float
    window_norm: str  # "none" | "last" | "mean": per-window instance normalisation
    seed: int
    channel_independence: bool = False  # one shared univariate network over every column
    patch_len: int = 1  # input rows per LSTM step (segments of the lookback; 1 = every row)
    # known-future inputs per horizon step (calendar values of the target rows); 0 = none,
    # the network then has its single ``window`` input (bundles written before this field)
    n_future: int = 0
    # a Dense map lookback → horizon of the normalised targets, added to the output (NLinear);
    # False in bundles written before it
    linear_skip: bool = False
    # an ensemble (issue 15): each member's (lookback, seed), the member reading the last
    # ``lookback`` rows of the window (≤ the spec's); () = one network, the spec's own (bundles
    # written before it); the network serves the median of its members
    members: tuple[tuple[int, int], ...] = ()

    @property
    def n_targets(self) -> int:
        return len(self.target_index)

    @property
    def n_members(self) -> int:
        return max(1, len(self.members))

    def member_specs(self) -> list[NetworkSpec]:
        """One single-network spec per member (its lookback and seed): [self] for one."""
        if not self.members:
            return [self]
        return [replace(self, lookback=lookback, seed=seed, members=())
                for lookback, seed in self.members]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["target_index"] = list(self.target_index)
        out["dense_units"] = list(self.dense_units)
        out["members"] = [list(m) for m in self.members]
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NetworkSpec:
        """Rebuild from JSON; raises KeyError/TypeError/ValueError on anything malformed."""
        spec = cls(
            lookback=int(raw["lookback"]), horizon=int(raw["horizon"]),
            n_inputs=int(raw["n_inputs"]),
            target_index=tuple(int(i) for i in raw["target_index"]),
            lstm_units=int(raw["lstm_units"]), lstm_layers=int(raw["lstm_layers"]),
            dense_units=tuple(int(u) for u in raw["dense_units"]),
            dropout=float(raw["dropout"]), window_norm=str(raw["window_norm"]),
            seed=int(raw["seed"]),
            channel_independence=bool(raw.get("channel_independence", False)),
            patch_len=int(raw.get("patch_len", 1)), n_future=int(raw.get("n_future", 0)),
            linear_skip=bool(raw.get("linear_skip", False)))
        spec = with_members(spec, raw.get("members", []))
        _check_bounds(spec)
        if spec.n_future < 0:
            raise ValueError("n_future must be ≥ 0")
        if not 1 <= spec.patch_len <= spec.lookback:
            raise ValueError("patch_len must lie between 1 and the lookback")
        if min(spec.lookback, spec.horizon, spec.n_inputs, spec.lstm_units,
               spec.lstm_layers, spec.n_targets) < 1:
            raise ValueError("network sizes must be ≥ 1")
        if spec.window_norm not in ("none", "last", "mean"):
            raise ValueError(f"unknown window_norm {spec.window_norm!r}")
        if any(not 0 <= i < spec.n_inputs for i in spec.target_index):
            raise ValueError("target_index out of range")
        return spec


MAX_MEMBERS = 64  # members of an ensemble


def with_members(spec: NetworkSpec, members: Any) -> NetworkSpec:
    """``spec`` with config.json's ``members`` ([[lookback, seed], …]), checked: ValueError
    unless every member reads patch_len … lookback rows and its seed is a seed."""
    def whole(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{v!r} is not an integer")
        return v

    if not isinstance(members, list) or any(
            not isinstance(m, list) or len(m) != 2 for m in members):
        raise ValueError("members must be a list of [lookback, seed]")
    out = replace(spec, members=tuple((whole(lb), whole(sd)) for lb, sd in members))
    _check_members(out)
    return out


def _check_members(spec: NetworkSpec) -> None:
    if len(spec.members) > MAX_MEMBERS:
        raise ValueError(f"{len(spec.members)} members exceed the limit {MAX_MEMBERS}")
    for lookback, seed in spec.members:
        if not spec.patch_len <= lookback <= spec.lookback:
            raise ValueError("a member's lookback must lie between patch_len and the lookback")
        if not 0 <= seed <= LIMITS["seed"]:
            raise ValueError("a member's seed is out of range")


MAX_INPUTS = 10_000  # input columns (targets, features, calendar) of a network


def _check_bounds(spec: NetworkSpec) -> None:
    """ValueError unless every size is within ``checks.LIMITS``, as a training run's settings
    must be: a consistent (re-hashed) config.json could otherwise make predict allocate
    gigabytes (``lstm_units`` 10^9) before anything else failed."""
    sizes = {"lookback": spec.lookback, "horizon": spec.horizon, "lstm_units": spec.lstm_units,
             "lstm_layers": spec.lstm_layers, "patch_len": spec.patch_len}
    if spec.dense_units:
        sizes["dense_units"] = max(spec.dense_units)
    for name, value in sizes.items():
        if value > LIMITS[name]:
            raise ValueError(f"`{name}` {value:,} exceeds the limit {LIMITS[name]:,}")
    if len(spec.dense_units) > MAX_DENSE_LAYERS:
        raise ValueError(f"{len(spec.dense_units)} dense layers exceed the limit "
                         f"{MAX_DENSE_LAYERS}")
    if max(spec.n_inputs, spec.n_future) > MAX_INPUTS:
        raise ValueError(f"{max(spec.n_inputs, spec.n_future):,} inputs exceed the limit "
                         f"{MAX_INPUTS:,}")



def parameter_count(spec: NetworkSpec) -> int:
    """The number of weights of the network ``build_network(spec)`` makes (what its weights file
    must hold as float32, ``4 ×`` this many bytes at least): the sum over its members."""
    return sum(_single_count(member) for member in spec.member_specs())


def _single_count(spec: NetworkSpec) -> int:
    columns = 1 if spec.channel_independence else spec.n_inputs
    n_out = 1 if spec.channel_independence else spec.n_targets
    units, width = spec.lstm_units, spec.patch_len * columns
    total = 0
    for _ in range(spec.lstm_layers):  # kernel, recurrent kernel, bias of 4 gates
        total += 4 * units * (width + units + 1)
        width = units
    width += spec.horizon * spec.n_future
    for dense in spec.dense_units:
        total += (width + 1) * dense
        width = dense
    skip = (spec.lookback + 1) * spec.horizon if spec.linear_skip else 0  # per target channel
    return total + (width + 1) * spec.horizon * n_out + skip
