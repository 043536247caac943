"""The ensemble (issue 15): members over lookbacks and seeds in one graph, served as their
median; the choice made on validation; the refit on every window.

The network checks build networks with set weights and train nothing; one tiny panel is
trained twice (refit off through the library, refit on through the CLI, both in this process)
and shared by the rest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import ConfigError
from forecast_cli.model import api as model
from forecast_cli.model.bundle import read_bundle
from forecast_cli.model.onnx_engine import OnnxNetwork
from forecast_cli.model.spec import NetworkSpec, parameter_count, with_members
from forecast_cli.pipeline import ensemble
from forecast_cli.pipeline.forecasting import predict
from forecast_cli.pipeline.training import train
from forecast_cli.settings import Settings, build_settings
from tests.cli_helpers import run_cli
from tests.conftest import seasonal_series

LOOKBACK = 8


def _spec(members: tuple[tuple[int, int], ...] = ()) -> NetworkSpec:
    return NetworkSpec(lookback=LOOKBACK, horizon=4, n_inputs=1, target_index=(0,),
                       lstm_units=4, lstm_layers=1, dense_units=(), dropout=0.1,
                       window_norm="last", seed=7, linear_skip=True, members=members)


def _randomised(spec: NetworkSpec) -> Any:
    """The training network of ``spec`` with seeded random weights (zeros would make every
    member equal), and its portable (served) network."""
    trained = model.training_network(spec)
    rng = np.random.default_rng(3)
    trained.set_weights([0.3 * rng.standard_normal(w.shape).astype(np.float32)
                         for w in trained.get_weights()])
    return trained, model.portable_network(trained, spec)


WINDOWS = np.random.default_rng(5).standard_normal((6, LOOKBACK, 1)).astype(np.float32)


@pytest.mark.parametrize(("members", "onnx"), [
    (((8, 7), (8, 1007), (4, 2007)), True),  # odd: the middle of the sort (ONNX TopK)
    (((8, 7), (8, 1007), (4, 2007), (6, 3007)), False)])  # even: the two middle ones' mean
def test_served_output_is_the_median_of_the_members_in_keras_and_onnx(
        members: tuple[tuple[int, int], ...], onnx: bool, tmp_path: Path) -> None:
    spec = _spec(members)
    trained, net = _randomised(spec)
    each = np.stack([model.predict_array(m, WINDOWS)
                     for m in model.member_networks(net, spec)])  # (M, B, H, k)
    assert len({float(e.sum()) for e in each}) == len(members)  # members differ
    served = model.predict_array(net, WINDOWS)
    np.testing.assert_allclose(served, np.median(each, axis=0), atol=1e-6)
    # the training network outputs every member: (B, M, H, k)
    np.testing.assert_allclose(model.predict_array(trained, WINDOWS), each.transpose(1, 0, 2, 3),
                               atol=1e-6)
    # member j reads the last members[j][0] rows only: older rows change nothing
    shorter = [j for j, (lb, _) in enumerate(members) if lb < LOOKBACK]
    older = WINDOWS.copy()
    older[:, 0] += 5.0
    for j in shorter:
        member = model.member_networks(net, spec)[j]
        np.testing.assert_allclose(model.predict_array(member, older), each[j], atol=1e-6)
    assert parameter_count(spec) == net.count_params()
    if onnx:  # one export: tf2onnx takes seconds
        model.export_onnx(net, spec, tmp_path / "m.onnx")
        exported = OnnxNetwork(tmp_path / "m.onnx", spec=spec).predict(WINDOWS)
        np.testing.assert_allclose(exported, served, atol=1e-5)


def test_selected_members_serve_their_median_and_one_of_the_spec_is_the_single_network(
        ) -> None:
    spec = _spec(((8, 7), (4, 1007), (4, 2007)))
    _, net = _randomised(spec)
    each = np.stack([model.predict_array(m, WINDOWS) for m in model.member_networks(net, spec)])
    pair, pair_net = model.select_members(net, spec, (1, 2))
    assert pair.members == ((4, 1007), (4, 2007))
    np.testing.assert_allclose(model.predict_array(pair_net, WINDOWS), each[1:].mean(axis=0),
                               atol=1e-6)
    one, one_net = model.select_members(net, spec, (0,))  # the spec's own lookback and seed
    assert one.members == ()
    assert [w.name for w in one_net.weights] == [w.name for w in model.build_network(
        _spec()).weights]  # the layers of today's single network
    np.testing.assert_allclose(model.predict_array(one_net, WINDOWS), each[0], atol=1e-6)


def test_one_seed_and_one_lookback_is_the_single_network() -> None:
    s = Settings(ensemble_seeds=1, ensemble_lookbacks=(1.0,), seed=7)
    assert ensemble.member_plan(s, LOOKBACK) == ()
    plan = ensemble.member_plan(Settings(seed=7), LOOKBACK)  # defaults: 2 seeds × (1, 0.5)
    assert [lb for lb, _ in plan] == [8, 8, 4, 4]
    assert plan[0][1] == 7  # the first member is the single network's seed
    assert len({sd for _, sd in plan}) == 4


def test_bad_ensemble_settings_are_refused() -> None:
    for bad in ({"ensemble_seeds": 0}, {"ensemble_lookbacks": "0"},
                {"ensemble_lookbacks": "1.5"}, {"ensemble_lookbacks": "1,1"},
                {"refit": "yes"}):
        with pytest.raises(ConfigError, match=r"ensemble|refit"):
            build_settings(bad)
    assert build_settings({"ensemble_lookbacks": ["1", "0.25"]}).ensemble_lookbacks == (1.0,
                                                                                       0.25)
    with pytest.raises(ValueError, match="lookback"):  # a bundle's member reading too much
        with_members(_spec(), [[9, 1]])


# two members (lookbacks 8 and 4): candidates their median (mean), each alone
ARGS = {"lookback": LOOKBACK, "horizon": 4, "lstm_units": 4, "epochs": 2, "batch_size": 32,
        "patience": 1, "seed": 7, "ensemble_seeds": 1, "ensemble_lookbacks": (1.0, 0.5)}


def _panel(path: Path) -> Path:
    frames = [pd.DataFrame({"series": sid, "timestamp": pd.date_range(
        "2021-01-01", periods=90, freq="D"), "value": level + seasonal_series(90, seed=i)})
        for i, (sid, level) in enumerate((("a", 0.0), ("b", 20.0), ("c", 40.0)))]
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same tiny panel trained with the refit off (library) and on (the CLI, in this
    process: its messages are checked, its process surface is test_cli.py's)."""
    d = tmp_path_factory.mktemp("ensemble")
    data = _panel(d / "panel.csv")
    held = train(data, build_settings({**ARGS, "id_col": "series", "refit": False,
                                       "output_dir": d / "held"}))
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in ARGS.items()
             if k != "ensemble_lookbacks"]
    proc = run_cli("train", data, "--id-col", "series", *flags,
                        "--ensemble-lookbacks", "1,0.5", "-o", d / "refit")
    assert proc.returncode == 0, proc.stderr
    return {"data": data, "held": held, "proc": proc, "refit": d / "refit"}


def _metrics(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "metrics.json").read_text()))


def test_the_choice_is_the_best_candidate_on_validation_and_is_what_the_bundle_holds(
        runs: dict[str, Any]) -> None:
    e = _metrics(runs["held"].output_dir)["ensemble"]
    assert [m["lookback"] for m in e["members"]] == [LOOKBACK, LOOKBACK // 2]
    # the median and each member, alone and blended with Theta's two seasonality rules
    val = e["validation"]
    bases = [n for n in val if ensemble.WITH_THETA not in n]
    assert len(bases) == 3
    assert set(val) == {b + x for b in bases
                        for x in ("", ensemble.WITH_THETA, ensemble.ALWAYS_SEASONAL)}
    alone = min(bases, key=val.get)
    blend = min((n for n in val if ensemble.WITH_THETA in n), key=val.get)
    # the best blend, unless the best network alone is better by more than PREFER_BLEND
    assert e["chosen"] == (alone if val[alone] * (1 + ensemble.PREFER_BLEND) < val[blend]
                           else blend)
    weight = 0.5 if ensemble.WITH_THETA in e["chosen"] else 0.0
    assert e["theta_always"] == e["chosen"].endswith(ensemble.ALWAYS_SEASONAL)
    assert e["theta_weight"] == weight
    assert read_bundle(runs["held"].bundle_dir).settings["theta_weight"] == weight
    assert set(e["test"]) == set(e["validation"])  # test scores: recorded, not used
    spec = read_bundle(runs["held"].bundle_dir).spec
    chosen = [tuple(e["members"][j].values()) for j in e["combine"]]
    assert list(spec.members) == ([] if chosen == [(LOOKBACK, 7)] else chosen)
    # the served network's test MASE is the chosen candidate's
    assert _metrics(runs["held"].output_dir)["test"]["model"]["mase"] == pytest.approx(
        e["test"][e["chosen"]])


def test_refit_serves_a_network_fitted_on_every_window_with_the_held_out_scores(
        runs: dict[str, Any]) -> None:
    held, refit = _metrics(runs["held"].output_dir), _metrics(runs["refit"])
    assert held["bundle_fit"] == {"fit": "held-out"}
    fit = refit["bundle_fit"]
    assert fit["fit"] == "refit"
    assert fit["epochs"] == held["training"]["best_epoch"]
    assert fit["windows"] == sum(held["windows"].values())  # train + val + test
    assert refit["test"] == held["test"]  # scores of the fit that did not see the test rows
    assert refit["ensemble"] == held["ensemble"]
    a, b = read_bundle(runs["held"].bundle_dir), read_bundle(runs["refit"] / "model")
    assert a.spec == b.spec
    wa = model.load_network(a.spec, a.weights).get_weights()
    wb = model.load_network(b.spec, b.weights).get_weights()
    assert any(not np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))
    assert "the bundle holds a refit on every window" in runs["proc"].stderr
    assert "Ensemble of 2" in runs["proc"].stderr


def test_refit_bundle_predicts_alike_in_onnx_and_keras(runs: dict[str, Any],
                                                       tmp_path: Path) -> None:
    bundle = shutil.copytree(runs["refit"] / "model", tmp_path / "model")
    by = {e: predict(bundle, runs["data"], engine=e).table for e in ("onnx", "keras")}
    np.testing.assert_allclose(by["onnx"]["value"], by["keras"]["value"], rtol=1e-5)
    held = predict(runs["held"].bundle_dir, runs["data"], engine="onnx").table
    assert not np.allclose(held["value"], by["onnx"]["value"])  # another fit serves
