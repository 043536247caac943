"""The HTML of ``forecast report``: one page, inline CSS, images as data URIs, no script.

Every string from the run (file and series names, settings, warnings) passes through
``html.escape``; numbers are formatted by ``wording.number``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from forecast_cli.pipeline.wording import METHOD_WORDS, number, value_words


@dataclass
class Page:
    """What the page shows, every value as read from the run (``report_html`` renders it)."""

    title: str
    headline: str
    subtitle: str
    scores: list[tuple[str, dict[str, Any]]]  # (method, {metric: value})
    coverage: list[tuple[str, Any, Any]]  # (level, coverage %, mean width)
    figures: list[tuple[str, str]]  # (caption, data URI)
    series: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # worst first
    settings: list[tuple[str, Any]] = field(default_factory=list)
    training: list[tuple[str, Any]] = field(default_factory=list)
    backtest: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # overall scores
    backtest_figure: tuple[str, str] | None = None  # (caption, data URI)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#1d2330;background:#fff;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;
border-bottom:1px solid #d8dde6;padding-bottom:.2rem}
.sub{color:#566074;margin:0 0 1rem}
.headline{font-size:1.25rem;background:#eef4fb;border-left:6px solid #1f77b4;
padding:.8rem 1rem;margin:1rem 0}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e3e7ee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f7fa}
tr.model td{font-weight:600}figure{margin:1rem 0}figure img{max-width:100%;height:auto}
figcaption{color:#566074;font-size:.9rem}.settings td{text-align:left;font-family:monospace}
"""
METRICS = (("mase", "MASE"), ("mae", "MAE"), ("rmse", "RMSE"), ("mape", "MAPE %"),
           ("smape", "sMAPE %"))


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _scores(scores: list[tuple[str, dict[str, Any]]]) -> str:
    head = "".join(f"<th>{label}</th>" for _, label in METRICS)
    rows = "".join(
        f'<tr class="{_e(m)}"><td>{_e(METHOD_WORDS.get(m, m))}</td>'
        + "".join(f"<td>{_e(number(s.get(k) if isinstance(s, dict) else None))}</td>"
                  for k, _ in METRICS) + "</tr>"
        for m, s in scores)
    return f"<table><tr><th>method</th>{head}</tr>{rows}</table>"


def _coverage(page: Page) -> str:
    if not page.coverage:
        return "<p>No prediction intervals were computed.</p>"
    rows = "".join(f"<tr><td>{_e(level)} %</td><td>{_e(number(cov))} %</td>"
                   f"<td>{_e(number(width))}</td></tr>" for level, cov, width in page.coverage)
    return ("<p>How often the test period's actual values fell inside each interval (a good "
            "interval's coverage is close to its level).</p><table><tr><th>interval</th>"
            f"<th>coverage</th><th>mean width</th></tr>{rows}</table>")


def _series(page: Page) -> str:
    if not page.series:
        return ""
    rows = "".join(
        f"<tr><td>{_e(sid)}</td>"
        + "".join(f"<td>{_e(number(((s or {}).get(m) or {}).get('mase')))}</td>"
                  for m in ("model", "seasonal_naive", "naive"))
        + f"<td>{_e(number(((s or {}).get('model') or {}).get('mae')))}</td></tr>"
        for sid, s in page.series)
    return (f"<h2>Series, worst first ({len(page.series)})</h2><table><tr><th>series</th>"
            "<th>LSTM MASE</th><th>seasonal naive MASE</th><th>naive MASE</th>"
            f"<th>LSTM MAE</th></tr>{rows}</table>")


def _backtest(page: Page) -> str:
    if not page.backtest:
        return ""
    figure = _figure(*page.backtest_figure) if page.backtest_figure else ""
    return ("<h2>Backtest</h2><p>Scores pooled over every backtest fold (rolling forecast "
            f"origins), then each fold's.</p>{_scores(page.backtest)}{figure}")


def _figure(caption: str, uri: str) -> str:
    return (f'<figure><img alt="{_e(caption)}" src="{_e(uri)}"><figcaption>{_e(caption)}'
            "</figcaption></figure>")


def _pairs(title: str, pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{_e(k.replace('_', ' '))}</td><td>{_e(value_words(v))}</td></tr>"
                   for k, v in pairs)
    return f'<h2>{_e(title)}</h2><table class="settings">{rows}</table>' if pairs else ""


def render(page: Page) -> str:
    """The complete document."""
    figures = "".join(_figure(cap, uri) for cap, uri in page.figures)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(page.title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{_e(page.title)}</h1><p class=\"sub\">{_e(page.subtitle)}</p>"
            f"<p class=\"headline\">{_e(page.headline)}</p>"
            f"<h2>Test scores against the baselines</h2>{_scores(page.scores)}"
            f"<h2>Prediction intervals</h2>{_coverage(page)}"
            f"<h2>Forecast</h2>{figures}{_backtest(page)}{_series(page)}"
            f"{_pairs('Training', page.training)}{_pairs('Settings', page.settings)}"
            "</body></html>\n")
