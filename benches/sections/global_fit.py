"""The default global l2 fit against a numpy grid and scipy polish."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.optimize as so

import powerfit as pf
from harness import (
    Context,
    Row,
    Section,
    rel_diff,
    say,
    target_note,
)
from peers import ChinchillaL2, fmt_params


def varpro_multistart_l2(
    prob: ChinchillaL2, n_grid: int = 30, n_polish: int = 3
) -> tuple[np.ndarray, float]:
    """A numpy/scipy global l2 fit: for every (alpha, beta) on an n_grid x n_grid grid over
    [0.05, 1.5]^2 the linear parameters E, A, B are solved exactly (batched 3x3 normal
    equations on unit-norm columns), then scipy least_squares(method="lm", analytic jac)
    polishes the n_polish best grid points; returns the best."""
    ex = np.linspace(0.05, 1.5, n_grid)
    Na = np.exp(-np.outer(ex, prob.lN))  # (g, n): N^-alpha
    Db = np.exp(-np.outer(ex, prob.lD))  # (g, n): D^-beta
    n = prob.y.size
    sa = np.sqrt((Na * Na).sum(1))
    sb = np.sqrt((Db * Db).sum(1))
    Nu = Na / sa[:, None]
    Du = Db / sb[:, None]
    s1 = math.sqrt(n)
    g = n_grid
    G = np.empty((g, g, 3, 3))
    G[:, :, 0, 0] = 1.0
    G[:, :, 0, 1] = G[:, :, 1, 0] = (Nu.sum(1) / s1)[:, None]
    G[:, :, 0, 2] = G[:, :, 2, 0] = (Du.sum(1) / s1)[None, :]
    G[:, :, 1, 1] = 1.0
    G[:, :, 2, 2] = 1.0
    G[:, :, 1, 2] = G[:, :, 2, 1] = Nu @ Du.T
    rhs = np.empty((g, g, 3))
    rhs[:, :, 0] = prob.y.sum() / s1
    rhs[:, :, 1] = (Nu @ prob.y)[:, None]
    rhs[:, :, 2] = (Du @ prob.y)[None, :]
    c = np.linalg.solve(G, rhs[..., None])[..., 0]  # coefficients of the unit columns
    pred = (
        c[:, :, 0, None] / s1
        + c[:, :, 1, None] * Nu[:, None, :]
        + c[:, :, 2, None] * Du[None, :, :]
    )
    sse = ((pred - prob.y) ** 2).sum(-1)
    order = np.argsort(sse, axis=None)[:n_polish]
    best_x, best_c = None, math.inf
    for k in order:
        i, j = divmod(int(k), g)
        start = np.array([c[i, j, 0] / s1, c[i, j, 1] / sa[i], c[i, j, 2] / sb[j], ex[i], ex[j]])
        r = so.least_squares(prob.residuals, start, jac=prob.jacobian, method="lm")
        if r.cost < best_c:
            best_x, best_c = r.x, float(r.cost)
    assert best_x is not None
    return best_x, best_c


def bench_global(ctx: Context) -> Section:
    sec = Section("global", '2. Default global l2 fit (starts="auto")')
    N, D, y = ctx.N, ctx.D, ctx.y
    prob = ChinchillaL2(N, D, y)

    def run_pf() -> Any:
        return pf.fit(law="chinchilla", N=N, D=D, y=y, loss="l2", warn=False)

    r_pf = run_pf()
    t_pf = ctx.time(run_pf)
    say(f"[global] powerfit cost={r_pf.cost:.12g} {t_pf.describe()}")
    sec.details.append(
        f'- powerfit `starts="auto"`: {t_pf.describe()}; cost {r_pf.cost:.12g}, '
        f"status `{r_pf.status}`, n_starts reported {r_pf.n_starts}; {fmt_params(r_pf.params)}."
    )
    x, c = varpro_multistart_l2(prob)
    same = rel_diff(c, r_pf.cost) <= 1e-8
    where = "same optimum" if same else f"DIFFERENT cost (rel. diff {rel_diff(c, r_pf.cost):.1e})"
    t_peer = ctx.time(lambda: varpro_multistart_l2(prob))
    say(f"[global] numpy grid + scipy lm: cost={c:.12g} ({where}) {t_peer.describe()}")
    label = "numpy 30×30 exponent grid (linear E,A,B solved) + scipy lm polish of best 3"
    sec.rows.append(
        Row(
            "global l2 fit (auto starts)",
            t_pf.median,
            label,
            t_peer.median,
            "≤ 200 µs",
            f"{target_note(t_pf.median, 200e-6)}; powerfit cost {r_pf.cost:.10g}, "
            f"peer cost {c:.10g}: {where}",
        )
    )
    sec.details.append(
        f"- Peer ({label}; written for this benchmark, see `varpro_multistart_l2`): "
        f"{t_peer.describe()}; cost {c:.12g} ({where}); "
        f"{fmt_params(dict(zip(('E', 'A', 'B', 'alpha', 'beta'), map(float, x))))}."
    )
    return sec


# --------------------------------------------------------------------------------------------
