"""What forecast writes (issue 13): the format by the extension, ``-o -`` as stdout, plots as
PNG/SVG/PDF, timestamps in the data's zone, values to the data's precision, JSON with
``schema_version``.

One tiny real training on hourly Europe/Berlin data kept to 2 decimals, ending just before the
clocks go forward on 2024-03-31 (02:00 local does not exist); everything else runs ``predict``
(or ``evaluate``, ``validate``), in fresh processes where the process is the point (stdout
for ``-o -``, a pipe or a terminal, the forecast every other test compares with) and in this
process otherwise (``cli_helpers.run_cli``), or the writers in-process.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import ConfigError
from forecast_cli.io.forecast_output import iso_text, output_format
from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast, seasonal_series

ZONE = "Europe/Berlin"
N_ROWS = 160
LAST_LOCAL = "2024-03-31 01:00"  # +01:00; the next hour is 03:00 +02:00


def _berlin(path: Path, end: str, rows: int = N_ROWS) -> Path:
    """Hourly naive local times (no 02:00 on 2024-03-31), a daily sine to 2 decimals."""
    local = pd.date_range(end=pd.Timestamp(end, tz=ZONE), periods=rows, freq="h")
    pd.DataFrame({"timestamp": local.tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S"),
                  "value": seasonal_series(rows, period=24).round(2)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def berlin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the training CSV, its run directory, its bundle) trained with --tz Europe/Berlin."""
    work = tmp_path_factory.mktemp("berlin")
    data = _berlin(work / "berlin.csv", LAST_LOCAL)
    proc = run_cli("train", data, "--tz", ZONE, *TINY_ARGS, "-o", work / "run", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return data, work / "run", work / "run" / "model"


@pytest.fixture(scope="module")
def default_csv(berlin: tuple[Path, Path, Path]) -> str:
    """``predict`` of the training data to stdout, every option at its default."""
    data, _, bundle = berlin
    proc = run_forecast("predict", "-m", bundle, data)
    assert (proc.returncode, proc.stderr) == (0, "")
    return proc.stdout


@pytest.fixture(scope="module")
def later_json(berlin: tuple[Path, Path, Path],
               tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``predict --json`` of data ending 2024-03-31 23:00 local (summer time)."""
    _, _, bundle = berlin
    later = _berlin(tmp_path_factory.mktemp("later") / "later.csv", "2024-03-31 23:00",
                    N_ROWS + 22)
    proc = run_forecast("predict", "-m", bundle, later, "--json")
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def _decimals(cell: str) -> int:
    return len(cell.split(".")[1]) if "." in cell and "e" not in cell else 0


def _values(csv_text: str, skip: int) -> list[str]:
    """Every value cell of a CSV (the first ``skip`` columns left out), inf aside."""
    rows = [line.split(",")[skip:] for line in csv_text.splitlines()[1:]]
    return [c for row in rows for c in row if c not in ("inf", "-inf")]


def test_forecast_starts_one_local_hour_after_the_last_row_across_the_clock_change(
        berlin: tuple[Path, Path, Path], default_csv: str, later_json: dict[str, Any],
        tmp_path: Path) -> None:
    data, _, bundle = berlin
    out = tmp_path / "next.csv"
    proc = run_forecast("predict", "-m", bundle, data, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == default_csv
    stamps = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert stamps == ["2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00",
                      "2024-03-31T05:00:00+02:00", "2024-03-31T06:00:00+02:00"]
    assert "after 2024-03-31T01:00:00+01:00 written to" in proc.stderr
    # data ending 23:00 local (summer time): the forecast starts at midnight, not 22:00
    assert (later_json["origin"], later_json["tz"]) == ("2024-03-31T23:00:00+02:00", ZONE)
    assert later_json["forecast"][0]["timestamp"] == "2024-04-01T00:00:00+02:00"


def test_training_outputs_are_in_the_zone_too(berlin: tuple[Path, Path, Path]) -> None:
    _, run, _ = berlin
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"]["last"] == "2024-03-31T01:00:00+01:00"
    table = pd.read_csv(run / "test_forecasts.csv", dtype=str)
    assert table["timestamp"].iloc[-1] == "2024-03-31T01:00:00+01:00"
    assert table["origin"].str.fullmatch(r"2024-03-\d\dT\d\d:00:00\+0[12]:00").all()


def test_values_have_the_datas_decimals_plus_three(berlin: tuple[Path, Path, Path],
                                                   default_csv: str) -> None:
    _, run, _ = berlin
    cells = _values(default_csv, 2)
    assert cells
    assert max(map(_decimals, cells)) <= 5  # the data has 2
    assert json.loads((run / "metrics.json").read_text())["settings"]["precision"] == 5
    tested = _values((run / "test_forecasts.csv").read_text(), 4)
    assert max(map(_decimals, tested)) <= 5
    # Keras' float32 losses as float32: no 0.0010000000474974513
    history = (run / "history.csv").read_text().splitlines()
    assert all(len(re.sub(r"[^0-9]", "", c).lstrip("0")) <= 9 for line in history[1:]
               for c in line.split(","))


def test_precision_option_chooses_the_decimals(berlin: tuple[Path, Path, Path]) -> None:
    data, _, bundle = berlin
    proc = run_cli("predict", "-m", bundle, data, "--precision", "1")
    assert proc.returncode == 0, proc.stderr
    assert max(map(_decimals, _values(proc.stdout, 2))) == 1
    proc = run_cli("predict", "-m", bundle, data, "--precision", "16")
    assert proc.returncode == 2
    assert "--precision" in proc.stderr


def test_parquet_holds_what_the_csv_says(berlin: tuple[Path, Path, Path], default_csv: str,
                                         tmp_path: Path) -> None:
    data, _, bundle = berlin
    proc = run_cli("predict", "-m", bundle, data, "-o", tmp_path / "f.parquet", "-q")
    assert (proc.returncode, proc.stderr) == (0, "")
    got = pd.read_parquet(tmp_path / "f.parquet")
    want = pd.read_csv(StringIO(default_csv))
    assert str(got["timestamp"].dt.tz) == ZONE
    assert list(got["timestamp"].dt.tz_convert("UTC")) == list(
        pd.to_datetime(want["timestamp"], utc=True))
    pd.testing.assert_frame_equal(got.drop(columns="timestamp"),
                                  want.drop(columns="timestamp"))


def test_an_unknown_extension_is_refused_before_any_work(berlin: tuple[Path, Path, Path],
                                                         tmp_path: Path) -> None:
    data, _, bundle = berlin
    proc = run_cli("predict", "-m", bundle, data, "-o", tmp_path / "next.txt")
    assert proc.returncode == 2
    assert "'.txt'" in proc.stderr
    assert ".csv, .json or .parquet" in proc.stderr
    proc = run_cli("predict", "-m", bundle, data, "--json", "-o", tmp_path / "next.csv")
    assert proc.returncode == 2
    assert "is CSV by its extension" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_dash_is_standard_output(berlin: tuple[Path, Path, Path], default_csv: str,
                                 tmp_path: Path) -> None:
    data, _, bundle = berlin
    dash = run_forecast("predict", "-m", bundle, data, "-o", "-", cwd=tmp_path)
    assert (dash.returncode, dash.stderr) == (0, "")
    assert dash.stdout == default_csv
    assert dash.stdout.startswith("timestamp,step,value,")
    assert list(tmp_path.iterdir()) == []  # no file named "-"


@pytest.mark.parametrize(("name", "start"), [("f.svg", b"<?xml"), ("f.pdf", b"%PDF")])
def test_plots_follow_the_extension(berlin: tuple[Path, Path, Path], tmp_path: Path,
                                    name: str, start: bytes) -> None:
    data, _, bundle = berlin
    proc = run_cli("predict", "-m", bundle, data, "--plot", tmp_path / name, "-q")
    assert proc.returncode == 0, proc.stderr
    figure = (tmp_path / name).read_bytes()
    assert figure.startswith(start)
    assert len(figure) > 10_000
    if name.endswith(".svg"):
        assert b"<svg" in figure[:1000]


def test_a_bad_plot_or_output_dir_is_refused_before_training(tmp_path: Path) -> None:
    data = _berlin(tmp_path / "d.csv", LAST_LOCAL)
    proc = run_cli("train", data, "--plot", tmp_path / "fig.gif", "-o", tmp_path / "run")
    assert proc.returncode == 2
    assert "`--plot`" in proc.stderr
    assert "'.gif'" in proc.stderr
    proc = run_cli("train", data, "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2
    assert "`output_dir` must be a directory" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_utc_data_is_marked_z_and_naive_data_stays_naive(
        berlin: tuple[Path, Path, Path]) -> None:
    """The writers in-process: a bundle of data whose file carried offsets has tz "UTC"."""
    from forecast_cli.pipeline.forecasting import predict, render_forecast

    data, _, bundle = berlin
    fc = predict(bundle, data)
    as_utc = replace(fc, bundle=replace(fc.bundle, schema=replace(fc.bundle.schema, tz="UTC")))
    rows = pd.read_csv(StringIO(render_forecast(as_utc, "csv")), dtype=str)
    assert list(rows["timestamp"]) == ["2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z",
                                       "2024-03-31T03:00:00Z", "2024-03-31T04:00:00Z"]
    assert json.loads(render_forecast(as_utc, "json"))["origin"] == "2024-03-31T00:00:00Z"
    times = np.array(["2024-10-27T00:00", "2024-10-27T01:00"], dtype="datetime64[s]")
    assert list(iso_text(times, None)) == ["2024-10-27T00:00:00", "2024-10-27T01:00:00"]
    assert list(iso_text(times, ZONE)) == ["2024-10-27T02:00:00+02:00",
                                           "2024-10-27T02:00:00+01:00"]  # the hour repeats


def test_every_json_document_has_a_schema_version(berlin: tuple[Path, Path, Path],
                                                  later_json: dict[str, Any],
                                                  tmp_path: Path) -> None:
    """predict, metrics.json, validate, history and batch here; backtest and evaluate in
    test_backtest_panel.py and test_intervals_cli.py, which run them anyway."""
    from forecast_cli.ops import history
    from forecast_cli.ops.batch import BatchResult, JobOutcome

    data, run, _ = berlin
    docs = [json.loads((run / "metrics.json").read_text()), later_json]
    proc = run_cli("validate", data, "--tz", ZONE, "--json")
    assert proc.returncode == 0, proc.stderr
    docs.append(json.loads(proc.stdout))
    with history.opened(tmp_path) as h:
        h.finish_run(h.start_run("job", "b.toml"), {"status": "ok", "retrained": 1,
                                                     "promoted": 0})
    shown = history.report(tmp_path)
    (row,) = shown["runs"]
    assert (row["retrained"], row["promoted"], row["forecast_changed"]) == (True, False, None)
    outcome = JobOutcome("job", "ok", record={"retrained": 1, "promoted": 1})
    batch = BatchResult(tmp_path / "b.toml", tmp_path, [outcome]).to_json()
    assert batch["jobs"][0]["retrained"] is True
    assert [d["schema_version"] for d in [*docs, shown, batch]] == [1] * 5
    assert datetime.fromisoformat(row["started_at"]).tzinfo == UTC


def test_a_job_output_takes_the_same_formats() -> None:
    assert [output_format(Path(f"f.{e}"), what="output") for e in ("csv", "JSON", "parquet")] \
        == ["csv", "json", "parquet"]
    with pytest.raises(ConfigError, match=r"`output` out/f\.xlsx: the format follows"):
        output_format(Path("out/f.xlsx"), what="output")


def test_evaluate_precision_rounds_the_scores_it_writes(berlin: tuple[Path, Path, Path],
                                                         tmp_path: Path) -> None:
    """`evaluate --precision 2` writes every score, coverage and width to 2 places (some are
    not whole: rounded, not truncated to integers); the window count stays an int."""
    _, _, bundle = berlin
    later = _berlin(tmp_path / "later.csv", "2024-03-31 23:00", N_ROWS + 22)
    proc = run_cli("evaluate", "-m", bundle, later, "--json", "--precision", "2")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    numbers = [v for method in got["scores"].values() for v in method.values()
               if v is not None] + [v for level in got["intervals"].values()
                                    for v in level.values()]
    assert len(numbers) >= 10
    assert all(v == round(v, 2) for v in numbers)
    assert any(v != round(v) for v in numbers)
    assert isinstance(got["windows"], int)
    assert got["windows"] > 0


def test_parquet_goes_into_a_pipe_and_never_to_a_terminal(berlin: tuple[Path, Path, Path],
                                                          tmp_path: Path) -> None:
    """`-o - --format parquet` into a pipe: the bytes of `-o f.parquet`; on a terminal: exit 2
    saying why, nothing written."""
    import os
    import pty
    import subprocess
    import sys

    data, _, bundle = berlin
    assert run_cli("predict", "-m", bundle, data, "-o", tmp_path / "f.parquet",
                   "-q").returncode == 0
    argv = [sys.executable, "-m", "forecast_cli", "predict", "-m", str(bundle), str(data),
            "-o", "-", "--format", "parquet"]
    piped = subprocess.run(argv, capture_output=True, check=False, timeout=300)
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert piped.stdout == (tmp_path / "f.parquet").read_bytes()
    main, child = pty.openpty()
    try:
        tty = subprocess.run(argv, stdout=child, stderr=subprocess.PIPE, check=False,
                             timeout=300)
    finally:
        os.close(child)
    os.set_blocking(main, False)
    try:
        shown = os.read(main, 65536)
    except OSError:  # EAGAIN, or Linux's EIO: the terminal closed with nothing written
        shown = b""
    os.close(main)
    assert tty.returncode == 2
    assert b"is a terminal here" in tty.stderr
    assert b"-o next.parquet" in tty.stderr
    assert shown == b""
