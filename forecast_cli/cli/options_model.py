"""The model options of train and backtest (windows, network, training, intervals), declared
once: ``@shared(MODEL, "model")`` adds them to a command whole (see ``options.shared``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from forecast_cli.cli.options import (
    INTERVALS_PANEL,
    NETWORK_PANEL,
    TRAINING_PANEL,
    WINDOWS_PANEL,
    Features,
    reading_option,
    setting_option,
)
from forecast_cli.settings import (
    Combine,
    Deseasonalize,
    Fallback,
    OptimizerKind,
    ScalerKind,
    Transform,
    WindowNorm,
)

MODEL: Mapping[str, Any] = {
    "target": Annotated[list[str] | None, reading_option(
        "target", "Column(s) to forecast, comma-separated or repeated.",
        default="the only value column", metavar="COLS")],
    "features": Features,
    "calendar": Annotated[bool | None, reading_option(
        "calendar", "Add sin/cos time-of-day/week/year inputs, known for the future.",
        "--calendar")],
    "season": Annotated[int | None, setting_option(
        "season", WINDOWS_PANEL, "Seasonal period in steps for seasonal naive and MASE.",
        default="from the frequency", min=1, metavar="N")],
    "lookback": Annotated[int | None, setting_option(
        "lookback", WINDOWS_PANEL, "Input steps per window.",
        default="max(2·horizon, min(2·season, 336), 8)", min=1, metavar="N")],
    "horizon": Annotated[int | None, setting_option(
        "horizon", WINDOWS_PANEL, "Steps forecast.", default="one season, at most 96", min=1,
        metavar="N")],
    "train_frac": Annotated[float | None, setting_option(
        "train_frac", WINDOWS_PANEL, "Share of the rows (of each series) for training.",
        metavar="X")],
    "val_frac": Annotated[float | None, setting_option(
        "val_frac", WINDOWS_PANEL, "Share for validation: early stopping and interval "
        "calibration.", metavar="X")],
    "test_frac": Annotated[float | None, setting_option(
        "test_frac", WINDOWS_PANEL, "Share for the test scores, the most recent rows.",
        metavar="X")],
    "scaler": Annotated[ScalerKind | None, setting_option(
        "scaler", WINDOWS_PANEL, "Scaling of each column, fitted on the training rows only.")],
    "lstm_units": Annotated[int | None, setting_option(
        "lstm_units", NETWORK_PANEL, "Units per LSTM layer.", min=1, metavar="N")],
    "lstm_layers": Annotated[int | None, setting_option(
        "lstm_layers", NETWORK_PANEL, "Stacked LSTM layers.", min=1, metavar="N")],
    "dense_units": Annotated[list[str] | None, setting_option(
        "dense_units", NETWORK_PANEL, "Hidden Dense layer sizes, comma-separated or repeated.",
        metavar="N,…")],
    "dropout": Annotated[float | None, setting_option(
        "dropout", NETWORK_PANEL, "Dropout rate after each LSTM layer.", min=0, max=0.95,
        metavar="X")],
    "window_norm": Annotated[WindowNorm | None, setting_option(
        "window_norm", NETWORK_PANEL, "Per-window instance normalisation: subtract the "
        "window's last value or mean, add it back to the forecast.")],
    "channel_independence": Annotated[bool | None, setting_option(
        "channel_independence", NETWORK_PANEL, "One shared network over each column as its "
        "own univariate series (for many targets).", "--channel-independence")],
    "patch_len": Annotated[int | None, setting_option(
        "patch_len", NETWORK_PANEL, "Input rows per LSTM step: the lookback is cut into "
        "segments of this length, which makes long lookbacks affordable.", min=1,
        metavar="N")],
    "levels": Annotated[list[str] | None, setting_option(
        "levels", INTERVALS_PANEL, "Prediction interval level in %, repeatable or "
        "comma-separated.", "--level", metavar="PCT")],
    "optimizer": Annotated[OptimizerKind | None, setting_option(
        "optimizer", TRAINING_PANEL, "Gradient descent method.")],
    "epochs": Annotated[int | None, setting_option(
        "epochs", TRAINING_PANEL, "Maximum epochs (early stopping usually ends sooner).",
        min=1, metavar="N")],
    "batch_size": Annotated[int | None, setting_option(
        "batch_size", TRAINING_PANEL, "Windows per gradient step.", min=1, metavar="N",
        default="32; big panels: ~500 steps an epoch, ≤ 512")],
    "learning_rate": Annotated[float | None, setting_option(
        "learning_rate", TRAINING_PANEL, "Step size of the optimizer.", metavar="X")],
    "patience": Annotated[int | None, setting_option(
        "patience", TRAINING_PANEL, "Epochs without validation improvement before stopping "
        "(the best epoch's weights are kept).", min=0, metavar="N",
        default="20; 5 from 10,000 training windows")],
    "clipnorm": Annotated[float | None, setting_option(
        "clipnorm", TRAINING_PANEL, "Gradient clipping norm.", metavar="X")],
    "seed": Annotated[int | None, setting_option(
        "seed", TRAINING_PANEL, "Random seed of weights, shuffling and dropout.", min=0,
        metavar="N")],
    # accuracy (issue 15)
    "linear_skip": Annotated[bool | None, setting_option(
        "linear_skip", NETWORK_PANEL, "Add a linear map of the normalised lookback to the "
        "forecast (NLinear).", "--linear-skip/--no-linear-skip")],
    "fallback": Annotated[Fallback | None, setting_option(
        "fallback", TRAINING_PANEL, "seasonal-naive: when the network does not beat seasonal "
        "naive on validation, the bundle serves seasonal naive (predict, batch).")],
    "transform": Annotated[Transform | None, setting_option(
        "transform", NETWORK_PANEL, "Power transform of each series' targets before scaling, "
        "where all its training values are > 0 (others: none): log, or Box-Cox with λ in "
        "[0, 1] by Guerrero's method.")],
    "deseasonalize": Annotated[Deseasonalize | None, setting_option(
        "deseasonalize", NETWORK_PANEL, "Seasonal indices (classical decomposition, after "
        "the transform) subtracted from each series: auto where its training rows pass "
        "Theta's 90 % autocorrelation test at lag --season (3 seasons at least), always "
        "wherever 2 seasons exist.")],
    "ensemble_seeds": Annotated[int | None, setting_option(
        "ensemble_seeds", NETWORK_PANEL, "Ensemble members per lookback, each of its own seed; "
        "the bundle serves the median of the members chosen on validation.", min=1,
        metavar="N")],
    "ensemble_lookbacks": Annotated[list[str] | None, setting_option(
        "ensemble_lookbacks", NETWORK_PANEL, "Lookbacks of the ensemble's members as shares "
        "of --lookback (each reads that many of the latest rows), comma-separated; 1 with "
        "--ensemble-seeds 1: one network.", metavar="X,…")],
    "refit": Annotated[bool | None, setting_option(
        "refit", TRAINING_PANEL, "Refit the chosen configuration on every window (test "
        "included) for the best epoch count before saving the bundle; the test scores come "
        "from the fit that did not see them.", "--refit/--no-refit")],
    "combine": Annotated[Combine | None, setting_option(
        "combine", NETWORK_PANEL, "Serve the mean of the network's forecast and the Theta "
        "method's (the M3 winner, fitted on each series' own rows): auto where that scores a "
        "lower MASE on the validation windows, theta always, none never.")],
}
