"""A bundle is checked before anything in it is used (issue 14): every file is listed, regular
and matches its checksum; every field of its JSON is checked for type and bounds and against
the network; the ONNX graph's shapes must match; and with a bundle key only signed bundles load.

The attacker of these tests re-hashes the manifest after each change (as anyone who can write
the bundle can), so checksums alone never catch it. One tiny model for the module; each case
tampers with a copy. Pure parsing cases call ``read_parts`` in-process (milliseconds); a handful
run ``predict`` in a subprocess for the exit code and the exact message.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from forecast_cli.errors import BundleError, ConfigError, InputMissingError
from forecast_cli.model import bundle, bundle_files, signing
from forecast_cli.model.bundle import read_bundle, read_parts
from tests.cli_helpers import run_cli
from tests.conftest import run_forecast

KEY = "0123456789abcdef0123456789abcdef"


def _rehash(dest: Path) -> Path:
    """Update every listed file's checksum, as an attacker would; drop files no longer there."""
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["files"] = {name: hashlib.sha256((dest / name).read_bytes()).hexdigest()
                         for name in manifest["files"] if (dest / name).exists()}
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


def _edit(model: Path, dest: Path, name: str, change: Callable[[Any], None]) -> Path:
    """A copy of the bundle with the JSON file ``name`` changed and its checksum updated."""
    shutil.copytree(model, dest)
    raw = json.loads((dest / name).read_text())
    change(raw)
    (dest / name).write_text(json.dumps(raw))
    return _rehash(dest)


def _text(model: Path, dest: Path, name: str, text: str) -> Path:
    shutil.copytree(model, dest)
    (dest / name).write_text(text)
    return _rehash(dest)


def _refused(path: Path, message: str) -> None:
    with pytest.raises(BundleError) as info:
        read_parts(path)
    assert str(info.value) == f"{path}: {message}"


def _predict(bundle_dir: Path, data: Path, key: str | None = None) -> Any:
    """`forecast predict` in this process (``run_cli``): a refused bundle never reaches a
    network, and the real command's refusals are test_cli's and test_onnx_predict's."""
    env = {} if key is None else {signing.KEY_ENV: key}
    return run_cli("predict", "-m", bundle_dir, data, env=env, timeout=60)


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    monkeypatch.delenv(signing.KEY_FILE_ENV, raising=False)


# --- sizes: the adversarial run made predict allocate 7-160 GB -------------------------------

@pytest.mark.parametrize(("network", "why"), [
    ({"lstm_units": 10**9}, "`network.lstm_units` must be ≤ 4,096. Got 1,000,000,000."),
    ({"horizon": 10**9}, "`network.horizon` must be ≤ 10,000. Got 1,000,000,000."),
    ({"dense_units": [8] * 17}, "`network.dense_units` may name at most 16 layers. Got 17."),
])
def test_predict_refuses_a_consistent_bundle_with_an_enormous_network(
        tiny_model: tuple[Path, Path], tmp_path: Path, network: dict[str, object],
        why: str) -> None:
    data, model = tiny_model
    copy = _edit(model, tmp_path / "model", "config.json", lambda c: c["network"].update(network))
    proc = _predict(copy, data)
    assert proc.returncode == 65
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"Error: {copy}: config.json: {why}"


def test_a_network_larger_than_its_weights_file_is_refused(tiny_model: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    """lstm_units 4,096 is within bounds, but 67 million weights need 268 MB of weights file:
    refused before Keras would build (allocate) the network."""
    copy = _edit(tiny_model[1], tmp_path / "m", "config.json",
                 lambda c: (c["network"].update(lstm_units=4096),
                            c["settings"].update(lstm_units=4096)))
    size = (copy / "model.weights.h5").stat().st_size
    # 4 LSTM gates over 1 input + 4,096 units, the Dense head to horizon 4, and the linear
    # skip from lookback 8 to horizon 4 (weights and biases each)
    n = 4 * (4096 * (1 + 4096) + 4096) + (4096 * 4 + 4) + (8 * 4 + 4)
    _refused(copy, f"config.json's network has {n:,} weights ({4 * n:,} bytes as "
                   f"float32); model.weights.h5 holds {size:,} bytes. The two do not belong "
                   "together: restore the bundle or retrain.")


# --- fields: types, bounds, agreement with the network ---------------------------------------

def test_a_bundle_without_data_seen_loads(tiny_model: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    """Bundles made before data.seen was recorded: the scaler's training range is used."""
    parts = read_parts(_edit(tiny_model[1], tmp_path / "m", "config.json",
                             lambda c: c["data"].pop("seen")))
    assert parts.data.get("seen") is None


@pytest.mark.parametrize(("name", "change", "message"), [
    ("config.json", lambda c: c["network"].update(lookback="8"),
     "config.json: `network.lookback` must be an integer. Got '8'."),
    ("config.json", lambda c: c["network"].update(lstm_layers=True),
     "config.json: `network.lstm_layers` must be an integer. Got True."),
    ("config.json", lambda c: c["network"].update(target_index=[3]),
     "config.json: `network.target_index[0]` must be ≤ 0. Got 3."),
    ("config.json", lambda c: c["data"].update(inputs=["value", "x"]),
     "config.json: `data.inputs` must have 1 entry. Got 2."),
    ("config.json", lambda c: c["data"].pop("freq"), "config.json: `data.freq` is missing."),
    ("config.json", lambda c: c["data"].update(last_timestamp="yesterday"),
     "config.json: `data.last_timestamp` must be an ISO-8601 timestamp (2024-01-31T00:00:00). "
     "Got 'yesterday'."),
    ("config.json", lambda c: c["settings"].update(horizon=5),
     "config.json: `settings.horizon` must equal `network.horizon` (4). Got 5."),
    ("config.json", lambda c: c["settings"].update(fill="magic"),
     "config.json: settings: `fill` must be one of none, interpolate, ffill, drop. "
     "Got 'magic'."),
    ("config.json", lambda c: c["data"]["seen"][""].update(data_min=[2.0], data_max=[1.0]),
     "config.json: `data.seen[''].data_min[0]` must not exceed `data.seen[''].data_max[0]`. "
     "Got 2.0 > 1.0."),
    ("config.json", lambda c: c["data"]["seen"][""].update(data_max=[1.0, 2.0]),
     "config.json: `data.seen[''].data_max` must have 1 entry. Got 2."),
    ("config.json", lambda c: c["data"].update(seen=[]),
     "config.json: `data.seen` must be a JSON object. Got []."),
    ("scaler.json", lambda s: s.update(scale=[-1.0]),
     "scaler.json: `scale[0]` must be > 0. Got -1.0."),
    ("scaler.json", lambda s: s.update(scale=[1e308]),  # forecasts of inf, exit 0, before
     "scaler.json: `scale[0]` must be within ±1e+100, as the data is. Got 1e+308."),
    ("scaler.json", lambda s: s.update(offset=[1.0, 2.0]),
     "scaler.json: `offset` must have 1 entry. Got 2."),
    ("scaler.json", lambda s: s.update(kind="pickle"),
     "scaler.json: `kind` must be one of standard, minmax. Got 'pickle'."),
    ("intervals.json", lambda i: i["half_widths"][0][0].__setitem__(0, -0.5),
     "intervals.json: `half_widths[0][0][0]` must be ≥ 0 or null. Got -0.5."),
    ("intervals.json", lambda i: i["half_widths"][1].pop(),
     "intervals.json: `half_widths[1]` must have 4 entries. Got 3."),
    ("intervals.json", lambda i: i.update(levels=[80.0, 100.0]),
     "intervals.json: `levels[1]` must be between 0 and 100 (exclusive). Got 100.0."),
    ("intervals.json", lambda i: i.update(levels=[80.0]),
     "intervals.json: `half_widths` must have 1 entry. Got 2."),
])
def test_every_field_is_checked(tiny_model: tuple[Path, Path], tmp_path: Path, name: str,
                                change: Callable[[Any], None], message: str) -> None:
    _refused(_edit(tiny_model[1], tmp_path / "m", name, change), message)


def test_panel_scalers_and_intervals_are_checked_per_series(tiny_model: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    """The plain bundle rewritten as a panel of one series 'a' loads; a negative scale in the
    series' scaler or intervals for a series config.json does not know are refused."""
    model = tiny_model[1]
    scaler = json.loads((model / "scaler.json").read_text())
    iv = json.loads((model / "intervals.json").read_text())
    panel_iv = {"method": "split-conformal per series", "levels": iv["levels"], "n_pooled": 9,
                "series": {"a": {"calibration": {"80": "own", "95": "pooled"},
                                 "n_calibration": 9, "scale": scaler["scale"],
                                 "half_widths": iv["half_widths"]}}}

    def as_panel(dest: Path, series: dict[str, Any], ivs: dict[str, Any]) -> Path:
        shutil.copytree(model, dest)
        config = json.loads((dest / "config.json").read_text())
        config["data"]["panel"] = {"id_col": "id", "skipped": [], "series": series}
        (dest / "config.json").write_text(json.dumps(config))
        (dest / "intervals.json").write_text(json.dumps(ivs))
        return _rehash(dest)

    good = read_parts(as_panel(tmp_path / "good", {"a": scaler}, panel_iv))
    assert good.series_intervals is not None
    assert list(good.series_intervals.series) == ["a"]
    _refused(as_panel(tmp_path / "scale", {"a": {**scaler, "scale": [0.0]}}, panel_iv),
             "config.json: `data.panel.series['a'].scale[0]` must be > 0. Got 0.0.")
    other = {**panel_iv, "series": {"b": panel_iv["series"]["a"]}}
    _refused(as_panel(tmp_path / "ids", {"a": scaler}, other),
             "intervals.json: `series` must calibrate exactly the series of config.json; 'a' "
             "is in one of them only.")


# --- strict JSON: the adversarial run's `1e999` and 100,000-deep JSON gave exit 1 -------------

@pytest.mark.parametrize(("name", "old", "new", "why"), [
    ("config.json", '"lstm_units": 8', '"lstm_units": 1e999', "1e999 overflows a float"),
    ("scaler.json", '"scale": [', '"scale": [NaN, ', "NaN is not a number"),
    ("scaler.json", '"scale": [', '"scale": [-Infinity, ', "-Infinity is not a number"),
    ("scaler.json", '"kind": "standard"', '"kind": "standard", "kind": "minmax"',
     "key 'kind' appears twice"),
])
def test_json_is_parsed_strictly(tiny_model: tuple[Path, Path], tmp_path: Path, name: str,
                                 old: str, new: str, why: str) -> None:
    model = tiny_model[1]
    text = (model / name).read_text()
    assert old in text
    _refused(_text(model, tmp_path / "m", name, text.replace(old, new)),
             f"{name} is unreadable or not JSON ({why}).")


def test_deep_json_and_1e999_exit_65_not_1(tiny_model: tuple[Path, Path],
                                           tmp_path: Path) -> None:
    data, model = tiny_model
    deep = _text(model, tmp_path / "deep", "intervals.json", "[" * 100_000 + "]" * 100_000)
    proc = _predict(deep, data)
    assert proc.returncode == 65
    assert proc.stderr.strip() == (f"Error: {deep}: intervals.json is unreadable or not JSON "
                                   "(nested deeper than 32 levels, or unbalanced).")
    huge = tmp_path / "huge"
    shutil.copytree(model, huge)
    text = (huge / "config.json").read_text().replace('"horizon": 4', '"horizon": 1e999')
    (huge / "config.json").write_text(text)
    proc = _predict(_rehash(huge), data)
    assert (proc.returncode, proc.stderr.strip()) == (
        65, f"Error: {huge}: config.json is unreadable or not JSON (1e999 overflows a float).")


def test_depth_is_counted_outside_strings() -> None:
    assert not bundle_files.too_deep(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert not bundle_files.too_deep(b"[" * 32 + b"]" * 32)
    assert bundle_files.too_deep(b"[" * 33 + b"]" * 33)


def test_a_file_over_its_size_limit_is_refused_before_reading(
        tiny_model: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = Path(shutil.copytree(tiny_model[1], tmp_path / "m"))
    monkeypatch.setitem(bundle._JSON_LIMITS, "config.json", 100)
    size = (copy / "config.json").stat().st_size
    _refused(copy, f"config.json holds {size:,} bytes, more than the 100 a bundle's "
                   "config.json may hold.")


# --- the directory: every entry listed and regular -------------------------------------------

def test_an_unlisted_file_beside_the_onnx_model_is_refused(tiny_model: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    """External tensor data beside model.onnx used to be loaded unchecked."""
    data, model = tiny_model
    copy = Path(shutil.copytree(model, tmp_path / "model"))
    (copy / "model.onnx.data").write_bytes(b"\0" * 64)
    proc = _predict(copy, data)
    assert proc.returncode == 65
    assert proc.stderr.strip() == (
        f"Error: {copy}: model.onnx.data is not listed in manifest.json; a model bundle holds "
        "only the files its manifest lists. Remove it, or restore the bundle.")


def test_a_symbolic_link_inside_is_refused_even_to_a_listed_name(
        tiny_model: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = tiny_model
    copy = Path(shutil.copytree(model, tmp_path / "model"))
    (copy / "scaler.json").rename(tmp_path / "scaler.json")
    (copy / "scaler.json").symlink_to(tmp_path / "scaler.json")  # same bytes, same checksum
    proc = _predict(copy, data)
    assert proc.returncode == 65
    assert proc.stderr.strip() == (
        f"Error: {copy}: scaler.json is a symbolic link; a model bundle holds regular files "
        "only. Remove it, or restore the bundle.")


@pytest.mark.parametrize("make", ["dir", "fifo", "listed-unknown"])
def test_other_entries_are_refused(tiny_model: tuple[Path, Path], tmp_path: Path,
                                   make: str) -> None:
    copy = Path(shutil.copytree(tiny_model[1], tmp_path / "m"))
    if make == "dir":
        (copy / "extra").mkdir()
        _refused(copy, "extra is a directory; a model bundle holds regular files only. "
                       "Remove it, or restore the bundle.")
    elif make == "fifo":
        os.mkfifo(copy / "intervals.json.tmp")
        _refused(copy, "intervals.json.tmp is a named pipe; a model bundle holds regular "
                       "files only. Remove it, or restore the bundle.")
    else:
        (copy / "notes.txt").write_text("hello")
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["files"]["notes.txt"] = hashlib.sha256(b"hello").hexdigest()
        (copy / "manifest.json").write_text(json.dumps(manifest))
        _refused(copy, "manifest.json lists 'notes.txt', which is not a bundle file (a bundle "
                       "holds model.weights.h5, model.onnx, config.json, scaler.json, "
                       "intervals.json, scores.json).")


def test_the_bundle_path_itself_may_be_a_symbolic_link(tiny_model: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    """`forecast train` may publish OUT/model as a link to a run directory: resolved once."""
    data, model = tiny_model
    link = tmp_path / "current"
    link.symlink_to(model, target_is_directory=True)
    parts = read_parts(link)
    assert parts.path == link
    assert parts.root == Path(os.path.realpath(model))
    assert read_bundle(link).weights == parts.root / "model.weights.h5"
    assert _predict(link, data).returncode == 0


# --- the ONNX graph against the network -------------------------------------------------------

def test_a_horizon_the_onnx_graph_does_not_have_is_refused(tiny_model: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    """Used to end in a zip() error (exit 1) after the forecast."""
    data, model = tiny_model
    copy = Path(shutil.copytree(model, tmp_path / "model"))
    (copy / "intervals.json").unlink()
    config = json.loads((copy / "config.json").read_text())
    config["network"]["horizon"] = config["settings"]["horizon"] = 5
    (copy / "config.json").write_text(json.dumps(config))
    proc = _predict(_rehash(copy), data)
    assert proc.returncode == 65
    assert re.fullmatch(
        rf"Error: {re.escape(str(copy))}/model.onnx: the exported network does not match "
        r"config.json: its output has shape \(\S+, 4, \S+\); config.json's network says "
        r"\(batch, 5, 1\). Restore the bundle or retrain.", proc.stderr.strip()), proc.stderr


def test_an_onnx_model_with_external_data_is_refused(tiny_model: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    """Even when the data file is beside it (as if listed): the graph itself is refused."""
    import onnx

    from forecast_cli.model.onnx_checks import external_tensor
    from forecast_cli.model.onnx_engine import OnnxNetwork

    model = tiny_model[1]
    assert external_tensor((model / "model.onnx").read_bytes()) is None
    graph = onnx.load(str(model / "model.onnx"))
    out = tmp_path / "model.onnx"
    onnx.save_model(graph, str(out), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    name = external_tensor(out.read_bytes())
    assert name
    with pytest.raises(BundleError, match=re.escape(
            f"{out}: tensor {name!r} of the exported network keeps its data in another "
            "file; a bundle's model.onnx must hold all its weights. Retrain the model.")):
        OnnxNetwork(out)


def test_weights_files_that_declare_more_or_link_out_are_refused(tmp_path: Path) -> None:
    import h5py
    import numpy as np

    from forecast_cli.model.saving import check_weights

    ok, huge, link = tmp_path / "ok.h5", tmp_path / "huge.h5", tmp_path / "link.h5"
    with h5py.File(ok, "w") as fh:
        fh["layers/dense/vars/0"] = np.zeros((8, 4), np.float32)
    check_weights(ok, 32)
    with h5py.File(huge, "w") as fh:  # 10^12 values declared, none written: a tiny file
        fh.create_dataset("v", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1000))
    assert huge.stat().st_size < 100_000
    with pytest.raises(BundleError, match=r"declares 1,000,000,000,000 values; config.json's "
                                          r"network has 32 weights"):
        check_weights(huge, 32)
    with h5py.File(link, "w") as fh:
        fh["v"] = h5py.ExternalLink(str(ok), "/layers")
    with pytest.raises(BundleError, match=r"'v' is a link \(ExternalLink\)"):
        check_weights(link, 32)


# --- the bundle key: HMAC-SHA256 over the manifest --------------------------------------------

def _signed(model: Path, dest: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundle written again by ``write_bundle`` with ``key`` set (as train and batch do)."""
    b = read_bundle(model)
    monkeypatch.setenv(signing.KEY_ENV, key)
    iv = json.loads((model / "intervals.json").read_text())
    bundle.write_bundle(dest, b.spec, b.schema, b.scaler, b.settings,
                        b.manifest["data_fingerprint"],
                        lambda p: shutil.copyfile(model / "model.weights.h5", p), intervals=iv,
                        write_onnx=lambda p: shutil.copyfile(model / "model.onnx", p))
    monkeypatch.delenv(signing.KEY_ENV)
    return dest


def test_a_signed_bundle_loads_with_its_key_and_warns_without(
        tiny_model: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, model = tiny_model
    signed = _signed(model, tmp_path / "signed", KEY, monkeypatch)
    manifest = json.loads((signed / "manifest.json").read_text())
    assert manifest["signature"] == signing.sign(manifest, KEY.encode())
    assert re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", manifest["signature"])
    assert _predict(signed, data, KEY).returncode == 0
    unchecked = _predict(signed, data)
    assert unchecked.returncode == 0
    assert unchecked.stdout == _predict(model, data).stdout
    assert unchecked.stderr.strip() == (
        f"Warning: {signed}: the bundle is signed, but no bundle key is set "
        "(FORECAST_BUNDLE_KEY or FORECAST_BUNDLE_KEY_FILE): its signature was not checked, "
        "only its checksums.")


def test_with_a_key_altered_unsigned_and_foreign_bundles_are_refused(
        tiny_model: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, model = tiny_model
    signed = _signed(model, tmp_path / "signed", KEY, monkeypatch)
    altered = Path(shutil.copytree(signed, tmp_path / "altered"))
    scaler = json.loads((altered / "scaler.json").read_text())
    scaler["offset"] = [scaler["offset"][0] + 100.0]  # forecasts 100 higher
    (altered / "scaler.json").write_text(json.dumps(scaler))
    _rehash(altered)  # consistent checksums, the old signature kept
    bad = ("the manifest's signature does not match the bundle key: the bundle was altered, "
           "or signed with another key. Restore it, or retrain the model with this key.")
    proc = _predict(altered, data, KEY)
    assert (proc.returncode, proc.stderr.strip()) == (65, f"Error: {altered}: {bad}")
    assert _predict(altered, data).returncode == 0  # without a key: checksums only
    monkeypatch.setenv(signing.KEY_ENV, "another key, 32 characters long")
    _refused(signed, bad)
    monkeypatch.setenv(signing.KEY_ENV, KEY)
    _refused(model, "the bundle is not signed, and a bundle key is set: only bundles signed "
                    "with that key are accepted. Retrain the model with the key set, or unset "
                    "FORECAST_BUNDLE_KEY and FORECAST_BUNDLE_KEY_FILE to accept unsigned "
                    "bundles.")
    stripped = Path(shutil.copytree(signed, tmp_path / "stripped"))
    manifest = json.loads((stripped / "manifest.json").read_text())
    del manifest["signature"]
    (stripped / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="the bundle is not signed"):
        read_parts(stripped)


def test_the_key_file(tiny_model: tuple[Path, Path], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    signed = _signed(tiny_model[1], tmp_path / "signed", KEY, monkeypatch)
    key_file = tmp_path / "bundle.key"
    key_file.write_text(KEY + "\n")  # as `echo KEY > file` writes it
    key_file.chmod(0o600)
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(key_file))
    assert read_parts(signed).warnings == ()
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match=re.escape(
            f"{key_file}: bundle key file (FORECAST_BUNDLE_KEY_FILE) can be read or written by "
            f"others (mode 644); restrict it to its owner: chmod 600 {key_file}")):
        read_parts(signed)
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(InputMissingError, match="cannot be read"):
        read_parts(signed)


@pytest.mark.parametrize(("env", "message"), [
    ({signing.KEY_ENV: KEY, signing.KEY_FILE_ENV: "/k"},
     "FORECAST_BUNDLE_KEY and FORECAST_BUNDLE_KEY_FILE are both set; set one of them."),
    ({signing.KEY_ENV: ""}, "the bundle key in FORECAST_BUNDLE_KEY has 0 bytes; it needs at "
                            "least 16"),
])
def test_bad_key_settings_are_usage_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        signing.bundle_key(env)


def test_train_refuses_a_bad_key_before_training(tiny_model: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    proc = run_forecast("train", tiny_model[0], "-o", tmp_path / "run", "--quiet",
                        env={signing.KEY_ENV: "short"}, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("Error: the bundle key in FORECAST_BUNDLE_KEY has 5 "
                                          "bytes; it needs at least 16")
    assert not (tmp_path / "run" / "model").exists()
