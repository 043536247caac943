"""The ensemble (issue 15): its members, the choice of what is served, made on the validation
windows only, and the refit of that choice on every window.

Members are networks of disjoint weights in one Keras graph (``model.build_network``), one per
lookback share × seed; the bundle serves the median of a subset of them. The subset is chosen
among a few candidates (all members, the members of one lookback, each member alone), each
also blended half and half with the Theta method (``combine``, ``core.theta``: the M3 winner,
fitted on each series' rows before the window), by the validation windows' MASE, the windows
early stopping already used: the test windows decide nothing, and their scores of every
candidate are recorded for information only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from forecast_cli.core.evaluation import MODEL
from forecast_cli.core.theta import ThetaBlend
from forecast_cli.core.windowing import WindowSpec
from forecast_cli.data.frame import Frame
from forecast_cli.errors import TrainingError
from forecast_cli.model import api as model
from forecast_cli.pipeline import fitting, panel
from forecast_cli.settings import Settings

Windows = fitting.Windows
MEDIAN = "median of all"
SINGLE = "single network"
WITH_THETA = " + Theta"  # a candidate blended with the Theta method (``combine``), or with
ALWAYS_SEASONAL = " + Theta (always seasonal)"  # Theta deseasonalising without its test
# combine auto serves the network alone only when it beats the best blend on validation by
# more than this share: early stopping chose its epoch on those very windows, which flatters
# it and not Theta (M3 quarterly: 2.3 % better alone on validation, 9 % worse on test;
# bench/results/m3.md). Forecast combinations are the robust default (M3, M4).
PREFER_BLEND = 0.05
SEED_STEP = 1000  # between members' seeds: a network's initialisers use seed … seed + 300 + i


def member_plan(s: Settings, lookback: int) -> tuple[tuple[int, int], ...]:
    """(lookback, seed) of every member: for each share of ``lookback`` (rounded, at least
    ``patch_len``; repeats dropped), ``ensemble_seeds`` seeds from ``seed`` on. () when that is
    the one network of ``lookback`` and ``seed``, the spec's own."""
    lookbacks: list[int] = []
    for share in s.ensemble_lookbacks:
        n = min(lookback, max(s.patch_len, 1, round(share * lookback)))
        if n not in lookbacks:
            lookbacks.append(n)
    plan = [(n, (s.seed + SEED_STEP * (i * s.ensemble_seeds + j)) % 2**32)
            for i, n in enumerate(lookbacks) for j in range(s.ensemble_seeds)]
    return () if plan == [(lookback, s.seed)] else tuple(plan)


def candidates(spec: model.NetworkSpec) -> dict[str, tuple[int, ...]]:
    """Name → the members whose median it serves: all, each lookback's members, each member."""
    members = spec.members
    out = {MEDIAN: tuple(range(len(members)))}
    lookbacks = list(dict.fromkeys(lb for lb, _ in members))
    for lb in lookbacks:
        group = tuple(j for j, (m_lb, _) in enumerate(members) if m_lb == lb)
        if 1 < len(group) < len(members):
            out[f"median of lookback {lb}"] = group
    for j, (lb, seed) in enumerate(members):
        out[f"member {j} (lookback {lb}, seed {seed})"] = (j,)
    return out


def theta_blends(frame: Frame, p: panel.Panel, s: Settings) -> dict[str, ThetaBlend]:
    """The Theta blends the choice may serve (``combine``), by the suffix of their candidates'
    names: Theta with its seasonality test, and (a season of 2 steps or more) deseasonalising
    every series of two seasons; none with ``combine none``."""
    assert s.season is not None
    return blends_over(frame.values[:, :len(s.target)], np.asarray(p.starts, np.int64), s)


def blends_over(values: np.ndarray, firsts: np.ndarray, s: Settings) -> dict[str, ThetaBlend]:
    """``theta_blends`` of targets ``values`` (n, k), each series read from ``firsts`` (S,)."""
    assert s.season is not None
    if s.combine == "none":
        return {}
    out = {WITH_THETA: ThetaBlend(values, firsts, s.season)}
    if s.season >= 2:
        out[ALWAYS_SEASONAL] = ThetaBlend(values, firsts, s.season, always=True)
    return out


def served_blend(chosen: str, blends: Mapping[str, ThetaBlend]) -> ThetaBlend | None:
    """The blend a chosen candidate's name ends with; None for a network alone."""
    return next((b for suffix, b in blends.items() if chosen.endswith(suffix)), None)


def choose(frame: Frame, p: panel.Panel, s: Settings, feed: fitting.Feed, net: Any,
           spec: model.NetworkSpec, val: Windows, test: Windows,
           blends: Mapping[str, ThetaBlend] | None = None
           ) -> tuple[model.NetworkSpec, Any, dict[str, Any]]:
    """The candidate of the lowest validation MASE (MAE where a series' scale is 0): its spec
    and network (the median of its members only, ``model.select_members``), and the record of
    the choice: members, every candidate's validation and test scores, the one chosen, and
    ``theta_weight``: Theta's share of the served forecast (0: the network alone) and
    ``theta_always`` (its seasonality rule). With ``blends``, each candidate is also scored
    blended with each, and ``combine`` says which may be chosen (``pick``). The windows are those
    ``fitting.validation_verdict`` scores: a season of their series before them."""
    assert s.season is not None
    blends = blends or {}
    single = not spec.members
    nets = [net] if single else model.member_networks(net, spec)
    options: dict[str, tuple[int, ...]] = {SINGLE: (0,)} if single else candidates(spec)
    scored = {}
    for part, (origins, which) in (("validation", val), ("test", test)):
        if part == "validation":
            keep = origins - p.starts[which] >= s.season
            origins, which = origins[keep], which[keep]
        scored[part] = _scores(frame, p, s, feed, nets, spec, origins, which, options, blends)
    metric = scored["validation"]["metric"]
    val_scores = scored["validation"]["scores"]
    chosen = pick(val_scores, metric, bool(blends), s.combine == "auto") or next(
        iter(options)) + (WITH_THETA if blends and s.combine == "theta" else "")  # no window
    blend = served_blend(chosen, blends)
    base = next((chosen.removesuffix(x) for x in blends if chosen.endswith(x)), chosen)
    combine = options[base]
    served, served_net = ((spec, net) if single
                          else model.select_members(net, spec, combine))
    weight = blend.weight if blend is not None else 0.0
    return served, served_net, {
        "members": [{"lookback": lb, "seed": seed} for lb, seed in spec.members]
        or [{"lookback": spec.lookback, "seed": spec.seed}],
        "chosen": chosen, "combine": list(combine), "theta_weight": weight,
        "theta_always": bool(blend is not None and blend.always), "metric": metric,
        "validation": {name: sc[metric] for name, sc in val_scores.items()},
        "test": {name: sc[metric] for name, sc in scored["test"]["scores"].items()},
        "windows": {"validation": scored["validation"]["windows"],
                    "test": scored["test"]["windows"]}}


def pick(val_scores: dict[str, dict[str, float]], metric: str, blends: bool,
          either: bool) -> str | None:
    """The candidate to serve: the lowest validation score among the networks alone (no
    ``blends``), the blends (``blends``, not ``either``), or (``either``) the best blend
    unless the best network alone is lower by more than ``PREFER_BLEND``; None without
    validation windows."""
    def best(names: list[str]) -> str | None:
        return min(names, key=lambda n: (not np.isfinite(val_scores[n][metric]),
                                         val_scores[n][metric]), default=None)
    alone = best([n for n in val_scores if WITH_THETA not in n])
    blended = best([n for n in val_scores if WITH_THETA in n]) if blends else None
    if alone is None or blended is None or not either:
        return blended or alone
    a, b = val_scores[alone][metric], val_scores[blended][metric]
    return blended if np.isfinite(b) and not a * (1.0 + PREFER_BLEND) < b else alone


def _scores(frame: Frame, p: panel.Panel, s: Settings, feed: fitting.Feed, nets: list[Any],
            spec: model.NetworkSpec, origins: np.ndarray, which: np.ndarray,
            options: dict[str, tuple[int, ...]],
            blends: Mapping[str, ThetaBlend]) -> dict[str, Any]:
    """Every candidate's scores (MASE, MAE …) on the windows at ``origins`` of ``which``, and
    every candidate's blend with each of ``blends`` (its name + the blend's suffix)."""
    assert s.season is not None
    if not len(origins):
        return {"windows": 0, "metric": "mase", "scores": {}}
    each = np.stack([feed.forecast(n, origins, which, spec) for n in nets])  # (M, m, H, k)
    forecasts = {name: np.median(each[list(idx)], axis=0) for name, idx in options.items()}
    alone = list(forecasts.items())
    for suffix, blend in blends.items():
        theta = blend.forecasts(origins, which, spec.horizon)  # (m, H, k)
        forecasts.update({name + suffix: blend.mix(f, theta) for name, f in alone})
    k = len(s.target)
    actual = WindowSpec(0, spec.horizon).targets(frame.values[:, :k], origins)
    scales = panel.mase_scales(frame, p, s.season)[:, :k]
    overall, _ = panel.score_methods(actual, forecasts, which, scales, p.ids)
    finite = all(np.isfinite(sc["mase"]) for sc in overall.values())
    return {"windows": len(origins), "metric": "mase" if finite else "mae", "scores": overall}


def refit(frame: Frame, parts: Mapping[Any, Windows], spec: model.NetworkSpec, s: Settings,
          epochs: int, feed: fitting.Feed) -> tuple[Any, dict[str, Any]]:
    """The same members, seeds and settings fitted on every window (train, validation and
    test) for ``epochs`` epochs (the held-out fit's best), without early stopping: nothing is
    held out. → the network serving ``spec``'s choice, and a record of the fit; None (and
    the record says so) when the refit diverged: then the held-out network is served."""
    origins = np.concatenate([parts[k][0] for k in ("train", "val", "test")])
    which = np.concatenate([parts[k][1] for k in ("train", "val", "test")])
    record: dict[str, Any] = {"epochs": epochs, "windows": len(origins)}
    try:
        net, history = fitting.fit_network(
            feed.values, (origins, which), None, spec, replace(s, epochs=epochs),
            future=feed.future, scaler=feed.scaling, starts=feed.starts)
    except TrainingError:
        net, history = None, {"loss": [float("nan")]}
    losses = np.asarray(history["loss"], np.float64)
    if net is None or len(losses) < epochs or not np.isfinite(losses).all():
        # diverged (or stopped on NaN): the held-out fit, whose forecasts were checked, serves
        return None, {**record, "fit": "held-out", "refit": "diverged: not used"}
    return net, {**record, "fit": "refit", "final_loss": float(losses[-1])}


def served_name(report: dict[str, Any]) -> str:
    """What the bundle's network is, in words: "median of all (4 members)" …"""
    n = len(report.get("members", ()))
    return f"{report.get('chosen', MODEL)} ({n} member{'s' if n != 1 else ''})"
