""":func:`diagnose`: cells, fitted slices, noise, floor, marginal returns, regimes, checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidOptionError
from ..errors import warn as warn_user
from . import checks as _checks
from . import fits
from .cells import build
from .regimes import advice, classify, evidence, family_z
from .result import Diagnosis, recommendations
from .returns import returns

#: The noise assumed for a group whose learning curves are too short to estimate it.
FALLBACK_NOISE = 0.005


def _z(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise InvalidOptionError(f"level must be in (0, 1), got {level!r}")
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _per_group(value: Any, keys: pd.DataFrame, by: tuple[str, ...], name: str) -> np.ndarray:
    """A positive number per group from a scalar or a mapping keyed by the group's key value
    (or tuple of them)."""
    G = len(keys)
    if isinstance(value, Mapping):
        out = np.full(G, np.nan)
        for g in range(G):
            key = tuple(keys.iloc[g][list(by)]) if by else ()
            for cand in (key, key[0] if len(key) == 1 else None):
                if cand is not None and cand in value:
                    out[g] = float(value[cand])
        missing = np.flatnonzero(~np.isfinite(out))
        if missing.size:
            raise InvalidOptionError(
                f"{name}: no value for group {keys.iloc[missing[0]].to_dict()}"
            )
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidOptionError(
                f"{name} must be a number or a mapping per group, got {value!r}"
            )
        out = np.full(G, float(value))
    if not np.all(np.isfinite(out) & (out > 0)):
        raise InvalidOptionError(f"{name} must be positive, got {value!r}")
    return out


def _noise(
    learning: pd.DataFrame, given: Any, keys: pd.DataFrame, by: tuple[str, ...]
) -> tuple[np.ndarray, str]:
    if given is not None:
        return _per_group(given, keys, by, "noise"), "given"
    sigma = fits.noise(learning, len(keys))
    if np.isnan(sigma).all():
        warn_user(
            f"the noise of a cell could not be estimated (learning curves need "
            f"{fits.MIN_SLICE_POINTS}+ token counts per size): assuming "
            f"{100 * FALLBACK_NOISE:g}% of the loss; pass noise="
        )
        return np.full(len(keys), FALLBACK_NOISE), "assumed"
    fill = float(np.nanmedian(sigma))
    return (
        np.where(np.isfinite(sigma), sigma, fill),
        "median residual of the single-epoch learning-curve fits",
    )


def _floor(
    frame: pd.DataFrame,
    keep: np.ndarray,
    given: Any,
    keys: pd.DataFrame,
    by: tuple[str, ...],
    n_boot: int,
    seed: int,
    level: float,
) -> pd.DataFrame:
    if given is None:
        return fits.floor(frame, keep, len(keys), n_boot, seed, level)
    e = _per_group(given, keys, by, "floor")
    return pd.DataFrame(
        {"group": np.arange(len(keys)), "E": e, "E_lower": e, "E_upper": e, "status": "given"}
    )


def diagnose(
    runs: Any,
    *,
    columns: Mapping[str, str] | None = None,
    run: str | Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    cells: str = "auto",
    points_per_decade: float = 4.0,
    noise: float | Mapping[Any, float] | None = None,
    floor: float | Mapping[Any, float] | None = None,
    min_gain: float = 0.0025,
    ratio: float = 2.0,
    level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> Diagnosis:
    """Learning and capacity curves before any law is fitted: the regime of every (model
    size, tokens) cell, what to buy next, and the checks a fit needs.

    Each cell gets its marginal returns from its neighbours, model-free: the relative loss
    reduction per doubling of N at the same tokens (the capacity curve, neighbouring sizes
    interpolated in log-log at this D) and per doubling of D at the same size (the learning
    curve), with standard errors from the noise of a cell (the median residual of the
    learning-curve fits, or ``noise=``). Doubling either doubles the training compute, so the
    two compare like for like. Regimes (see :mod:`powerfit.diagnosis.regimes` for the rules):

    - ``capacity_limited``: more parameters still help, the loss is flat in data;
    - ``under_trained``: more tokens help more than more parameters (too few tokens per
      parameter: a capacity slice here is not single-factor and its exponent is flattened);
    - ``data_limited``: larger models stop helping because of the data: the validation loss
      turns up or the train/validation gap grows (over-fitting), a larger model is worse than a
      smaller one (a double-descent bump when a larger one recovers), or repeated tokens
      (epochs > 1) stop paying;
    - ``balanced``: both help about equally (the compute-optimal zone);
    - ``noise_floor``: within noise of the upper bound of the irreducible loss E (a joint
      E + A N^-alpha + B D^-beta fit with a bootstrap interval, or ``floor=``);
    - ``undetermined``: no neighbour to compare with, or no clear signal.

    Args:
        runs: a table (pandas, polars, pyarrow, dict or file path) of runs: model size N,
            tokens seen D, validation loss, and optionally train loss, unique tokens U and
            checkpoints along each run.
        columns: map ``N``, ``D``, ``loss``, ``train_loss`` and ``U`` to your columns
            (defaults: those names; train_loss and U are used when present).
        run: the column(s) identifying a training run, when rows are checkpoints. Each run's
            last row is its clean final point.
        by: group columns (eval sets, data sets, unique-data budgets): one analysis each.
        cells: ``"final"`` (one cell per run's final point: sweeps over run lengths),
            ``"checkpoints"`` (checkpoints thinned to ``points_per_decade`` per decade of D),
            or ``"auto"`` (final points when sizes have three or more run lengths).
        noise: the standard deviation of ln L of one cell (a number or a mapping per group);
            default: estimated.
        floor: the irreducible loss, when known (a number or a mapping per group).
        min_gain: returns smaller than this (relative loss per doubling) count as flat.
        ratio: how much larger one return must be than the other to name the regime after it.
        level: coverage of the intervals (z for the returns, bootstrap for the fits).
        n_boot: bootstrap replicates of the slice fits and the floor (0: none).
        seed: the bootstrap seed.

    Returns:
        A :class:`Diagnosis` (``summary()``, ``plot()``, tables of cells, fits, checks and
        recommendations).

    Raises:
        InvalidDataError: missing columns, NaN or non-positive values (naming column and row),
            a run with several model sizes.
        InvalidOptionError: bad thresholds, level or cell mode.
    """
    z = _z(level)
    for name, v in (("min_gain", min_gain), ("ratio", ratio)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidOptionError(f"{name} must be a number, got {v!r}")
    if min_gain < 0:
        raise InvalidOptionError(f"min_gain must be >= 0, got {min_gain}")
    if ratio < 1:
        raise InvalidOptionError(f"ratio must be >= 1, got {ratio}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InvalidOptionError(f"n_boot must be a whole number >= 0, got {n_boot!r}")
    c = build(
        runs, columns=columns, run=run, by=by, cells=cells, points_per_decade=points_per_decade
    )
    frame = c.frame
    learning = fits.learning_fits(frame, int(n_boot), seed, level)
    groups = frame["group"].to_numpy()
    none = np.full(len(frame), np.nan)
    # the noise: residuals of the learning curves where they can be power laws (single
    # epoch), then again without the cells a first pass finds over-fitting
    fresh = np.nan_to_num(frame["epochs"].to_numpy(), nan=0.0) <= 1.0
    first = fits.learning_fits(frame[fresh], 0, seed, level)
    sigma_g, sigma_source = _noise(first, noise, c.keys, c.by)
    z_rise = family_z(frame, level)
    pre = classify(
        frame,
        returns(frame, sigma_g[groups]),
        sigma_g[groups],
        none,
        z,
        float(min_gain),
        float(ratio),
        z_rise,
    )
    keep = ~pre["detail"].str.contains("over-fit|bump").to_numpy(dtype=bool)
    if noise is None and (fresh & ~keep).any():
        second = fits.learning_fits(frame[fresh & keep], 0, seed, level)
        sigma_g, sigma_source = _noise(second, noise, c.keys, c.by)
    sigma = sigma_g[groups]
    ret = returns(frame, sigma)
    # the floor from cells the joint law describes: single epoch, no over-fitting
    fl = _floor(frame, keep & fresh, floor, c.keys, c.by, int(n_boot), seed, level)
    upper = np.where(np.isfinite(fl["E_upper"]), fl["E_upper"], fl["E"]).astype(float)
    floor_upper = upper[frame["group"].to_numpy()]
    cls = classify(frame, ret, sigma, floor_upper, z, float(min_gain), float(ratio), z_rise)
    key_cols = {k: c.keys[k].to_numpy()[frame["group"].to_numpy()] for k in c.by}
    table = pd.DataFrame(
        {
            **key_cols,
            "group": frame["group"],
            "N": frame["N"],
            "D": frame["D"],
            "tokens_per_param": frame["tokens_per_param"],
            "epochs": frame["epochs"],
            "loss": frame["loss"],
            "train_loss": frame["train_loss"],
            "gap": ret["gap"],
        }
    )
    table = pd.concat([table, cls], axis=1)
    table["evidence"] = evidence(frame, cls, ret, floor_upper)
    table["recommendation"] = [advice(r, d) for r, d in zip(cls["regime"], cls["detail"])]
    table["source"] = frame["source"]
    points = fits.capacity_points(frame)
    capacity = fits.capacity_fits(points, int(n_boot), seed, level)
    single = frame[np.nan_to_num(frame["epochs"].to_numpy(), nan=0.0) <= 1.0]
    single_fits = (
        fits.learning_fits(single, 0, seed, level)
        if np.nanmax(np.append(frame["epochs"].to_numpy(), 0.0)) > 1.0
        else fits.learning_fits(single.iloc[:0], 0, seed, level)
    )
    chk = _checks.checks(
        table, learning, capacity, single_fits, sigma_g, sigma_source, fl, len(c.keys)
    )
    noise_table = pd.DataFrame(
        {"group": np.arange(len(c.keys)), "sigma": sigma_g, "source": sigma_source}
    )
    return Diagnosis(
        cells=table,
        learning=learning,
        capacity=capacity,
        capacity_points=points,
        curves=c.curves,
        floor=fl,
        noise=noise_table,
        checks=chk,
        recommendations=recommendations(table, c.by),
        keys=c.keys,
        by=c.by,
        settings={
            "z": z,
            "level": level,
            "min_gain": float(min_gain),
            "ratio": float(ratio),
            "cells": c.mode,
            "n_boot": int(n_boot),
            "seed": seed,
        },
    )
