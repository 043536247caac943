"""``forecast_cli``'s lazy facade (PEP 562): the library's verbs by name, loaded on first use."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import sys
import forecast_cli
light = not {"pandas", "tensorflow", "keras"} & {m.split(".")[0] for m in sys.modules}
from forecast_cli import backtest, build_settings, evaluate, predict, train, validate
from forecast_cli.data.frame import validate as data_validate
from forecast_cli.pipeline.backtest import backtest as pipeline_backtest
from forecast_cli.pipeline.forecasting import predict as pipeline_predict
from forecast_cli.pipeline.scoring import score_bundle
from forecast_cli.pipeline.runs import train as pipeline_train
from forecast_cli.settings import build_settings as settings_build
same = (train is pipeline_train and predict is pipeline_predict and evaluate is score_bundle
        and backtest is pipeline_backtest and validate is data_validate
        and build_settings is settings_build)
print(light, same, "tensorflow" in sys.modules, sorted(forecast_cli.__all__) == sorted(
    n for n in dir(forecast_cli) if n in forecast_cli.__all__))
try:
    forecast_cli.nonsense
except AttributeError as exc:
    print(exc)
"""


def test_import_is_light_and_the_names_are_the_library_functions() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          cwd=REPO, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # light: neither pandas nor TensorFlow on `import forecast_cli`; nor TensorFlow after the
    # verbs are imported (the training modules load it when a network is built)
    assert proc.stdout.splitlines() == [
        "True True False True", "module 'forecast_cli' has no attribute 'nonsense'"]
