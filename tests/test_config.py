"""Settings: defaults ← TOML file ← command line, with messages that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast_cli.errors import ConfigError, InputMissingError
from forecast_cli.settings import Settings, build_settings


def test_command_line_wins_over_file_over_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text('lookback = 48\nhorizon = 12\ntarget = ["a", "b"]\ndense_units = [16, 8]\n')
    s = build_settings({"horizon": 6, "epochs": None}, cfg)
    assert s.lookback == 48  # from the file
    assert s.horizon == 6  # the command line wins
    assert s.epochs == Settings().epochs  # None on the command line means "not given"
    assert s.target == ("a", "b")
    assert s.dense_units == (16, 8)


def test_comma_lists_from_the_command_line() -> None:
    s = build_settings({"target": "a, b", "dense_units": "32,16"})
    assert s.target == ("a", "b")
    assert s.dense_units == (32, 16)


@pytest.mark.parametrize(("override", "message"), [
    ({"lookback": 0}, "`lookback` must be ≥ 1. Got 0."),
    ({"dropout": 1.5}, "`dropout` must be between 0.0 and 0.95. Got 1.5."),
    ({"optimizer": "sgd"}, "`optimizer` must be one of adam, rmsprop. Got 'sgd'."),
    ({"train_frac": 0.8}, "`train_frac` + `val_frac` + `test_frac` must be 1. Got 0.8 + 0.15 "
                          "+ 0.15 = 1.1."),
    ({"epochs": "ten"}, "`epochs` must be a int. Got 'ten'."),
])
def test_bad_values_are_named_with_the_value(override: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_settings(override)
    assert str(err.value) == message


def test_unknown_setting_in_file_suggests_the_right_name(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("lookbak = 3\n")
    with pytest.raises(ConfigError) as err:
        build_settings({}, cfg)
    assert str(err.value) == f"{cfg}: unknown setting `lookbak`. Did you mean `lookback`?"


def test_missing_and_broken_config_files(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="config file not found"):
        build_settings({}, tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("lookback = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        build_settings({}, bad)
