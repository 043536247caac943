"""`forecast CMD --help` shows every default, groups the options, and gives an example.

The defaults are read from ``Settings`` here, never pasted: a default changed in the library
and not in the help (or the reverse) fails these tests.
"""

from __future__ import annotations

import re

import pytest
import typer

from forecast_cli.cli import options
from forecast_cli.cli.app import app
from forecast_cli.settings import Settings
from tests.conftest import run_forecast

COMMANDS = ("train", "predict", "validate", "backtest", "evaluate", "batch", "history")


def _params(command: str) -> list:
    return [p for p in typer.main.get_command(app).commands[command].params
            if p.name != "help"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_a_default(command: str) -> None:
    for param in _params(command):
        text = param.help or ""
        assert text.strip(), f"{command} {param.opts}: empty help cell"
        if param.param_type_name == "argument" or param.required:
            continue
        shows_own = param.show_default is not False and param.default is not None
        flag = getattr(param, "is_flag", False) and param.default is False
        in_title = param.rich_help_panel == options.READING_OVER_PANEL  # said in the title
        assert "[default:" in text or shows_own or flag or in_title, (
            f"{command} {param.opts}: no default shown")


def _help(command: str) -> str:
    proc = run_forecast(command, "--help", env={"COLUMNS": "400", "TERM": "dumb"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_train_help_shows_the_settings_defaults_grouped() -> None:
    text = _help("train")
    d = Settings()
    lines = {m.group(1): line for line in text.splitlines()
             if (m := re.search(r"│\s+(--[a-z-]+)", line))}
    expected = {"--lstm-units": str(d.lstm_units), "--epochs": str(d.epochs),
                "--learning-rate": f"{d.learning_rate:g}", "--dropout": f"{d.dropout:g}",
                "--train-frac": f"{d.train_frac:g}", "--scaler": d.scaler,
                "--fill-limit": str(d.fill_limit), "--encoding": d.encoding,
                "--level": ",".join(f"{x:g}" for x in d.levels), "--seed": str(d.seed),
                "--output-dir": str(d.output_dir), "--calendar": "off"}
    for flag, value in expected.items():
        assert f"[default: {value}]" in lines[flag], (flag, lines[flag])
    assert d.batch_size is None  # automatic: told in words
    assert "[default: 32; big panels" in lines["--batch-size"]
    assert d.patience is None  # automatic too
    assert "[default: 20; 5 from 10,000 training windows]" in lines["--patience"]
    assert text.count("[default:") >= 40
    titles = re.findall(r"╭─ (.+?) ─", text)
    order = [t for t in options.PANEL_ORDER if t]
    assert titles == ["Arguments", "Options"] + [t for t in order if t in titles]
    assert {"Data reading", "Windows and splits", "Network", "Training", "Intervals",
            "Output"} <= set(titles)


def _shown_defaults(command: str) -> int:
    """How many ``[default: …]`` the help of ``command`` must show: one per option whose help
    text ends in one (``options.with_default``), one per option showing Typer's own."""
    count = 0
    for param in _params(command):
        if param.param_type_name == "argument" or param.required:
            continue
        own = param.show_default is not False and param.default is not None
        count += "[default:" in (param.help or "") or (own and not getattr(param, "is_flag", 0))
    return count


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_at_80_columns_reads_as_written(command: str) -> None:
    """At 80 columns: the usage line says DATA (Typer 0.29 writes {DATA}), no flag shows a
    <bool> type (--help and --version included), every default is there, and the docstring's
    paragraphs are reflowed, not broken where the source wrapped them."""
    proc = run_forecast(*([command] if command else []), "--help",
                        env={"COLUMNS": "80", "TERM": "dumb"})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "{" not in text
    assert "<bool>" not in text
    assert "--help" in text
    if not command:
        return
    assert "Example: forecast " + command in text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "[OPTIONS] " + ("[JOBS_FILE]" if command == "history" else
                           "JOBS_FILE" if command == "batch" else "DATA") in usage
    assert text.count("[default:") == _shown_defaults(command)
    cmd = typer.main.get_command(app).commands[command]
    for paragraph in (cmd.help or "").split("\n\n"):
        assert "\n" not in paragraph, (command, paragraph)


def test_train_help_keeps_a_sentence_on_running_lines() -> None:
    """The train docstring's second paragraph, wrapped in the source after "… and", comes out
    as one wrapped paragraph: no line of it ends short of the width but the last."""
    text = run_forecast("train", "--help", env={"COLUMNS": "80", "TERM": "dumb"}).stdout
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Each run is kept"))
    end = lines.index("", start)
    assert end - start >= 2
    assert all(len(line) > 60 for line in lines[start:end - 1]), lines[start:end]
    assert "OUT/test_forecasts.csv and OUT/history.csv" in " ".join(lines[start:end])


def test_predict_reading_defaults_come_from_the_bundle() -> None:
    text = _help("predict")
    assert "Data reading (default: as the model's training data was read)" in text
    assert "-o, --out" in text or re.search(r"--out\s+-o", text)
    assert "--json" in text
