"""The --plot figures as a presenter needs them (issue 17), checked on the drawn figure and on
its rendered pixels: baselines beside the model, the score in each panel, titles in words,
the forecast joined to the history, shared x axes, one legend, the panels that matter.

One tiny panel of three series is trained, forecast and backtested once, in process.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast_cli.cli import plots
from forecast_cli.pipeline.wording import date_words

# series a ends 30 days before the others (a series that stopped early must stay visible)
LEVELS = {"a": 10.0, "b": 1000.0, "c": 100.0}
SMALL = {"lookback": 8, "horizon": 4, "lstm_units": 4, "epochs": 2, "batch_size": 16,
         "patience": 2, "seed": 7, "id_col": "id",
         "ensemble_seeds": 1, "ensemble_lookbacks": (1.0,), "refit": False}  # one network


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from forecast_cli.pipeline.backtest import backtest
    from forecast_cli.pipeline.forecasting import predict
    from forecast_cli.pipeline.runs import train
    from forecast_cli.settings import build_settings

    d = tmp_path_factory.mktemp("figs")
    rng = np.random.default_rng(3)
    rows = []
    for sid, level in LEVELS.items():
        n = 90 if sid == "a" else 120
        t = np.arange(n)
        values = level * (1 + 0.1 * np.sin(2 * np.pi * t / 7)) + rng.normal(0, level / 50, n)
        rows.append(pd.DataFrame({"id": sid, "day": pd.date_range("2024-01-01", periods=n),
                                  "value": values}))
    data = d / "panel.csv"
    pd.concat(rows).to_csv(data, index=False)
    trained = train(data, build_settings({**SMALL, "output_dir": d / "out"}, None))
    folds: list[tuple[int, int, Any]] = []  # what backtest's progress hook was told
    tested = backtest(data, build_settings({**SMALL, "epochs": 1, "folds": 2, "refit_every": 2},
                                           None),
                      on_fold=lambda done, total, fold: folds.append((done, total, fold)))
    return {"data": data, "train": trained, "forecast": predict(d / "out" / "model", data),
            "backtest": tested, "folds_seen": folds}


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _time_axes(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_xlabel() != "epoch"]


def _pixels(fig: Any) -> np.ndarray:
    """The figure rendered as PNG, read back: (height, width, 3) ints."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return np.asarray(Image.open(buf).convert("RGB")).astype(int)


def _has(pixels: np.ndarray, rgb: tuple[int, int, int], at_least: int = 30) -> bool:
    return int((np.abs(pixels - np.array(rgb)).max(axis=2) < 20).sum()) >= at_least


def _line(ax: Any, label: str) -> Any:
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_train_figure_draws_the_baselines_scores_and_worst_series(runs: dict[str, Any]) -> None:
    r = runs["train"]
    fig = plots.train_figure(r)
    times = _time_axes(fig)
    worst = sorted(r.per_series, key=lambda s: -r.per_series[s]["model"]["mase"])
    assert [ax.get_title(loc="left") for ax in times] == worst  # all 3, worst MASE first
    for ax, sid in zip(times, worst, strict=True):
        scores = r.per_series[sid]
        assert ax.get_title(loc="right") == (
            f"MASE: LSTM {scores['model']['mase']:.2f} · seasonal naive "
            f"{scores['seasonal_naive']['mase']:.2f}")
        lstm, actual = _line(ax, "LSTM"), _line(ax, "actual")
        assert len(lstm.get_xdata()) == 1 + 4  # the last observation, then the horizon
        assert lstm.get_xdata()[0] in list(actual.get_xdata())  # joined to the history
        assert {"naive (last value)", "seasonal naive"} <= {ln.get_label() for ln in
                                                           ax.get_lines()}
        assert ax.get_legend() is None  # one legend for the figure, above the panels
    assert len(fig.legends) == 1
    assert fig.texts[-1].get_text() == "Panels: all 3 series, largest LSTM MASE first"
    loss = next(ax for ax in fig.axes if ax.get_xlabel() == "epoch")
    assert all(float(t).is_integer() for t in loss.get_xticks())
    assert loss.get_title(loc="left").startswith(
        f"Training: stopped at epoch {len(r.history['loss'])}, best {r.best_epoch}")
    pixels = _pixels(fig)
    assert _has(pixels, (31, 119, 180))  # the LSTM's blue
    assert _has(pixels, (44, 160, 44))  # seasonal naive's green


def test_panels_share_one_x_axis_and_show_a_short_series(runs: dict[str, Any]) -> None:
    fig = plots.train_figure(runs["train"])
    times = _time_axes(fig)
    assert len({ax.get_xlim() for ax in times}) == 1
    assert all(times[0].get_shared_x_axes().joined(times[0], ax) for ax in times)
    labelled = [ax.xaxis.get_major_ticks()[0].label1.get_visible() for ax in times]
    assert labelled == [False, False, True]  # dates under the bottom panel only
    assert times[-1].get_xlabel() == "day"
    chosen = plots.train_figure(runs["train"], ("c",))
    assert [ax.get_title(loc="left") for ax in _time_axes(chosen)] == ["c"]
    assert chosen.texts[-1].get_text() == "Panels: 1 of 3 series, as asked"


def test_forecast_figure_is_joined_titled_in_words_and_by_volume(runs: dict[str, Any]) -> None:
    fc = runs["forecast"]
    fig = plots.forecast_figure(fc, runs["data"])
    times = _time_axes(fig)
    assert [ax.get_title(loc="left") for ax in times] == ["b", "c", "a"]  # by level
    title = fig._suptitle.get_text()
    assert title == f"Forecast of value: the next 4 days after {date_words(fc.origin, 'D')}"
    assert "00:00" not in title
    for ax in times:
        history, lstm = _line(ax, "history"), _line(ax, "LSTM forecast")
        assert lstm.get_xdata()[0] == history.get_xdata()[-1]
        assert lstm.get_ydata()[0] == history.get_ydata()[-1]
    # series a stopped 30 days early: its panel spans the same dates as the others
    assert len({ax.get_xlim() for ax in times}) == 1


def test_backtest_figure_shows_fold_intervals_and_scores(runs: dict[str, Any]) -> None:
    r = runs["backtest"]
    fig = plots.backtest_figure(r)
    ax = _time_axes(fig)[0]
    i = list(r.layout.ids).index(ax.get_title(loc="left"))
    bands = [c for c in ax.collections if str(c.get_label()).endswith("% interval")]
    assert len(bands) == len(r.folds) * 2  # two levels per fold
    notes = [t.get_text() for t in ax.texts]
    for fold in r.folds:
        s = fold.series_scores[i]
        assert (f"LSTM {s['model']['mase']:.2f}\ns-naive {s['seasonal_naive']['mase']:.2f}"
                in notes)
    assert "forecast backtest:" not in fig._suptitle.get_text()


def test_plot_files_are_written(runs: dict[str, Any], tmp_path: Path) -> None:
    path = plots.plot_train(runs["train"], tmp_path / "t.svg")
    assert path.read_text().lstrip().startswith("<?xml")


def test_series_asked_for_but_absent_are_said_not_fatal(runs: dict[str, Any]) -> None:
    fig = plots.train_figure(runs["train"], ("zz",))
    assert len(_time_axes(fig)) == 3
    assert fig.texts[-1].get_text() == (
        "Panels: all 3 series, largest LSTM MASE first (none of zz is in the data)")
    fig = plots.train_figure(runs["train"], ("b", "zz"))
    assert fig.texts[-1].get_text() == "Panels: 1 of 3 series, as asked; not in the data: zz"


def test_backtest_tells_its_progress_hook_each_fold(runs: dict[str, Any]) -> None:
    seen = runs["folds_seen"]
    assert [(done, total) for done, total, _ in seen] == [(1, 2), (2, 2)]
    assert [fold for _, _, fold in seen] == runs["backtest"].folds
