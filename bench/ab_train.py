"""Training speed of this checkout against another one (an earlier commit), alternating.

    git worktree add /tmp/base REV
    .venv/bin/python bench/ab_train.py /tmp/base [--epochs 5] [--rounds 3]

Both sides run ``bench_train.py --child`` of their own checkout (forecast's training path on
the same workload, see bench_train.py) in fresh processes, one after the other in each round,
each with its own checkout first on PYTHONPATH. The steady epoch (median of epochs 2..EPOCHS)
of each run is reported, and the ratio of the medians: a refactoring must not slow training
down beyond the spread between runs of the same side.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_train import curve, steady
from bench.common import PY, REPO, median, run_child, write_results, write_workload_csv


def _side(checkout: Path, csv: Path, epochs: int, out: Path) -> dict[str, list[float]]:
    run = run_child([PY, checkout / "bench" / "bench_train.py", "--epochs", str(epochs),
                     "--child", csv, out], env={"PYTHONPATH": str(checkout)})
    if run.code != 0:
        raise SystemExit(f"{checkout}: bench_train --child failed with exit {run.code}")
    report: dict[str, list[float]] = json.loads(run.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sides = {"this checkout": REPO, f"base ({args.base})": args.base.resolve()}
    runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp:
        csv = write_workload_csv(Path(tmp) / "hourly.csv")
        for i in range(args.rounds):
            for name, checkout in sides.items():
                runs[name].append(_side(checkout, csv, args.epochs, Path(tmp) / f"{i}{name[0]}"))
    rows = "\n".join(
        f"| {name} | {steady(r):.2f} | {', '.join(f'{e:.1f}' for e in r['epoch_end_s'])} | "
        f"{curve(r)} |" for name, rs in runs.items() for r in rs)
    ours, base = (median([steady(r) for r in rs]) for rs in runs.values())
    body = ("| side | steady epoch s | epoch ends (s from start of fit) | val_loss per epoch |\n"
            f"|---|---|---|---|\n{rows}\n\nSteady epoch, median over runs: this checkout "
            f"{ours:.2f} s, base {base:.2f} s: **ratio {ours / base:.2f}**.\n")
    write_results("ab_train", f"Training speed against a base checkout ({args.epochs} epochs, "
                  f"{args.rounds} round(s))", body)


if __name__ == "__main__":
    main()
