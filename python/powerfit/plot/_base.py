"""The figures' plumbing and shared helpers: Agg figures without pyplot, labels, bands."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from .._markup import plot_text

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..record import FitRecord as FitResult

MAX_BAND_REPLICATES = 1000
#: Greek letters for parameter names in labels.
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "alpha_N": "α_N", "alpha_D": "α_D", "eta": "η"}


def figure(figsize: tuple[float, float], dpi: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'powerfit[plot]'") from None
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        from .._files import save_figure

        save_figure(fig, path)
    return fig


def axis_label(res: FitResult, var: str) -> str:
    """Axis label of a variable: its data column, and the variable when they differ."""
    col = res.columns[res.variables.index(var)]
    names = {"N": "parameters", "D": "tokens", "C": "compute (FLOPs)"}
    if col != var:
        return plot_text(f"{col} ({var})")
    return plot_text(f"{var}: {names[var]}" if var in names else var)


def param_label(name: str) -> str:
    return plot_text(GREEK.get(name, name))


def short_params(res: FitResult) -> str:
    return ", ".join(f"{param_label(k)}={v:.4g}" for k, v in res.params.items())


def fixed(v: float, digits: int = 3) -> str:
    """``v`` with ``digits`` decimals, never "-0.000"."""
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def power_label(lhs: str, exponent: float, bounds: tuple[float, float] | None = None) -> str:
    """``lhs ∝ C^exponent`` in mathtext (the exponent raised), with an interval after it."""
    text = f"${lhs} \\propto C^{{{fixed(exponent)}}}$"
    if bounds is not None and all(np.isfinite(bounds)):
        text += f" [{fixed(bounds[0])}, {fixed(bounds[1])}]"
    return text


#: Mathtext of the compute-optimal quantities.
N_OPT, D_OPT, L_OPT = r"N_{\mathrm{opt}}", r"D_{\mathrm{opt}}", r"L_{\mathrm{opt}}"


def budget_label(c: float) -> str:
    """A compute budget as mathtext: 3e21 -> $3{\times}10^{21}$, 1e20 -> $10^{20}$."""
    e = math.floor(math.log10(c))
    m = c / 10**e
    if m >= 9.995:
        m, e = 1.0, e + 1
    mant = f"{m:.3g}"
    return f"$10^{{{e}}}$" if mant == "1" else f"${mant}{{\\times}}10^{{{e}}}$"


def inside(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Mask of the contiguous run of ``f`` within [lo, hi] around its minimum: the part of a
    curve that stays on the axes (curves are drawn only there, never off the top)."""
    ok = np.isfinite(f) & (f >= lo) & (f <= hi)
    if not ok.any():
        return ok
    j = int(np.nanargmin(np.where(ok, f, np.inf)))
    mask = np.zeros_like(ok)
    a = j
    while a > 0 and ok[a - 1]:
        a -= 1
    b = j
    while b + 1 < ok.size and ok[b + 1]:
        b += 1
    mask[a : b + 1] = True
    return mask


def legend_below(ax: Axes, handles: list[Any] | None = None, ncol: int = 2, **kw: Any) -> Any:
    """A legend under the axes, outside the data area (constrained layout makes room), so
    that it never covers a point or a curve."""
    args: dict[str, Any] = dict(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=ncol,
        fontsize=8,
        frameon=False,
    )
    args.update(kw)
    if handles is not None:
        args["handles"] = handles
    return ax.legend(**args)


def band_replicates(res: FitResult, limit: int = MAX_BAND_REPLICATES) -> np.ndarray | None:
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


def band(
    res: FitResult, reps: np.ndarray, xs: list[np.ndarray], level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile band of the law over the replicates, at the points ``xs``."""
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in xs]
    vals = res.model.predict_many(np.ascontiguousarray(reps), xs)
    est = res.model.predict(res.values, xs)
    return _core.intervals(vals, est, level, "percentile")


def log_grid(lo: float, hi: float, n: int = 160) -> np.ndarray:
    return np.geomspace(lo, hi, n)


def nice_budgets(cmin: float, cmax: float) -> list[float]:
    """Round compute budgets (1 and 3 times powers of ten) spanning [cmin, cmax]."""
    lo, hi = math.floor(math.log10(cmin)), math.ceil(math.log10(cmax))
    cands = [m * 10.0**e for e in range(lo, hi + 1) for m in (1.0, 3.0)]
    inside = [c for c in cands if cmin <= c <= cmax]
    if len(inside) > 10:
        inside = [c for c in inside if math.isclose(math.log10(c) % 1.0, 0.0, abs_tol=1e-9)]
    if len(inside) < 3:
        inside = list(np.geomspace(cmin, cmax, 4))
    return inside


def clusters(logc: np.ndarray, gap: float = 0.15) -> list[np.ndarray] | None:
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


def few_values(v: np.ndarray) -> np.ndarray | None:
    """The distinct values of a variable that takes a few, each at least twice."""
    vals, counts = np.unique(v, return_counts=True)
    if 2 <= len(vals) <= 10 and counts.min() >= 2:
        return vals
    return None


def log_ylim(ax: Axes, y: np.ndarray) -> tuple[float, float]:
    """Loss axis limits from the data (curves are clipped to them: see :func:`inside`), with
    tidy tick labels; returns the limits."""
    lo, hi = float(np.min(y)), float(np.max(y))
    pad = (hi / lo) ** 0.06 if hi > lo else 1.05
    ax.set_ylim(lo / pad, hi * pad)
    plain_ticks(ax.yaxis, lo / pad, hi * pad)
    return lo / pad, hi * pad


def _plain(v: float, _: Any = None) -> str:
    return f"{v:.4g}"


def plain_ticks(axis: Any, lo: float, hi: float) -> None:
    """Tidy tick labels on a log axis: plain numbers (2.5, 3, 3.5) when it holds fewer than
    two powers of ten, which log axes would otherwise label 2x10^0, 3x10^0; else labels at the
    powers of ten only (minor ticks unlabelled)."""
    from matplotlib.ticker import (
        FuncFormatter,
        LogFormatterSciNotation,
        LogLocator,
        MaxNLocator,
        NullFormatter,
        NullLocator,
    )

    if not (0 < lo < hi):
        return
    decades = [e for e in range(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1)]
    if len(decades) >= 2:
        axis.set_major_locator(LogLocator(base=10))
        axis.set_major_formatter(LogFormatterSciNotation(base=10, labelOnlyBase=True))
        axis.set_minor_formatter(NullFormatter())
        return
    ticks = [t for t in MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)]
    axis.set_ticks([t for t in ticks if lo <= t <= hi and t > 0])
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(_plain))


def zero_clean(axis: Any) -> None:
    """Plain tick labels on a linear axis with the decimals the tick spacing needs, and a tick
    that is zero up to rounding shown as 0 (never -0.000)."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, pos: Any = None) -> str:
        locs = np.asarray(axis.get_majorticklocs(), dtype=float)
        step = float(np.min(np.diff(np.sort(locs)))) if locs.size > 1 else abs(v) or 1.0
        if abs(v) <= 1e-6 * step:
            return "0"
        if step >= 1e4 or step < 1e-4:
            return f"{v:.3g}"
        digits = next(d for d in range(12) if abs(round(step * 10**d) - step * 10**d) < 1e-6)
        return f"{v:.{digits}f}"

    axis.set_major_formatter(FuncFormatter(fmt))


def colour_map() -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"]


def colours(n: int) -> list[Any]:
    """``n`` colours from the house colormap (viridis), dark to light."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]
