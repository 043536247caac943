"""Cold predictions and start-up (issue 6, goals 1 and 5), each against its reference.

    .venv/bin/python bench/bench_predict.py [--repeats 5]

1. Trains one bundle on the workload series (lookback 168, horizon 24, LSTM(64); 1 epoch: the
   weights' quality does not change the cost of a forecast), then alternates, REPEATS times:
   `forecast predict` in a fresh process (on the plain CSV: quick path; on the same rows with
   CRLF line ends: full path), and the minimal Keras process of bench/reference_keras.py on
   the same bundle and CSV. Medians of wall time and peak RSS.
2. Start-up: `forecast --help` and `forecast predict --help` against `python -c "import typer"`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PY, REPO, Run, median, run_child, write_results, write_workload_csv

FORECAST = [PY, "-m", "forecast_cli"]


def train_bundle(workdir: Path, csv: Path) -> Path:
    out = workdir / "run"
    run = run_child([*FORECAST, "train", csv, "--output-dir", out, "--quiet", "--lookback",
                     "168", "--horizon", "24", "--lstm-units", "64", "--batch-size", "64",
                     "--epochs", "1", "--seed", "1"])
    if run.code != 0:
        raise SystemExit(f"training the bundle failed (exit {run.code})")
    return out / "model"


def measure(cmds: dict[str, list[str | Path]], repeats: int) -> dict[str, list[Run]]:
    """Interleave the commands REPEATS times; every run must exit 0."""
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            run = run_child(cmd)
            if run.code != 0:
                raise SystemExit(f"{name} failed with exit {run.code}: {cmd}")
            runs[name].append(run)
    return runs


def table(runs: dict[str, list[Run]], reference: str) -> str:
    """Medians per process; ratios are reference / this (> 1: this one is faster)."""
    ref_wall = median([r.wall for r in runs[reference]])
    ref_cpu = median([r.cpu for r in runs[reference]])
    lines = ["| process | median wall s | runs (s) | median CPU s | median peak RSS MB | "
             "reference wall / wall | reference CPU / CPU |", "|---|---|---|---|---|---|---|"]
    for name, rs in runs.items():
        wall, cpu = median([r.wall for r in rs]), median([r.cpu for r in rs])
        lines.append(f"| {name} | {wall:.3f} | {', '.join(f'{r.wall:.2f}' for r in rs)} | "
                     f"{cpu:.2f} | {median([r.peak_mb for r in rs]):.0f} | "
                     f"{ref_wall / wall:.2f} | {ref_cpu / cpu:.2f} |")
    return "\n".join(lines)


def same_forecast(runs: dict[str, list[Run]]) -> float:
    """Max abs difference between forecast's CSV and the reference's JSON forecast."""
    header, *rows = runs["forecast predict"][0].stdout.split()
    col = header.split(",").index("value")  # the forecast (interval columns follow it)
    ours = [float(line.split(",")[col]) for line in rows]
    ref = json.loads(runs["keras load + predict"][0].stdout)["forecast"]
    return max(abs(a - b) for a, b in zip(ours, ref, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        csv = write_workload_csv(work / "hourly.csv")
        bundle = train_bundle(work, csv)
        crlf = work / "hourly_crlf.csv"  # the same rows with Windows line ends: full path
        crlf.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n"))
        cold = measure({"keras load + predict": [PY, REPO / "bench" / "reference_keras.py",
                                                 "predict", bundle, csv],
                        "forecast predict": [*FORECAST, "predict", "--model", bundle, csv],
                        "forecast predict, full path (CRLF file)":
                            [*FORECAST, "predict", "--model", bundle, crlf]},
                       args.repeats)
        diff = same_forecast(cold)
        start = measure({"python -c 'import typer'": [PY, "-c", "import typer"],
                         "forecast --help": [*FORECAST, "--help"],
                         "forecast predict --help": [*FORECAST, "predict", "--help"]},
                        args.repeats)
    body = (f"## Cold prediction, one window (lookback 168, horizon 24, LSTM(64))\n\n"
            f"{table(cold, 'keras load + predict')}\n\n"
            f"Goal: ≥ 8× faster than the reference and ≤ 150 MB peak RSS. Max abs difference "
            f"between the two forecasts (original units): {diff:.2e}.\n\n"
            "`forecast predict` reads this plain file on its quick path (numpy and ONNX "
            "Runtime, no pandas); the same rows with Windows line ends take the full path "
            "(pandas and pyarrow), as any file the quick path is not sure of does.\n\n"
            f"## Start-up\n\n{table(start, 'python -c ' + repr('import typer'))}\n\n"
            "Here a ratio below 1 means slower than the bare `import typer` reference.\n")
    write_results("predict", "Cold predictions and start-up", body)


if __name__ == "__main__":
    main()
