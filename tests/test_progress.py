"""Progress on a terminal (issue 17): the training bar's last line stays, backtest reports each
fold (its hook is checked on test_figures' real backtest), batch each job; nothing at all
when stderr is not a terminal.

A terminal is Rich's forced one (``FORCE_COLOR``), drawn into pytest's captured stderr.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from forecast_cli.cli import progress, render
from forecast_cli.ops.batch import run_batch
from tests.batch_helpers import write_batch


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)


def _plain(text: str) -> str:
    """``text`` without the terminal's control sequences (cursor moves, colours)."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def _train(on_epoch: object, epochs: int, best: int) -> None:
    """Feed ``on_epoch`` as Keras would: val_loss falls to epoch ``best`` (1-based), then rises."""
    assert callable(on_epoch)
    for e in range(epochs):
        on_epoch(e, {"loss": 1.0 / (e + 1), "val_loss": abs(e + 1 - best) / 100 + 0.01})


def test_training_leaves_a_last_line_after_early_stopping(
        terminal: None, capsys: pytest.CaptureFixture[str]) -> None:
    with render.epoch_progress(200, enabled=True) as on_epoch:
        _train(on_epoch, 86, 66)
    err = _plain(capsys.readouterr().err)
    assert err.rstrip().splitlines()[-1] == (
        "Training stopped at epoch 86 of 200 (early stopping), best 66, val_loss 0.01")


def test_no_bar_and_no_line_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with render.epoch_progress(200, enabled=True) as on_epoch:
        assert on_epoch is None
    with progress.steps("fold", 3, enabled=True) as advance:
        assert advance is None
    assert capsys.readouterr().err == ""


def test_fold_steps_show_count_and_score(terminal: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fold = types.SimpleNamespace(scores={"model": {"mase": 0.5}, "seasonal_naive": {"mase": 1.25}})
    with progress.steps("fold", 3, enabled=True) as advance:
        assert advance is not None
        for done in (1, 2, 3):
            advance(done, 3, progress.fold_note(fold))
    err = _plain(capsys.readouterr().err)
    assert "fold 3/3" in err
    assert "last fold: LSTM MASE 0.5, seasonal naive 1.25" in err


def test_batch_reports_each_job_as_it_starts(tmp_path: Path) -> None:
    """Two jobs whose data is missing fail at once: the hook still sees each start, then the end."""
    jobs = write_batch(tmp_path / "jobs.toml", {
        "a": {"data": str(tmp_path / "none-a.csv"), "model_dir": str(tmp_path / "a"),
              "output": str(tmp_path / "a.csv")},
        "b": {"data": str(tmp_path / "none-b.csv"), "model_dir": str(tmp_path / "b"),
              "output": str(tmp_path / "b.csv")}})
    seen: list[tuple[int, int, str]] = []
    result = run_batch(jobs, state_dir=tmp_path / "state",
                       on_job=lambda done, total, name: seen.append((done, total, name)))
    assert [o.status for o in result.outcomes] == ["failed", "failed"]
    assert seen == [(0, 2, "a"), (1, 2, "b"), (2, 2, "")]

