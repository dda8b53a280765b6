"""Marginal returns at every cell, model-free: the relative loss reduction from doubling the
model at the same tokens (along the capacity curve) and from doubling the tokens at the same
model (along the learning curve), by finite differences between neighbouring cells in log-log
space, with standard errors from the noise of a cell. Doubling either resource doubles the
training compute, so the two returns compare like for like."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import interpolate


def _same_size_neighbour(size: np.ndarray, step: int) -> np.ndarray:
    """Index of the next (step=1) or previous (step=-1) cell of the same size, or -1."""
    n = size.size
    idx = np.arange(n) + step
    ok = (idx >= 0) & (idx < n)
    out = np.full(n, -1)
    out[ok] = idx[ok]
    same = np.zeros(n, dtype=bool)
    same[ok] = size[idx[ok]] == size[ok]
    return np.where(same, out, -1)


def returns(frame: pd.DataFrame, sigma: np.ndarray) -> pd.DataFrame:
    """Per cell (frame sorted by group, size, D; `sigma` the noise of ln L per cell):

    - ``g_D_next``, ``g_D_prev``: -d ln L per doubling of D to the next cell of the same size
      and from the previous one, with standard errors ``se_D_next``, ``se_D_prev``;
    - ``g_N_next``, ``g_N_prev``: the same per doubling of N, to the next larger size of the
      group at the same D and from the next smaller one (their curves interpolated in log-log
      at this D, or continued along their end segment for up to one doubling of D; NaN
      further out);
    - ``g_N``, ``g_D`` (with ``se_N``, ``se_D``): the local return, the central difference
      across both neighbours where there are two, else the one-sided one;
    - ``gap``, ``gap_growth`` (with ``se_gap``): ln L_val - ln L_train and its change per
      doubling of D across the cell's neighbours on its learning curve.
    """
    size = frame["size"].to_numpy()
    group = frame["group"].to_numpy()
    N = frame["N"].to_numpy()
    lnD = np.log(frame["D"].to_numpy())
    lnL = np.log(frame["loss"].to_numpy())
    out = pd.DataFrame(index=frame.index)
    for name, step in (("next", 1), ("prev", -1)):
        j = _same_size_neighbour(size, step)
        has = j >= 0
        jj = np.where(has, j, 0)
        dlog2 = np.abs(lnD[jj] - lnD) / np.log(2.0)
        diff = (lnL - lnL[jj]) if step == 1 else (lnL[jj] - lnL)
        with np.errstate(all="ignore"):
            out[f"g_D_{name}"] = np.where(has, diff / dlog2, np.nan)
            out[f"se_D_{name}"] = np.where(has, sigma * np.sqrt(2.0) / dlog2, np.nan)
    # neighbouring sizes of the same group: size indices are dense and sorted by (group, N)
    size_n = frame.groupby("size")["N"].first()
    size_g = frame.groupby("size")["group"].first()
    n_sizes = len(size_n)
    for name, step in (("next", 1), ("prev", -1)):
        other = size + step
        valid = (other >= 0) & (other < n_sizes)
        oo = np.clip(other, 0, n_sizes - 1)
        valid &= size_g.to_numpy()[oo] == group
        # a neighbouring size's curve is followed up to one doubling of D past its end
        ln_other = interpolate(frame, np.where(valid, other, -1), lnD, extend=np.log(2.0))
        dlog2 = np.abs(np.log(size_n.to_numpy()[oo] / N)) / np.log(2.0)
        diff = (lnL - ln_other) if step == 1 else (ln_other - lnL)
        with np.errstate(all="ignore"):
            g = np.where(valid, diff / dlog2, np.nan)
            out[f"g_N_{name}"] = g
            out[f"se_N_{name}"] = np.where(np.isfinite(g), sigma * np.sqrt(2.0) / dlog2, np.nan)
    # central differences where both neighbours exist (the local slope, with half the error
    # of a one-sided difference over the same spacing), else the one-sided ones
    for var in ("D", "N"):
        nxt, prv = out[f"g_{var}_next"].to_numpy(), out[f"g_{var}_prev"].to_numpy()
        w_n = sigma * np.sqrt(2.0) / out[f"se_{var}_next"].to_numpy()  # log2 spacings
        w_p = sigma * np.sqrt(2.0) / out[f"se_{var}_prev"].to_numpy()
        both = np.isfinite(nxt) & np.isfinite(prv)
        with np.errstate(all="ignore"):
            central = (nxt * w_n + prv * w_p) / (w_n + w_p)
            se_c = sigma * np.sqrt(2.0) / (w_n + w_p)
        one = np.where(np.isfinite(nxt), nxt, prv)
        se_one = np.where(np.isfinite(nxt), out[f"se_{var}_next"], out[f"se_{var}_prev"])
        out[f"g_{var}"] = np.where(both, central, one)
        out[f"se_{var}"] = np.where(both, se_c, se_one)
    with np.errstate(all="ignore"):
        gap = lnL - np.log(frame["train_loss"].to_numpy())
    out["gap"] = gap
    # the gap's growth per doubling of D, across both neighbours where there are two
    jp, jn = _same_size_neighbour(size, -1), _same_size_neighbour(size, 1)
    a = np.where(jp >= 0, jp, np.arange(size.size))
    b = np.where(jn >= 0, jn, np.arange(size.size))
    dlog2 = (lnD[b] - lnD[a]) / np.log(2.0)
    with np.errstate(all="ignore"):
        out["gap_growth"] = np.where(dlog2 > 0, (gap[b] - gap[a]) / dlog2, np.nan)
        out["se_gap"] = np.where(dlog2 > 0, 2.0 * sigma / dlog2, np.nan)
    return out
