"""predict's quick path (no pandas, no pyarrow) gives the full path's output byte for byte, and
hands every file it is not sure of to the full path, whose warnings and errors then apply.

One tiny real training on 400 hourly rows of a daily sine (the CLI in this process,
``cli_helpers.run_cli``); predictions in-process (to compare the two paths, and the warnings and
refusals) and through the real CLI in fresh processes (imports, exit codes, the output file).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forecast_cli.pipeline.forecasting import predict, render_forecast
from forecast_cli.pipeline.quickpredict import predict_output, quick_predict
from tests.cli_helpers import run_cli
from tests.conftest import REPO, TINY_ARGS, run_forecast, seasonal_series, write_series

N_ROWS = 400
HORIZON = int(TINY_ARGS[TINY_ARGS.index("--horizon") + 1])
# The loaders and engines a prediction could import; a plain file needs only onnxruntime.
WATCHED = ("pandas", "pyarrow", "tensorflow", "keras", "sklearn", "onnxruntime", "tf2onnx")
PROBE = f"""
import json, sys
from forecast_cli.cli.app import app
try:
    app(sys.argv[1:], prog_name="forecast")
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"exit": code, "loaded": sorted({{m.split(".")[0] for m in sys.modules}}
                                                 & set({WATCHED!r}))}}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, its training CSV): hourly rows from 2021-01-01 00:00, a daily sine."""
    work = tmp_path_factory.mktemp("quick")
    csv = write_series(work / "hourly.csv", seasonal_series(N_ROWS, period=24),
                       start="2021-01-01", freq="h")
    proc = run_cli("train", csv, "--output-dir", work / "run", "--quiet", *TINY_ARGS)
    assert proc.returncode == 0, proc.stderr
    return work / "run" / "model", csv


def full_text(bundle: Path, csv: Path, fmt: str = "csv") -> str:
    return render_forecast(predict(bundle, csv), fmt)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_quick_path_writes_exactly_what_the_full_path_writes(trained: tuple[Path, Path],
                                                             fmt: str) -> None:
    bundle, csv = trained
    quick = quick_predict(bundle, csv, fmt)
    assert quick is not None  # the file is plain: the quick path must take it
    full = predict(bundle, csv)
    assert quick.text == render_forecast(full, fmt)
    assert full.warnings == quick.warnings == []
    # 400 hourly rows from 2021-01-01 00:00 end 399 h later: 2021-01-17 15:00
    assert quick.origin == str(full.origin) == "2021-01-17 15:00:00"
    assert quick.rows == HORIZON


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_both_paths_round_to_the_same_decimals(trained: tuple[Path, Path], fmt: str) -> None:
    bundle, csv = trained
    quick = quick_predict(bundle, csv, fmt, precision=3)
    assert quick is not None
    assert quick.text == render_forecast(predict(bundle, csv), fmt, precision=3)
    values = quick.text.splitlines()[1].split(",")[2:] if fmt == "csv" else [
        str(v) for v in json.loads(quick.text)["forecast"][0].values()][2:]
    assert all(len(v.split(".")[1]) <= 3 for v in values if "." in v)


def probe(*args: str | Path) -> tuple[int, list[str], str]:
    """The CLI in a fresh process → (exit code, watched modules it loaded, its stdout)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)
    *lines, last = proc.stdout.rstrip("\n").split("\n")
    report = json.loads(last)
    return report["exit"] or 0, report["loaded"], "\n".join(lines) + "\n"


def test_cli_predicts_a_plain_file_without_pandas_or_tensorflow(
        trained: tuple[Path, Path]) -> None:
    bundle, csv = trained
    code, loaded, out = probe("predict", "--model", bundle, csv)
    assert code == 0
    assert loaded == ["onnxruntime"]
    assert out == full_text(bundle, csv)


def test_a_plot_takes_the_full_path_with_the_same_output(trained: tuple[Path, Path]) -> None:
    bundle, csv = trained
    assert predict_output(bundle, csv).forecast is None  # quick: no DataFrame made
    result = predict_output(bundle, csv, keep=True)  # a plot needs the Forecast itself
    assert result.forecast is not None
    assert result.text == full_text(bundle, csv)


def _rewrite(csv: Path, target: Path, change: str) -> Path:
    """The training CSV with its last value multiplied by 100 ("far"), or its last 50 rows
    removed ("early"), or an empty value on line 11 ("hole")."""
    lines = csv.read_text().splitlines()
    if change == "far":
        stamp, value = lines[-1].split(",")
        lines[-1] = f"{stamp},{float(value) * 100}"
    elif change == "early":
        lines = lines[:-50]
    else:
        lines[10] = lines[10].split(",")[0] + ","
    target.write_text("\n".join(lines) + "\n")
    return target


@pytest.mark.parametrize(("change", "warning"), [
    ("far", "ranges above"),
    ("early", "before the end of the training data")])
def test_data_the_full_path_warns_about_gets_its_warning(trained: tuple[Path, Path],
                                                         tmp_path: Path, change: str,
                                                         warning: str) -> None:
    bundle, csv = trained
    data = _rewrite(csv, tmp_path / "data.csv", change)
    assert quick_predict(bundle, data, "csv") is None
    proc = run_cli("predict", "--model", bundle, data)
    assert proc.returncode == 0, proc.stderr
    assert warning in proc.stderr
    assert proc.stdout == full_text(bundle, data)


def test_bad_data_is_refused_with_the_full_paths_message(trained: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    bundle, csv = trained
    data = _rewrite(csv, tmp_path / "data.csv", "hole")
    assert quick_predict(bundle, data, "csv") is None
    proc = run_cli("predict", "--model", bundle, data)
    assert proc.returncode == 65
    assert "line 11" in proc.stderr
    assert str(data) in proc.stderr
    assert proc.stdout == ""


def test_malformed_config_is_refused_by_the_full_paths_check(trained: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    """config.json without its frequency (checksum updated, as a careless edit would leave
    it): exit 65 naming the file and the field, not an unexpected failure of the quick path."""
    import hashlib
    import shutil

    bundle, csv = trained
    copy = Path(shutil.copytree(bundle, tmp_path / "model"))
    config = json.loads((copy / "config.json").read_text())
    del config["data"]["freq"]
    (copy / "config.json").write_text(json.dumps(config))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["config.json"] = hashlib.sha256((copy / "config.json").read_bytes()
                                                      ).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    proc = run_cli("predict", "--model", copy, csv)
    assert proc.returncode == 65, proc.stderr
    assert proc.stderr.strip() == f"Error: {copy}: config.json: `data.freq` is missing."


def test_out_file_holds_the_forecast_and_stderr_says_so(trained: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    bundle, csv = trained
    out = tmp_path / "forecast.csv"
    proc = run_forecast("predict", "--model", bundle, csv, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert out.read_text() == full_text(bundle, csv)
    assert (f"Forecast of {HORIZON} steps after 2021-01-17 15:00:00 written to {out}"
            in proc.stderr)
    rows = out.read_text().splitlines()
    assert rows[1].startswith("2021-01-17T16:00:00,1,")
    assert np.isfinite([float(x) for x in rows[1].split(",")[2:]]).all()
