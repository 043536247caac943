"""The real CLI in subprocesses: exit codes, stdout vs stderr, files written.

`forecast train` as a process is the real defaults run on the sample data (the README's
claim), which is trained anyway; the tiny model the predict subprocesses read is trained by
the CLI in this process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecast_cli.settings import Settings
from tests.cli_helpers import run_cli
from tests.conftest import SAMPLE, SINGLE, TINY_ARGS, run_forecast, seasonal_series, write_series

Trained = tuple[Path, Path, subprocess.CompletedProcess[str]]
TF_NOISE = ("tensorflow", "cuda", "onednn", "absl", "i0000", "w0000", "e0000", "cpu_feature")


_VALUED = TINY_ARGS[:len(TINY_ARGS) - len(SINGLE)]  # option, value pairs; SINGLE ends in a flag
assert TINY_ARGS[len(_VALUED):] == SINGLE
TINY = dict(zip(_VALUED[::2], _VALUED[1::2], strict=True))
FROM_CONFIG = ("--lookback", "--lstm-units")  # given in the run's --config file only
CONFIG_HORIZON = int(TINY["--horizon"]) - 1  # in the file too, and overridden by --horizon


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The module's tiny training: TINY_ARGS, some of them from a --config file, --json.

    The CLI in this process (``run_cli``): `forecast train` as a process (its streams, its
    files, no TensorFlow chatter) is the real defaults run below, which trains anyway."""
    tmp = tmp_path_factory.mktemp("cli")
    csv = write_series(tmp / "daily.csv", seasonal_series(200))
    cfg = tmp / "run.toml"
    cfg.write_text("".join(f"{flag[2:].replace('-', '_')} = {TINY[flag]}\n"
                           for flag in FROM_CONFIG) + f"horizon = {CONFIG_HORIZON}\n")
    out = tmp / "run"
    flags = [*(a for flag, value in TINY.items() if flag not in FROM_CONFIG
               for a in (flag, value)), *SINGLE]
    proc = run_cli("train", csv, "-o", out, "--config", cfg, *flags, "--json")
    return csv, out, proc


# The sample data: 452 monthly rows; the defaults for monthly data: a season (and horizon) of
# 12 steps. Test rows [round(0.7 n) + round(0.15 n), n) = [384, 452).
SAMPLE_ROWS, SAMPLE_HORIZON = 452, 12


@pytest.fixture(scope="module")
def defaults_run(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """`forecast train` on the sample data with every default, as the README runs it: the
    ensemble and the refit included. A real subprocess."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    return SAMPLE, out, run_forecast("train", SAMPLE, "-o", out)


def test_train_writes_every_output_and_keeps_streams_apart(defaults_run: Trained) -> None:
    _, out, proc = defaults_run
    assert proc.returncode == 0, proc.stderr
    # The results table on stdout, with the model beside both baselines.
    for word in ("LSTM", "naive (last value)", "seasonal naive", "MASE"):
        assert word in proc.stdout
    # Diagnostics on stderr: where things went; none of TensorFlow's start-up chatter.
    assert f"Model bundle: {out / 'model'}" in proc.stderr
    assert not [n for n in TF_NOISE if n in proc.stderr.lower()], proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock", "history.csv", "latest", "metrics.json", "model", "runs", "test_forecasts.csv"]
    assert sorted(p.name for p in (out / "runs" / "0001").iterdir()) == [
        "history.csv", "metrics.json", "model", "test_forecasts.csv"]
    assert sorted(p.name for p in (out / "model").iterdir()) == [
        "config.json", "intervals.json", "manifest.json", "model.onnx", "model.weights.h5",
        "scaler.json", "scores.json"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["test"]) == {"model", "naive", "seasonal_naive"}
    assert metrics["windows"]["test"] == SAMPLE_ROWS - 384 - SAMPLE_HORIZON + 1
    table = pd.read_csv(out / "test_forecasts.csv")
    assert list(table.columns) == ["origin", "timestamp", "step", "target", "actual", "model",
                                   "naive", "seasonal_naive", "lower_80", "upper_80",
                                   "lower_95", "upper_95"]
    assert len(table) == metrics["windows"]["test"] * SAMPLE_HORIZON
    history = pd.read_csv(out / "history.csv")
    assert {"epoch", "loss", "val_loss"} <= set(history.columns)


def test_predict_to_stdout_continues_the_calendar(trained: Trained) -> None:
    csv, out, _ = trained
    proc = run_forecast("predict", "--model", out / "model", csv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == ("timestamp,step,value,value_lower_80,value_upper_80,value_lower_95,"
                        "value_upper_95")
    last = pd.read_csv(csv)["timestamp"].iloc[-1]  # 200 days from 2020-01-01
    expected = pd.date_range(last, periods=5, freq="D")[1:]
    assert [line.split(",")[0] for line in lines[1:]] == [
        ts.strftime("%Y-%m-%dT%H:%M:%S") for ts in expected]


def test_predict_to_file_and_as_json(trained: Trained, tmp_path: Path) -> None:
    csv, out, _ = trained
    dest = tmp_path / "sub" / "forecast.csv"
    proc = run_forecast("predict", "-m", out / "model", csv, "--out", dest)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    last = pd.Timestamp(pd.read_csv(csv)["timestamp"].iloc[-1]).strftime("%Y-%m-%d")
    # daily data: the last row's date without a time of day that the data does not have
    assert proc.stderr.strip() == f"Forecast of 4 steps after {last} written to {dest}"
    assert len(pd.read_csv(dest)) == 4
    proc = run_forecast("predict", "-m", out / "model", csv, "--format", "json", "-q")
    doc = json.loads(proc.stdout)
    assert doc["horizon"] == 4
    assert [row["step"] for row in doc["forecast"]] == [1, 2, 3, 4]
    # The same forecast whatever the format.
    csv_values = pd.read_csv(dest)["value"].tolist()
    assert [row["value"] for row in doc["forecast"]] == pytest.approx(csv_values, rel=1e-12)
    # One vocabulary: -o is --out and --json is --format json, as on the other commands.
    short = tmp_path / "short.json"
    proc = run_forecast("predict", "-m", out / "model", csv, "--json", "-o", short, "-q")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(short.read_text()) == doc


def test_predict_from_a_truncated_file_matches_the_test_forecast(trained: Trained,
                                                                tmp_path: Path) -> None:
    # Cut the data at the last test window's origin: `predict` must give that window's forecast.
    csv, out, _ = trained
    table = pd.read_csv(out / "test_forecasts.csv")
    last_origin = table["origin"].iloc[-1]
    data = pd.read_csv(csv)
    cut = tmp_path / "cut.csv"
    data[data["timestamp"] <= last_origin].to_csv(cut, index=False)
    proc = run_forecast("predict", "-m", out / "model", cut)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(pd.io.common.StringIO(proc.stdout))["value"].to_numpy()
    want = table[table["origin"] == last_origin]["model"].to_numpy()
    assert got == pytest.approx(want, rel=1e-5)
    assert "before the end of the training data" in proc.stderr  # it says it is back-testing


def test_quiet_prints_nothing(tiny_run: tuple[Path, Path, subprocess.CompletedProcess[str]]
                              ) -> None:
    # The shared tiny run is a real `forecast train --quiet` (conftest).
    _, out, proc = tiny_run
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (out / "metrics.json").is_file()


def test_json_prints_metrics_json_and_nothing_else(trained: Trained) -> None:
    _, out, proc = trained
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # --json: metrics.json on stdout, nothing else
    assert report == json.loads((out / "metrics.json").read_text())


def test_config_file_and_command_line(trained: Trained) -> None:
    # The module's training took lookback and lstm_units from its --config file only, and
    # horizon from the command line over the file's.
    _, out, proc = trained
    assert proc.returncode == 0, proc.stderr
    network = json.loads((out / "model" / "config.json").read_text())["network"]
    assert (network["lookback"], network["horizon"], network["lstm_units"]) == (
        int(TINY["--lookback"]), int(TINY["--horizon"]), int(TINY["--lstm-units"]))
    assert network["horizon"] != CONFIG_HORIZON
    defaults = Settings()  # the file's values are not the defaults: it was read
    assert defaults.lookback != network["lookback"]
    assert defaults.lstm_units != network["lstm_units"]


ERRORS = [
    (["train", "{tmp}/missing.csv"], 66, "Error: {tmp}/missing.csv: file not found."),
    (["train", "{tmp}/bad.csv"], 65, "Error: {tmp}/bad.csv, column 'value': cell(s) that are "
                                     "not numbers: line 3: 'oops'"),
    (["train", "{tmp}/short.csv", "--lookback", "24", "--horizon", "12"], 65,
     "Error: {tmp}/short.csv: series too short: need ≥"),
    (["train", "{tmp}/short.csv", "--train-frac", "0.9"], 2,
     "Error: `train_frac` + `val_frac` + `test_frac` must be 1."),
    (["train", "{tmp}/short.csv", "--lookback", "0"], 2, "Invalid value for '--lookback'"),
    (["train", "{tmp}/long.csv", "-o", "{tmp}/blocker/out"], 73,
     "Error: {tmp}/blocker/out: cannot create directory"),
    (["predict", "{tmp}/short.csv", "-m", "{tmp}/nomodel"], 66, "model bundle not found"),
    (["predict", "{tmp}/short.csv"], 2, "Missing option '--model'"),
]


def _error_files(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("timestamp,value\n2024-01-01,1\n2024-01-02,oops\n")
    write_series(tmp_path / "short.csv", range(30))
    write_series(tmp_path / "long.csv", range(300))
    (tmp_path / "blocker").write_text("a file where a directory should be")


@pytest.mark.parametrize(("args", "code", "message"), ERRORS)
def test_errors_have_documented_exit_codes(tmp_path: Path, args: list[str], code: int,
                                           message: str) -> None:
    # In this process (each refusal comes before any fit); the real command is held to the
    # same bytes by the test below.
    _error_files(tmp_path)
    proc = run_cli(*[a.format(tmp=tmp_path) for a in args], "-q")
    assert proc.returncode == code, proc.stderr
    assert message.format(tmp=tmp_path) in proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_the_real_command_refuses_with_the_same_bytes(tmp_path: Path) -> None:
    """A library error (exit 65, from train) and a usage error Typer reports (exit 2), in a
    subprocess: the same exit code, stdout and stderr as ``run_cli`` gives."""
    _error_files(tmp_path)
    for args, code, _ in (ERRORS[1], ERRORS[4]):
        argv = [*[a.format(tmp=tmp_path) for a in args], "-q"]
        real = run_forecast(*argv)
        assert real.returncode == code
        here = run_cli(*argv)
        assert (here.returncode, here.stdout, here.stderr) == (
            real.returncode, real.stdout, real.stderr)


def test_predict_refuses_a_tampered_bundle_and_other_frequencies(trained: Trained,
                                                                  tmp_path: Path) -> None:
    csv, out, _ = trained
    bundle = tmp_path / "model"
    shutil.copytree(out / "model", bundle)
    weights = bundle / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    proc = run_forecast("predict", "-m", bundle, csv)
    assert proc.returncode == 65
    assert "model.weights.h5 does not match its checksum" in proc.stderr
    hourly = write_series(tmp_path / "hourly.csv", seasonal_series(50), freq="h")
    proc = run_forecast("predict", "-m", out / "model", hourly)
    assert proc.returncode == 65
    assert "frequency 'h' differs from the model's 'D'" in proc.stderr


HELP_PROBE = """
import sys
from forecast_cli.cli.app import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
heavy = [m for m in ("tensorflow", "keras", "sklearn", "dask", "distributed") if m in sys.modules]
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["predict", "--help"],
                                  ["--version"]])
def test_help_never_imports_tensorflow(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", HELP_PROBE, *args], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("HEAVY:"), proc.stderr


def test_defaults_beat_seasonal_naive_on_the_sample_data(defaults_run: Trained) -> None:
    # The README's promise: with no tuning, the LSTM beats seasonal naive on MASE.
    _, out, proc = defaults_run
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "metrics.json").read_text())
    assert report["settings"]["horizon"] == SAMPLE_HORIZON  # nothing was tuned: the defaults
    assert len(report["ensemble"]["members"]) == 4  # 2 seeds × lookbacks 1 and 0.5
    assert report["bundle_fit"]["fit"] == "refit"
    assert report["test"]["model"]["mase"] < report["test"]["seasonal_naive"]["mase"]
