"""Text reports."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .fit import FitResult


def _fmt(v: float | None, spec: str = ".6g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def summary_text(res: FitResult) -> str:
    """The report behind ``FitResult.summary()``."""
    from .fit import FORMULAS

    formula = res._spec.formula or FORMULAS.get(res.law, "").format(
        x=res.variables[0], vars=", ".join(res.variables)
    )
    loss = res.loss
    if "huber" in loss:
        loss += f" (delta={res.delta:g})"
    if "asymmetric" in loss:
        loss += f" (overestimate_penalty={res.overestimate_penalty:g})"
    w = 78
    lines = [
        "=" * w,
        f"powerfit fit: {res.law}    {formula}",
        "=" * w,
        f"loss:        {loss:<28} points:      {res.n_points}",
        f"status:      {res.status:<28} dof:         {res.dof}",
        f"message:     {res.message}",
        f"cost:        {res.cost:<28.8g} starts:      {res.n_starts}",
        f"iterations:  {res.n_iter:<28} evaluations: {res.nfev}",
        f"AIC:         {_fmt(res.aic, '.6g'):<28} BIC:         {_fmt(res.bic, '.6g')}",
        f"covariance:  {res.cov_note}",
        "-" * w,
        f"{'parameter':<12}{'estimate':>16}{'std err':>14}{'rel err':>10}"
        f"{'95% CI (normal)':>26}",
        "-" * w,
    ]
    se = res.stderr
    for name, v in res.params.items():
        s = se[name]
        if name in res.fixed:
            lines.append(f"{name:<12}{v:>16.6g}{'(fixed)':>14}")
            continue
        rel = abs(s / v) if v != 0 and not math.isnan(s) else math.nan
        ci = (
            f"({v - 1.959964 * s:.5g}, {v + 1.959964 * s:.5g})" if not math.isnan(s) else "-"
        )
        lines.append(
            f"{name:<12}{v:>16.6g}{_fmt(s, '.4g'):>14}{_fmt(rel, '.2%'):>10}{ci:>26}"
        )
    lines.append("-" * w)
    warns = res.warnings
    if warns:
        lines.append("warnings:")
        lines.extend(f"  - {m}" for m in warns)
    else:
        lines.append("warnings: none")
    lines.append("=" * w)
    return "\n".join(lines)
