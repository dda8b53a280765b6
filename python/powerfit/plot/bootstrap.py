"""The bootstrap replicates' distributions and pairs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

from .._markup import plot_text
from ._base import figure, finish, param_label, zero_clean


def plot_bootstrap(
    boot: Any,
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
    names = (
        list(params) if params is not None else [n for n in res.param_names if n not in res.fixed]
    )
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
    fig = figure(figsize or (side * p + 0.3, side * p + 0.4), dpi)
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
    pick = (
        np.sort(rng.choice(cols.shape[0], max_points, replace=False))
        if cols.shape[0] > max_points
        else slice(None)
    )
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
                ax.set_title(
                    f"{param_label(names[j])} = {est[j]:.4g} [{ql:.3g}, {qh:.3g}]", fontsize=8
                )
            else:
                ax.scatter(
                    cols[pick, j],
                    cols[pick, i],
                    s=2,
                    alpha=0.25,
                    color="C0",
                    edgecolor="none",
                    rasterized=True,
                )
                ax.plot(est[j], est[i], marker="+", color="C3", ms=9, mew=1.5)
                if logs[i]:
                    ax.set_yscale("log")
                else:
                    zero_clean(ax.yaxis)
                ax.set_ylim(*lims[i])
            if logs[j]:
                ax.set_xscale("log")
            else:
                zero_clean(ax.xaxis)
            ax.set_xlim(*lims[j])
            ax.tick_params(labelsize=7)
            if i == p - 1:
                ax.set_xlabel(param_label(names[j]))
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(param_label(names[i]))
            elif i != j:
                ax.tick_params(labelleft=False)
    law = plot_text(res.law)
    fig.suptitle(
        f"bootstrap of the {law} fit: {good.shape[0]} of {boot.n} replicates converged "
        f"({boot.resample}); red: estimate and {level:.0%} percentile interval",
        fontsize=9,
    )
    return finish(fig, path)


# --- compute-optimal frontier ----------------------------------------------------------------
#: Bootstrap replicates behind the frontier's bands (laws without a closed form are solved
#: numerically per replicate and budget).
