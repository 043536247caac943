"""``forecast report RUN_DIR -o report.html``: one self-contained page about a training run.

The page holds the headline (the model's MASE against seasonal naive), the score table
against the baselines, interval coverage, the forecast figure (inline PNG), per-series tables
for a panel (worst first), the training summary and the settings. Nothing is fetched when it
is opened: images are data URIs, the CSS is inline. The HTML (``report_html``) escapes every
string that comes from the run. It is written atomically to a regular file the user named,
never over an input, never inside a bundle.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from forecast_cli.errors import ConfigError, DataError, InputMissingError
from forecast_cli.io import atomic
from forecast_cli.pipeline.bundle_info import methods
from forecast_cli.pipeline.report_html import Page, render
from forecast_cli.pipeline.run_view import RunView, read_run
from forecast_cli.pipeline.wording import date_words, headline, mase_note, step_word

PANEL_SHOWN = 4  # series drawn by default: the worst by the LSTM's MASE


def ranked_series(metrics: dict[str, Any]) -> list[str]:
    """A panel's series, worst LSTM MASE first (a series without a score last)."""
    raw = metrics.get("series")
    per: dict[str, Any] = raw if isinstance(raw, dict) else {}

    def key(sid: str) -> float:
        value = ((per[sid] or {}).get("model") or {}).get("mase")
        return -float(value) if isinstance(value, int | float) else float("inf")

    return sorted(per, key=key)


def chosen_series(metrics: dict[str, Any], wanted: list[str] | None) -> tuple[list[str], str]:
    """The series to draw and why: those asked for (ConfigError, exit 2, naming one the run
    lacks), else the ``PANEL_SHOWN`` worst by the LSTM's MASE."""
    ranked = ranked_series(metrics)
    if wanted:
        missing = [s for s in wanted if s not in ranked]
        if missing:
            more = ", …" if len(ranked) > 5 else ""
            raise ConfigError(f"`--series`: {missing[0]!r} is not a series of this run (it has "
                              f"{len(ranked)}: {', '.join(ranked[:5])}{more}).")
        return wanted, "the series asked for"
    shown = ranked[:PANEL_SHOWN]
    return shown, (f"the {len(shown)} of {len(ranked)} series with the largest LSTM MASE"
                   if len(ranked) > len(shown) else f"all {len(ranked)} series, worst MASE first")


def build_page(run: RunView, wanted: list[str] | None = None,
               backtest: dict[str, Any] | None = None) -> Page:
    """The page of run ``run``; ``wanted``: series to draw (a panel), default the worst;
    ``backtest``: a ``forecast backtest --json`` report of the same data, when there is one."""
    m = run.metrics
    data, settings = m.get("data") or {}, m.get("settings") or {}
    test = m.get("test") or {}
    freq = data.get("freq")
    span = (f"{date_words(data['first'], freq)} to {date_words(data['last'], freq)}"
            if data.get("first") and data.get("last") else "")
    targets = settings.get("target") or ["value"]
    name = Path(str(data.get("file", "data"))).name
    subtitle = (f"{name}: {data.get('rows', '?')} rows, {span}, one row per {step_word(freq)}; "
                f"forecasting {settings.get('horizon', '?')} {step_word(freq)}s ahead from "
                f"{settings.get('lookback', '?')} past rows")
    id_col = m.get("id_col")
    shown, why = chosen_series(m, wanted) if id_col else ([], "")
    page = Page(title=f"Forecast report: {name}", headline=headline(test), subtitle=subtitle,
                scores=[(meth, test[meth]) for meth in methods(test)],
                coverage=_coverage(m), figures=[])
    page.figures.append(_forecast_figure(run, str(targets[0]), id_col, shown, why, freq))
    if backtest is not None:
        page.backtest_figure = _backtest_figure(backtest, freq)
        page.backtest = [(meth, (backtest.get("overall") or {})[meth])
                         for meth in methods(backtest.get("overall") or {})]
    if id_col:
        per = m.get("series") or {}
        page.series = [(sid, per[sid]) for sid in ranked_series(m)]
    page.settings = [(k, v) for k, v in settings.items() if k != "output_dir"]
    page.training = [(k, v) for k, v in (m.get("training") or {}).items()]
    return page


def _coverage(m: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    test = (m.get("intervals") or {}).get("test") or {}
    return [(level, (v or {}).get("coverage"), (v or {}).get("mean_width"))
            for level, v in test.items()]


def _forecast_figure(run: RunView, target: str, id_col: str | None, shown: list[str],
                     why: str, freq: str | None) -> tuple[str, str]:
    import pandas as pd

    from forecast_cli.pipeline.report_figures import forecast_figure

    table = pd.read_csv(run.forecasts, dtype={id_col: str} if id_col else None)
    title = ("The last test window: forecasts against what happened" if not id_col else
             f"The last test window of {why}")
    caption = (f"{target}: the test period's actuals (black), and the last test window's "
               f"forecasts by the LSTM and the baselines, with the prediction intervals shaded."
               + (f" Series shown: {why}." if id_col else ""))
    raw = run.metrics.get("series")
    per: dict[str, Any] = raw if isinstance(raw, dict) else {}
    notes: dict[str | None, str] = ({sid: mase_note(per.get(sid) or {}) for sid in shown}
                                    if id_col else {None: mase_note(run.metrics.get("test") or {})})
    image = forecast_figure(table, target, id_col, shown, title, step_word(freq), notes)
    return caption, "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def _backtest_figure(bt: dict[str, Any], freq: str | None) -> tuple[str, str]:
    from forecast_cli.pipeline.report_figures import backtest_figure

    folds = [(date_words(f["first_target"], freq) if f.get("first_target") else
              f"fold {f.get('fold', i + 1)}", f.get("scores") or {})
             for i, f in enumerate(bt.get("folds") or []) if isinstance(f, dict)]
    title = f"Backtest: {len(folds)} forecast origins, each scored on the following horizon"
    caption = ("The MASE of each backtest fold (a network refit before each origin, scored on "
               "the rows after it): a model that wins on average but loses at some origins "
               "shows it here.")
    image = backtest_figure(folds, title)
    return caption, "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def read_backtest(path: Path) -> dict[str, Any]:
    """A ``forecast backtest --json`` report (DataError, exit 65, unless it is one)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputMissingError(f"{path}: backtest report not found.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: is not JSON ({str(exc)[:200]}).") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("folds"), list):
        raise DataError(f"{path}: is not a `forecast backtest --json` report (no folds).")
    return raw


def write_report(run_dir: Path, out: Path, wanted: list[str] | None = None,
                 backtest: Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (atomically; OutputError, exit 73, when
    ``out`` is not a regular file one may write, is one of the run's files or in a bundle).
    ``backtest``: a ``forecast backtest --json`` file to add (its per-fold figure, scores)."""
    run = read_run(run_dir)
    inputs = (run.root / "metrics.json", run.forecasts, run.history,
              *((Path(backtest),) if backtest else ()))
    atomic.check_output(Path(out), inputs)
    bt = read_backtest(backtest) if backtest is not None else None
    atomic.write_text(Path(out), render(build_page(run, wanted, bt)))
    return Path(out)
