"""The outcome of :func:`powerfit.diagnose`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .regimes import REGIMES, advice

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _label(keys: pd.DataFrame, g: int) -> str:
    if keys.shape[1] == 0:
        return "all runs"
    return ", ".join(f"{k}={v}" for k, v in keys.iloc[g].items())


@dataclass(frozen=True)
class Diagnosis:
    """What the runs say before any law is fitted. Read-only.

    Attributes:
        cells: one row per (model size, tokens) cell: group keys, ``N``, ``D``,
            ``tokens_per_param``, ``epochs`` (D/U, NaN without U), ``loss``, ``train_loss``,
            ``gap`` (ln L_val - ln L_train), the marginal returns ``g_N`` and ``g_D`` (relative
            loss reduction per doubling of N at fixed D, and of D at fixed N) with their
            ``_lower``/``_upper`` bounds, ``regime``, ``detail``, ``evidence`` (the numbers, as
            text) and ``recommendation``.
        learning: the learning-curve fits L_inf + A D^-alpha, one row per size (as
            :func:`powerfit.fit_groups` returns them, with bootstrap intervals).
        capacity: the capacity-curve fits L_inf + A N^-alpha, one row per token count.
        capacity_points: the losses the capacity curves go through (each size's learning
            curve interpolated at the token count).
        curves: every logged row (checkpoints along runs), for drawing.
        floor: per group, the irreducible loss E with its interval and how it was found.
        noise: per group, the standard deviation of ln L of one cell, and its source.
        checks: per group, the checks a fit needs (status ok / warn / info, and why).
        recommendations: per group and regime: the cells, the median returns with their
            median bounds, and what to do.
        keys: the group key values; by: the group columns.
        settings: z (from ``level``), min_gain, ratio, cell source.
    """

    cells: pd.DataFrame
    learning: pd.DataFrame
    capacity: pd.DataFrame
    capacity_points: pd.DataFrame
    curves: pd.DataFrame
    floor: pd.DataFrame
    noise: pd.DataFrame
    checks: pd.DataFrame
    recommendations: pd.DataFrame
    keys: pd.DataFrame
    by: tuple[str, ...]
    settings: dict[str, Any]

    def next_steps(self) -> pd.DataFrame:
        """Per group, the cell of the largest model at its most tokens (where the sweep ends)
        with its regime and recommendation."""
        c = self.cells
        idx = c.sort_values(["group", "N", "D"]).groupby("group").tail(1).index
        cols = [*self.by, "N", "D", "regime", "detail", "recommendation", "evidence"]
        return c.loc[idx, cols].reset_index(drop=True)

    def regime_table(self) -> pd.DataFrame:
        """Regimes as a grid: one row per size, one column per token count (per group)."""
        return self.cells.pivot_table(
            index=[*self.by, "N"], columns="D", values="regime", aggfunc="first"
        )

    def summary(self) -> str:
        """A text report: regime counts, where the sweep ends and what to do, and the checks
        that need attention."""
        lines = []
        steps = self.next_steps()
        for g in range(len(self.keys)):
            sub = self.cells[self.cells["group"] == g]
            counts = sub["regime"].value_counts()
            shown = ", ".join(
                f"{counts[r]} {r.replace('_', ' ')}" for r in REGIMES if r in counts.index
            )
            lines.append(
                f"{_label(self.keys, g)}: {len(sub)} cells ({shown}); "
                f"{sub['N'].nunique()} sizes, {sub['D'].nunique()} token counts"
            )
            s = steps.iloc[g]
            det = f" ({s['detail']})" if s["detail"] else ""
            lines.append(
                f"  largest model, longest run (N={s['N']:.3g}, D={s['D']:.3g}): "
                f"{s['regime'].replace('_', ' ')}{det}: {s['recommendation']}"
            )
            lines.append(f"    {s['evidence']}")
            rec = self.recommendations[self.recommendations["group"] == g]
            for r in rec.itertuples(index=False):
                det = f" ({r.detail})" if r.detail else ""
                lines.append(
                    f"  {r.regime.replace('_', ' ')}{det}: {r.n_cells} cells, "
                    f"N {r.N_min:.3g}-{r.N_max:.3g}, D {r.D_min:.3g}-{r.D_max:.3g}; "
                    f"doubling N {-100 * r.g_N:+.2f}%, doubling D {-100 * r.g_D:+.2f}% "
                    f"(medians): {r.recommendation}"
                )
            chk = self.checks[(self.checks["group"] == g) & (self.checks["status"] != "ok")]
            for r in chk.itertuples(index=False):
                lines.append(f"  [{r.status}] {r.check}: {r.detail}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = self.cells["regime"].value_counts().to_dict()
        return f"<Diagnosis: {len(self.cells)} cells, {counts}>"

    def plot(self, **kwargs: Any) -> Figure:
        """Learning and capacity curves with the fitted slices and each cell's regime; see
        :func:`powerfit.diagnosis.plot_diagnosis`."""
        from ..plot.diagnosis import plot_diagnosis

        return plot_diagnosis(self, **kwargs)


def recommendations(cells: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """Per group, regime and detail: cell counts, ranges, median returns and the advice."""
    agg = (
        cells.groupby(["group", "regime", "detail"], sort=True)
        .agg(
            n_cells=("N", "size"),
            N_min=("N", "min"),
            N_max=("N", "max"),
            D_min=("D", "min"),
            D_max=("D", "max"),
            g_N=("g_N", "median"),
            g_N_lower=("g_N_lower", "median"),
            g_N_upper=("g_N_upper", "median"),
            g_D=("g_D", "median"),
            g_D_lower=("g_D_lower", "median"),
            g_D_upper=("g_D_upper", "median"),
            gap=("gap", "median"),
            epochs_max=("epochs", "max"),
        )
        .reset_index()
    )
    keys = cells.groupby("group")[list(by)].first() if by else None
    if keys is not None:
        agg = agg.merge(keys, left_on="group", right_index=True)
        agg = agg[[*by, *[c for c in agg.columns if c not in by]]]
    agg["recommendation"] = [advice(r, d) for r, d in zip(agg["regime"], agg["detail"])]
    order = {r: i for i, r in enumerate(REGIMES)}
    agg["_o"] = agg["regime"].map(order)
    return agg.sort_values(["group", "_o", "detail"]).drop(columns="_o").reset_index(drop=True)


def empty_like(columns: list[str]) -> pd.DataFrame:
    """An empty table with these columns."""
    return pd.DataFrame({c: np.array([], dtype=float) for c in columns})
