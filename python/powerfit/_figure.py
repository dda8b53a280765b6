"""Figures for the workflow modules (diagnose, compute, testtime) in the house style: built on
the Agg canvas without pyplot (nothing global changes), constrained layout, saved atomically
when given a path."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> Figure:
    """An empty Figure on its own Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'powerfit[plot]'") from None
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    """Saves the figure to `path` (atomically, format by extension) when given."""
    if path is not None:
        from .io import save_figure

        save_figure(fig, path)
    return fig


def colours(n: int) -> list[Any]:
    """`n` colours from the house colormap (viridis), dark to light."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]
