"""The cells of a diagnosis: one (model size, tokens seen) point per row, from final points of
runs or from checkpoints thinned along each run, sorted by (group, size, tokens), with the
helpers that look up neighbours: the next cell along a learning curve, and a neighbouring size
at the same number of tokens (by log-log interpolation along that size's curve)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from .._tables import as_frame, floats, group_codes, require
from ..errors import InvalidDataError, InvalidOptionError

#: Cell sources.
MODES = ("auto", "final", "checkpoints")
#: Spacing of the composite (size, ln D) key: larger than any range of ln D.
_KEY = 1.0e3


@dataclass(frozen=True)
class Cells:
    """Cells sorted by (group, size, D). ``frame`` columns: group, size (dense index over
    (group, N)), N, D, loss, train_loss (NaN when not logged), U (NaN when unknown), epochs,
    source ("final" or "checkpoint"). ``curves`` holds every logged row (for drawing learning
    curves along runs), ``keys`` the group key values, ``by`` the group columns."""

    frame: pd.DataFrame
    curves: pd.DataFrame
    keys: pd.DataFrame
    by: tuple[str, ...]
    mode: str

    @property
    def n_groups(self) -> int:
        return len(self.keys)


def _column(columns: Mapping[str, str], var: str, default: str) -> str:
    return columns.get(var, default)


def build(
    runs: Any,
    *,
    columns: Mapping[str, str] | None,
    run: str | Sequence[str] | None,
    by: str | Sequence[str] | None,
    cells: str,
    points_per_decade: float,
) -> Cells:
    """Reads the runs table into :class:`Cells` (see :func:`powerfit.diagnose`)."""
    cells = _check.name(cells, "cells")
    if cells not in MODES:
        raise InvalidOptionError(f"cells must be one of {', '.join(MODES)}, got {cells!r}")
    if not (_check.is_real(points_per_decade) and 0 < points_per_decade < math.inf):
        raise InvalidOptionError(f"points_per_decade must be positive, got {points_per_decade!r}")
    cols = _check.mapping(columns, "columns")
    unknown = set(cols) - {"N", "D", "loss", "train_loss", "U"}
    if unknown:
        raise InvalidOptionError(
            f"columns maps N, D, loss, train_loss and U; unknown key(s) {sorted(unknown)}"
        )
    df = as_frame(runs, "runs").reset_index(drop=True)
    if len(df) == 0:
        raise InvalidDataError("runs: no rows")
    names = {v: _column(cols, v, v) for v in ("N", "D", "loss", "train_loss", "U")}
    for v in ("N", "D", "loss"):
        require(df, names[v], {"N": "model size", "D": "tokens seen", "loss": "validation loss"}[v])
    out = pd.DataFrame(
        {
            "N": floats(df, names["N"], positive=True),
            "D": floats(df, names["D"], positive=True),
            "loss": floats(df, names["loss"], positive=True),
        }
    )
    for v in ("train_loss", "U"):
        if names[v] in df.columns:
            # U = inf: unlimited unique data
            out[v] = floats(df, names[v], positive=True, allow_nan=True, allow_inf=v == "U")
        elif v in cols:
            require(df, names[v], v)
        else:
            out[v] = np.nan
    keys_by = _check.names(by, "by")
    codes, keys = group_codes(df, keys_by or None)
    out["group"] = codes
    if run is not None:
        run_cols = _check.names(run, "run")
        if not run_cols:
            raise InvalidOptionError("run must name the run id column(s), or be None")
        for r in run_cols:
            require(df, r, "run id")
        out["run"] = df.groupby(keys_by + run_cols, sort=False, dropna=False).ngroup().to_numpy()
    else:
        out["run"] = np.arange(len(out))
    # a run is one model: its size and group must not change along it
    per_run = out.groupby("run")["N"].nunique()
    if (per_run > 1).any():
        raise InvalidDataError(
            f"run {int(per_run.index[np.argmax(per_run.to_numpy() > 1)])} has several model "
            f"sizes: the run columns must identify one training run"
        )
    out["lnD"] = np.log(out["D"])
    last = out.groupby("run")["D"].transform("max").to_numpy() == out["D"].to_numpy()
    finals = out[last].drop_duplicates("run", keep="last")
    mode = cells
    if mode == "auto":
        lengths = finals.groupby(["group", "N"])["D"].nunique()
        mode = "final" if run is None or float(lengths.median()) >= 3 else "checkpoints"
    if mode == "final":
        chosen = finals.assign(source="final")
    else:
        # thin each run to its last checkpoint per 1/points_per_decade decade, and its end
        b = np.floor(out["lnD"] / np.log(10.0) * points_per_decade).astype(np.int64)
        thin = out.assign(_bin=b).sort_values(["run", "D"]).groupby(["run", "_bin"]).tail(1)
        chosen = pd.concat([thin.drop(columns="_bin"), finals]).drop_duplicates()
        chosen = chosen.assign(
            source=np.where(chosen.index.isin(finals.index), "final", "checkpoint")
        )
    agg = (
        chosen.groupby(["group", "N", "D"], sort=True)
        .agg(
            loss=("loss", "mean"),
            train_loss=("train_loss", "mean"),
            U=("U", "mean"),
            source=("source", "max"),
        )
        .reset_index()
    )
    agg["size"] = agg.groupby(["group", "N"], sort=True).ngroup()
    agg["epochs"] = agg["D"] / agg["U"]
    agg["tokens_per_param"] = agg["D"] / agg["N"]
    return Cells(
        frame=agg,
        curves=out.drop(columns="lnD"),
        keys=keys.reset_index(drop=True),
        by=tuple(keys_by),
        mode=mode,
    )


def interpolate(
    frame: pd.DataFrame,
    size: np.ndarray,
    ln_d: np.ndarray,
    value: str = "loss",
    extend: float = 0.0,
) -> np.ndarray:
    """ln(value) of size `size[i]`'s learning curve at ln D = `ln_d[i]`, linear in log-log
    between its cells, and along its last (first) segment up to `extend` in ln D beyond its
    ends; NaN further out, for a curve of one cell, or for a size index out of range."""
    s = frame["size"].to_numpy()
    x = np.log(frame["D"].to_numpy())
    y = np.log(frame[value].to_numpy())
    key = s * _KEY + x
    size = np.asarray(size)
    n_sizes = int(s.max()) + 1 if len(s) else 0
    ok = (size >= 0) & (size < n_sizes) & np.isfinite(ln_d)
    q = np.where(ok, size * _KEY + np.asarray(ln_d), 0.0)
    n = len(key)
    j = np.clip(np.searchsorted(key, q, side="left"), 1, n - 1)
    # the segment [j-1, j] of the same size that brackets q, or its end segment
    lo = np.clip(j - 1, 0, n - 1)
    before = ok & (s[np.clip(j, 0, n - 1)] == size) & ((lo == j) | (s[lo] != size))
    after = ok & (s[lo] == size) & (s[np.clip(j, 0, n - 1)] != size)
    j = np.where(before, np.clip(j + 1, 0, n - 1), j)
    lo = np.where(after, np.clip(lo - 1, 0, n - 1), lo)
    j = np.where(after, lo + 1, j)
    seg = ok & (s[lo] == size) & (s[j] == size) & (j > lo)
    with np.errstate(all="ignore"):
        w = (q - key[lo]) / (key[j] - key[lo])
        val = y[lo] + w * (y[j] - y[lo])
    # distance beyond the curve's ends, when q is outside its range
    start = _ends(key, s, size, first=True)
    end = _ends(key, s, size, first=False)
    outside = np.maximum(start - q, q - end)
    inside = seg & (outside <= extend + 1e-9)
    jj = np.clip(np.searchsorted(key, q), 0, n - 1)
    exact = ok & (np.abs(key[jj] - q) <= 1e-9)
    return np.where(exact, y[jj], np.where(inside, val, np.nan))


def _ends(key: np.ndarray, s: np.ndarray, size: np.ndarray, first: bool) -> np.ndarray:
    """The composite key of the first (last) cell of each queried size (NaN if absent)."""
    n_sizes = int(s.max()) + 1 if len(s) else 0
    table = np.full(n_sizes, np.nan)
    idx = (
        np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        if first
        else np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    )
    table[s[idx]] = key[idx]
    ok = (size >= 0) & (size < n_sizes)
    return np.where(ok, table[np.clip(size, 0, max(n_sizes - 1, 0))], np.nan)
