"""Text reports."""

from __future__ import annotations

import math

from ._markup import terminal
from .diagnostics import fit_warnings
from .record import FitRecord


def _fmt(v: float | None, spec: str = ".6g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def starts_text(res: FitRecord) -> str:
    """The local solves of a fit in words: their number, and how many reached the best cost
    when they disagree ("3 of 8 reached the best cost")."""
    if res.starts_agree:
        return str(res.n_starts)
    return f"{res.n_best} of {res.n_starts} reached the best cost"


def summary_text(res: FitRecord) -> str:
    """The report behind ``FitRecord.summary()`` (control characters in the user's names are
    shown escaped, never sent to the terminal)."""
    return terminal(_summary(res))


def _summary(res: FitRecord) -> str:
    formula = res.formula
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
        f"cost:        {res.cost:<28.8g} starts:      {starts_text(res)}",
        f"iterations:  {res.n_iter:<28} evaluations: {res.nfev} ({res.nfev_total} in all)",
        f"AIC:         {_fmt(res.aic, '.6g'):<28} BIC:         {_fmt(res.bic, '.6g')}",
        f"covariance:  {res.cov_note}",
        "-" * w,
        f"{'parameter':<12}{'estimate':>16}{'std err':>14}{'rel err':>10}{'95% CI (normal)':>26}",
        "-" * w,
    ]
    if res.at_limit:
        lines.insert(6, f"at limit:    {', '.join(res.at_limit)}")
    se = res.stderr
    for name, v in res.params.items():
        s = se[name]
        if name in res.fixed:
            lines.append(f"{name:<12}{v:>16.6g}{'(fixed)':>14}")
            continue
        rel = abs(s / v) if v != 0 and not math.isnan(s) else math.nan
        ci = f"({v - 1.959964 * s:.5g}, {v + 1.959964 * s:.5g})" if not math.isnan(s) else "-"
        lines.append(f"{name:<12}{v:>16.6g}{_fmt(s, '.4g'):>14}{_fmt(rel, '.2%'):>10}{ci:>26}")
    lines.append("-" * w)
    boot = res.boot
    if boot is not None:
        lines.append(
            f"bootstrap:   {boot.n} replicates ({boot.resample}, seed {boot.seed}), "
            f"{boot.n_failed} failed; used for intervals"
        )
        lines.append("-" * w)
    warns = fit_warnings(res)
    if warns:
        lines.append("warnings:")
        lines.extend(f"  - {m}" for m in warns)
    else:
        lines.append("warnings: none")
    lines.append("=" * w)
    return "\n".join(lines)
