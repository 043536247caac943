"""A bundle's network sizes are bounded like a training run's settings (issue 14): a config.json
that is consistent (re-hashed in manifest.json) but asks for an enormous network is refused
with 65 before anything is allocated. ``lstm_units`` 10^9 used to make predict allocate
gigabytes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_forecast


def _rehashed(model: Path, dest: Path, **network: object) -> Path:
    """A copy of the bundle with config.json's network changed and its checksum updated."""
    shutil.copytree(model, dest)
    config = json.loads((dest / "config.json").read_text())
    config["network"].update(network)
    (dest / "config.json").write_text(json.dumps(config))
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["files"]["config.json"] = hashlib.sha256(
        (dest / "config.json").read_bytes()).hexdigest()
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


@pytest.mark.parametrize(("network", "why"), [
    ({"lstm_units": 10**9}, "`lstm_units` 1,000,000,000 exceeds the limit 4,096"),
    ({"horizon": 10**9}, "`horizon` 1,000,000,000 exceeds the limit 10,000"),
    ({"dense_units": [8] * 17}, "17 dense layers exceed the limit 16"),
])
def test_predict_refuses_a_consistent_bundle_with_an_enormous_network(
        tiny_model: tuple[Path, Path], tmp_path: Path, network: dict[str, object],
        why: str) -> None:
    data, model = tiny_model
    bundle = _rehashed(model, tmp_path / "model", **network)
    proc = run_forecast("predict", "-m", bundle, data, timeout=60)
    assert proc.returncode == 65
    assert proc.stdout == ""
    assert proc.stderr.strip() == (f"Error: {bundle}: config.json, scaler.json or "
                                   f"intervals.json is malformed ({why}).")


def test_the_unchanged_copy_still_predicts(tiny_model: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = tiny_model
    proc = run_forecast("predict", "-m", _rehashed(model, tmp_path / "model"), data)
    assert proc.returncode == 0, proc.stderr
