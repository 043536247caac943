"""Track 2 of ../shared/docs/evaluation.md: ordinary business series, through the CLI.

For each series (length n, horizon H, season m), ``forecast backtest --folds K --fold-step S
--refit-every K`` fits ONE network on the first 80 % of the rows (the CLI holds the last part
of them out for early stopping and interval calibration) and forecasts the next H values at
K ≤ 20 origins S rows apart over the last 20 %, the first exactly at the split, each from the
history before it: no refitting. statsforecast's
AutoETS, AutoTheta and AutoARIMA are fitted once on the same first 80 % and applied at the
same origins with their parameters frozen (``forward``); naive and seasonal naive at the same
origins. Errors are pooled over origins × steps in original units: MAE, RMSE and
MASE = MAE / mean |y_t − y_{t−m}| over the first 80 %. The model's 80 % interval coverage too.

The series ship inside installed packages (pmdarima, statsmodels: the ``bench`` extra), load
offline, and are not copied into this repository; sources are in SERIES and the results file.
Usage::

    nice -n 10 .venv-bench/bin/python bench/track2.py --python .venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.m3 import cli_env, git_label

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
ORIGINS = 20
# Seasonal AutoARIMA at m = 48 or 52 on thousands of points takes far longer than this budget.
ARIMA_MAX_SEASON = 24
STATS = ("AutoETS", "AutoTheta", "AutoARIMA")


@dataclass(frozen=True)
class Spec:
    """One public series: loader (→ pd.Series on a DatetimeIndex), season, horizon, source."""

    name: str
    load: Callable[[], pd.Series]
    m: int
    h: int
    source: str


def _pm(name: str, start: str, freq: str) -> Callable[[], pd.Series]:
    """A pmdarima dataset (a plain array) on its documented calendar."""
    def load() -> pd.Series:
        import pmdarima.datasets as d

        y = np.asarray(getattr(d, f"load_{name}")(), dtype=float)
        y = y[: len(y) - int(np.argmax(~np.isnan(y[::-1])))]  # a trailing NaN (ausbeer)
        return pd.Series(y, index=pd.date_range(start, periods=len(y), freq=freq))
    return load


def _msft() -> pd.Series:
    """MSFT daily close on trading days, its last 10 years (2,610 weekdays), on the
    business-day grid: exchange holidays carry the previous close, as ``--fill ffill`` would
    (the CLI refuses the gaps otherwise)."""
    import pmdarima.datasets as d

    raw = d.load_msft()
    close = pd.Series(raw["Close"].to_numpy(float), index=pd.to_datetime(raw["Date"]))
    days = pd.bdate_range(end=close.index[-1], periods=2610)
    return close.reindex(pd.bdate_range(close.index[0], days[-1])).ffill().loc[days]


def _realgdp() -> pd.Series:
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    return pd.Series(data["realgdp"].to_numpy(float),
                     index=pd.date_range("1959-01-01", periods=len(data), freq="QS"))


def _co2() -> pd.Series:
    """Mauna Loa CO2, weekly; 59 missing weeks (runs up to 18) interpolated linearly."""
    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].astype(float)
    return co2.interpolate(limit_direction="both")


SERIES = {s.name: s for s in (
    Spec("airpassengers", _pm("airpassengers", "1949-01-01", "MS"), 12, 12,
         "pmdarima (R datasets AirPassengers: Box & Jenkins), monthly airline passengers"),
    Spec("wineind", _pm("wineind", "1980-01-01", "MS"), 12, 12,
         "pmdarima (R forecast::wineind), Australian wine sales, monthly"),
    Spec("ausbeer", _pm("ausbeer", "1956-01-01", "QS"), 4, 8,
         "pmdarima (R fpp::ausbeer), Australian beer production, quarterly"),
    Spec("woolyrnq", _pm("woolyrnq", "1965-01-01", "QS"), 4, 8,
         "pmdarima (R forecast::woolyrnq), Australian wool production, quarterly"),
    Spec("realgdp", _realgdp, 4, 8,
         "statsmodels macrodata (US BEA), real GDP, quarterly"),
    Spec("co2_weekly", _co2, 52, 13,
         "statsmodels co2 (NOAA Mauna Loa), weekly"),
    Spec("taylor", _pm("taylor", "2000-06-05", "30min"), 48, 48,
         "pmdarima (R forecast::taylor), half-hourly electricity demand, England & Wales"),
    Spec("msft", _msft, 5, 5,
         "pmdarima load_msft, Microsoft daily close 2007-11…2017-11, weekdays"),
)}


def origins(n: int, h: int) -> tuple[int, np.ndarray]:
    """The split (first 80 %) and up to 20 origins ``step`` rows apart, the first at it."""
    split = int(0.8 * n)
    span = n - h - split
    k = min(ORIGINS, span + 1)
    step = span // (k - 1) if k > 1 else 1
    return split, split + step * np.arange(k)


def write(y: pd.Series, path: Path) -> None:
    """A plain CSV the CLI reads: timestamp, value."""
    fmt = "%Y-%m-%d" if (y.index == y.index.normalize()).all() else "%Y-%m-%d %H:%M:%S"
    pd.DataFrame({"timestamp": y.index.strftime(fmt), "value": y.to_numpy()}).to_csv(
        path, index=False)


def cli_backtest(a: argparse.Namespace, spec: Spec, y: pd.Series, work: Path
                 ) -> dict[str, Any]:
    """``forecast backtest`` fitted once (``--refit-every`` = folds) at the split.

    Its folds end at the file's last row, ``--fold-step`` apart, so the file is cut just after
    the last origin's targets: fold 1's origin is then exactly the split, and the one network,
    trained on rows before it (its last share held out for early stopping), forecasts every
    origin from the history before it. → the JSON report and the wall seconds.
    """
    split, starts = origins(len(y), spec.h)
    step = int(starts[1] - starts[0]) if len(starts) > 1 else 1
    write(y.iloc[: starts[-1] + spec.h], work / "data.csv")
    cmd = [a.python, "-m", "forecast_cli", "backtest", str(work / "data.csv"), "--horizon",
           str(spec.h), "--season", str(spec.m), "--folds", str(len(starts)), "--fold-step",
           str(step), "--refit-every", str(len(starts)), "--json",
           *shlex.split(a.train_args)]
    t0 = time.perf_counter()
    # cwd=work: ``python -m`` puts the working directory first on sys.path.
    r = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(a.forecast_pythonpath),
                       cwd=work, check=False)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        return {"error": f"backtest exit {r.returncode}: {r.stderr[-800:]}", "seconds": seconds}
    report = json.loads(r.stdout)
    first = report["folds"][0]["train_rows"][1]
    if first != split or len(report["folds"]) != len(starts):
        raise SystemExit(f"{spec.name}: backtest origins differ from the protocol's: fold 1 at "
                         f"row {first}, not {split}")
    return {"report": report, "seconds": seconds}


def pooled(report: dict[str, Any], method: str) -> tuple[float, float]:
    """MAE and RMSE of ``method`` pooled over the folds (each fold: h points)."""
    folds = [f["scores"][method] for f in report["folds"]]
    return (float(np.mean([f["mae"] for f in folds])),
            float(np.sqrt(np.mean([f["rmse"] ** 2 for f in folds]))))


def stats_forecasts(spec: Spec, y: np.ndarray, arima: bool) -> dict[str, np.ndarray]:
    """Baselines at the same origins: method → (origins, h); models fitted once on 80 %."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    split, starts = origins(len(y), spec.h)
    h, m = spec.h, spec.m
    out: dict[str, np.ndarray] = {
        "naive": np.array([np.full(h, y[o - 1]) for o in starts]),
        "seasonal naive": np.array([y[o - m + np.arange(h) % m] for o in starts]),
    }
    models = [AutoETS(season_length=m), AutoTheta(season_length=m)]
    models += [AutoARIMA(season_length=m)] if arima else []
    for model in models:
        name = type(model).__name__
        try:
            fitted = model.fit(y[:split])
            out[name] = np.array([fitted.forward(y=y[:o], h=h)["mean"] for o in starts])
        except Exception as exc:  # a baseline that fails is reported, not fatal
            print(f"{spec.name}: {name} failed: {exc!r}", file=sys.stderr)
    return out


def run_series(a: argparse.Namespace, spec: Spec) -> dict[str, Any]:
    """Score the CLI and the baselines on one series, all on the same origins."""
    y = spec.load()
    values = y.to_numpy(float)
    split, starts = origins(len(values), spec.h)
    actual = np.array([values[o: o + spec.h] for o in starts])  # (origins, h)
    scale = float(np.mean(np.abs(values[spec.m: split] - values[: split - spec.m])))
    with tempfile.TemporaryDirectory(prefix=f"track2_{spec.name}_") as tmp:
        cli = cli_backtest(a, spec, y, Path(tmp))
    t0 = time.perf_counter()
    methods = stats_forecasts(spec, values, a.arima and spec.m <= ARIMA_MAX_SEASON)
    stats_s = time.perf_counter() - t0
    errors = {k: (float(np.mean(np.abs(f - actual))), float(np.sqrt(np.mean((f - actual) ** 2))))
              for k, f in methods.items()}
    coverage, check = None, None
    if "report" in cli:
        report = cli["report"]
        errors = {"forecast": pooled(report, "model"), **errors}
        # Protocol check: the CLI's own seasonal naive on its folds against ours.
        check = abs(pooled(report, "seasonal_naive")[0] / errors["seasonal naive"][0] - 1)
        cov = [f["intervals"]["test"].get("80", {}).get("coverage") for f in report["folds"]]
        coverage = float(np.mean(cov)) / 100 if all(c is not None for c in cov) else None
    scores = {k: {"mae": mae, "rmse": rmse, "mase": mae / scale}
              for k, (mae, rmse) in errors.items()}
    return {"series": spec.name, "source": spec.source, "n": len(values), "m": spec.m,
            "h": spec.h, "split": split, "origins": len(starts),
            "step": int(starts[1] - starts[0]) if len(starts) > 1 else 0,
            "freq": y.index.freqstr, "scores": scores, "coverage_80": coverage,
            "snaive_check": check, "error": cli.get("error", ""),
            "backtest_s": round(cli["seconds"], 1), "stats_s": round(stats_s, 1)}


def markdown(rows: list[dict[str, Any]], header: str) -> str:
    """One line per series: MASE of every method, the model's skill against seasonal naive."""
    names = ["forecast", "naive", "seasonal naive", *STATS]
    lines = [header, "", "MASE (pooled over origins × steps; scale: in-sample seasonal naive "
             "on the first 80 %). Bold: the best.", "",
             "| series | freq | n | m | H | origins | " + " | ".join(names)
             + " | forecast < snaive | cov 80 | snaive check | backtest s |",
             "|---|---|---|---|---|---|" + "---|" * len(names) + "---|---|---|---|"]
    for r in rows:
        sc = r["scores"]
        best = min(v["mase"] for v in sc.values())
        cells = [("**{:.3f}**" if sc[k]["mase"] == best else "{:.3f}").format(sc[k]["mase"])
                 if k in sc else "—" for k in names]
        beat = ("—" if "forecast" not in sc
                else "yes" if sc["forecast"]["mase"] < sc["seasonal naive"]["mase"] else "**no**")
        cov = "—" if r["coverage_80"] is None else f"{100 * r['coverage_80']:.0f} %"
        chk = "—" if r["snaive_check"] is None else f"{r['snaive_check']:.0e}"
        lines.append(f"| {r['series']} | {r['freq']} | {r['n']} | {r['m']} | {r['h']} | "
                     f"{r['origins']} | " + " | ".join(cells)
                     + f" | {beat} | {cov} | {chk} | {r['backtest_s']} |")
    lines += ["", "MAE / RMSE in original units:", "",
              "| series | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in rows:
        sc = r["scores"]
        lines.append(f"| {r['series']} | " + " | ".join(
            f"{sc[k]['mae']:.4g} / {sc[k]['rmse']:.4g}" if k in sc else "—" for k in names)
            + " |")
    lines += ["", "Sources (loaded offline from the installed packages, not copied here):", ""]
    lines += [f"- {r['series']}: {r['source']}" for r in rows]
    errors = [f"- {r['series']}: {r['error']!r}" for r in rows if r["error"]]
    return "\n".join(lines + (["", "CLI errors:", "", *errors] if errors else [])) + "\n"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", default=",".join(SERIES), help="comma-separated")
    venv = REPO / ".venv" / "bin" / "python"
    p.add_argument("--python", default=str(venv) if venv.exists() else "python",
                   help="the Python that runs forecast_cli (python -m forecast_cli)")
    p.add_argument("--forecast-pythonpath", default="",
                   help="prepended to PYTHONPATH for the CLI: another checkout's code")
    p.add_argument("--train-args", default="", help="extra `forecast train` arguments")
    p.add_argument("--no-arima", dest="arima", action="store_false")
    p.add_argument("--label", default="")
    p.add_argument("--out", type=Path, default=RESULTS / "track2.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    a.label = a.label or git_label(Path(a.forecast_pythonpath or REPO))
    started = time.perf_counter()
    rows = []
    for name in a.series.split(","):
        row = run_series(a, SERIES[name])
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("series", "error", "backtest_s", "coverage_80",
                                              "snaive_check")}
                         | {k: round(v["mase"], 3) for k, v in row["scores"].items()}),
              flush=True)
    command = "python bench/track2.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"# Track 2: public business series through the CLI (bench/track2.py)\n\n"
              f"Code: {a.label}  \nCommand: `{command}`  \n"
              f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, wall "
              f"{(time.perf_counter() - started) / 60:.1f} min on {os.cpu_count()} CPU cores "
              "shared with other sessions, under `nice -n 10`.  \nProtocol: `forecast backtest` "
              "fitted once on the first 80 % (its last 15/85 held out for early stopping and "
              "interval calibration), up to 20 origins a fixed step apart over the last 20 %, "
              "the first at the split, no refitting; statsforecast models fitted once on the "
              "first 80 % and applied with frozen parameters (`forward`); AutoARIMA only for "
              f"m ≤ {ARIMA_MAX_SEASON}. `snaive check`: the CLI's own seasonal naive on its "
              "folds matches ours (relative MAE difference) — the origins are the same.")
    a.out.write_text(markdown(rows, header), encoding="utf-8")
    a.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
