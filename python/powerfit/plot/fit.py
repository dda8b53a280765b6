"""Figures of a fit: the data with the fitted law, and the residuals."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._deprecate import renamed
from .._markup import plot_text
from ..errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..record import FitRecord as FitResult
from ._base import (
    axis_label,
    band,
    band_replicates,
    budget_label,
    clusters,
    colour_map,
    few_values,
    figure,
    finish,
    inside,
    legend_below,
    log_grid,
    log_ylim,
    nice_budgets,
    plain_ticks,
    short_params,
    zero_clean,
)

KINDS = ("auto", "isoflop", "slices", "parity")


@renamed({"k": "flops_per_param_token"})
def plot_fit(
    res: FitResult,
    ax: Axes | None = None,
    *,
    kind: str = "auto",
    flops_per_param_token: float = 6.0,
    band: bool = True,
    level: float = 0.95,
    budgets: Sequence[float] | None = None,
    figsize: tuple[float, float] = (7.0, 5.0),
    dpi: float = 100,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Data and the fitted law on log-log axes, with the bootstrap band when there is one.

    Args:
        res: the fit. Its bootstrap run, if any (``res.bootstrap(...)``), gives the band.
        ax: draw into these axes instead of a new figure.
        kind: for laws of two variables: ``"isoflop"`` (loss against N along curves of
            constant compute C = k N D, points coloured by C, each curve labelled with its
            budget and its loss-optimal N starred), ``"slices"`` (loss against one
            variable, one curve per value of the other, points coloured by it), ``"parity"``
            (observed against predicted) or ``"auto"`` (slices when one variable takes a few
            repeated values, else iso-FLOP curves for N and D, else slices). Laws of one
            variable draw the curve; of three, the parity plot.
        flops_per_param_token: k in C = k N D for ``"isoflop"`` (formerly ``k``).
        band: draw the pointwise bootstrap band (needs a bootstrap run).
        level: coverage of the band.
        budgets: the compute budgets of the iso-FLOP curves (default: the data's iso-FLOP
            groups if it has them, else round budgets spanning the data).
        figsize, dpi: size of a new figure in inches, and its resolution.
        title: the figure's title (default: the law, loss and estimates), shown literally.
        path: also save the figure there (format by extension).

    Curves are drawn where they lie within the data's loss range (never off the axes), and the
    legend sits under the axes, clear of the data.

    Returns:
        The matplotlib Figure.
    """
    k = flops_per_param_token
    if kind not in KINDS:
        raise InvalidOptionError(f"unknown kind '{kind}': use {', '.join(KINDS)}")
    if not 0.0 < level < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    if ax is None:
        fig = figure(figsize, dpi)
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    reps = band_replicates(res) if band else None
    nv = len(res.variables)
    if nv == 1:
        _draw_curve(res, ax, reps, level)
    elif (
        nv == 2
        and kind != "parity"
        and (kind == "isoflop" or all((res.data[v] > 0).all() for v in res.variables))
    ):
        v0, v1 = res.variables
        x0, x1 = res.data[v0], res.data[v1]
        isoflop_ok = set(res.variables) == {"N", "D"}
        if kind == "isoflop" and not isoflop_ok:
            raise InvalidOptionError(
                f"iso-FLOP curves need the variables N and D, not {', '.join(res.variables)}"
            )
        # slice by a variable that takes a few repeated values (D first), else by the second
        few = [v for v, x in ((v1, x1), (v0, x0)) if few_values(x) is not None]
        if kind == "auto":
            kind = "slices" if few or not isoflop_ok else "isoflop"
        if kind == "isoflop":
            _draw_isoflop(res, ax, reps, level, k, budgets)
        else:
            by = "D" if "D" in few else (few[0] if few else v1)
            _draw_slices(res, ax, reps, level, by)
    else:
        _draw_parity(res, ax, reps, level)
    if title is None:
        title = f"{plot_text(res.law)} fit ({res.loss}, {res.n_points} points)\n{short_params(res)}"
    else:
        title = plot_text(title)
    ax.set_title(title, fontsize=9)
    return finish(fig, path)


def _legend_handles(
    ax: Axes, reps: np.ndarray | None, level: float, extra: list[Any], title: str | None = None
) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Line2D([], [], ls="none", marker="o", color="0.4", ms=5, label="data"),
        Line2D([], [], color="0.25", lw=1.6, label="fitted law"),
    ]
    if reps is not None:
        handles.append(Patch(color="0.25", alpha=0.2, label=f"{level:.0%} bootstrap band"))
    legend_below(ax, handles + extra, ncol=min(4, len(handles) + len(extra)), title=title,
                 title_fontsize=8)  # fmt: skip


def _draw_curve(res: FitResult, ax: Axes, reps: np.ndarray | None, level: float) -> None:
    v = res.variables[0]
    x, y = res.data[v], res.problem.y
    logx, logy = bool((x > 0).all()), bool((y > 0).all())  # written laws may take any x
    if logx:
        xs = log_grid(float(x.min()) / 1.3, float(x.max()) * 1.3)
    else:
        span = float(np.ptp(x)) or 1.0
        xs = np.linspace(float(x.min()) - 0.05 * span, float(x.max()) + 0.05 * span, 200)
    ax.scatter(x, y, s=16, color="C0", alpha=0.75, edgecolor="none", zorder=3)
    f = res.predict(warn=False, **{v: xs})
    if logy:
        ylo, yhi = log_ylim(ax, y)
    else:
        span = float(np.ptp(y)) or 1.0
        ylo, yhi = float(y.min()) - 0.08 * span, float(y.max()) + 0.08 * span
        ax.set_ylim(ylo, yhi)
    keep = inside(f, ylo, yhi)
    if reps is not None:
        lo, hi = band(res, reps, [xs], level)
        ax.fill_between(xs[keep], np.clip(lo[keep], ylo, yhi), np.clip(hi[keep], ylo, yhi),
                        color="C0", alpha=0.2, lw=0)  # fmt: skip
    ax.plot(xs[keep], f[keep], color="C0", lw=1.8)
    ax.set_xscale("log" if logx else "linear")
    if logy:
        ax.set_yscale("log")
        plain_ticks(ax.yaxis, ylo, yhi)
    else:
        zero_clean(ax.yaxis)
    if logx:
        plain_ticks(ax.xaxis, float(xs[0]), float(xs[-1]))
    else:
        zero_clean(ax.xaxis)
    ax.set_xlim(float(xs[0]), float(xs[-1]))
    ax.set_xlabel(axis_label(res, v))
    ax.set_ylabel(plot_text(res.y_name))
    ax.grid(True, which="major", alpha=0.3)
    _legend_handles(ax, reps, level, [])


def _draw_isoflop(
    res: FitResult,
    ax: Axes,
    reps: np.ndarray | None,
    level: float,
    k: float,
    budgets: Sequence[float] | None,
) -> None:
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    N, D, y = res.data["N"], res.data["D"], res.problem.y
    C = k * N * D
    logc = np.log10(C)
    groups = clusters(logc) if budgets is None else None
    if budgets is not None:
        cs = sorted(float(c) for c in budgets)
        if not cs or min(cs) <= 0:
            raise InvalidOptionError("budgets must be positive")
    elif groups is not None:
        cs = [float(10 ** np.mean(logc[g])) for g in groups]
    else:
        cs = nice_budgets(float(C.min()), float(C.max()))
    norm = LogNorm(vmin=min(float(C.min()), min(cs)), vmax=max(float(C.max()), max(cs)))
    cmap = colour_map()
    sc = ax.scatter(N, y, c=C, cmap=cmap, norm=norm, s=16, alpha=0.8, edgecolor="none", zorder=3)
    ylo, yhi = log_ylim(ax, y)
    nmin, nmax, dmin, dmax = float(N.min()), float(N.max()), float(D.min()), float(D.max())
    curves = []
    for i, c in enumerate(cs):
        if groups is not None:
            g = groups[i]
            lo, hi = float(N[g].min()) / 1.5, float(N[g].max()) * 1.5
        else:
            lo = max(nmin / 1.5, c / (k * dmax * 1.5))
            hi = min(nmax * 1.5, c / (k * dmin / 1.5))
        if not lo < hi:
            continue
        n = log_grid(lo, hi)
        f = res.predict(N=n, D=c / (k * n), warn=False)
        keep = inside(f, ylo, yhi)
        if keep.sum() >= 2:
            curves.append((c, n[keep], f[keep]))
    if reps is not None and curves:
        allx = [
            np.concatenate([n for _, n, _ in curves]),
            np.concatenate([c / (k * n) for c, n, _ in curves]),
        ]
        blo, bhi = band(res, reps, allx, level)
        start = 0
        for c, n, _ in curves:
            sl = slice(start, start + n.shape[0])
            ax.fill_between(n, np.clip(blo[sl], ylo, yhi), np.clip(bhi[sl], ylo, yhi),
                            color=cmap(norm(c)), alpha=0.18, lw=0)  # fmt: skip
            start += n.shape[0]
    for c, n, f in curves:
        colour = cmap(norm(c))
        ax.plot(n, f, color=colour, lw=1.6)
        j = int(np.argmin(f))
        if 0 < j < n.shape[0] - 1:
            ax.plot(n[j], f[j], marker="*", ms=10, color=colour, mec="k", mew=0.6, zorder=4)
        # the budget at the curve's right end, inside the axes: the ends spread along the
        # top and the right edge, where the data are sparse
        top = f[-1] > ylo * (yhi / ylo) ** 0.95
        ax.annotate(budget_label(c), xy=(n[-1], f[-1]), xytext=(-4, -1 if top else 2),
                    textcoords="offset points", ha="right", va="top" if top else "bottom",
                    fontsize=7, color=colour, annotation_clip=True)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.yaxis, ylo, yhi)
    xlo = min([nmin / 1.6] + [float(n[0]) for _, n, _ in curves])
    xhi = max([nmax * 1.6] + [float(n[-1]) for _, n, _ in curves])
    ax.set_xlim(xlo, xhi)
    plain_ticks(ax.xaxis, xlo, xhi)
    ax.set_xlabel(axis_label(res, "N"))
    ax.set_ylabel(plot_text(res.y_name))
    ax.grid(True, which="major", alpha=0.3)
    cb = ax.figure.colorbar(sc, ax=ax, pad=0.01)
    cb.set_label(f"compute C = {k:g}·N·D (FLOPs)")
    star = Line2D(
        [],
        [],
        ls="none",
        marker="*",
        ms=10,
        color="0.6",
        mec="k",
        mew=0.6,
        label="loss-optimal N on each curve",
    )
    _legend_handles(ax, reps, level, [star], title="curves: constant compute C (labelled)")


def _draw_slices(res: FitResult, ax: Axes, reps: np.ndarray | None, level: float, by: str) -> None:
    from matplotlib.colors import LogNorm

    xv = next(v for v in res.variables if v != by)
    x, s, y = res.data[xv], res.data[by], res.problem.y
    few = few_values(s)
    if few is not None:
        values = [float(v) for v in few]
    else:
        values = [float(v) for v in 10 ** np.quantile(np.log10(s), [0.05, 0.275, 0.5, 0.725, 0.95])]
        values = sorted(set(values))
    vmin, vmax = min(float(s.min()), min(values)), max(float(s.max()), max(values))
    if vmin == vmax:
        vmin, vmax = vmin / 2, vmax * 2
    norm = LogNorm(vmin=vmin, vmax=vmax)
    cmap = colour_map()
    sc = ax.scatter(x, y, c=s, cmap=cmap, norm=norm, s=16, alpha=0.8, edgecolor="none", zorder=3)
    ylo, yhi = log_ylim(ax, y)
    order = list(res.variables)

    def cols(g: np.ndarray, v: float) -> list[np.ndarray]:
        d = {xv: g, by: np.full_like(g, v)}
        return [d[name] for name in order]

    curves = []
    for v in values:
        if few is not None:
            m = s == v
            lo, hi = float(x[m].min()) / 1.3, float(x[m].max()) * 1.3
        else:
            lo, hi = float(x.min()) / 1.3, float(x.max()) * 1.3
        g = log_grid(lo, hi)
        f = res.predict(warn=False, **dict(zip(order, cols(g, v))))
        keep = inside(f, ylo, yhi)
        if keep.sum() >= 2:
            curves.append((v, g[keep], f[keep]))
    if reps is not None and curves:
        parts = [cols(g, v) for v, g, _ in curves]
        allx = [np.concatenate([p[i] for p in parts]) for i in range(2)]
        blo, bhi = band(res, reps, allx, level)
        start = 0
        for v, g, _ in curves:
            sl = slice(start, start + g.shape[0])
            ax.fill_between(g, np.clip(blo[sl], ylo, yhi), np.clip(bhi[sl], ylo, yhi),
                            color=cmap(norm(v)), alpha=0.18, lw=0)  # fmt: skip
            start += g.shape[0]
    for v, g, f in curves:
        colour = cmap(norm(v))
        ax.plot(g, f, color=colour, lw=1.6)
        # the slice's value at its right end, above the curve, inside the axes
        ax.annotate(f"{plot_text(by)} = {budget_label(v)}", xy=(g[-1], f[-1]), xytext=(-2, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7,
                    color=colour, annotation_clip=True)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.yaxis, ylo, yhi)
    xlo = min([float(x.min()) / 1.35] + [float(g[0]) for _, g, _ in curves])
    xhi = max([float(x.max()) * 1.35] + [float(g[-1]) for _, g, _ in curves])
    ax.set_xlim(xlo, xhi)
    plain_ticks(ax.xaxis, xlo, xhi)
    ax.set_xlabel(axis_label(res, xv))
    ax.set_ylabel(plot_text(res.y_name))
    ax.grid(True, which="major", alpha=0.3)
    cb = ax.figure.colorbar(sc, ax=ax, pad=0.01)
    cb.set_label(axis_label(res, by))
    _legend_handles(ax, reps, level, [])


def _draw_parity(res: FitResult, ax: Axes, reps: np.ndarray | None, level: float) -> None:
    from matplotlib.lines import Line2D

    y = res.problem.y
    f = res.predict(warn=False, **res.data)
    order = np.argsort(f)
    if reps is not None:
        xs = [res.data[v][order] for v in res.variables]
        lo, hi = band(res, reps, xs, level)
        ax.vlines(f[order], lo, hi, color="C0", alpha=0.25, lw=2)
    ax.scatter(f, y, s=16, color="C0", alpha=0.75, edgecolor="none", zorder=3)
    both = np.concatenate([y, f])
    if (both > 0).all():
        lo_, hi_ = float(both.min()) / 1.03, float(both.max()) * 1.03
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        span = float(np.ptp(both)) or 1.0
        lo_, hi_ = float(both.min()) - 0.03 * span, float(both.max()) + 0.03 * span
    ax.plot([lo_, hi_], [lo_, hi_], color="0.3", lw=1, ls="--")
    ax.set_xlim(lo_, hi_)
    ax.set_ylim(lo_, hi_)
    if lo_ > 0:
        plain_ticks(ax.xaxis, lo_, hi_)
        plain_ticks(ax.yaxis, lo_, hi_)
    else:
        zero_clean(ax.xaxis)
        zero_clean(ax.yaxis)
    ax.set_xlabel(plot_text(f"predicted {res.y_name}"))
    ax.set_ylabel(plot_text(f"observed {res.y_name}"))
    ax.grid(True, which="major", alpha=0.3)
    extra = [Line2D([], [], color="0.3", ls="--", label="observed = predicted")]
    if reps is not None:
        extra.append(
            Line2D([], [], color="C0", alpha=0.4, lw=2, label=f"{level:.0%} bootstrap interval")
        )
    handles = [Line2D([], [], ls="none", marker="o", color="C0", ms=5, label="data"), *extra]
    legend_below(ax, handles, ncol=len(handles))


#: ±delta is drawn as lines only when they stand apart from the zero line by this share of
#: the residual axis; a smaller delta is stated in the legend instead.
DELTA_VISIBLE = 0.04


def plot_residuals(
    res: FitResult,
    *,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Residuals on the loss's scale (prediction minus observation; log scale for the log and
    Huber-log losses) against each variable, and their histogram.

    For Huber losses, points beyond the threshold ±delta (down-weighted: they count linearly,
    not quadratically) are drawn hollow and counted in the legend; ±delta is drawn as lines
    when it stands apart from zero on the axis (a delta of 1e-3 against residuals of 1e-2
    would sit on the zero line, so it is stated instead).

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.lines import Line2D

    r = res.residuals()
    vars_ = list(res.variables)
    ncol = len(vars_) + 1
    fig = figure(figsize or (3.0 * ncol + 0.4, 3.8), dpi)
    axes = fig.subplots(1, ncol, sharey=True, squeeze=False)[0]
    logscale = res.loss == "log" or res.loss.endswith("_log")
    ylabel = "log(predicted) − log(observed)" if logscale else "predicted − observed"
    huber = "huber" in res.loss
    delta = float(res.delta) if huber else math.nan
    top = float(np.max(np.abs(r))) * 1.12 or 1.0
    lines = huber and delta >= DELTA_VISIBLE * 2 * top
    far = np.abs(r) > delta if huber else np.zeros(r.shape, dtype=bool)
    for ax, v in zip(axes[:-1], vars_):
        x = res.data[v]
        ax.scatter(x[~far], r[~far], s=12, alpha=0.75, color="C0", edgecolor="none")
        if far.any():
            ax.scatter(x[far], r[far], s=12, alpha=0.75, facecolor="none", edgecolor="C0", lw=0.8)
        ax.axhline(0.0, color="0.3", lw=1)
        if lines:
            for sgn in (-1, 1):
                ax.axhline(sgn * delta, color="C3", lw=0.8, ls="--")
        logx = bool((x > 0).all())
        ax.set_xscale("log" if logx else "linear")
        if logx:
            lo, hi = float(x.min()), float(x.max())
            pad = (hi / lo) ** 0.05 if hi > lo else 1.1
            ax.set_xlim(lo / pad, hi * pad)
            plain_ticks(ax.xaxis, lo / pad, hi * pad)
        else:
            zero_clean(ax.xaxis)
        ax.set_xlabel(axis_label(res, v))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylim(-top, top)
    zero_clean(axes[0].yaxis)
    axes[0].set_ylabel(ylabel)
    h = axes[-1]
    h.hist(
        r,
        bins=min(40, max(8, int(math.sqrt(r.shape[0])) * 2)),
        orientation="horizontal",
        color="C0",
        alpha=0.8,
    )
    h.axhline(0.0, color="0.3", lw=1)
    if lines:
        for sgn in (-1, 1):
            h.axhline(sgn * delta, color="C3", lw=0.8, ls="--")
    h.set_xlabel("count")
    h.grid(True, alpha=0.3)
    zero_clean(h.xaxis)
    if huber:
        share = float(far.mean())
        handles = [
            Line2D([], [], ls="none", marker="o", color="C0", ms=4,
                   label=f"|residual| ≤ δ ({1 - share:.0%})"),
            Line2D([], [], ls="none", marker="o", mfc="none", mec="C0", ms=4,
                   label=f"beyond ±δ, down-weighted ({share:.0%})"),
        ]  # fmt: skip
        if lines:
            handles.append(Line2D([], [], color="C3", lw=0.8, ls="--", label=f"±δ = ±{delta:g}"))
        else:
            handles.append(Line2D([], [], ls="none", label=f"δ = {delta:g}: too small to draw"))
        fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8,
                   frameon=False)  # fmt: skip
    rms = float(np.sqrt(np.mean(r * r)))
    fig.suptitle(
        f"residuals of the {plot_text(res.law)} fit: {res.n_points} points, RMS {rms:.3g}",
        fontsize=10,
    )
    return finish(fig, path)


# --- bootstrap -------------------------------------------------------------------------------
