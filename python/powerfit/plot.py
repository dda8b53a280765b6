"""Figures of fits and bootstrap runs (matplotlib, the optional extra ``powerfit[plot]``).

Every function builds a :class:`matplotlib.figure.Figure` on the Agg canvas directly, without
pyplot: nothing global changes (the backend of an interactive session is left alone, and figures
are not kept alive by pyplot's registry), so plotting is safe in scripts, servers and threads.
Each returns the Figure; save it with ``fig.savefig(path)`` or pass ``path=`` to write it
atomically. In Jupyter a returned Figure is displayed as usual.

- :func:`plot_fit`: data and the fitted law on log-log axes, one curve per slice (for laws of
  N and D: iso-FLOP curves, or loss against N for each D), with the bootstrap band.
- :func:`plot_residuals`: residuals against each variable, and their histogram.
- :func:`plot_bootstrap`: the replicates' parameter distributions and pairs.
- :func:`plot_frontier`: compute-optimal N*(C) and D*(C), and D*/N*, with bootstrap bands.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .bootstrap import BootstrapResult
    from .record import FitRecord as FitResult

#: Replicates used for a band: beyond a couple of thousand the percentiles do not move visibly.
MAX_BAND_REPLICATES = 1000
#: Greek letters for parameter names in labels.
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "alpha_N": "α_N", "alpha_D": "α_D",
          "eta": "η"}
KINDS = ("auto", "isoflop", "slices", "parity")


# --- plumbing --------------------------------------------------------------------------------
def _figure(figsize: tuple[float, float], dpi: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'powerfit[plot]'"
        ) from None
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        from ._files import save_figure

        save_figure(fig, path)
    return fig


def _label(res: FitResult, var: str) -> str:
    """Axis label of a variable: its data column, and the variable when they differ."""
    col = res.columns[res.variables.index(var)]
    names = {"N": "parameters", "D": "tokens", "C": "compute (FLOPs)"}
    if col != var:
        return f"{col} ({var})"
    return f"{var}: {names[var]}" if var in names else var


def _pname(name: str) -> str:
    return _GREEK.get(name, name)


def _short_params(res: FitResult) -> str:
    return ", ".join(f"{_pname(k)}={v:.4g}" for k, v in res.params.items())


def _replicates(res: FitResult, limit: int = MAX_BAND_REPLICATES) -> np.ndarray | None:
    """Converged bootstrap replicates (a fixed random subset of at most ``limit``), if any."""
    boot = res.boot
    if boot is None:
        return None
    good = boot.converged
    if good.shape[0] < 10:
        return None
    if good.shape[0] > limit:
        pick = np.random.default_rng(0).choice(good.shape[0], size=limit, replace=False)
        good = good[np.sort(pick)]
    return good


def _band(
    res: FitResult, reps: np.ndarray, xs: list[np.ndarray], level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile band of the law over the replicates, at the points ``xs``."""
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in xs]
    vals = res.model.predict_many(np.ascontiguousarray(reps), xs)
    est = res.model.predict(res.values, xs)
    return _core.intervals(vals, est, level, "percentile")


def _grid(lo: float, hi: float, n: int = 160) -> np.ndarray:
    return np.geomspace(lo, hi, n)


def _nice_budgets(cmin: float, cmax: float) -> list[float]:
    """Round compute budgets (1 and 3 times powers of ten) spanning [cmin, cmax]."""
    lo, hi = math.floor(math.log10(cmin)), math.ceil(math.log10(cmax))
    cands = [m * 10.0**e for e in range(lo, hi + 1) for m in (1.0, 3.0)]
    inside = [c for c in cands if cmin <= c <= cmax]
    if len(inside) > 10:
        inside = [c for c in inside if math.isclose(math.log10(c) % 1.0, 0.0, abs_tol=1e-9)]
    if len(inside) < 3:
        inside = list(np.geomspace(cmin, cmax, 4))
    return inside


def _clusters(logc: np.ndarray, gap: float = 0.15) -> list[np.ndarray] | None:
    """Row indices of each iso-FLOP group, when the budgets form tight, well separated groups."""
    order = np.argsort(logc)
    s = logc[order]
    cuts = np.flatnonzero(np.diff(s) > gap) + 1
    groups = np.split(order, cuts)
    if not 2 <= len(groups) <= 12:
        return None
    if any(len(g) < 3 or np.ptp(logc[g]) > gap for g in groups):
        return None
    return groups


def _few_values(v: np.ndarray) -> np.ndarray | None:
    """The distinct values of a variable that takes a few, each at least twice."""
    vals, counts = np.unique(v, return_counts=True)
    if 2 <= len(vals) <= 10 and counts.min() >= 2:
        return vals
    return None


def _log_ylim(ax: Axes, y: np.ndarray) -> None:
    """Loss axis limits from the data (curves may run off them), with plain tick labels when
    the data span less than a decade (log axes would otherwise label them 2x10^0, 3x10^0)."""
    lo, hi = float(np.min(y)), float(np.max(y))
    pad = (hi / lo) ** 0.06 if hi > lo else 1.05
    ax.set_ylim(lo / pad, hi * pad)
    _plain_ticks(ax.yaxis, lo / pad, hi * pad)


def _plain_ticks(axis: Any, lo: float, hi: float) -> None:
    """Evenly spaced plain tick labels on a log axis spanning less than a decade."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

    if hi / lo >= 10.0:
        return
    axis.set_ticks([t for t in MaxNLocator(7).tick_values(lo, hi) if lo <= t <= hi])
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


# --- the fit ---------------------------------------------------------------------------------
def plot_fit(
    res: FitResult,
    ax: Axes | None = None,
    *,
    kind: str = "auto",
    k: float = 6.0,
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
            constant compute C = k N D, points coloured by C), ``"slices"`` (loss against one
            variable, one curve per value of the other, points coloured by it), ``"parity"``
            (observed against predicted) or ``"auto"`` (slices when one variable takes a few
            repeated values, else iso-FLOP curves for N and D, else slices). Laws of one
            variable draw the curve; of three, the parity plot.
        k: FLOPs per parameter per token for ``"isoflop"`` (C = k N D).
        band: draw the pointwise bootstrap band (needs a bootstrap run).
        level: coverage of the band.
        budgets: the compute budgets of the iso-FLOP curves (default: the data's iso-FLOP
            groups if it has them, else round budgets spanning the data).
        figsize, dpi: size of a new figure in inches, and its resolution.
        title: the figure's title (default: the law, loss and estimates).
        path: also save the figure there (format by extension).

    Returns:
        The matplotlib Figure.
    """
    if kind not in KINDS:
        raise InvalidOptionError(f"unknown kind '{kind}': use {', '.join(KINDS)}")
    if not 0.0 < level < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    if ax is None:
        fig = _figure(figsize, dpi)
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    reps = _replicates(res) if band else None
    nv = len(res.variables)
    if nv == 1:
        _draw_curve(res, ax, reps, level)
    elif nv == 2 and kind != "parity" and (
        kind == "isoflop" or all((res.data[v] > 0).all() for v in res.variables)
    ):
        v0, v1 = res.variables
        x0, x1 = res.data[v0], res.data[v1]
        isoflop_ok = set(res.variables) == {"N", "D"}
        if kind == "isoflop" and not isoflop_ok:
            raise InvalidOptionError(
                f"iso-FLOP curves need the variables N and D, not {', '.join(res.variables)}"
            )
        # slice by a variable that takes a few repeated values (D first), else by the second
        few = [v for v, x in ((v1, x1), (v0, x0)) if _few_values(x) is not None]
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
        title = f"{res.law} fit ({res.loss}, {res.n_points} points)\n{_short_params(res)}"
    ax.set_title(title, fontsize=9)
    return _finish(fig, path)


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
    ax.legend(handles=handles + extra, fontsize=8, loc="best", framealpha=0.85, title=title,
              title_fontsize=8)


def _draw_curve(res: FitResult, ax: Axes, reps: np.ndarray | None, level: float) -> None:
    v = res.variables[0]
    x, y = res.data[v], res.problem.y
    logx, logy = bool((x > 0).all()), bool((y > 0).all())  # written laws may take any x
    if logx:
        grid = _grid(float(x.min()) / 1.3, float(x.max()) * 1.3)
    else:
        span = float(np.ptp(x)) or 1.0
        grid = np.linspace(float(x.min()) - 0.05 * span, float(x.max()) + 0.05 * span, 200)
    ax.scatter(x, y, s=16, color="C0", alpha=0.75, edgecolor="none", zorder=3)
    if reps is not None:
        lo, hi = _band(res, reps, [grid], level)
        ax.fill_between(grid, lo, hi, color="C0", alpha=0.2, lw=0)
    ax.plot(grid, res.predict(**{v: grid}), color="C0", lw=1.8)
    ax.set_xscale("log" if logx else "linear")
    if logy:
        ax.set_yscale("log")
        _log_ylim(ax, y)
    ax.set_xlabel(_label(res, v))
    ax.set_ylabel(res.y_name)
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
    groups = _clusters(logc) if budgets is None else None
    if budgets is not None:
        cs = sorted(float(c) for c in budgets)
        if not cs or min(cs) <= 0:
            raise InvalidOptionError("budgets must be positive")
    elif groups is not None:
        cs = [float(10 ** np.mean(logc[g])) for g in groups]
    else:
        cs = _nice_budgets(float(C.min()), float(C.max()))
    norm = LogNorm(vmin=min(float(C.min()), min(cs)), vmax=max(float(C.max()), max(cs)))
    cmap = _cmap()
    sc = ax.scatter(N, y, c=C, cmap=cmap, norm=norm, s=16, alpha=0.8, edgecolor="none",
                    zorder=3)
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
        n = _grid(lo, hi)
        curves.append((c, n, c / (k * n)))
    if reps is not None and curves:
        allx = [np.concatenate([n for _, n, _ in curves]), np.concatenate([d for _, _, d in curves])]
        blo, bhi = _band(res, reps, allx, level)
        start = 0
        for c, n, _ in curves:
            sl = slice(start, start + n.shape[0])
            ax.fill_between(n, blo[sl], bhi[sl], color=cmap(norm(c)), alpha=0.18, lw=0)
            start += n.shape[0]
    for c, n, d in curves:
        f = res.predict(N=n, D=d)
        colour = cmap(norm(c))
        ax.plot(n, f, color=colour, lw=1.6)
        j = int(np.nanargmin(f))
        if 0 < j < n.shape[0] - 1:
            ax.plot(n[j], f[j], marker="*", ms=10, color=colour, mec="k", mew=0.6, zorder=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_ylim(ax, y)
    ax.set_xlabel(_label(res, "N"))
    ax.set_ylabel(res.y_name)
    ax.grid(True, which="major", alpha=0.3)
    cb = ax.figure.colorbar(sc, ax=ax, pad=0.01)
    cb.set_label(f"compute C = {k:g}·N·D (FLOPs)")
    star = Line2D([], [], ls="none", marker="*", ms=10, color="0.6", mec="k", mew=0.6,
                  label="loss-optimal N on each curve")
    _legend_handles(ax, reps, level, [star], title="curves: constant compute")


def _draw_slices(
    res: FitResult, ax: Axes, reps: np.ndarray | None, level: float, by: str
) -> None:
    from matplotlib.colors import LogNorm

    xv = next(v for v in res.variables if v != by)
    x, s, y = res.data[xv], res.data[by], res.problem.y
    few = _few_values(s)
    if few is not None:
        values = [float(v) for v in few]
    else:
        values = [float(v) for v in 10 ** np.quantile(np.log10(s), [0.05, 0.275, 0.5, 0.725, 0.95])]
        values = sorted(set(values))
    vmin, vmax = min(float(s.min()), min(values)), max(float(s.max()), max(values))
    if vmin == vmax:
        vmin, vmax = vmin / 2, vmax * 2
    norm = LogNorm(vmin=vmin, vmax=vmax)
    cmap = _cmap()
    sc = ax.scatter(x, y, c=s, cmap=cmap, norm=norm, s=16, alpha=0.8, edgecolor="none", zorder=3)
    curves = []
    for v in values:
        if few is not None:
            m = s == v
            lo, hi = float(x[m].min()) / 1.3, float(x[m].max()) * 1.3
        else:
            lo, hi = float(x.min()) / 1.3, float(x.max()) * 1.3
        g = _grid(lo, hi)
        curves.append((v, g))
    order = list(res.variables)

    def cols(g: np.ndarray, v: float) -> list[np.ndarray]:
        d = {xv: g, by: np.full_like(g, v)}
        return [d[name] for name in order]

    if reps is not None:
        parts = [cols(g, v) for v, g in curves]
        allx = [np.concatenate([p[i] for p in parts]) for i in range(2)]
        blo, bhi = _band(res, reps, allx, level)
        start = 0
        for v, g in curves:
            sl = slice(start, start + g.shape[0])
            ax.fill_between(g, blo[sl], bhi[sl], color=cmap(norm(v)), alpha=0.18, lw=0)
            start += g.shape[0]
    for v, g in curves:
        f = res.predict(**dict(zip(order, cols(g, v))))
        ax.plot(g, f, color=cmap(norm(v)), lw=1.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_ylim(ax, y)
    ax.set_xlabel(_label(res, xv))
    ax.set_ylabel(res.y_name)
    ax.grid(True, which="major", alpha=0.3)
    cb = ax.figure.colorbar(sc, ax=ax, pad=0.01)
    cb.set_label(_label(res, by))
    _legend_handles(ax, reps, level, [])


def _draw_parity(res: FitResult, ax: Axes, reps: np.ndarray | None, level: float) -> None:
    from matplotlib.lines import Line2D

    y = res.problem.y
    f = res.predict(**res.data)
    order = np.argsort(f)
    if reps is not None:
        xs = [res.data[v][order] for v in res.variables]
        lo, hi = _band(res, reps, xs, level)
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
        _plain_ticks(ax.xaxis, lo_, hi_)
        _plain_ticks(ax.yaxis, lo_, hi_)
    ax.set_xlabel(f"predicted {res.y_name}")
    ax.set_ylabel(f"observed {res.y_name}")
    ax.grid(True, which="major", alpha=0.3)
    extra = [Line2D([], [], color="0.3", ls="--", label="observed = predicted")]
    if reps is not None:
        extra.append(Line2D([], [], color="C0", alpha=0.4, lw=2,
                            label=f"{level:.0%} bootstrap interval"))
    ax.legend(handles=[Line2D([], [], ls="none", marker="o", color="C0", ms=5, label="data"),
                       *extra], fontsize=8, loc="best")


def _cmap() -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"]


# --- residuals -------------------------------------------------------------------------------
def plot_residuals(
    res: FitResult,
    *,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Residuals on the loss's scale (prediction minus observation; log scale for the log and
    Huber-log losses) against each variable, and their histogram. For Huber losses the
    threshold ±delta is drawn: points beyond it are down-weighted.

    Returns:
        The matplotlib Figure.
    """
    r = res.residuals()
    vars_ = list(res.variables)
    ncol = len(vars_) + 1
    fig = _figure(figsize or (3.0 * ncol + 0.4, 3.4), dpi)
    axes = fig.subplots(1, ncol, sharey=True, squeeze=False)[0]
    logscale = res.loss == "log" or res.loss.endswith("_log")
    ylabel = "log(predicted) − log(observed)" if logscale else "predicted − observed"
    huber = "huber" in res.loss
    for ax, v in zip(axes[:-1], vars_):
        ax.scatter(res.data[v], r, s=12, alpha=0.7, color="C0", edgecolor="none")
        ax.axhline(0.0, color="0.3", lw=1)
        if huber:
            for sgn in (-1, 1):
                ax.axhline(sgn * res.delta, color="C3", lw=0.8, ls="--")
        ax.set_xscale("log" if (res.data[v] > 0).all() else "linear")
        ax.set_xlabel(_label(res, v))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(ylabel)
    h = axes[-1]
    h.hist(r, bins=min(40, max(8, int(math.sqrt(r.shape[0])) * 2)), orientation="horizontal",
           color="C0", alpha=0.8)
    h.axhline(0.0, color="0.3", lw=1)
    if huber:
        for sgn in (-1, 1):
            h.axhline(sgn * res.delta, color="C3", lw=0.8, ls="--",
                      label="Huber ±δ" if sgn > 0 else None)
        h.legend(fontsize=8, loc="best")
    h.set_xlabel("count")
    h.grid(True, alpha=0.3)
    rms = float(np.sqrt(np.mean(r * r)))
    fig.suptitle(f"residuals of the {res.law} fit: {res.n_points} points, RMS {rms:.3g}",
                 fontsize=10)
    return _finish(fig, path)


# --- bootstrap -------------------------------------------------------------------------------
def plot_bootstrap(
    boot: BootstrapResult,
    params: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    max_points: int = 2000,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The replicates' distributions: a histogram per parameter (with the full-data estimate
    and the percentile interval) and a scatter per pair (a corner plot). Amplitudes spanning
    more than a decade are drawn on log axes. Failed replicates are left out.

    Args:
        params: which parameters (default: all free ones).
        level: coverage of the marked percentile interval.
        max_points: replicates drawn in the scatter plots (a fixed random subset).

    Returns:
        The matplotlib Figure.
    """
    res = boot.result
    names = list(params) if params is not None else [
        n for n in res.param_names if n not in res.fixed
    ]
    for n in names:
        if n not in res.param_names:
            raise InvalidOptionError(
                f"law '{res.law}' has no parameter '{n}'; its parameters are "
                f"{', '.join(res.param_names)}"
            )
    if not names:
        raise InvalidOptionError("no free parameters to plot")
    good = np.asarray(boot.samples)[np.asarray(boot.success, dtype=bool)]
    if good.shape[0] < 2:
        raise InvalidOptionError("fewer than two converged replicates: nothing to plot")
    idx = [res.param_names.index(n) for n in names]
    cols = good[:, idx]
    est = res.values[idx]
    p = len(names)
    side = max(1.9, min(2.6, 11.0 / p))
    fig = _figure(figsize or (side * p + 0.3, side * p + 0.4), dpi)
    axes = fig.subplots(p, p, squeeze=False)
    q = (1.0 - level) / 2.0
    logs, lims = [], []
    for j in range(p):
        c = cols[:, j]
        lo, hi = np.quantile(c, [0.005, 0.995])
        islog = bool(c.min() > 0 and hi / max(lo, 1e-300) > 10.0)
        if islog:
            pad = (hi / lo) ** 0.05
            lims.append((lo / pad, hi * pad))
        else:
            pad = 0.05 * (hi - lo) if hi > lo else max(abs(lo) * 0.05, 1e-12)
            lims.append((lo - pad, hi + pad))
        logs.append(islog)
    rng = np.random.default_rng(0)
    pick = (np.sort(rng.choice(cols.shape[0], max_points, replace=False))
            if cols.shape[0] > max_points else slice(None))
    for i in range(p):
        for j in range(p):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                c = cols[:, j]
                lo, hi = lims[j]
                inside = c[(c >= lo) & (c <= hi)]
                bins = np.geomspace(lo, hi, 41) if logs[j] else np.linspace(lo, hi, 41)
                ax.hist(inside, bins=bins, color="C0", alpha=0.75)
                ql, qh = np.quantile(c, [q, 1.0 - q])
                ax.axvline(est[j], color="C3", lw=1.4)
                for b in (ql, qh):
                    ax.axvline(b, color="C3", lw=1, ls="--")
                ax.set_yticks([])
                ax.set_title(f"{_pname(names[j])} = {est[j]:.4g} [{ql:.3g}, {qh:.3g}]",
                             fontsize=8)
            else:
                ax.scatter(cols[pick, j], cols[pick, i], s=2, alpha=0.25, color="C0",
                           edgecolor="none", rasterized=True)
                ax.plot(est[j], est[i], marker="+", color="C3", ms=9, mew=1.5)
                if logs[i]:
                    ax.set_yscale("log")
                ax.set_ylim(*lims[i])
            if logs[j]:
                ax.set_xscale("log")
            ax.set_xlim(*lims[j])
            ax.tick_params(labelsize=7)
            if i == p - 1:
                ax.set_xlabel(_pname(names[j]))
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(_pname(names[i]))
            elif i != j:
                ax.tick_params(labelleft=False)
    fig.suptitle(
        f"bootstrap of the {res.law} fit: {good.shape[0]} of {boot.n} replicates converged "
        f"({boot.method}); red: estimate and {level:.0%} percentile interval",
        fontsize=9,
    )
    return _finish(fig, path)


# --- compute-optimal frontier ----------------------------------------------------------------
#: Bootstrap replicates behind the frontier's bands (laws without a closed form are solved
#: numerically per replicate and budget).
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
    from .analysis import optimal_table

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
    fig = _figure(figsize, dpi)
    from matplotlib.ticker import NullLocator

    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
    labels = {"N_opt": "N*: parameters", "D_opt": "D*: tokens"}
    for key, exp in (("N_opt", "a"), ("D_opt", "b")):
        if exp in table.columns:
            labels[key] += f" ∝ C^{float(table[exp].iloc[0]):.3f}"
    for key, colour in (("N_opt", "C0"), ("D_opt", "C1")):
        if bands:
            ax.fill_between(cs, table[f"{key}_lower"], table[f"{key}_upper"], color=colour,
                            alpha=0.2, lw=0)
        ax.plot(cs, table[key], color=colour, lw=1.8, label=labels[key])
    if bands:
        ax2.fill_between(cs, table["tokens_per_param_lower"], table["tokens_per_param_upper"],
                         color="C2", alpha=0.2, lw=0)
    ax2.plot(cs, table["tokens_per_param"], color="C2", lw=1.8)
    for a in (ax, ax2):
        if math.isfinite(dlo):
            a.axvspan(max(dlo, lo), min(dhi, hi), color="0.85", alpha=0.5, lw=0,
                      label="compute range of the data" if a is ax else None)
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
    return _finish(fig, path)
