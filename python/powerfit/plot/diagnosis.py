"""The figure of a diagnosis (matplotlib, ``powerfit[plot]``): learning curves, capacity
curves and the regime map, in the house style."""

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
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Marker and colour of each regime.
#: Marker and colour of every regime (in the order of ``powerfit.diagnosis.REGIMES``, which a
#: test checks).
STYLE = {
    "capacity_limited": ("^", "C0"),
    "data_limited": ("X", "C3"),
    "under_trained": ("v", "C1"),
    "balanced": ("o", "C2"),
    "noise_floor": ("s", "0.45"),
    "undetermined": ("d", "0.75"),
}


def _power(fit: pd.Series, x: np.ndarray) -> np.ndarray:
    return np.asarray(fit["L_inf"] + fit["A"] * x ** (-fit["alpha"]))


def _describes(fit: pd.DataFrame, sigma: float) -> bool:
    """Whether a slice fit converged and follows its points to within three noise levels
    (a curve that turns up is no power law: its fit is not drawn)."""
    if not len(fit) or not bool(fit["success"].iloc[0]):
        return False
    dof = max(int(fit["n_points"].iloc[0]) - 3, 1)
    return bool(np.sqrt(2.0 * fit["cost"].iloc[0] / dof) <= 3.0 * sigma)


def _learning(ax: Axes, d: Any, g: int) -> None:
    cells = d.cells[d.cells["group"] == g]
    sigma = float(d.noise["sigma"].iloc[g])
    sizes = np.unique(cells["N"].to_numpy())
    cols = dict(zip(sizes, colours(len(sizes))))
    curves = d.curves[d.curves["group"] == g]
    if d.settings["cells"] == "final" and len(curves) > len(cells):
        for _, run in curves.groupby("run"):  # checkpoints: faint lines along each run
            ax.plot(
                run["D"], run["loss"], color=cols.get(run["N"].iloc[0], "0.6"), lw=0.6, alpha=0.35
            )
    lf = d.learning[d.learning["group"] == g] if len(d.learning) else d.learning
    for n in sizes:
        sub = cells[cells["N"] == n]
        ax.plot(sub["D"], sub["loss"], color=cols[n], lw=0.8, alpha=0.6)
        fit = lf[lf["N"] == n] if len(lf) else lf
        if _describes(fit, sigma):
            x = np.geomspace(sub["D"].min(), sub["D"].max(), 60)
            ax.plot(x, _power(fit.iloc[0], x), color=cols[n], lw=1.2, ls="--")
    _regime_points(ax, cells, "D", [cols[n] for n in cells["N"]])
    # checkpoints early in a run sit far above the cells: frame the cells
    _frame(ax, cells["D"].to_numpy(), cells["loss"].to_numpy())
    ax.set_xlabel("D: tokens seen")
    ax.set_title("learning curves (one per size; dashed: fitted slices that fit)", fontsize=9)


def _capacity(ax: Axes, d: Any, g: int) -> None:
    pts = d.capacity_points[d.capacity_points["group"] == g]
    sigma = float(d.noise["sigma"].iloc[g])
    ds = np.unique(pts["D"].to_numpy())
    counts = pts.groupby("D")["N"].nunique()
    ds = np.asarray([v for v in ds if counts[v] >= 2])
    if ds.size > 8:  # at most eight curves, spread over the range
        ds = ds[np.unique(np.round(np.linspace(0, ds.size - 1, 8)).astype(int))]
    cols = dict(zip(ds, colours(len(ds))))
    cf = d.capacity[d.capacity["group"] == g] if len(d.capacity) else d.capacity
    for dv in ds:
        sub = pts[pts["D"] == dv].sort_values("N")
        ax.plot(
            sub["N"], sub["loss"], color=cols[dv], lw=0.8, marker="o", ms=3, label=f"D = {dv:.2g}"
        )
        fit = cf[np.isclose(cf["D"], dv)] if len(cf) else cf
        if _describes(fit, sigma):
            x = np.geomspace(sub["N"].min(), sub["N"].max(), 60)
            ax.plot(x, _power(fit.iloc[0], x), color=cols[dv], lw=1.2, ls="--")
    if len(pts):
        _frame(ax, pts["N"].to_numpy(), pts["loss"].to_numpy())
    ax.set_xlabel("N: parameters")
    ax.set_title("capacity curves (one per token count)", fontsize=9)
    if ds.size:
        ax.legend(fontsize=7, loc="best", framealpha=0.85)


def _frame(ax: Axes, x: np.ndarray, y: np.ndarray) -> None:
    """Axis limits around the cells, with plain tick labels on a loss axis spanning less than
    a decade."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, NullLocator

    ax.set_xlim(x.min() / 1.6, x.max() * 1.6)
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = float(y.min()), float(y.max())
    pad = (hi / lo) ** 0.08 if hi > lo else 1.05
    ax.set_ylim(lo / pad, hi * pad)
    if hi * pad / (lo / pad) < 10.0:
        ax.yaxis.set_major_locator(MaxNLocator(6))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _regime_points(ax: Axes, cells: pd.DataFrame, x: str, edge: list[Any]) -> None:
    for r in STYLE:
        sel = (cells["regime"] == r).to_numpy()
        if sel.any():
            m, c = STYLE[r]
            ax.scatter(
                cells[x][sel],
                cells["loss"][sel],
                marker=m,
                s=26,
                color=c,
                edgecolors=np.asarray(edge, dtype=object)[sel],
                linewidths=0.8,
                zorder=3,
            )


def _map(ax: Axes, d: Any, g: int) -> None:
    cells = d.cells[d.cells["group"] == g]
    for r in STYLE:
        sub = cells[cells["regime"] == r]
        if len(sub):
            m, c = STYLE[r]
            ax.scatter(
                sub["D"],
                sub["N"],
                marker=m,
                s=42,
                color=c,
                label=f"{r.replace('_', ' ')} ({len(sub)})",
            )
    lo, hi = cells["D"].min(), cells["D"].max()
    x = np.geomspace(lo, hi, 10)
    ax.plot(x, x / 20.0, color="0.5", lw=0.8, ls=":", label="D = 20 N")
    ax.set_ylim(cells["N"].min() / 1.5, cells["N"].max() * 1.5)
    ax.set_xlabel("D: tokens seen")
    ax.set_ylabel("N: parameters")
    ax.set_title("regime of each cell", fontsize=9)
    ax.legend(fontsize=7, loc="best", framealpha=0.85)


def plot_diagnosis(
    diagnosis: Any,
    group: int = 0,
    *,
    figsize: tuple[float, float] = (15.0, 4.6),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Three panels for one group: learning curves (loss against tokens, one per size, with
    the fitted slices L_inf + A D^-alpha dashed and the checkpoints of each run faint),
    capacity curves (loss against size at fixed tokens, with the fitted slices), and the regime
    of every cell on the (D, N) plane with the D = 20 N line. Cells are marked by regime
    (marker and fill) in the first panel.

    Args:
        diagnosis: the result of :func:`powerfit.diagnose`.
        group: which group (its position in ``diagnosis.keys``).
        figsize, dpi, path: the figure's size, resolution, and a file to save it to.

    Returns:
        The matplotlib Figure.
    """
    if not (isinstance(group, int) and 0 <= group < len(diagnosis.keys)):
        raise InvalidOptionError(f"group must be in 0..{len(diagnosis.keys) - 1}, got {group!r}")
    fig = new_figure(figsize, dpi)
    axes = fig.subplots(1, 3)
    for ax in axes:  # log axes first: drawing then sets limits and tick formats on them
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    _learning(axes[0], diagnosis, group)
    _capacity(axes[1], diagnosis, group)
    _map(axes[2], diagnosis, group)
    for ax in axes[:2]:
        ax.set_ylabel("validation loss")
    keys = diagnosis.keys
    label = (
        ""
        if keys.shape[1] == 0
        else " ("
        + ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in keys.iloc[group].items()
        )
        + ")"
    )
    n_cells = len(diagnosis.cells[diagnosis.cells.group == group])
    fig.suptitle(
        f"diagnosis{plot_text(label)}: {n_cells} cells",
        fontsize=10,
    )
    return finish(fig, path)
