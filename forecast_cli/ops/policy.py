"""When to retrain, and when a newly trained model may replace the current one.

Retraining policy of a job (``retrain`` in the batch file)::

    retrain = "never"                    # train once, when there is no model yet
    retrain = { every_days = 7 }         # when the current model is 7 days old or older
    retrain = { min_new_rows = 30 }      # when 30 rows arrived since it was trained
    retrain = { on_schema_change = true }  # when columns, time column or frequency changed

The table's keys combine (any one suffices); ``on_schema_change`` defaults to true. A change
of the job's training settings always retrains (except under ``"never"``). Identical data and
settings never retrain: the result would be the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forecast_cli.errors import ConfigError

POLICY_KEYS = ("every_days", "min_new_rows", "on_schema_change")


@dataclass(frozen=True)
class RetrainPolicy:
    never: bool = False
    every_days: float | None = None
    min_new_rows: int | None = None
    on_schema_change: bool = True


def _positive(key: str, value: Any, kind: type) -> Any:
    int_for_float = kind is float and isinstance(value, int)
    if (isinstance(value, bool) or not (isinstance(value, kind) or int_for_float)
            or not math.isfinite(value) or value <= 0):  # NaN compares false with 0
        raise ConfigError(f"`retrain.{key}` must be a number > 0. Got {value!r}.")
    return value


def parse_policy(raw: Any) -> RetrainPolicy:
    """``None`` → the default policy; ``"never"``; or a table of POLICY_KEYS."""
    if raw is None:
        return RetrainPolicy()
    if raw == "never":
        return RetrainPolicy(never=True)
    if not isinstance(raw, dict):
        raise ConfigError(f"`retrain` must be \"never\" or a table with {', '.join(POLICY_KEYS)}."
                          f" Got {raw!r}.")
    for key in raw:
        if key not in POLICY_KEYS:
            raise ConfigError(f"`retrain.{key}` is unknown; use {', '.join(POLICY_KEYS)}.")
    schema = raw.get("on_schema_change", True)
    if not isinstance(schema, bool):
        raise ConfigError(f"`retrain.on_schema_change` must be true or false. Got {schema!r}.")
    every = raw.get("every_days")
    rows = raw.get("min_new_rows")
    return RetrainPolicy(
        every_days=None if every is None else float(_positive("every_days", every, float)),
        min_new_rows=None if rows is None else int(_positive("min_new_rows", rows, int)),
        on_schema_change=schema)


@dataclass(frozen=True)
class Champion:
    """What the policy needs to know about the current model."""

    trained_at: datetime
    rows: int
    schema: dict[str, Any]
    config_hash: str
    train_key: str


@dataclass(frozen=True)
class DataState:
    """The job's data and settings as they are now."""

    rows: int
    schema: dict[str, Any]
    config_hash: str
    train_key: str


def retrain_reason(policy: RetrainPolicy, champion: Champion | None, now: DataState,
                   at: datetime, rejected: frozenset[str] = frozenset()) -> str | None:
    """Why to retrain now, or ``None`` to keep the current model.

    ``rejected``: train keys whose model already lost against the current one; retraining
    the same data and settings would lose again.
    """
    if champion is None:
        return "no model yet"
    if champion.train_key == now.train_key or policy.never or now.train_key in rejected:
        return None
    if champion.config_hash != now.config_hash:
        return "training settings changed"
    if policy.on_schema_change and champion.schema != now.schema:
        return "data schema changed"
    age_days = (at - champion.trained_at).total_seconds() / 86400
    if policy.every_days is not None and age_days >= policy.every_days:
        return f"model is {age_days:.1f} days old (every_days = {policy.every_days:g})"
    new_rows = now.rows - champion.rows
    if policy.min_new_rows is not None and new_rows >= policy.min_new_rows:
        return f"{new_rows} new rows (min_new_rows = {policy.min_new_rows})"
    return None


def keep_reason(policy: RetrainPolicy, champion: Champion | None, now: DataState,
                rejected: frozenset[str] = frozenset()) -> str:
    """Why no training happened, in words for the log and history."""
    if champion is not None and champion.train_key == now.train_key:
        return "data and settings unchanged since the current model was trained"
    if policy.never:
        return "retrain = \"never\""
    if now.train_key in rejected:
        return "a model trained on this data and settings already lost to the current one"
    return "the retraining policy does not ask for it yet"


def promote(champion_score: float | None, challenger_score: float) -> bool:
    """The challenger replaces the champion only if at least as good (lower or equal error).

    A champion that could not be scored on the latest holdout (``None``/NaN) always loses; a
    challenger with a non-finite score never wins against a scored champion.
    """
    if champion_score is None or math.isnan(champion_score):
        return True
    return math.isfinite(challenger_score) and challenger_score <= champion_score
