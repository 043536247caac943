"""Issue 14, data section: the bad inputs an adversarial run found beyond docs/bad-inputs.md.

Each case writes a real file (bytes exactly as written) and runs the real CLI in a subprocess,
``validate`` (no TensorFlow, about a second) unless the case is about another command; the
values read are compared with the ones the test wrote, through the library (``load_csv``). The
catalogue with the exit codes and messages is docs/data-checks.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.errors import ConfigError
from forecast_cli.ops.jobs import load_batch
from forecast_cli.settings import build_settings
from tests.batch_helpers import write_batch
from tests.conftest import run_forecast

DAYS = pd.date_range("2024-01-01", periods=12, freq="D")
VALUES = np.round(np.linspace(-3.5, 8.25, len(DAYS)), 2)  # (12,) distinct, exact in decimal


def _rows(values: np.ndarray = VALUES) -> list[str]:
    return ["ts,value", *(f"{d:%Y-%m-%d},{float(v)!r}" for d, v in zip(DAYS, values, strict=True))]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _validate(path: Path, *args: str) -> tuple[int, str, dict[str, object] | None]:
    """Exit code, stderr and the JSON report of ``forecast validate PATH --json``."""
    proc = run_forecast("validate", path, "--json", *args)
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, proc.stderr, report


# --- duplicate names ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--target", "value,value"), "Error: `target` names 'value' more than once. Got "
                                  "'value,value'."),
    (("--target", "Value,value"), "Error: `target` and `features` name column 'value' more "
                                  "than once: 'Value', 'value'. Fix: name each column once."),
])
def test_a_column_named_twice_as_target_is_a_usage_error(tmp_path: Path, args: tuple[str, ...],
                                                         message: str) -> None:
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    proc = run_forecast("validate", path, *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


def test_a_target_repeated_as_a_feature_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match=r"^`features` must not repeat a `target` column "
                       r"\(targets are inputs already\). Got 'value' in both.$"):
        build_settings({"target": "value", "features": "load,value"})


# --- reading options: one check for the CLI, a TOML config and a batch job -----------------------

OPTIONS = {
    "sep": ("ab", "`sep` must be one character that is not a letter, digit, quote or line "
                  "break, e.g. ',', ';', '|' or tab. Got 'ab'."),
    "encoding": ("rot13", "`encoding` must be a text encoding, e.g. utf-8, latin-1, cp1252, "
                          "utf-16. Got 'rot13'."),
    "freq": ("0D", "`freq` must be a pandas frequency with a positive step, e.g. h, 15min, D, "
                   "W, MS. Got '0D'."),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_bad_reading_option_is_a_usage_error(tmp_path: Path, name: str) -> None:
    """They used to fail with exit 1 (a TypeError, a codec error, a ZeroDivisionError)."""
    value, message = OPTIONS[name]
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    proc = run_forecast("validate", path, f"--{name}", value)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: {message}"


def test_a_bad_reading_option_in_a_config_file_gives_the_same_message(tmp_path: Path) -> None:
    value, message = OPTIONS["freq"]
    path = _write(tmp_path / "d.csv", "\n".join(_rows()).encode() + b"\n")
    config = tmp_path / "c.toml"
    config.write_text(f'freq = "{value}"\n')
    proc = run_forecast("validate", path, "--config", config)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: {message}"


def test_a_bad_reading_option_in_a_batch_job_refuses_that_job(tmp_path: Path) -> None:
    jobs = {name: {"data": "d.csv", name: value} for name, (value, _) in OPTIONS.items()}
    spec = load_batch(write_batch(tmp_path / "b.toml", {**jobs, "good": {"data": "g.csv"}}))
    assert [j.name for j in spec.jobs] == ["good"]
    for name, (_, message) in OPTIONS.items():
        assert spec.invalid[name] == f"{tmp_path / 'b.toml'}: job {name!r}: {message}"


@pytest.mark.parametrize("value", ["\\t", "tab", ";", "|"])
def test_the_usual_separators_pass(value: str) -> None:
    assert build_settings({"sep": value}).sep == value


