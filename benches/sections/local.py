"""One local l2 fit from a given start, and where its time goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as so

import powerfit as pf
from harness import (
    P0,
    Context,
    Row,
    Section,
    fmt_time,
    rel_diff,
    say,
    target_note,
)
from peers import ChinchillaL2, fmt_params


def bench_local(ctx: Context) -> Section:
    sec = Section("local", "1. Local chinchilla-law fit, l2 loss, 240 points, given start")
    N, D, y = ctx.N, ctx.D, ctx.y
    prob = ChinchillaL2(N, D, y)
    p0 = np.array(P0)

    def run_pf() -> Any:
        return pf.fit(law="chinchilla", N=N, D=D, y=y, loss="l2", p0=P0, starts="given", warn=False)

    r_pf = run_pf()
    cost_pf = r_pf.cost
    say(f"[local] powerfit: cost={cost_pf:.12g} n_iter={r_pf.n_iter} status={r_pf.status}")
    t_pf = ctx.time(run_pf)
    say(f"[local] powerfit {t_pf.describe()}")
    sec.details.append(
        f'- powerfit `starts="given"`: {t_pf.describe()}; cost {cost_pf:.12g}, '
        f"{r_pf.n_iter} iterations, {r_pf.nfev} evaluations, status `{r_pf.status}`; "
        f"{fmt_params(r_pf.params)}."
    )

    # Where powerfit's time goes: the default warn=True (diagnostics computed in Python); the
    # one native call alone (a Problem and FitOptions built once, problem.fit(options) timed);
    # and a Problem reused for refits from a new start (problem.fit(options, p0=...)).
    def run_warn() -> Any:
        return pf.fit(law="chinchilla", N=N, D=D, y=y, loss="l2", p0=P0, starts="given")

    t_warn = ctx.time(run_warn)
    problem, options = r_pf.problem, r_pf.options
    t_core = ctx.time(lambda: problem.fit(options))
    t_reuse = ctx.time(lambda: problem.fit(options, p0=P0))
    over, over_warn = t_pf.median - t_core.median, t_warn.median - t_core.median
    say(f"[local] warn=True {t_warn.describe()}; native {t_core.describe()}")
    sec.details += [
        f"- powerfit, same call with the default `warn=True` (diagnostics): {t_warn.describe()}.",
        "- the native call alone (`problem.fit(options)` on the `_core.Problem` and "
        "`_core.FitOptions` the fit above built: data validated and copied once, so this is "
        f"the solve, covariance and statistics): {t_core.describe()}.",
        f"- Python-side overhead of `pf.fit` (total minus the native call): "
        f"{fmt_time(over)} with `warn=False`, {fmt_time(over_warn)} with diagnostics.",
        f"- a Problem reused for refits (`problem.fit(options, p0=P0)` in a loop, the "
        f"benchmark-harness use): {t_reuse.describe()}.",
    ]
    sec.rows += [
        Row(
            "pf.fit Python-side overhead, warn=False",
            over,
            "—",
            None,
            "≤ 10 µs",
            target_note(over, 10e-6),
        ),
        Row(
            "pf.fit Python-side overhead, warn=True",
            over_warn,
            "—",
            None,
            "≤ 20 µs",
            target_note(over_warn, 20e-6),
        ),
        Row(
            "Problem reused: problem.fit(options, p0=...)",
            t_reuse.median,
            "—",
            None,
            "≤ 15 µs",
            target_note(t_reuse.median, 15e-6),
        ),
    ]

    tight = dict(ftol=1e-12, xtol=1e-10, gtol=1e-10)
    peers: list[tuple[str, Callable[[], Any], Callable[[Any], tuple[np.ndarray, str]]]] = []

    def ls_info(r: Any) -> tuple[np.ndarray, str]:
        return r.x, f"nfev {r.nfev}, njev {r.njev}, status {r.status}"

    def cf_info(r: Any) -> tuple[np.ndarray, str]:
        return np.asarray(r[0]), ""

    peers.append(
        (
            'scipy least_squares(method="lm"), analytic jac, default tol',
            lambda: so.least_squares(prob.residuals, p0, jac=prob.jacobian, method="lm"),
            ls_info,
        )
    )
    peers.append(
        (
            'scipy least_squares(method="lm"), analytic jac, ftol=1e-12 xtol=gtol=1e-10',
            lambda: so.least_squares(prob.residuals, p0, jac=prob.jacobian, method="lm", **tight),
            ls_info,
        )
    )
    peers.append(
        (
            'scipy least_squares(method="lm"), finite-difference jac',
            lambda: so.least_squares(prob.residuals, p0, method="lm"),
            ls_info,
        )
    )
    peers.append(
        (
            "scipy curve_fit (default: lm, finite-difference jac)",
            lambda: so.curve_fit(prob.model, None, y, p0=p0),
            cf_info,
        )
    )
    peers.append(
        (
            "scipy curve_fit(jac=analytic)",
            lambda: so.curve_fit(prob.model, None, y, p0=p0, jac=prob.model_jac),
            cf_info,
        )
    )
    try:
        import lmfit
    except ImportError:  # pragma: no cover - lmfit is in the dev dependencies
        lmfit = None
    if lmfit is not None:
        params = lmfit.Parameters()
        for name, v in zip(("E", "A", "B", "alpha", "beta"), P0):
            params.add(name, value=v)

        def lm_resid(ps: Any) -> np.ndarray:
            v = ps.valuesdict()
            return prob.residuals(np.array([v["E"], v["A"], v["B"], v["alpha"], v["beta"]]))

        def lm_info(r: Any) -> tuple[np.ndarray, str]:
            v = r.params.valuesdict()
            return (
                np.array([v["E"], v["A"], v["B"], v["alpha"], v["beta"]]),
                f"nfev {r.nfev}",
            )

        peers.append(
            (
                'lmfit.minimize(method="leastsq"), finite-difference jac',
                lambda: lmfit.minimize(lm_resid, params, method="leastsq"),
                lm_info,
            )
        )

    sec.rows.append(
        Row(
            "local l2 fit (given p0)",
            t_pf.median,
            "—",
            None,
            "≤ 30 µs",
            f"{target_note(t_pf.median, 30e-6)}; powerfit cost {cost_pf:.10g}",
        )
    )
    for label, fn, info in peers:
        out = fn()
        x, extra = info(out)
        c = prob.cost(x)
        same = rel_diff(c, cost_pf) <= 1e-8
        where = "same optimum" if same else f"DIFFERENT cost (rel. diff {rel_diff(c, cost_pf):.1e})"
        t = ctx.time(fn)
        say(f"[local] {label}: cost={c:.12g} ({where}) {t.describe()}")
        note = f"peer cost {c:.10g}: {where}"
        if "default: lm" in label or "curve_fit(jac" in label:
            note += " (curve_fit also returns a covariance)"
        if "default tol" in label:
            note += "; issue's reference: scipy lm ≈ 300 µs"
        sec.rows.append(Row("local l2 fit (given p0)", t_pf.median, label, t.median, "", note))
        names = ("E", "A", "B", "alpha", "beta")
        sec.details.append(
            f"- {label}: {t.describe()}; cost {c:.12g} ({where}); "
            f"{fmt_params(dict(zip(names, map(float, x))))}" + (f"; {extra}" if extra else "") + "."
        )
    sec.details.append(
        "- Costs are 1/2 sum of squared residuals (model - y), recomputed by this script for "
        "every peer from its returned parameters; 'same optimum' means relative cost "
        "difference ≤ 1e-8."
    )
    return sec


# --------------------------------------------------------------------------------------------
