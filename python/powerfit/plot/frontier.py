"""Compute-optimal frontiers: from a fitted law, from IsoFLOP profiles, from the envelope."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..record import FitRecord as FitResult
from ._base import figure, finish

MAX_FRONTIER_REPLICATES = 1000


def plot_frontier(
    res: FitResult,
    C_min: float | None = None,
    C_max: float | None = None,
    *,
    k: float = 6.0,
    level: float = 0.95,
    n: int = 40,
    figsize: tuple[float, float] = (10.0, 4.2),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Compute-optimal model size N*(C) and data D*(C) for C = k N D, and tokens per
    parameter D*/N*, with bootstrap bands when the fit has a bootstrap run (from
    :meth:`FitResult.compute_optimal`).

    Args:
        C_min, C_max: the range of compute budgets in FLOPs (default: from the smallest budget
            in the data to 1,000 times the largest).
        k: FLOPs per parameter per token.
        level: coverage of the bands.
        n: number of budgets drawn.

    Returns:
        The matplotlib Figure.

    Raises:
        InvalidLawError, InvalidOptionError: the law has no N and D terms, or the data tie a
            C term to N and D.
    """
    from ..analysis import optimal_table

    if "N" in res.data and "D" in res.data:
        cdata = k * res.data["N"] * res.data["D"]
        dlo, dhi = float(cdata.min()), float(cdata.max())
    else:
        dlo = dhi = math.nan
    lo = float(C_min) if C_min is not None else dlo
    hi = float(C_max) if C_max is not None else dhi * 1e3
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise InvalidOptionError(f"need 0 < C_min < C_max, got C_min={lo:g}, C_max={hi:g}")
    if not 0.0 < level < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    cs = np.geomspace(lo, hi, max(int(n), 2))
    table = optimal_table(res, list(cs), k, level, max_replicates=MAX_FRONTIER_REPLICATES)
    bands = "N_opt_lower" in table.columns
    fig = figure(figsize, dpi)
    from matplotlib.ticker import NullLocator

    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
    labels = {"N_opt": "N*: parameters", "D_opt": "D*: tokens"}
    for key, exp in (("N_opt", "a"), ("D_opt", "b")):
        if exp in table.columns:
            labels[key] += f" ∝ C^{float(table[exp].iloc[0]):.3f}"
    for key, colour in (("N_opt", "C0"), ("D_opt", "C1")):
        if bands:
            ax.fill_between(
                cs, table[f"{key}_lower"], table[f"{key}_upper"], color=colour, alpha=0.2, lw=0
            )
        ax.plot(cs, table[key], color=colour, lw=1.8, label=labels[key])
    if bands:
        ax2.fill_between(
            cs,
            table["tokens_per_param_lower"],
            table["tokens_per_param_upper"],
            color="C2",
            alpha=0.2,
            lw=0,
        )
    ax2.plot(cs, table["tokens_per_param"], color="C2", lw=1.8)
    for a in (ax, ax2):
        if math.isfinite(dlo):
            a.axvspan(
                max(dlo, lo),
                min(dhi, hi),
                color="0.85",
                alpha=0.5,
                lw=0,
                label="compute range of the data" if a is ax else None,
            )
        a.set_xscale("log")
        a.set_xlim(lo, hi)
        a.xaxis.set_minor_locator(NullLocator())
        a.set_xlabel(f"compute C = {k:g}·N·D (FLOPs)")
        a.grid(True, which="major", alpha=0.3)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylabel("compute-optimal N* and D*")
    ax.legend(fontsize=8, loc="upper left")
    ax2.set_ylabel("tokens per parameter D*/N*")
    band_note = f"; bands: {level:.0%} bootstrap" if bands else ""
    fig.suptitle(f"compute-optimal frontier of the {res.law} fit{band_note}", fontsize=10)
    return finish(fig, path)


def _group_rows(res: Any, frame: pd.DataFrame, group: int) -> pd.DataFrame:
    if not res.by:
        return frame
    key = res.keys.iloc[group]
    mask = np.ones(len(frame), dtype=bool)
    for c in res.by:
        v = key[c]
        col = frame[c]
        mask &= (col.isna() if pd.isna(v) else (col == v)).to_numpy()
    return frame.loc[mask]


def _two_panels(
    res: Any, group: int, figsize: tuple[float, float], dpi: float
) -> tuple[Any, pd.DataFrame, pd.DataFrame, Figure, Any, Any]:
    """The group's raw result, points and optima, and a figure with the profile panel (left,
    wider) and the frontier panel (right): the common start of the frontier plots."""
    _check_group(res, group)
    fig = figure(figsize, dpi)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1.0]})
    return (
        res.group_values(group),
        _group_rows(res, res.points, group),
        _group_rows(res, res.optima, group),
        fig,
        ax,
        ax2,
    )


def _check_group(res: Any, group: int) -> None:
    if not 0 <= int(group) < res.n_groups:
        raise InvalidOptionError(f"group must be in 0..{res.n_groups - 1}, got {group}")


def plot_isoflop(
    result: Any,
    group: int = 0,
    *,
    figsize: tuple[float, float] = (11.0, 4.4),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The IsoFLOP profiles (loss against N, one colour per budget, log-log) with each budget's
    located optimum and its bootstrap interval (left), and the optima N*(C) against C with the
    fitted power law (right). Dropped budgets are drawn faded, without an optimum.

    Args:
        result: an :class:`IsoflopResult`.
        group: which group (its row in ``result.table``).
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    r, pts, opt, fig, ax, ax2 = _two_panels(result, group, figsize, dpi)
    cs = opt["C"].to_numpy()
    norm = LogNorm(vmin=cs.min(), vmax=max(cs.max(), cs.min() * 1.0001))
    cmap = colormaps["viridis"]
    rtol = float(result.settings.get("budget_rtol", 1e-3))
    pc = pts["C"].to_numpy()
    for k, c in enumerate(cs):
        sel = pts.loc[np.abs(pc / c - 1.0) <= max(rtol, 1e-9) * 1.0001 + 1e-12]
        sel = sel.sort_values("N")
        ok = opt["status"].iloc[k] == "ok"
        colour = cmap(norm(c))
        ax.plot(sel["N"], sel["loss"], "o-", color=colour, ms=3.5, lw=1.0,
                alpha=1.0 if ok else 0.3)  # fmt: skip
        if ok:
            row = opt.iloc[k]
            ax.plot([row["N_opt"]], [row["L_opt"]], marker="*", ms=11, color=colour,
                    mec="black", mew=0.6, zorder=5)  # fmt: skip
            if np.isfinite(row["N_opt_lower"]):
                ax.hlines(row["L_opt"], row["N_opt_lower"], row["N_opt_upper"], color=colour,
                          lw=2.0, alpha=0.8)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("loss")
    sm = _scalar_mappable(cmap, norm)
    fig.colorbar(sm, ax=ax, label="compute budget C (FLOPs)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("IsoFLOP profiles; ★ located optimum", fontsize=9)
    _draw_frontier(ax2, r, opt, result.level)
    _suptitle(fig, result, group, "IsoFLOP analysis")
    return finish(fig, path)


def _scalar_mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def _draw_frontier(
    ax: Any, r: dict[str, Any], opt: pd.DataFrame, level: float, bars: bool = True
) -> None:
    """N*(C) and D*(C) at the budgets with an optimum (with bootstrap bars or a band), the
    fitted power laws over the budgets used, and the dropped budgets."""
    ok = (opt["status"] == "ok").to_numpy()
    o = opt.loc[ok]
    if len(o):
        c = o["C"].to_numpy()
        nopt = o["N_opt"].to_numpy()
        lo = np.clip(nopt - o["N_opt_lower"].to_numpy(), 0, None)
        hi = np.clip(o["N_opt_upper"].to_numpy() - nopt, 0, None)
        has = np.isfinite(lo) & np.isfinite(hi)
        if bars and has.any():
            ax.errorbar(c[has], nopt[has], yerr=[lo[has], hi[has]], fmt="o", ms=4, color="C0",
                        ecolor="C0", elinewidth=1, capsize=2,
                        label=f"N* per budget ({level:.0%} bootstrap)")  # fmt: skip
            if (~has).any():
                ax.plot(c[~has], nopt[~has], "o", ms=4, color="C0")
        else:
            if has.any():
                ax.fill_between(c, o["N_opt_lower"], o["N_opt_upper"], color="C0", alpha=0.2,
                                lw=0, label=f"N* {level:.0%} bootstrap")  # fmt: skip
            ax.plot(c, nopt, "o", ms=3, color="C0", label="N* per budget")
        ax.plot(c, o["D_opt"], "s", ms=3, color="C1", alpha=0.8, label="D* per budget")
        if np.isfinite(r["a"]):
            cs = np.geomspace(c.min(), c.max(), 50)
            a_label = f"N* ∝ C^{r['a']:.3f} ({r['a_lower']:.3f}, {r['a_upper']:.3f})"
            b_label = f"D* ∝ C^{r['b']:.3f} ({r['b_lower']:.3f}, {r['b_upper']:.3f})"
            ax.plot(cs, np.exp(r["log_k_N"] + r["a"] * np.log(cs)), color="C0", lw=1.6,
                    label=a_label)  # fmt: skip
            ax.plot(cs, np.exp(r["log_k_D"] + r["b"] * np.log(cs)), color="C1", lw=1.6,
                    label=b_label)  # fmt: skip
    dropped = opt.loc[~ok, "C"].to_numpy()
    if 0 < dropped.size <= 20:
        for k, c in enumerate(dropped):
            ax.axvline(c, color="0.6", lw=0.8, ls=":", label="dropped budget" if k == 0 else None)
    elif dropped.size and len(o):
        ax.set_xlim(o["C"].min() / 1.5, o["C"].max() * 1.5)
        ax.set_title(f"{dropped.size} of {len(opt)} budgets dropped (no interior optimum)",
                     fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("compute-optimal N* and D*")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")


def _suptitle(fig: Any, result: Any, group: int, what: str) -> None:
    lab = "" if not result.by else f" [{result.group_label(group)}]"
    fig.suptitle(f"{what}{lab}", fontsize=10)


def plot_envelope(
    result: Any,
    group: int = 0,
    *,
    max_runs: int = 200,
    figsize: tuple[float, float] = (11.0, 4.4),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The training curves (loss against compute, one colour per model size, log-log) with
    their lower envelope, the budgets where an optimum was read off marked (left), and the
    frontier N*(C) with the fitted power law (right).

    Args:
        result: an :class:`EnvelopeResult`.
        group: which group (its row in ``result.table``).
        max_runs: draw at most this many runs (the envelope is always drawn).
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    r, pts, opt, fig, ax, ax2 = _two_panels(result, group, figsize, dpi)
    sizes = pts["N"].to_numpy()
    norm = LogNorm(vmin=sizes.min(), vmax=max(sizes.max(), sizes.min() * 1.0001))
    cmap = colormaps["viridis"]
    by_run: Any = pts.groupby(pts["run"].astype(str), sort=False) if "run" in pts else []
    for k, (_, sel) in enumerate(by_run):
        if k >= int(max_runs):
            break
        sel = sel.sort_values("C")
        ax.plot(sel["C"], sel["loss"], "-", color=cmap(norm(sel["N"].iloc[0])), lw=0.8,
                alpha=0.6)  # fmt: skip
    env_ok = np.isfinite(opt["L_env"].to_numpy())
    ax.plot(opt["C"][env_ok], opt["L_env"][env_ok], color="black", lw=1.6, label="envelope")
    good = (opt["status"] == "ok").to_numpy()
    ax.plot(opt["C"][good], opt["L_env"][good], "o", color="C3", ms=2.5,
            label="budgets with an optimum")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(_scalar_mappable(cmap, norm), ax=ax, label="model size N (parameters)")
    ax.set_title("training curves and their lower envelope", fontsize=9)
    _draw_frontier(ax2, r, opt, result.level, bars=False)
    _suptitle(fig, result, group, f"Training-curve envelope ({result.settings['estimator']})")
    return finish(fig, path)
