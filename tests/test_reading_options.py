"""The reading options, declared once (``cli.options.READING``), offered and applied by every
command that reads data. The data: one daily series written twice, as a plain CSV and as a
European export (``;`` between fields, decimal commas); read with ``--decimal ,`` the export
must give exactly what the plain file gives, and the numbers derived from the series itself."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import TINY_ARGS, run_forecast, seasonal_series, write_series

N_ROWS, N_TRAINED = 200, 160
VALUES = seasonal_series(N_ROWS)
READERS = ("validate", "train", "predict", "backtest", "evaluate")
WIDE = {"COLUMNS": "250"}  # rich wraps help and errors to the terminal: keep lines whole


def _european(plain: Path, path: Path) -> Path:
    pd.read_csv(plain).to_csv(path, sep=";", decimal=",", index=False)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """plain / euro: all rows; plain_trained / euro_trained: the first N_TRAINED rows."""
    tmp = tmp_path_factory.mktemp("reading")
    plain = write_series(tmp / "plain.csv", VALUES)
    trained = write_series(tmp / "plain_trained.csv", VALUES[:N_TRAINED])
    return {"plain": plain, "plain_trained": trained,
            "euro": _european(plain, tmp / "euro.csv"),
            "euro_trained": _european(trained, tmp / "euro_trained.csv")}


@pytest.fixture(scope="module")
def euro_run(files: dict[str, Path]) -> Path:
    """A model trained on the European export of the first N_TRAINED rows (--decimal ,)."""
    out = files["euro"].parent / "run"
    # no target transform: the scaler's numbers are then the export's values, checked below
    proc = run_cli("train", files["euro_trained"], "--decimal", ",", "-o", out, "-q",
                   *TINY_ARGS, "--transform", "none", "--deseasonalize", "none")
    assert proc.returncode == 0, proc.stderr
    return out


def _json(proc: Any) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_validate_reads_the_export_as_the_plain_file(files: dict[str, Path]) -> None:
    refused = run_cli("validate", files["euro"], "-q")
    assert refused.returncode == 65
    assert "Fix: these look like decimal commas: pass --decimal ','" in refused.stderr
    euro = _json(run_cli("validate", files["euro"], "--decimal", ",", "--json"))
    plain = _json(run_forecast("validate", files["plain"], "--json"))
    same = ("usable", "rows_read", "rows", "freq", "first", "last", "series")
    assert {k: euro[k] for k in same} == {k: plain[k] for k in same}
    assert (euro["usable"], euro["rows"], euro["sep"]) == (True, N_ROWS, ";")


def test_train_fits_its_scaler_on_the_values_of_the_export(euro_run: Path) -> None:
    metrics = json.loads((euro_run / "metrics.json").read_text())
    assert metrics["settings"]["decimal"] == ","
    start, stop = metrics["split_rows"]["train"]
    rows = VALUES[start:stop]
    scaler = json.loads((euro_run / "model" / "scaler.json").read_text())
    assert scaler["kind"] == "standard"
    assert scaler["offset"] == [pytest.approx(rows.mean(), rel=1e-12)]
    assert (scaler["data_min"], scaler["data_max"]) == ([rows.min()], [rows.max()])


def test_predict_reads_new_data_in_another_format_than_the_training_data(
        euro_run: Path, files: dict[str, Path]) -> None:
    model = euro_run / "model"
    as_trained = run_cli("predict", "-m", model, files["euro"], "-q")
    assert as_trained.returncode == 0, as_trained.stderr
    refused = run_cli("predict", "-m", model, files["plain"], "-q")
    assert refused.returncode == 65  # read as the model was trained: with decimal commas
    given = run_forecast("predict", "-m", model, files["plain"], "--decimal", ".", "-q")
    assert given.returncode == 0, given.stderr
    assert given.stdout == as_trained.stdout
    assert len(given.stdout.splitlines()) == 1 + 4  # header + the horizon of TINY_ARGS


def test_evaluate_reads_new_data_in_another_format_than_the_training_data(
        euro_run: Path, files: dict[str, Path]) -> None:
    model = euro_run / "model"
    as_trained = _json(run_cli("evaluate", "-m", model, files["euro"], "--json"))
    # in this process too: evaluate loads TensorFlow, and its subprocess surface is
    # test_intervals_cli.py's
    given = _json(run_cli("evaluate", "-m", model, files["plain"], "--decimal", ".", "--json"))
    assert given.pop("data") == str(files["plain"])
    assert as_trained.pop("data") == str(files["euro"])
    assert given == as_trained
    last_trained = pd.Timestamp("2020-01-01") + pd.Timedelta(days=N_TRAINED - 1)
    assert as_trained["trained_until"] == last_trained.isoformat()


def test_backtest_scores_the_naive_forecast_of_the_export_values(files: dict[str, Path]) -> None:
    report = _json(run_cli("backtest", files["euro"], "--decimal", ",", "--folds", "1",
                           "--json", *TINY_ARGS, "--epochs", "1"))
    assert report["settings"]["decimal"] == ","
    (fold,) = report["folds"]
    origin = fold["train_rows"][1]  # the row of the first target
    naive_mae = np.abs(VALUES[origin:origin + 4] - VALUES[origin - 1]).mean()
    assert fold["scores"]["naive"]["mae"] == pytest.approx(naive_mae, rel=1e-12)


def test_predict_refuses_an_id_column_for_a_model_of_one_series(euro_run: Path,
                                                                files: dict[str, Path]) -> None:
    proc = run_cli("predict", "-m", euro_run / "model", files["euro"], "--id-col", "value")
    assert proc.returncode == 2
    assert proc.stderr == ("Error: `id_col` 'value': the model was trained on one series "
                           "(without --id-col), so it cannot read a file of many.\n")


@pytest.mark.parametrize("command", READERS)
def test_help_lists_every_reading_option(command: str) -> None:
    from forecast_cli.loadoptions import READING_NAMES

    proc = run_cli(command, "--help", env=WIDE)
    assert proc.returncode == 0, proc.stderr
    flags = {"--" + name.replace("_", "-") for name in READING_NAMES}
    assert {flag for flag in flags if flag not in proc.stdout} == set()
    assert "Data reading" in proc.stdout


def _vocabulary() -> list[tuple[str, str, tuple[str, ...]]]:
    from forecast_cli import loadoptions as lo
    from forecast_cli import settings as st

    return [("validate", "--fill", lo.FILLS), ("train", "--dedupe", lo.DEDUPES),
            ("predict", "--time-unit", lo.TIME_UNITS), ("evaluate", "--dst-gap", lo.DST_GAPS),
            ("backtest", "--fill", lo.FILLS), ("train", "--scaler", st.SCALERS),
            ("backtest", "--optimizer", st.OPTIMIZERS),
            ("train", "--window-norm", st.WINDOW_NORMS),
            ("backtest", "--train-window", st.TRAIN_WINDOWS),
            ("predict", "--engine", st.ENGINES), ("predict", "--format", st.OUTPUT_FORMATS)]


def test_the_real_command_gives_help_and_usage_errors_as_run_here(tmp_path: Path) -> None:
    """The help and usage-error tests run the CLI in this process (``run_cli``); the real
    command prints the same bytes and exits with the same code."""
    for args in (("backtest", "--help"), ("train", tmp_path / "d.csv", "--dedupe", "bogus")):
        real = run_forecast(*args, env=WIDE)
        assert real.returncode == (0 if "--help" in args else 2)
        here = run_cli(*args, env=WIDE)
        assert (here.returncode, here.stdout, here.stderr) == (
            real.returncode, real.stdout, real.stderr)


@pytest.mark.parametrize(("command", "flag", "choices"), _vocabulary())
def test_a_bad_choice_is_a_usage_error_naming_the_library_values(
        command: str, flag: str, choices: tuple[str, ...], tmp_path: Path) -> None:
    model = ["-m", tmp_path / "m"] if command in ("predict", "evaluate") else []
    proc = run_cli(command, tmp_path / "d.csv", *model, flag, "bogus", env=WIDE)
    assert proc.returncode == 2
    assert f"Invalid value for '{flag}'" in proc.stderr
    assert f"'bogus' is not one of {', '.join(map(repr, choices))}." in proc.stderr


def _choices(annotation: Any) -> tuple[str, ...] | None:
    """The values of a ``Literal`` option type (inside Annotated and ``| None``), else None."""
    kind = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    if get_origin(kind) in (Union, UnionType):
        kind = next(k for k in get_args(kind) if k is not type(None))
    return get_args(kind) if get_origin(kind) is Literal else None


def test_the_cli_choices_are_the_library_vocabulary() -> None:
    """Every choice option of every command offers exactly what the library accepts."""
    from forecast_cli import loadoptions as lo
    from forecast_cli import settings as st
    from forecast_cli.cli.app import app
    from forecast_cli.pipeline.forecasting import ENGINES

    library = {"fill": lo.FILLS, "dedupe": lo.DEDUPES, "time_unit": lo.TIME_UNITS,
               "dst_gap": lo.DST_GAPS, "scaler": st.SCALERS, "optimizer": st.OPTIMIZERS,
               "window_norm": st.WINDOW_NORMS, "train_window": st.TRAIN_WINDOWS,
               "engine": st.ENGINES, "fmt": st.OUTPUT_FORMATS, "fallback": st.FALLBACKS,
               "transform": st.TRANSFORMS, "deseasonalize": st.DESEASONALIZES,
               "combine": st.COMBINES}
    assert st.ENGINES == ENGINES  # the pipeline's own copy (until it imports settings')
    seen = set()
    for info in app.registered_commands:
        assert info.callback is not None
        for name, param in inspect.signature(info.callback).parameters.items():
            choices = _choices(param.annotation)
            if choices is not None:
                assert choices == library[name], (info.callback.__name__, name)
                seen.add(name)
    assert seen == set(library)


def test_the_reading_group_is_every_load_option() -> None:
    from forecast_cli.cli.options import READING
    from forecast_cli.loadoptions import READING_NAMES

    assert tuple(READING) == READING_NAMES


def test_given_reading_options_replace_the_recorded_ones() -> None:
    from forecast_cli.errors import ConfigError
    from forecast_cli.loadoptions import LoadOptions, given_over

    recorded = LoadOptions.from_settings({"sep": ",", "decimal": ",", "id_col": "series"})
    opts = given_over(recorded, {"decimal": ".", "freq": "D"})
    assert (opts.sep, opts.decimal, opts.freq, opts.id_col) == (",", ".", "D", "series")
    assert given_over(recorded, None) is recorded
    assert given_over(recorded, {"id_col": "store"}).id_col == "store"  # a renamed id column
    with pytest.raises(ConfigError, match="trained on one series"):
        given_over(LoadOptions(), {"id_col": "store"})
    with pytest.raises(ConfigError, match="unknown reading option `lookback`"):
        given_over(recorded, {"lookback": 3})


def test_text_options_on_a_parquet_file_are_said_to_be_ignored(
        euro_run: Path, files: dict[str, Path], tmp_path: Path) -> None:
    """--sep, --encoding, --decimal, --thousands cannot act on Parquet written by pandas (typed
    numbers): a warning once (an error with --strict); a model's own CSV options are not
    applied to a Parquet file, nor warned about."""
    table = pd.read_csv(files["plain"], parse_dates=["timestamp"])
    table.to_parquet(tmp_path / "plain.parquet", index=False)
    parquet = tmp_path / "plain.parquet"
    told = run_cli("validate", parquet, "--sep", ";", "--decimal", ",", env=WIDE)
    assert told.returncode == 0, told.stderr
    assert told.stderr.count("ignored") == 1
    assert (f"Warning: {parquet}: --sep ';', --decimal ',' ignored: the file is Parquet, and "
            "these options apply to CSV text only. Fix: leave them out") in told.stderr
    strict = run_cli("validate", parquet, "--encoding", "latin-1", "--strict", "-q")
    assert strict.returncode == 65
    assert "--encoding 'latin-1' ignored" in strict.stderr
    model = euro_run / "model"  # trained with --decimal ','
    as_csv = run_cli("predict", "-m", model, files["euro"], "-q")
    as_parquet = run_forecast("predict", "-m", model, parquet, "--strict")
    assert (as_parquet.returncode, as_parquet.stderr) == (0, "")
    assert as_parquet.stdout == as_csv.stdout
