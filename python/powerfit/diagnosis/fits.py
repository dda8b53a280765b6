"""The fitted slices of a diagnosis (learning curves L_inf + A D^-alpha per size, capacity
curves L_inf + A N^-alpha per token count), the noise of a cell, and the irreducible floor,
each for every group in one call of :func:`powerfit.fit_groups`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PowerfitWarning
from ..groups import fit_groups
from .cells import interpolate

#: Fewest distinct points a slice needs to be fitted (three parameters, one degree of freedom).
MIN_SLICE_POINTS = 4


def _quiet_fit_groups(table: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PowerfitWarning)
        out = fit_groups(table, **kwargs)
    assert isinstance(out, pd.DataFrame)
    return out


def learning_fits(frame: pd.DataFrame, n_boot: int, seed: int, level: float) -> pd.DataFrame:
    """Power law in D per size with at least MIN_SLICE_POINTS cells (log-residual fits)."""
    counts = frame.groupby("size")["D"].transform("nunique")
    rows = frame[counts >= MIN_SLICE_POINTS][["group", "size", "N", "D", "loss"]]
    if rows.empty:
        return pd.DataFrame(columns=["group", "size", "N", "n_points", "L_inf", "A", "alpha"])
    return _quiet_fit_groups(
        rows,
        by=["group", "size", "N"],
        law="power",
        x="D",
        loss="log",
        n_boot=n_boot or None,
        seed=seed,
        level=level,
        progress=False,
    )


def targets(frame: pd.DataFrame) -> pd.DataFrame:
    """(group, D) pairs for capacity curves: each group's distinct D when there are at most
    40 (a grid design), else a quarter-decade grid over its range."""
    parts = []
    for g, sub in frame.groupby("group"):  # a handful of groups; no numerics per row
        d = np.unique(sub["D"].to_numpy())
        if d.size > 40:
            lo, hi = np.log10(d.min()), np.log10(d.max())
            d = 10.0 ** np.arange(np.ceil(lo * 4) / 4, hi + 1e-9, 0.25)
        parts.append(pd.DataFrame({"group": g, "D": d}))
    return pd.concat(parts, ignore_index=True)


def capacity_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Every size's loss at every target D of its group, interpolated along its learning
    curve (inside its range only)."""
    sizes = frame.groupby("size")[["group", "N"]].first().reset_index()
    grid = sizes.merge(targets(frame), on="group")
    ln = interpolate(frame, grid["size"].to_numpy(), np.log(grid["D"].to_numpy()))
    grid["loss"] = np.exp(ln)
    return grid[np.isfinite(ln)].reset_index(drop=True)


def capacity_fits(points: pd.DataFrame, n_boot: int, seed: int, level: float) -> pd.DataFrame:
    """Power law in N per (group, D) with at least MIN_SLICE_POINTS sizes."""
    counts = points.groupby(["group", "D"])["N"].transform("nunique")
    rows = points[counts >= MIN_SLICE_POINTS][["group", "D", "N", "loss"]]
    if rows.empty:
        return pd.DataFrame(columns=["group", "D", "n_points", "L_inf", "A", "alpha"])
    return _quiet_fit_groups(
        rows,
        by=["group", "D"],
        law="power",
        x="N",
        loss="log",
        n_boot=n_boot or None,
        seed=seed,
        level=level,
        progress=False,
    )


def noise(fits: pd.DataFrame, n_groups: int) -> np.ndarray:
    """Per group: the median over its learning-curve fits of the residual standard deviation
    of ln L, sqrt(2 cost / (n - 3)); NaN where no fit has a degree of freedom. The median keeps
    a curve that is not a power law (one that turns up) from inflating it."""
    out = np.full(n_groups, np.nan)
    if fits.empty or "cost" not in fits.columns:
        return out
    ok = fits["success"].astype(bool) & (fits["n_points"] > 3)
    f = fits[ok]
    if f.empty:
        return out
    s = np.sqrt(2.0 * f["cost"] / (f["n_points"] - 3))
    med = s.groupby(f["group"].to_numpy()).median()
    out[med.index.to_numpy(dtype=int)] = med.to_numpy()
    return out


def floor(
    frame: pd.DataFrame, keep: np.ndarray, n_groups: int, n_boot: int, seed: int, level: float
) -> pd.DataFrame:
    """Per group: the irreducible loss E of a joint fit E + A N^-alpha + B D^-beta (Huber on
    log residuals) to the cells in `keep`, with its bootstrap interval."""
    rows = frame[keep][["group", "N", "D", "loss"]]
    out = pd.DataFrame(
        {
            "group": np.arange(n_groups),
            "E": np.nan,
            "E_lower": np.nan,
            "E_upper": np.nan,
            "status": "not fitted",
        }
    )
    enough = rows.groupby("group").agg(
        n=("loss", "size"), sizes=("N", "nunique"), tokens=("D", "nunique")
    )
    good = enough[(enough.n >= 8) & (enough.sizes >= 2) & (enough.tokens >= 2)].index
    rows = rows[rows["group"].isin(good)]
    if rows.empty:
        return out
    fit = _quiet_fit_groups(
        rows,
        by="group",
        law="chinchilla",
        loss="huber_log",
        n_boot=n_boot or None,
        seed=seed,
        level=level,
        progress=False,
    )
    idx = fit["group"].to_numpy(dtype=int)
    out.loc[idx, "E"] = fit["E"].to_numpy()
    if "E_lower" in fit.columns:
        out.loc[idx, "E_lower"] = fit["E_lower"].to_numpy()
        out.loc[idx, "E_upper"] = fit["E_upper"].to_numpy()
    out.loc[idx, "status"] = fit["status"].to_numpy()
    return out
