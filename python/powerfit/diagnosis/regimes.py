"""The regime of every cell, from its marginal returns, its train/validation gap, repetition
and the noise floor, and what to do about it.

Rules, in order (a return "helps" when it exceeds both ``min_gain`` and z standard errors; the
loss "rises" when it goes up by more than ``min_gain`` and z standard errors, with z taken at
the family-wise level over the group's cells, since losses are expected to fall):

1. data-limited, over-fitting: the validation loss rose from the previous token count or rises
   across the cell, or the train/validation gap grows while more tokens stopped helping;
2. data-limited, double-descent bump / larger models over-fit: the model is worse than the next
   smaller one at the same tokens (a bump when a larger one recovers), noted with over-fitting
   when both hold;
3. noise floor: the loss is within z noise of the floor's upper bound and neither resource
   helps;
4. both resources help: under-trained when doubling D gains more than ``ratio`` times what
   doubling N gains, capacity-limited in the reverse case, balanced in between;
5. only N helps: capacity-limited; only D helps: under-trained (data-limited when the tokens
   are repeated, epochs > 1); neither: data-limited when repeated, else undetermined; and
   undetermined when a cell has no neighbour in N or in D to compare with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

REGIMES = (
    "capacity_limited",
    "data_limited",
    "under_trained",
    "balanced",
    "noise_floor",
    "undetermined",
)

ADVICE: dict[str | tuple[str, str], str] = {
    "capacity_limited": "scale the model: more parameters still lower the loss, more tokens "
    "barely do",
    "under_trained": "train longer: more tokens lower the loss more than more parameters (a "
    "capacity slice through these cells is not single-factor)",
    "balanced": "scale both, along the compute-optimal path",
    "noise_floor": "stop scaling for this evaluation: the loss is within noise of the "
    "irreducible floor",
    "undetermined": "no clear signal: add runs at neighbouring sizes and token counts",
    ("data_limited", "over-fitting"): "regularise, deduplicate or add unique data; stop before "
    "the validation loss turns up",
    ("data_limited", "double-descent bump"): "avoid sizes near the interpolation peak, or add "
    "data or regularisation",
    ("data_limited", "larger models over-fit"): "add unique data or regularise: a larger model "
    "does not help here",
    ("data_limited", "repeated data"): "buy unique data: repeated tokens have stopped paying",
}


def advice(regime: str, detail: str) -> str:
    """The recommendation for a regime (and the first item of its detail)."""
    first = detail.split(",")[0]
    return ADVICE.get((regime, first), ADVICE.get(regime, ""))


def family_z(frame: pd.DataFrame, level: float) -> np.ndarray:
    """Per cell, the z of a test at family-wise `level` over its group's cells (Bonferroni):
    losses are expected to fall, so a rise flags a cell, and one 95% test per cell would flag
    about one clean cell in forty."""
    from statistics import NormalDist

    m = frame.groupby("group")["N"].transform("size").to_numpy()
    sizes = np.unique(m)
    nd = NormalDist()
    per_size = np.asarray([nd.inv_cdf(1.0 - (1.0 - level) / (2.0 * k)) for k in sizes])
    out: np.ndarray = per_size[np.searchsorted(sizes, m)]
    return out


def classify(
    frame: pd.DataFrame,
    ret: pd.DataFrame,
    sigma: np.ndarray,
    floor_upper: np.ndarray,
    z: float,
    min_gain: float,
    ratio: float,
    z_rise: np.ndarray,
) -> pd.DataFrame:
    """Regime, detail and the returns used, per cell (see the module docstring). `z` tests
    that a resource helps, `z_rise` (per cell, family-wise) that the loss rises."""

    def helps(g: np.ndarray, se: np.ndarray, zz: float | np.ndarray = z) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray((g - zz * se > 0) & (g > min_gain))

    def hurts(g: np.ndarray, se: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray((g + z_rise * se < 0) & (-g > min_gain))

    g_n, se_n = ret["g_N"].to_numpy(), ret["se_N"].to_numpy()
    g_d, se_d = ret["g_D"].to_numpy(), ret["se_D"].to_numpy()
    h_n, h_d = helps(g_n, se_n), helps(g_d, se_d)
    rising_d = hurts(ret["g_D_prev"].to_numpy(), ret["se_D_prev"].to_numpy()) | hurts(g_d, se_d)
    gap_grows = helps(ret["gap_growth"].to_numpy(), ret["se_gap"].to_numpy(), z_rise)
    rising_n = hurts(ret["g_N_prev"].to_numpy(), ret["se_N_prev"].to_numpy())
    recovers = helps(ret["g_N_next"].to_numpy(), ret["se_N_next"].to_numpy())
    repeated = np.nan_to_num(frame["epochs"].to_numpy(), nan=0.0) > 1.0
    with np.errstate(invalid="ignore"):
        at_floor = np.log(frame["loss"].to_numpy()) - np.log(floor_upper) <= z * sigma
    with np.errstate(invalid="ignore", divide="ignore"):
        q = g_d / np.where(g_n > 0, g_n, np.nan)
    regime = np.full(len(frame), "undetermined", dtype=object)
    detail = np.full(len(frame), "", dtype=object)
    both = h_n & h_d
    regime[both & (q > ratio)] = "under_trained"
    regime[both & (q < 1.0 / ratio)] = "capacity_limited"
    regime[both & (q >= 1.0 / ratio) & (q <= ratio)] = "balanced"
    regime[h_n & ~h_d] = "capacity_limited"
    regime[~h_n & h_d] = "under_trained"
    stalled = ~h_n & ~h_d
    regime[stalled & repeated] = "data_limited"
    detail[stalled & repeated] = "repeated data"
    moved = (regime == "under_trained") & repeated
    regime[moved] = "data_limited"
    detail[moved] = "repeated data"
    no_n, no_d = ~np.isfinite(g_n), ~np.isfinite(g_d)
    regime[no_n | no_d] = "undetermined"
    detail[no_n] = "no neighbouring size at these tokens"
    detail[no_d & ~no_n] = "no neighbouring token count for this size"
    floor = at_floor & stalled
    regime[floor] = "noise_floor"
    detail[floor] = ""
    overfit = rising_d | (gap_grows & ~h_d)
    regime[overfit] = "data_limited"
    detail[overfit] = "over-fitting"
    bump = rising_n
    regime[bump] = "data_limited"
    kind = np.where(recovers, "double-descent bump", "larger models over-fit")
    detail[bump] = np.where(overfit[bump], kind[bump] + ", over-fitting", kind[bump])
    return pd.DataFrame(
        {
            "g_N": g_n,
            "g_N_lower": g_n - z * se_n,
            "g_N_upper": g_n + z * se_n,
            "g_D": g_d,
            "g_D_lower": g_d - z * se_d,
            "g_D_upper": g_d + z * se_d,
            "regime": regime,
            "detail": detail,
        },
        index=frame.index,
    )


def evidence(
    frame: pd.DataFrame, cls: pd.DataFrame, ret: pd.DataFrame, floor_upper: np.ndarray
) -> np.ndarray:
    """One line per cell with the numbers behind its regime."""

    def pct(v: Any) -> str:
        return f"{-100.0 * v:+.2f}%" if np.isfinite(v) else "n/a"

    rows = []
    for i, r in enumerate(cls.itertuples(index=False)):
        parts = [
            f"doubling N: {pct(r.g_N)} [{pct(r.g_N_upper)}, {pct(r.g_N_lower)}]",
            f"doubling D: {pct(r.g_D)} [{pct(r.g_D_upper)}, {pct(r.g_D_lower)}]",
        ]
        gg = ret["gap_growth"].iloc[i]
        if np.isfinite(ret["gap"].iloc[i]):
            parts.append(
                f"val/train gap {100 * ret['gap'].iloc[i]:.2f}%"
                + (f" ({100 * gg:+.2f}% per doubling of D)" if np.isfinite(gg) else "")
            )
        ep = frame["epochs"].iloc[i]
        if np.isfinite(ep):
            parts.append(f"{ep:.3g} epochs")
        if np.isfinite(floor_upper[i]):
            parts.append(
                f"{100 * (frame['loss'].iloc[i] / floor_upper[i] - 1):+.2f}% above "
                f"the floor's upper bound"
            )
        rows.append("; ".join(parts))
    return np.asarray(rows, dtype=object)
