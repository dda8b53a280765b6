"""The figure of a rollout validation: forecast error against extrapolation distance."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._markup import plot_text
from ._base import figure, finish

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


class RolloutLike(Protocol):
    """What the figure reads of a :class:`powerfit.forecast.RolloutResult` (named
    structurally, so the figures do not import the forecast package that draws them)."""

    @property
    def law(self) -> str: ...
    @property
    def by(self) -> str: ...
    @property
    def points(self) -> Any: ...


def plot_rollout(
    roll: RolloutLike,
    *,
    figsize: tuple[float, float] = (6.4, 4.2),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """|Relative error| of every held-out prediction of a :func:`powerfit.rollout` against its
    extrapolation distance (decades beyond its split's largest training scale), coloured by
    split, with the median per distance bin."""
    fig = figure(figsize, dpi)
    ax = fig.add_subplot(1, 1, 1)
    pts = roll.points[np.isfinite(roll.points["rel_error"])]
    err = 100 * pts["rel_error"].abs().to_numpy(dtype=float)
    dist = pts["distance"].to_numpy(dtype=float)
    sc = ax.scatter(dist, err, c=pts["split"], cmap="viridis", s=14, alpha=0.8)
    if dist.size > 1:
        bins = np.linspace(0.0, float(dist.max()) + 1e-9, 9)
        idx = np.digitize(dist, bins)
        used = [i for i in np.unique(idx) if i < len(bins)]
        ax.plot(
            [(bins[i - 1] + bins[i]) / 2 for i in used],
            [float(np.median(err[idx == i])) for i in used],
            color="black",
            lw=1.5,
            label="median",
        )
        ax.legend(loc="upper left", frameon=False)
    ax.set_yscale("log")
    by = plot_text(roll.by)
    ax.set_xlabel(f"extrapolation distance (decades of {by} beyond the training data)")
    ax.set_ylabel("|relative error| (%)")
    ax.set_title(f"rollout: law '{plot_text(roll.law)}'")
    fig.colorbar(sc, ax=ax, label="training scales (split)")
    return finish(fig, path)
