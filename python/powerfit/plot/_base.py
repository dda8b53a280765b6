"""The figures' plumbing and shared helpers: Agg figures without pyplot, labels, bands."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core

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
        return f"{col} ({var})"
    return f"{var}: {names[var]}" if var in names else var


def param_label(name: str) -> str:
    return GREEK.get(name, name)


def short_params(res: FitResult) -> str:
    return ", ".join(f"{param_label(k)}={v:.4g}" for k, v in res.params.items())


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


def log_ylim(ax: Axes, y: np.ndarray) -> None:
    """Loss axis limits from the data (curves may run off them), with plain tick labels when
    the data span less than a decade (log axes would otherwise label them 2x10^0, 3x10^0)."""
    lo, hi = float(np.min(y)), float(np.max(y))
    pad = (hi / lo) ** 0.06 if hi > lo else 1.05
    ax.set_ylim(lo / pad, hi * pad)
    plain_ticks(ax.yaxis, lo / pad, hi * pad)


def plain_ticks(axis: Any, lo: float, hi: float) -> None:
    """Evenly spaced plain tick labels on a log axis spanning less than a decade."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

    if hi / lo >= 10.0:
        return
    axis.set_ticks([t for t in MaxNLocator(7).tick_values(lo, hi) if lo <= t <= hi])
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


# --- the fit ---------------------------------------------------------------------------------


def colour_map() -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"]


# --- residuals -------------------------------------------------------------------------------


def colours(n: int) -> list[Any]:
    """``n`` colours from the house colormap (viridis), dark to light."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]
