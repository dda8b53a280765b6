"""Warnings when the data cannot support a fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import math

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .fit import FitResult

#: Above this condition number (of J^T J scaled to unit diagonal) parameters are flagged as
#: not identifiable: beyond ~1e10 a relative change of 1e-5 in the data moves the estimate
#: along the weak direction by O(1).
CONDITION_LIMIT = 1e10


def _drives(res: FitResult) -> dict[str, int]:
    """How many parameters each variable drives (its own amplitude and exponent; a lone
    variable also carries the constant)."""
    if len(res.variables) == 1:
        return {res.variables[0]: sum(f is None for f in res._fixed)}
    return {v: 2 for v in res.variables}


def fit_warnings(res: FitResult) -> list[str]:
    """All diagnostics for a fit, as sentences."""
    out: list[str] = []
    drives = _drives(res)
    for (var, label), (lo, hi, distinct) in zip(
        zip(res.variables, res._labels), res._raw["var_stats"]
    ):
        if hi < 10.0 * lo:
            out.append(
                f"{label} spans less than one decade ({lo:.3g} to {hi:.3g}): its exponent is "
                f"poorly constrained"
            )
        need = drives.get(var, 0)
        if distinct < need:
            out.append(
                f"{label} has {distinct} distinct value(s) but drives {need} parameters: they "
                f"are not identifiable"
            )
    fixed = res._fixed
    cond = res.condition_number
    if not math.isfinite(cond) or cond > CONDITION_LIMIT:
        free = [n for n, f in zip(res.param_names, fixed) if f is None]
        weak = np.asarray(res._raw["weak_direction"], dtype=float)
        involved = [free[i] for i in np.flatnonzero(np.abs(weak) > 0.3)] if weak.size else []
        out.append(
            f"J^T J is nearly singular (condition number {cond:.3g}); the weakly identified "
            f"combination involves {', '.join(involved) or 'several parameters'}"
        )
    values = res._raw["params"]
    for k, name in enumerate(res.param_names):
        if fixed[k] is not None:
            continue
        v = float(values[k])
        for b, side in ((res._lower[k], "lower"), (res._upper[k], "upper")):
            if math.isfinite(b) and abs(v - b) <= 1e-8 * max(1.0, abs(b)):
                out.append(f"parameter {name} is at its {side} bound ({b:g})")
    const = res.param_names[0] if res.param_names[0] in ("L_inf", "E") else None
    if const is not None:
        v = float(values[0])
        ymin = float(res._y.min())
        if v < 0:
            out.append(f"{const} = {v:.4g} is negative: an irreducible loss cannot be")
        elif v > ymin:
            out.append(
                f"{const} = {v:.4g} lies above the smallest observed loss ({ymin:.4g})"
            )
    from .analysis import compute_confounded

    kc = compute_confounded(res)
    if kc is not None:
        out.append(
            f"C = k N D holds in the data (k = {kc:.4g}): the C term cannot be told apart from "
            f"the N and D terms; its parameters are not identifiable and compute_optimal() "
            f"refuses this fit (refit on N and D only)"
        )
    if not res.success:
        out.append(f"the solver did not converge: {res.message}")
    return out
