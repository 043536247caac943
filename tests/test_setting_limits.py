"""Every size and count a user can set is bounded before anything is allocated or looped over,
and NaN or infinity is never a setting (issue 14). ``--lookback 1000000000`` and ``backtest
--folds 1000000000`` used to run for hours; ``--learning-rate nan`` ended in exit 1 and
``--clipnorm nan`` silently disabled gradient clipping. Exit 2 at once, naming the setting
and the bad value, on the command line, in a TOML file and in a batch job alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast_cli.errors import ConfigError
from forecast_cli.settings import LIMITS, SETTING_NAMES, build_settings, read_config_file
from tests.batch_helpers import TINY_JOB, write_batch
from tests.cli_helpers import run_cli
from tests.conftest import run_forecast, seasonal_series, write_series

QUICK = 60  # seconds: a refusal is immediate
SEP = ("must be one character that is not a letter, digit, quote or line break, e.g. ',', "
       "';', '|' or tab.")


@pytest.mark.parametrize(("given", "message"), [
    ({"lookback": 1_000_000_000}, "`lookback` must be ≤ 100,000. Got 1,000,000,000."),
    ({"folds": 1_000_000_000}, "`folds` must be ≤ 1,000. Got 1,000,000,000."),
    ({"lstm_units": 100_000}, "`lstm_units` must be ≤ 4,096. Got 100,000."),
    ({"seed": 99_999_999_999}, "`seed` must be ≤ 4,294,967,295. Got 99,999,999,999."),
    ({"dense_units": "8," * 17 + "8"}, "`dense_units` may name at most 16 layers. Got 18."),
    ({"learning_rate": float("nan")}, "`learning_rate` must be a finite number. Got nan."),
    ({"clipnorm": float("nan")}, "`clipnorm` must be a finite number. Got nan."),
    ({"clipnorm": float("inf")}, "`clipnorm` must be a finite number. Got inf."),
    ({"train_frac": float("nan")}, "`train_frac` must be a finite number. Got nan."),
    ({"sep": "ab"}, f"`sep` {SEP} Got 'ab'."),
    ({"target": [["value"]]}, "`target` must be a list of column names. Got [['value']]."),
    ({"features": [1, 2]}, "`features` must be a list of column names. Got [1, 2]."),
    ({"output_dir": 5}, "`output_dir` must be a non-empty path. Got 5."),
    ({"levels": [80, 80]}, "`levels` must differ from each other. Got [80.0, 80.0]."),
    ({"sep": ""}, f"`sep` {SEP} Got ''."),
    ({"sep": '"'}, f"`sep` {SEP} Got '\"'."),
    ({"sep": "\n"}, f"`sep` {SEP} Got '\\n'."),
    ({"decimal": "5"}, "`decimal` cannot be '5': a digit, a line end or the quote character "
                       "would be read as part of the data."),
    ({"thousands": "1"}, "`thousands` cannot be '1': a digit, a line end or the quote "
                         "character would be read as part of the data."),
])
def test_out_of_bounds_and_non_finite_settings_are_refused(given: dict[str, object],
                                                           message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_settings(given)
    assert str(info.value) == message


def test_a_toml_file_nested_too_deeply_is_a_usage_error(tmp_path: Path) -> None:
    # tomllib recurses once per level: 5,000 levels ended in RecursionError (exit 1)
    config = tmp_path / "c.toml"
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"c\.toml: not valid TOML \(maximum recursion"):
        read_config_file(config)


def test_each_limit_itself_is_accepted() -> None:
    at_limit = {k: v for k, v in LIMITS.items()  # (time_limit, wait: batch's, not settings)
                if k in SETTING_NAMES and k not in ("dense_units", "patch_len")}
    settings = build_settings(at_limit)
    assert settings.lookback == LIMITS["lookback"]
    assert settings.seed == 2**32 - 1


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_series(tmp_path_factory.mktemp("lim") / "daily.csv", seasonal_series(120))


@pytest.mark.parametrize(("args", "line"), [
    (("train", "--lookback", "1000000000"),
     "Error: `lookback` must be ≤ 100,000. Got 1,000,000,000."),
    (("backtest", "--folds", "1000000000"),
     "Error: `folds` must be ≤ 1,000. Got 1,000,000,000."),
    (("train", "--learning-rate", "nan"),
     "Error: `learning_rate` must be a finite number. Got nan."),
    (("train", "--clipnorm", "nan"), "Error: `clipnorm` must be a finite number. Got nan."),
])
def test_the_command_line_refuses_at_once(data: Path, tmp_path: Path, args: tuple[str, ...],
                                          line: str) -> None:
    out = ("-o", tmp_path / "out") if args[0] == "train" else ()  # backtest writes nothing
    proc = run_cli(args[0], data, *args[1:], *out, timeout=QUICK)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == line
    assert not (tmp_path / "out").exists()


def test_a_toml_file_and_a_batch_job_refuse_the_same(data: Path, tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("lookback = 1000000000\n")
    proc = run_forecast("train", data, "--config", config, "-o", tmp_path / "out",
                        timeout=QUICK)
    assert proc.returncode == 2
    assert "`lookback` must be ≤ 100,000. Got 1,000,000,000." in proc.stderr
    batch = write_batch(tmp_path / "batch.toml", {"big": {"data": str(data)}},
                        {**TINY_JOB, "lookback": 1_000_000_000})
    proc = run_forecast("batch", batch, timeout=QUICK)
    assert proc.returncode == 1  # the job fails alone (docs/scheduling.md)
    assert "`lookback` must be ≤ 100,000. Got 1,000,000,000." in proc.stderr


@pytest.mark.parametrize(("toml", "message"), [
    ('strict = "false"', "`strict` must be true or false. Got 'false'."),
    ("calendar = 1", "`calendar` must be true or false. Got 1."),
    ("tz = 5", "`tz` must be a string. Got 5."),
    ("time_col = 5", "`time_col` must be a string. Got 5."),
    ("dense_units = [1.9, 2.7]", "`dense_units` must be a list of int. Got [1.9, 2.7]."),
])
def test_toml_values_of_the_wrong_type_are_refused_not_coerced(tmp_path: Path, toml: str,
                                                                message: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(toml + "\n")
    with pytest.raises(ConfigError) as info:
        build_settings({}, config)  # as --config reads it
    assert str(info.value) == message
