"""A repeated list option accumulates, exactly as its comma-separated form (issue 13):
``--target a --target b`` is ``--target a,b``, never b alone. A real CSV; each run stops at the
settings or the report, before any training, so most run the CLI in this process
(``cli_helpers.run_cli``) and the last one as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import run_forecast


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    n = 60
    path = tmp_path_factory.mktemp("repeat") / "abc.csv"
    pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="D"),
                  "a": np.arange(n, dtype=float), "b": np.arange(n) % 7,
                  "c": np.arange(n) % 5}).to_csv(path, index=False)
    return path


def test_validate_checks_every_repeated_target(three: Path) -> None:
    proc = run_cli("validate", three, "--target", "a", "--target", "b", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["value_columns"] == ["a", "b"]


@pytest.mark.parametrize(("command", "args", "said"), [
    ("train", ("--target", "a", "--target", "b,a"), "`target` names 'a' more than once. "
                                                    "Got 'a,b,a'."),
    ("backtest", ("--target", "a", "--features", "b", "--features", "b"),
     "`features` names 'b' more than once. Got 'b,b'."),
    ("train", ("--dense-units", "4", "--dense-units", "4.5"),
     "`dense_units` must be a list of int. Got '4,4.5'."),
])
def test_train_and_backtest_keep_every_repeated_value(three: Path, command: str,
                                                      args: tuple[str, ...], said: str,
                                                      tmp_path: Path) -> None:
    proc = run_cli(command, three, *args, "-q", *(["-o", tmp_path / "o"]
                                                       if command == "train" else []))
    assert (proc.returncode, proc.stderr.strip()) == (2, f"Error: {said}")
    assert not (tmp_path / "o").exists()


def test_train_takes_out_as_predict_does(three: Path) -> None:
    """One vocabulary: --out (and -o) is train's --output-dir too; '-' is refused for a
    directory, which shows the flag reached the setting."""
    proc = run_forecast("train", three, "--out", "-", "-q")
    assert (proc.returncode, proc.stderr.strip()) == (
        2, "Error: `output_dir` must be a directory (the bundle, metrics and forecasts go "
           "there); standard output cannot hold them. Got '-'.")
