"""What ``inspect`` and ``compare`` print: rich tables from the library's dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecast_cli.pipeline.bundle_info import methods
from forecast_cli.pipeline.wording import (
    METHOD_WORDS,
    date_words,
    number,
    step_word,
    value_words,
)

if TYPE_CHECKING:
    from rich.table import Table

SCORE_KEYS = (("mase", "MASE"), ("mae", "MAE"), ("rmse", "RMSE"), ("smape", "sMAPE %"))
SHOWN_SETTINGS = ("target", "features", "calendar", "scaler", "lstm_units", "lstm_layers",
                  "dense_units", "dropout", "window_norm", "epochs", "batch_size",
                  "learning_rate", "patience", "seed", "levels", "transform", "deseasonalize",
                  "combine")


def _pairs(title: str, rows: list[tuple[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in rows:
        table.add_row(key, value_words(value))
    return table


def transform_words(t: dict[str, Any]) -> str:
    """The per-series target transforms in words: "log: 1,200 of 1,428 series; …"."""
    total = t.get("series") or 0
    return "; ".join(f"{name}: {t.get(key) or 0:,} of {total:,} series" for name, key in
                     (("log", "log"), ("Box-Cox", "boxcox"), ("deseasonalised", "deseasonalized")))


def serves_words(v: dict[str, Any]) -> str:
    """"the median of 4 networks (lookback/seed 36/42, …) blended half and half with Theta;
    refit on every window" …: what ``bundle_info._serves`` says, in words."""
    if v.get("serving") == "seasonal-naive":
        return "seasonal naive (--fallback: the network lost to it on validation)"
    members = v.get("members") or []
    pairs = ", ".join(f"{lb}/{seed}" for lb, seed in members)
    what = (f"the median of {len(members)} networks (lookback/seed {pairs})" if len(members) > 1
            else f"one network (lookback/seed {pairs})")
    weight = float(v.get("theta_weight") or 0.0)
    if weight:
        what += (" blended half and half with Theta" if weight == 0.5
                 else f" blended with Theta (weight {weight:g})")
        if v.get("theta_always"):
            what += " (every series of two seasons deseasonalised)"
    fit = {"refit": "; refit on every window", "held-out": "; the held-out fit"}
    return what + fit.get(str(v.get("fit")), "")


def inspect_lines(info: dict[str, Any]) -> list[Any]:
    """The bundle's description: a table of facts, then its scores and coverage."""
    from rich.table import Table

    d, n, s = info["data"], info["network"], info["settings"]
    span = (f"{date_words(d['first'], d['freq'])} to {date_words(d['last'], d['freq'])}"
            if d.get("first") and d.get("last") else "unknown")
    checks = info["checks"]
    facts = [("bundle", info["bundle"]),
             ("data", f"{span}, one row per {step_word(d['freq'])} ({d['freq']}), "
              f"{d['series_count']} series"
              + (f" (id column {d['id_col']!r})" if d.get("id_col") else "")),
             ("columns", f"targets {', '.join(d['targets'] or [])}; inputs "
              f"{', '.join(d['inputs'] or [])}"),
             ("windows", f"lookback {n['lookback']}, horizon {n['horizon']}, season "
              f"{d.get('season')}"),
             ("network", f"{n['parameters']:,} weights"),
             *([("serves", serves_words(info["serves"]))] if info.get("serves") else []),
             *([("transform", transform_words(d["transform"]))] if d.get("transform") else []),
             ("checks", f"checksums {checks['checksums']} ({len(checks['files'])} files), "
              f"signature {checks['signature']}"),
             ("created", info.get("created_at")),
             ("versions", ", ".join(f"{k} {v}" for k, v in (info.get("versions") or {}).items()
                                    if v))]
    out: list[Any] = [_pairs("Model bundle", facts)]
    out.append(_pairs("Settings", [(k, s[k]) for k in SHOWN_SETTINGS if k in s]))
    scores = info.get("scores")
    if scores is None:
        out.append("No scores in this bundle (written before scores travelled with it).")
        return out
    table = Table(title="Test scores against the baselines", title_justify="left")
    table.add_column("method")
    for _, label in SCORE_KEYS:
        table.add_column(label, justify="right")
    test = scores["test"]
    for m in methods(test):
        row = test[m] if isinstance(test[m], dict) else {}
        table.add_row(METHOD_WORDS.get(m, m), *(number(row.get(k)) for k, _ in SCORE_KEYS))
    out.append(table)
    coverage = scores.get("intervals") or {}
    if coverage:
        out.append(_pairs("Interval coverage on the test period",
                          [(f"{lv} %", f"{number((v or {}).get('coverage'))} % "
                            f"(mean width {number((v or {}).get('mean_width'))})")
                           for lv, v in coverage.items()]))
    return out


def compare_table(result: dict[str, Any]) -> Table:
    """Rows: settings that differ, then scores; one column per run."""
    from rich.table import Table

    table = Table(title=f"{len(result['runs'])} runs: the settings that differ, and the scores")
    table.add_column("")
    for run in result["runs"]:
        table.add_column(run["path"], justify="right")
    if not result["settings"]:
        table.add_row("settings", *("same" for _ in result["runs"]))
    for key, values in result["settings"].items():
        table.add_row(key, *(value_words(v) for v in values))
    table.add_section()
    for key, values in result["scores"].items():
        table.add_row(_score_words(key), *(number(v, 4) for v in values))
    return table


def _score_words(key: str) -> str:
    """"seasonal_naive mase" → "seasonal naive MASE"; "training best_epoch" → "best epoch"."""
    head, _, metric = key.rpartition(" ")
    if head in METHOD_WORDS or metric in ("mase", "mae", "rmse"):
        return f"{METHOD_WORDS.get(head, head)} {metric.upper()}"
    return key.removeprefix("training ").replace("_", " ")
