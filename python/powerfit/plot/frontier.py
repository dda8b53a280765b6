"""Compute-optimal frontiers: from a fitted law, from IsoFLOP profiles, from the envelope.

Results with several groups (``by=``) are drawn as a grid of small multiples, one panel per
group on common colour scales, or one group at a time with ``group=``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._deprecate import renamed
from .._markup import plot_text
from ..errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..record import FitRecord as FitResult
from ._base import (
    D_OPT,
    N_OPT,
    colour_map,
    figure,
    finish,
    fixed,
    legend_below,
    plain_ticks,
    power_label,
    zero_clean,
)

MAX_FRONTIER_REPLICATES = 1000
#: Characters of a group's label shown in a panel title.
MAX_LABEL = 48


@renamed({"k": "flops_per_param_token"})
def plot_frontier(
    res: FitResult,
    C_min: float | None = None,
    C_max: float | None = None,
    *,
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    n: int = 40,
    figsize: tuple[float, float] = (10.0, 4.6),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Compute-optimal model size N_opt and data D_opt against the budget C = k N D, and tokens
    per parameter D_opt/N_opt, with bootstrap bands when the fit has a bootstrap run (from
    :meth:`FitResult.compute_optimal`).

    Args:
        C_min, C_max: the range of compute budgets in FLOPs (default: from the smallest budget
            in the data to 1,000 times the largest).
        flops_per_param_token: k in C = k N D (formerly ``k``).
        level: coverage of the bands.
        n: number of budgets drawn.

    Returns:
        The matplotlib Figure.

    Raises:
        InvalidLawError, InvalidOptionError: the law has no N and D terms, or the data tie a
            C term to N and D.
    """
    from ..analysis import optimal_table

    k = flops_per_param_token
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
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
    labels = {"N_opt": f"${N_OPT}$: parameters", "D_opt": f"${D_OPT}$: tokens"}
    for key, exp, sym, what in (("N_opt", "a", N_OPT, "parameters"),
                                ("D_opt", "b", D_OPT, "tokens")):  # fmt: skip
        if exp in table.columns:
            labels[key] = f"{power_label(sym, float(table[exp].iloc[0]))}: {what}"
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
    ax2.plot(cs, table["tokens_per_param"], color="C2", lw=1.8, label=f"${D_OPT}/{N_OPT}$")
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
        plain_ticks(a.xaxis, lo, hi)
        a.set_xlabel(f"compute C = {k:g}·N·D (FLOPs)")
        a.grid(True, which="major", alpha=0.3)
    ax.set_yscale("log")
    ylo, yhi = ax.get_ylim()
    plain_ticks(ax.yaxis, ylo, yhi)
    ax.set_ylabel(f"compute-optimal ${N_OPT}$ and ${D_OPT}$")
    legend_below(ax, ncol=2)
    ax2.set_ylabel(f"tokens per parameter ${D_OPT}/{N_OPT}$")
    zero_clean(ax2.yaxis)
    band_note = f"; bands: {level:.0%} bootstrap" if bands else ""
    fig.suptitle(
        f"compute-optimal frontier of the {plot_text(res.law)} fit{band_note}", fontsize=10
    )
    return finish(fig, path)


# --- frontier analyses: one group, or a grid of groups --------------------------------------
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


def _check_group(res: Any, group: Any) -> int:
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)):
        raise InvalidOptionError(f"group must be a group's row number, got {group!r}")
    if not 0 <= int(group) < res.n_groups:
        raise InvalidOptionError(f"group must be in 0..{res.n_groups - 1}, got {group}")
    return int(group)


def select_groups(res: Any, groups: Any) -> list[int]:
    """Row numbers of the groups chosen by ``groups``: None (all), or a sequence of row
    numbers, labels as in ``result.group_label`` (``"config=a, size=b"``) and mappings of
    key values (``{"dataset": "c4"}`` picks every group with that value)."""
    n = res.n_groups
    if groups is None:
        return list(range(n))
    items = [groups] if isinstance(groups, (str, Mapping, int, np.integer)) else list(groups)
    labels = [res.group_label(g) for g in range(n)]
    keys = res.keys
    out: list[int] = []
    for item in items:
        if isinstance(item, Mapping):
            unknown = [c for c in item if c not in res.by]
            if unknown:
                raise InvalidOptionError(f"groups: {unknown} are not key columns ({res.by})")
            hit = [
                g for g in range(n) if all(str(keys.iloc[g][c]) == str(v) for c, v in item.items())
            ]
        elif isinstance(item, str):
            hit = [g for g in range(n) if labels[g] == item]
        else:
            hit = [_check_group(res, item)]
        if not hit:
            raise InvalidOptionError(f"groups: no group matches {item!r}")
        out += [g for g in hit if g not in out]
    return out


def _short(label: str) -> str:
    """A group's label for a title: wrapped on commas, at most three lines."""
    import textwrap

    lines = textwrap.wrap(plot_text(label), MAX_LABEL) or [""]
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][: MAX_LABEL - 1] + "…"
    return "\n".join(lines)


def _varying_labels(result: Any, chosen: list[int]) -> list[str]:
    """Each chosen group's label by the key columns whose values differ between them (the
    shared ones would repeat in every panel)."""
    keys = result.keys.iloc[chosen]
    cols = [c for c in keys.columns if keys[c].astype(str).nunique() > 1] or list(keys.columns)
    return [", ".join(f"{c}={keys.iloc[i][c]}" for c in cols) for i in range(len(chosen))]


def _scalar_mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def _log_limits(ax: Axes, xs: np.ndarray, ys: np.ndarray) -> None:
    """Log-log limits around the drawn values, with tidy ticks on both axes."""
    xs, ys = xs[np.isfinite(xs) & (xs > 0)], ys[np.isfinite(ys) & (ys > 0)]
    if xs.size:
        lo, hi = float(xs.min()), float(xs.max())
        pad = (hi / lo) ** 0.06 if hi > lo else 1.3
        ax.set_xlim(lo / pad, hi * pad)
        plain_ticks(ax.xaxis, lo / pad, hi * pad)
    if ys.size:
        lo, hi = float(ys.min()), float(ys.max())
        pad = (hi / lo) ** 0.08 if hi > lo else 1.05
        ax.set_ylim(lo / pad, hi * pad)
        plain_ticks(ax.yaxis, lo / pad, hi * pad)


def _draw_profiles(ax: Axes, result: Any, group: int, cmap: Any, norm: Any) -> None:
    """One group's IsoFLOP profiles (loss against N, a colour per budget) with each located
    optimum and its bootstrap interval; dropped budgets faded, without an optimum."""
    pts = _group_rows(result, result.points, group)
    opt = _group_rows(result, result.optima, group)
    rtol = float(result.settings.get("budget_rtol", 1e-3))
    pc = pts["C"].to_numpy()
    for j, c in enumerate(opt["C"].to_numpy()):
        sel = pts.loc[np.abs(pc / c - 1.0) <= max(rtol, 1e-9) * 1.0001 + 1e-12].sort_values("N")
        ok = opt["status"].iloc[j] == "ok"
        colour = cmap(norm(c))
        ax.plot(sel["N"], sel["loss"], "o-", color=colour, ms=3.5, lw=1.0,
                alpha=1.0 if ok else 0.3)  # fmt: skip
        if ok:
            row = opt.iloc[j]
            ax.plot([row["N_opt"]], [row["L_opt"]], marker="*", ms=11, color=colour,
                    mec="black", mew=0.6, zorder=5)  # fmt: skip
            if np.isfinite(row["N_opt_lower"]):
                ax.hlines(row["L_opt"], row["N_opt_lower"], row["N_opt_upper"], color=colour,
                          lw=2.0, alpha=0.8)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_limits(ax, pts["N"].to_numpy(dtype=float), pts["loss"].to_numpy(dtype=float))
    ax.grid(True, which="major", alpha=0.3)


def _draw_curves(ax: Axes, result: Any, group: int, cmap: Any, norm: Any, max_runs: int) -> None:
    """One group's training curves (loss against compute, a colour per model size) with
    their lower envelope and the budgets where an optimum was read off."""
    pts = _group_rows(result, result.points, group)
    opt = _group_rows(result, result.optima, group)
    by_run: Any = pts.groupby(pts["run"].astype(str), sort=False) if "run" in pts else []
    for j, (_, sel) in enumerate(by_run):
        if j >= int(max_runs):
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
    _log_limits(ax, pts["C"].to_numpy(dtype=float), pts["loss"].to_numpy(dtype=float))
    ax.grid(True, which="major", alpha=0.3)


def _draw_frontier(
    ax: Axes, r: dict[str, Any], opt: pd.DataFrame, level: float, bars: bool = True
) -> None:
    """N_opt and D_opt at the budgets with an optimum (with bootstrap bars or a band), the
    fitted power laws over the budgets used, and the dropped budgets."""
    ok = (opt["status"] == "ok").to_numpy()
    o = opt.loc[ok]
    drawn: list[np.ndarray] = []
    if len(o):
        c = o["C"].to_numpy()
        nopt = o["N_opt"].to_numpy()
        lo = np.clip(nopt - o["N_opt_lower"].to_numpy(), 0, None)
        hi = np.clip(o["N_opt_upper"].to_numpy() - nopt, 0, None)
        has = np.isfinite(lo) & np.isfinite(hi)
        if bars and has.any():
            ax.errorbar(c[has], nopt[has], yerr=[lo[has], hi[has]], fmt="o", ms=4, color="C0",
                        ecolor="C0", elinewidth=1, capsize=2,
                        label=f"${N_OPT}$ per budget ({level:.0%} bootstrap)")  # fmt: skip
            if (~has).any():
                ax.plot(c[~has], nopt[~has], "o", ms=4, color="C0")
        else:
            if has.any():
                ax.fill_between(c, o["N_opt_lower"], o["N_opt_upper"], color="C0", alpha=0.2,
                                lw=0, label=f"${N_OPT}$ {level:.0%} bootstrap")  # fmt: skip
            ax.plot(c, nopt, "o", ms=3, color="C0", label=f"${N_OPT}$ per budget")
        ax.plot(c, o["D_opt"], "s", ms=3, color="C1", alpha=0.8, label=f"${D_OPT}$ per budget")
        drawn += [c, nopt, o["D_opt"].to_numpy(), o["N_opt_lower"].to_numpy(),
                  o["N_opt_upper"].to_numpy()]  # fmt: skip
        if np.isfinite(r["a"]):
            cs = np.geomspace(c.min(), c.max(), 50)
            ax.plot(cs, np.exp(r["log_k_N"] + r["a"] * np.log(cs)), color="C0", lw=1.6,
                    label=power_label(N_OPT, r["a"], (r["a_lower"], r["a_upper"])))  # fmt: skip
            ax.plot(cs, np.exp(r["log_k_D"] + r["b"] * np.log(cs)), color="C1", lw=1.6,
                    label=power_label(D_OPT, r["b"], (r["b_lower"], r["b_upper"])))  # fmt: skip
    dropped = opt.loc[~ok, "C"].to_numpy()
    if 0 < dropped.size <= 20:
        for j, c in enumerate(dropped):
            ax.axvline(c, color="0.6", lw=0.8, ls=":", label="dropped budget" if j == 0 else None)
        drawn.append(dropped)
    elif dropped.size and len(o):
        ax.set_title(f"{dropped.size} of {len(opt)} budgets dropped (no interior optimum)",
                     fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    if len(o):
        cs_all = np.concatenate([o["C"].to_numpy(), dropped if dropped.size <= 20 else []])
        ys = np.concatenate([np.asarray(v, dtype=float) for v in drawn[1:5]])
        _log_limits(ax, cs_all, ys)
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel(f"compute-optimal ${N_OPT}$ and ${D_OPT}$")
    ax.grid(True, which="major", alpha=0.3)
    legend_below(ax, ncol=2, fontsize=7)


def _two_panels(
    result: Any,
    group: int,
    figsize: tuple[float, float] | None,
    dpi: float,
    left: Callable[[Axes, int], None],
    bars: bool,
) -> tuple[Figure, Axes, Axes]:
    """The group's panel (left, wider) and its frontier (right)."""
    fig = figure(figsize or (11.0, 5.2), dpi)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1.0]})
    left(ax, group)
    opt = _group_rows(result, result.optima, group)
    _draw_frontier(ax2, result.group_values(group), opt, result.level, bars=bars)
    return fig, ax, ax2


def _facets(
    result: Any,
    chosen: list[int],
    figsize: tuple[float, float] | None,
    dpi: float,
    left: Callable[[Axes, int], None],
    xlabel: str,
) -> Figure:
    """A grid of small multiples, one panel per chosen group, each titled with its key values
    and fitted exponents."""
    ncol = min(len(chosen), 4 if len(chosen) > 9 else 3)
    nrow = math.ceil(len(chosen) / ncol)
    fig = figure(figsize or (3.3 * ncol + 1.0, 3.1 * nrow + 0.7), dpi)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    labels = _varying_labels(result, chosen)
    for i, ax in enumerate(axes.flat):
        if i >= len(chosen):
            ax.set_visible(False)
            continue
        g = chosen[i]
        left(ax, g)
        r = result.group_values(g)
        a = (f"$a$ = {fixed(r['a'])} [{fixed(r['a_lower'])}, {fixed(r['a_upper'])}]"
             if np.isfinite(r["a"]) else "no frontier: fewer than 2 optima")  # fmt: skip
        ax.set_title(f"{_short(labels[i])}\n{a}", fontsize=7)
        ax.tick_params(labelsize=7)
        if i % ncol == 0:
            ax.set_ylabel("loss", fontsize=8)
        if i >= len(chosen) - ncol:
            ax.set_xlabel(xlabel, fontsize=8)
    return fig


def plot_isoflop(
    result: Any,
    group: int | None = None,
    *,
    groups: Any = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The IsoFLOP profiles (loss against N, one colour per budget, log-log) with each budget's
    located optimum and its bootstrap interval, and the optima N_opt(C) with the fitted power
    law. Dropped budgets are drawn faded, without an optimum.

    With one group (or ``group=``) the figure has two panels: the profiles (left) and the
    frontier (right). A result with several groups is drawn as a grid of small multiples of
    the profiles on one colour scale, each panel titled with its group's keys and fitted
    exponent a; ``groups=`` selects which.

    Args:
        result: an :class:`IsoflopResult`.
        group: draw this group alone (its row in ``result.table``) with its frontier.
        groups: the groups of the grid: row numbers, labels (``result.group_label(i)``) or
            mappings of key values (``{"dataset": "owt2"}``); default all.
        figsize, dpi: the figure's size in inches (default: from the layout) and resolution.
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib.colors import LogNorm

    chosen = [_check_group(result, group)] if group is not None else select_groups(result, groups)
    opt = result.optima
    cs = opt["C"].to_numpy()
    norm = LogNorm(vmin=cs.min(), vmax=max(cs.max(), cs.min() * 1.0001))
    cmap = colour_map()

    def left(ax: Axes, g: int) -> None:
        _draw_profiles(ax, result, g, cmap, norm)

    if len(chosen) == 1:
        g = chosen[0]
        fig, ax, _ = _two_panels(result, g, figsize, dpi, left, bars=True)
        ax.set_xlabel("model size N (parameters)")
        ax.set_ylabel("loss")
        ax.set_title("IsoFLOP profiles; ★ located optimum", fontsize=9)
        fig.colorbar(_scalar_mappable(cmap, norm), ax=ax, label="compute budget C (FLOPs)")
        _suptitle(fig, result, g, "IsoFLOP analysis")
    else:
        fig = _facets(result, chosen, figsize, dpi, left, "model size N")
        shown = [a for a in fig.axes if a.get_visible()]
        fig.colorbar(_scalar_mappable(cmap, norm), ax=shown, shrink=0.6, aspect=40,
                     label="compute budget C (FLOPs)")  # fmt: skip
        fig.suptitle(
            f"IsoFLOP profiles of {len(chosen)} groups; ★ located optimum, faded: dropped budget",
            fontsize=10,
        )
    return finish(fig, path)


def _suptitle(fig: Any, result: Any, group: int, what: str) -> None:
    lab = "" if not result.by else f" [{_short(result.group_label(group))}]"
    fig.suptitle(f"{what}{lab}", fontsize=10)


def plot_envelope(
    result: Any,
    group: int | None = None,
    *,
    groups: Any = None,
    max_runs: int = 200,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The training curves (loss against compute, one colour per model size, log-log) with
    their lower envelope and the budgets where an optimum was read off, and the frontier
    N_opt(C) with the fitted power law.

    With one group (or ``group=``) the figure has two panels, curves (left) and frontier
    (right); several groups are drawn as a grid of small multiples of the curves, selected by
    ``groups=`` as in :func:`plot_isoflop`.

    Args:
        result: an :class:`EnvelopeResult`.
        group: draw this group alone (its row in ``result.table``) with its frontier.
        groups: the groups of the grid (default all).
        max_runs: draw at most this many runs per panel (the envelope is always drawn).
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib.colors import LogNorm

    chosen = [_check_group(result, group)] if group is not None else select_groups(result, groups)
    sizes = result.points["N"].to_numpy()
    norm = LogNorm(vmin=sizes.min(), vmax=max(sizes.max(), sizes.min() * 1.0001))
    cmap = colour_map()

    def left(ax: Axes, g: int) -> None:
        _draw_curves(ax, result, g, cmap, norm, max_runs)

    if len(chosen) == 1:
        g = chosen[0]
        fig, ax, _ = _two_panels(result, g, figsize, dpi, left, bars=False)
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel("loss")
        legend_below(ax, ncol=2, fontsize=7)
        ax.set_title("training curves and their lower envelope", fontsize=9)
        fig.colorbar(_scalar_mappable(cmap, norm), ax=ax, label="model size N (parameters)")
        est = plot_text(result.settings["estimator"])
        _suptitle(fig, result, g, f"Training-curve envelope ({est})")
    else:
        fig = _facets(result, chosen, figsize, dpi, left, "compute C (FLOPs)")
        shown = [a for a in fig.axes if a.get_visible()]
        fig.colorbar(_scalar_mappable(cmap, norm), ax=shown, shrink=0.6, aspect=40,
                     label="model size N (parameters)")  # fmt: skip
        fig.suptitle(f"training curves and their envelopes, {len(chosen)} groups", fontsize=10)
    return finish(fig, path)


__all__ = ["plot_envelope", "plot_frontier", "plot_isoflop", "select_groups"]
