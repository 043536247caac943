"""A bundle's target transforms are applied by predict, through the real CLI, without TensorFlow.

One tiny real training (the CLI in this process; predict is the subprocess checked here) on
a monthly series that is a constant level times seasonal indices, starting in April. With
``--transform log --deseasonalize always`` its transformed rows are one constant, which
scales to 0: the network's input and (untrained or not: every gradient
is 0) its output are 0, so the forecast is the level times the index of each forecast
month, exactly (to float rounding), only if the indices are applied at the right phases.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_cli
from tests.conftest import REPO, TINY_ARGS, write_series

LEVEL, START_PHASE, N = 50.0, 3, 70  # rows from April 2010 (phase 0 = its first row)
INDICES = np.array([0.8, 0.9, 1.0, 1.2, 1.3, 1.1, 1.0, 0.9, 0.85, 0.95, 1.05, 0.95])
HORIZON = int(TINY_ARGS[TINY_ARGS.index("--horizon") + 1])
PROBE = """
import json, sys
from forecast_cli.cli.app import app
try:
    app(sys.argv[1:], prog_name="forecast")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"exit": code, "tensorflow": "tensorflow" in sys.modules}))
"""


def monthly(n: int) -> np.ndarray:
    """LEVEL × the index of each month: January is INDICES[0]. (n,)."""
    return LEVEL * INDICES[(np.arange(n) + START_PHASE) % 12]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, its training CSV)."""
    work = tmp_path_factory.mktemp("transform")
    csv = write_series(work / "monthly.csv", monthly(N), start="2010-04-01", freq="MS")
    proc = run_cli("train", csv, "-o", work / "run", "--quiet", *TINY_ARGS, "--season",
                        "12", "--transform", "log", "--deseasonalize", "always")
    assert proc.returncode == 0, proc.stderr
    return work / "run" / "model", csv


def probe(*args: str | Path) -> tuple[dict[str, object], str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, timeout=120, check=False)
    *lines, report = proc.stdout.splitlines()
    return json.loads(report), "\n".join(lines)


@pytest.mark.parametrize("dropped", [0, 5])
def test_predict_applies_the_bundles_seasonal_indices_at_each_months_phase(
        trained: tuple[Path, Path], dropped: int, tmp_path: Path) -> None:
    bundle, csv = trained
    data = csv
    if dropped:  # a file that starts later: its phases come from the anchor's timestamp
        lines = csv.read_text().splitlines()
        data = tmp_path / "later.csv"
        data.write_text("\n".join([lines[0], *lines[1 + dropped:]]) + "\n")
    report, out = probe("predict", "--model", bundle, data)
    assert report == {"exit": 0, "tensorflow": False}
    values = [float(line.split(",")[2]) for line in out.splitlines()[1:]]
    assert values == pytest.approx(monthly(N + HORIZON)[N:].tolist(), rel=1e-6)


def test_the_bundle_and_metrics_record_the_choice(trained: tuple[Path, Path]) -> None:
    bundle, _ = trained
    record = json.loads((bundle / "config.json").read_text())["data"]["transform"]
    assert record["series"][""]["lambda"] == [0.0]
    assert record["series"][""]["anchor"] == "2010-04-01T00:00:00"
    metrics = json.loads((bundle.parent / "metrics.json").read_text())
    assert metrics["transform"] == {"transform": "log", "deseasonalize": "always",
                                    "series": 1, "log": 1, "boxcox": 0, "deseasonalized": 1}
