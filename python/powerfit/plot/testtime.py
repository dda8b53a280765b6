"""Figures of coverage fits and sampling trade-offs (matplotlib, ``powerfit[plot]``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._markup import plot_text
from ..errors import InvalidOptionError
from ._base import colours, finish
from ._base import figure as new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def plot_coverage(
    result: Any,
    *,
    k_max: float | None = None,
    level: float | None = None,
    figsize: tuple[float, float] = (10.0, 4.2),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Two panels per fit: -ln pass@k against k on log-log axes (where the power law is a
    straight line) and pass@k against k. Points: the empirical curve with its standard error
    over problems; solid: the Beta law with its bootstrap band, extrapolated to `k_max`
    (default 100 x the most samples seen); dashed: the power law fitted to the curve.

    Returns:
        The matplotlib Figure.
    """
    curve = result.curve(level)
    kmax = float(k_max) if k_max is not None else 100.0 * float(curve["k"].max())
    if not kmax > 1:
        raise InvalidOptionError(f"k_max must exceed 1, got {k_max!r}")
    grid = np.geomspace(1.0, kmax, 120)
    fig = new_figure(figsize, dpi)
    ax_log, ax_lin = fig.subplots(1, 2)
    cols = colours(len(result.labels))
    G = len(result.labels)
    est, lo, hi = result.evaluate(np.tile(grid, (G, 1)), law="beta", level=level)
    pw, _, _ = result.evaluate(np.tile(grid, (G, 1)), law="power", level=level)
    for g, (label, col) in enumerate(zip(result.labels, cols)):
        sel = np.ones(len(curve), dtype=bool)
        for key in result.by:
            sel &= (curve[key] == result.groups[key].iloc[g]).to_numpy()
        sub = curve[sel]
        y, se = sub["pass_at_k"].to_numpy(), sub["se_problems"].to_numpy()
        with np.errstate(all="ignore"):
            nl = -np.log(y)
            nl_err = se / y
        ok = np.isfinite(nl) & (nl > 0)
        ax_log.errorbar(
            sub["k"][ok],
            nl[ok],
            yerr=nl_err[ok],
            ls="none",
            marker="o",
            ms=4,
            color=col,
            alpha=0.85,
            label=plot_text(label),
        )
        ax_lin.errorbar(sub["k"], y, yerr=se, ls="none", marker="o", ms=4, color=col, alpha=0.85)
        with np.errstate(all="ignore"):
            ax_log.plot(grid, -np.log(est[g]), color=col, lw=1.6)
            ax_log.fill_between(grid, -np.log(hi[g]), -np.log(lo[g]), color=col, alpha=0.18, lw=0)
            ax_log.plot(grid, -np.log(pw[g]), color=col, lw=1.0, ls="--")
        ax_lin.plot(grid, est[g], color=col, lw=1.6)
        ax_lin.fill_between(grid, lo[g], hi[g], color=col, alpha=0.18, lw=0)
        ax_lin.plot(grid, pw[g], color=col, lw=1.0, ls="--")
    ax_log.set_xscale("log")
    ax_log.set_yscale("log")
    ax_log.set_ylabel("−ln pass@k")
    ax_lin.set_xscale("log")
    ax_lin.set_ylim(0.0, 1.02)
    ax_lin.set_ylabel("pass@k (coverage)")
    for ax in (ax_log, ax_lin):
        ax.set_xlabel("attempts k")
        ax.grid(True, alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="none", marker="o", color="0.4", ms=4, label="unbiased pass@k"),
        Line2D([], [], color="0.25", lw=1.6, label="Beta law (band: bootstrap)"),
        Line2D([], [], color="0.25", lw=1.0, ls="--", label="power law on the curve"),
    ]
    ax_lin.legend(handles=handles, fontsize=8, loc="lower right", framealpha=0.85)
    if G > 1 or result.by:
        ax_log.legend(fontsize=8, loc="best", framealpha=0.85)
    fig.suptitle(
        f"coverage against attempts ({result.n_boot} bootstrap replicates over problems)",
        fontsize=9,
    )
    return finish(fig, path)


def plot_tradeoff(
    table: pd.DataFrame,
    *,
    figsize: tuple[float, float] = (6.0, 4.2),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """pass@k against the inference budget per problem, one line per model, from
    :func:`sampling_tradeoff`; the best model at each budget is ringed.

    Returns:
        The matplotlib Figure.
    """
    need = {"budget_flops", "N", "pass_at_k", "lower", "upper", "best"}
    if not need <= set(table.columns):
        raise InvalidOptionError("plot_tradeoff needs a table from sampling_tradeoff")
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    sizes = np.unique(table["N"].to_numpy())
    for n, col in zip(sizes, colours(len(sizes))):
        sub = table[table["N"] == n].sort_values("budget_flops")
        ax.plot(
            sub["budget_flops"],
            sub["pass_at_k"],
            color=col,
            lw=1.6,
            marker="o",
            ms=3,
            label=f"N = {n:.3g}",
        )
        ax.fill_between(
            sub["budget_flops"], sub["lower"], sub["upper"], color=col, alpha=0.18, lw=0
        )
        b = sub[sub["best"]]
        ax.scatter(
            b["budget_flops"], b["pass_at_k"], s=70, facecolors="none", edgecolors=col, lw=1.4
        )
    ax.set_xscale("log")
    ax.set_xlabel("inference FLOPs per problem")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.85, title="ringed: best", title_fontsize=8)
    ax.set_title("a smaller model sampled more, or a larger one sampled less", fontsize=9)
    return finish(fig, path)
