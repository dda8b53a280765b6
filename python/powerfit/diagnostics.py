"""Warnings when the data cannot support a fit."""

from __future__ import annotations

import math

import numpy as np

from .analysis import compute_confounded
from .record import FitRecord

#: Above this condition number (of J^T J scaled to unit diagonal) parameters are flagged as
#: not identifiable: beyond ~1e10 a relative change of 1e-5 in the data moves the estimate
#: along the weak direction by O(1).
CONDITION_LIMIT = 1e10
#: Magnitudes beyond which (or below whose inverse) a fitted value has run off along a flat
#: direction rather than settled: no scaling law's parameter lives 100 decades from 1.
EDGE = 1e100


def _drives(res: FitRecord) -> dict[str, int]:
    """How many parameters each variable drives (its own amplitude and exponent; a lone
    variable also carries the constant)."""
    if len(res.variables) == 1:
        return {res.variables[0]: len(res.param_names) - len(res.fixed)}
    return dict.fromkeys(res.variables, 2)


def fit_warnings(res: FitRecord) -> list[str]:
    """All diagnostics for a fit, as sentences."""
    out: list[str] = []
    drives = _drives(res)
    for (var, label), (lo, hi, distinct) in zip(
        zip(res.variables, res.columns), res.solution.var_stats
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
    fixed = res.fixed
    cond = res.condition_number
    if not math.isfinite(cond) or cond > CONDITION_LIMIT:
        free = [n for n in res.param_names if n not in fixed]
        weak = np.asarray(res.solution.weak_direction, dtype=float)
        involved = [free[i] for i in np.flatnonzero(np.abs(weak) > 0.3)] if weak.size else []
        out.append(
            f"J^T J is nearly singular (condition number {cond:.3g}); the weakly identified "
            f"combination involves {', '.join(involved) or 'several parameters'}"
        )
    values = res.values
    bounds = res.bounds
    for k, name in enumerate(res.param_names):
        if name in fixed:
            continue
        v = float(values[k])
        for b, side in zip(bounds[name], ("lower", "upper")):
            if math.isfinite(b) and abs(v - b) <= 1e-8 * max(1.0, abs(b)):
                out.append(f"parameter {name} is at its {side} bound ({b:g})")
    for k, name in enumerate(res.param_names):
        v = float(values[k])
        if name not in fixed and (not math.isfinite(v) or abs(v) > EDGE or 0 < abs(v) < 1 / EDGE):
            out.append(
                f"parameter {name} = {v:.4g} ran off to the edge of the representable range: the "
                f"data do not determine it, and the fit is not a usable optimum"
            )
    const = res.param_names[0] if res.param_names[0] in ("L_inf", "E") else None
    if const is not None:
        v = float(values[0])
        ymin = float(res.problem.y.min())
        if v < 0:
            out.append(f"{const} = {v:.4g} is negative: an irreducible loss cannot be")
        elif v > ymin:
            out.append(f"{const} = {v:.4g} lies above the smallest observed loss ({ymin:.4g})")
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
