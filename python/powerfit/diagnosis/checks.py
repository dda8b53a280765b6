"""The checks a scaling-law fit needs before it is run: each variable spanning a decade, the
slices being single-factor (no other resource bottlenecking them), repeated data flattening
the data exponent, and how the noise and the floor were estimated."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Decades a variable should span for its exponent to be constrained.
MIN_DECADES = 1.0


def _row(group: int, check: str, ok: bool | None, detail: str) -> dict[str, object]:
    status = "ok" if ok else ("warn" if ok is not None else "info")
    return {"group": group, "check": check, "status": status, "detail": detail}


class _Rows(list[dict[str, object]]):
    def add(self, group: int, check: str, ok: bool | None, detail: str) -> None:
        self.append(_row(group, check, ok, detail))


def _span(v: pd.Series) -> float:
    return float(np.log10(v.max() / v.min())) if len(v) else 0.0


def _fmt_list(values: list[float], limit: int = 6) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def checks(
    frame: pd.DataFrame,
    learning: pd.DataFrame,
    capacity: pd.DataFrame,
    single_epoch: pd.DataFrame,
    sigma: np.ndarray,
    sigma_source: str,
    floor: pd.DataFrame,
    n_groups: int,
) -> pd.DataFrame:
    """One row per (group, check): status ok / warn / info and the numbers."""
    rows = _Rows()
    for g in range(n_groups):  # a few checks per group, each vectorised
        sub = frame[frame["group"] == g]
        for var, what in (("N", "model sizes"), ("D", "token counts")):
            s = _span(sub[var])
            rows.add(
                g,
                f"{var} spans a decade",
                s >= MIN_DECADES,
                f"{what} span {s:.2f} decades ({sub[var].min():.3g} to {sub[var].max():.3g})"
                + (
                    ""
                    if s >= MIN_DECADES
                    else ": the exponent of this variable is poorly constrained; widen the range"
                ),
            )
        per_size = sub.groupby("N")["D"].agg(lambda d: np.log10(d.max() / d.min()))
        short = per_size[per_size < MIN_DECADES]
        rows.add(
            g,
            "each learning curve spans a decade in D",
            short.empty,
            "every size's curve spans at least a decade"
            if short.empty
            else f"sizes {_fmt_list(list(short.index))} span less than a decade of tokens",
        )
        # capacity slices (fixed D) through cells where data is the bottleneck
        bott = sub[sub["regime"].isin(["under_trained", "data_limited"])]
        cap = capacity[capacity["group"] == g] if "group" in capacity.columns else capacity
        if not bott.empty and len(cap):
            worst = cap.sort_values("D").head(3)
            alphas = ", ".join(
                f"alpha {a:.3g} at D={d:.3g}"
                for a, d in zip(worst["alpha"], worst["D"])
                if np.isfinite(a)
            )
            rows.add(
                g,
                "capacity slices are single-factor",
                False,
                f"{len(bott)} cells are limited by data (under-trained or data-limited), largest "
                f"at N={bott['N'].max():.3g}: capacity curves through them flatten the apparent "
                f"N exponent ({alphas}); fit the joint law or use longer runs",
            )
        else:
            rows.add(
                g,
                "capacity slices are single-factor",
                bott.empty,
                "no cell is limited by data"
                if bott.empty
                else f"{len(bott)} cells are limited by data; too few sizes to fit capacity curves",
            )
        capl = sub[sub["regime"] == "capacity_limited"]
        rows.add(
            g,
            "learning slices are single-factor",
            capl.empty,
            "no cell is capacity-limited"
            if capl.empty
            else f"{len(capl)} cells are capacity-limited "
            f"(sizes {_fmt_list(sorted(set(capl['N'])))}): "
            f"their learning curves flatten toward the model's own L_inf, so the apparent D "
            f"exponent there reflects the size, not the data",
        )
        ep = sub["epochs"].to_numpy()
        if np.isfinite(ep).any():
            rep = sub[ep > 1.0]
            detail = "every cell trains for at most one epoch"
            if not rep.empty:
                lf = learning[learning["group"] == g] if len(learning) else learning
                se = single_epoch[single_epoch["group"] == g] if len(single_epoch) else single_epoch
                a_all = float(np.nanmedian(lf["alpha"])) if len(lf) else np.nan
                a_one = float(np.nanmedian(se["alpha"])) if len(se) else np.nan
                detail = (
                    f"{len(rep)} cells repeat data (up to {np.nanmax(ep):.3g} epochs): "
                    f"repeated tokens are worth less (Muennighoff et al. 2023), flattening "
                    f"the data exponent; median D exponent of the learning curves "
                    f"{a_all:.3g} with them"
                )
                detail += (
                    f", {a_one:.3g} on single-epoch cells only"
                    if np.isfinite(a_one)
                    else "; too few single-epoch cells to fit without them"
                )
                detail += "; fit the data-constrained law or drop the repeated cells"
            rows.add(g, "no repeated data", rep.empty, detail)
        sg = sigma[g]
        rows.add(
            g,
            "noise of a cell",
            None,
            f"{100 * sg:.3g}% of the loss (standard deviation of ln L, {sigma_source})"
            if np.isfinite(sg)
            else "could not be estimated: pass noise=",
        )
        fl = floor[floor["group"] == g].iloc[0]
        if np.isfinite(fl["E"]):
            iv = (
                f" [{fl['E_lower']:.4g}, {fl['E_upper']:.4g}]" if np.isfinite(fl["E_lower"]) else ""
            )
            rows.add(g, "irreducible floor", None, f"E = {fl['E']:.4g}{iv} ({fl['status']})")
        else:
            rows.add(
                g,
                "irreducible floor",
                None,
                f"not estimated ({fl['status']}): no cell is "
                "classified as at the noise floor; pass floor= if you know it",
            )
    return pd.DataFrame(list(rows))
