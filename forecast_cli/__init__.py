"""forecast: LSTM time-series forecasting from CSV files, as a library and a CLI.

The library's verbs, loaded on first use (PEP 562), so ``import forecast_cli`` stays light (no
pandas, no TensorFlow)::

    from forecast_cli import build_settings, predict, train

    result = train(Path("data.csv"), build_settings({"horizon": 12}))
    print(predict(result.bundle_dir, Path("data.csv")).table)

``validate`` checks a file and returns its report, ``backtest`` runs a rolling-origin
evaluation, ``evaluate`` scores a bundle on data it has not seen. Errors are typed
(``forecast_cli.errors``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from forecast_cli.data.frame import validate
    from forecast_cli.pipeline.backtest import backtest
    from forecast_cli.pipeline.forecasting import predict
    from forecast_cli.pipeline.runs import train
    from forecast_cli.pipeline.scoring import score_bundle as evaluate
    from forecast_cli.settings import build_settings

# public name → (module, name there)
_FACADE = {
    "train": ("forecast_cli.pipeline.runs", "train"),
    "predict": ("forecast_cli.pipeline.forecasting", "predict"),
    "evaluate": ("forecast_cli.pipeline.scoring", "score_bundle"),
    "backtest": ("forecast_cli.pipeline.backtest", "backtest"),
    "validate": ("forecast_cli.data.frame", "validate"),
    "build_settings": ("forecast_cli.settings", "build_settings"),
}

__all__ = ["__version__", "backtest", "build_settings", "evaluate", "predict", "train",
           "validate"]


def __getattr__(name: str) -> Any:
    if name not in _FACADE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _FACADE[name]
    value = getattr(import_module(module), attr)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FACADE})
