"""The ONNX export and the TensorFlow-free predict path, end to end through the real CLI.

One tiny real training on the sample data (window normalisation "last", so the Lambda layers
must survive the export; the CLI in this process, ``cli_helpers.run_cli``), then predictions by
both engines in fresh processes, the refusals in this process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import REPO, SAMPLE, TINY_ARGS

HEAVY = ("tensorflow", "keras", "onnxruntime", "sklearn", "tf2onnx", "dask", "distributed")

# Runs the CLI in-process inside a fresh interpreter, then reports which heavy packages the
# command imported; stdout of the command comes first, the module list is the last line.
PROBE = f"""
import json, sys
from forecast_cli.cli.app import app
try:
    app(sys.argv[1:], prog_name="forecast")
except SystemExit as exc:
    code = exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"exit": code, "heavy": heavy}}))
"""


def probe(*args: str | Path) -> tuple[int, list[str], str]:
    """Run the CLI with ``args`` in a fresh process → (exit code, heavy modules, stdout)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)
    *lines, last = proc.stdout.rstrip("\n").split("\n")
    report = json.loads(last)
    return report["exit"], report["heavy"], "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle trained on the sample CO2 data (tiny network, window_norm=last)."""
    out = tmp_path_factory.mktemp("onnx") / "run"
    proc = run_cli("train", SAMPLE, "--output-dir", out, "--quiet", "--window-norm",
                   "last", *TINY_ARGS)
    assert proc.returncode == 0, proc.stderr
    return out / "model"


def _values(csv_text: str) -> np.ndarray:
    return pd.read_csv(StringIO(csv_text))["co2"].to_numpy(float)


def test_bundle_lists_the_export_with_its_checksum(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert "model.onnx" in manifest["files"]
    assert len(manifest["files"]["model.onnx"]) == 64


@pytest.fixture(scope="module")
def onnx_forecast(bundle: Path) -> np.ndarray:
    """`forecast predict` through the default engine, with the heavy imports it made checked."""
    code, heavy, out = probe("predict", "--model", bundle, SAMPLE)
    assert code in (0, None)
    assert heavy == ["onnxruntime"]  # neither TensorFlow, Keras, tf2onnx nor scikit-learn
    return _values(out)


def test_predict_through_onnx_imports_no_tensorflow(onnx_forecast: np.ndarray) -> None:
    assert onnx_forecast.shape == (4,)
    assert np.isfinite(onnx_forecast).all()


def test_monthly_sample_takes_the_quick_path_with_the_full_paths_output(bundle: Path) -> None:
    from forecast_cli.pipeline.forecasting import predict, render_forecast
    from forecast_cli.pipeline.quickpredict import quick_predict

    quick = quick_predict(bundle, SAMPLE, "csv")
    assert quick is not None  # month starts, plain file: no pandas needed
    assert quick.text == render_forecast(predict(bundle, SAMPLE), "csv")
    assert "_lower_80" in quick.text.splitlines()[0]  # with the bundle's intervals


def test_tampered_onnx_is_refused(bundle: Path, tmp_path: Path) -> None:
    """Through the quick path (the sample is plain): it checks every checksum too."""
    copy = Path(shutil.copytree(bundle, tmp_path / "model"))
    data = bytearray((copy / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    proc = run_cli("predict", "--model", copy, SAMPLE)
    assert proc.returncode == 65
    assert "model.onnx does not match its checksum" in proc.stderr
    assert proc.stdout == ""


def test_bundle_without_export_predicts_through_keras_identically(
        bundle: Path, onnx_forecast: np.ndarray, tmp_path: Path) -> None:
    """A bundle written before the export existed: auto falls back to Keras, which gives the
    forecasts ONNX Runtime gave (within 1e-5); --engine onnx is refused."""
    copy = Path(shutil.copytree(bundle, tmp_path / "model"))
    (copy / "model.onnx").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["model.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    refused = run_cli("predict", "--model", copy, SAMPLE, "--engine", "onnx")
    assert refused.returncode == 65
    assert "has no ONNX export" in refused.stderr
    assert "--engine keras" in refused.stderr
    code, heavy, out = probe("predict", "--model", copy, SAMPLE)
    assert code in (0, None)
    assert "tensorflow" in heavy
    assert "onnxruntime" not in heavy
    keras = _values(out)
    assert keras.shape == onnx_forecast.shape == (4,)
    assert np.max(np.abs(keras - onnx_forecast)) <= 1e-5  # the export is the same network


def test_unlisted_onnx_file_is_refused(bundle: Path, tmp_path: Path) -> None:
    """A model.onnx dropped into a bundle whose manifest does not list it: the bundle is
    refused (every file in a bundle must be listed), never used."""
    copy = Path(shutil.copytree(bundle, tmp_path / "model"))
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["model.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "model.onnx").write_bytes(b"not a network")
    refused = run_cli("predict", "--model", copy, SAMPLE, "--engine", "onnx")
    assert refused.returncode == 65
    assert refused.stderr.strip() == (
        f"Error: {copy}: model.onnx is not listed in manifest.json; a model bundle holds only "
        "the files its manifest lists. Remove it, or restore the bundle.")


@pytest.mark.parametrize("args", [("--help",), ("train", "--help"), ("predict", "--help")])
def test_help_imports_no_tensorflow_nor_onnxruntime(args: tuple[str, ...]) -> None:
    code, heavy, out = probe(*args)
    assert code in (0, None)
    assert heavy == []
    assert "Usage" in out


def test_engines_agree_on_a_batch_of_windows(bundle: Path) -> None:
    """Keras (chosen explicitly, export present) and ONNX Runtime on 64 sample windows at once."""
    from forecast_cli.data.frame import load_csv
    from forecast_cli.model.bundle import read_bundle
    from forecast_cli.pipeline.forecasting import run_network

    b = read_bundle(bundle)
    frame = load_csv(SAMPLE, columns=list(b.schema.inputs), time_col=b.schema.time_col)
    scaled = b.scaler.transform(frame.values)  # (n, 1)
    lookback = b.spec.lookback
    x = np.stack([scaled[i - lookback:i] for i in range(lookback, lookback + 64)])  # (64, L, 1)
    keras = run_network(b, x, "keras")
    onnx = run_network(b, x, "onnx")
    assert keras.shape == onnx.shape == (64, b.spec.horizon, 1)
    assert np.max(np.abs(keras - onnx)) <= 1e-5
