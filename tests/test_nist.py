"""NIST StRD nonlinear regression: the 19 lower- and average-difficulty problems written
as :class:`powerfit.Law` expressions and fitted from both certified starting points.

Every certified parameter is reached to a log relative error (LRE, the number of correct
significant digits) of 6 or more, and so is the residual sum of squares, except Lanczos1's,
which must reach 3 (the issue's bar). Lanczos1 is generated noise-free: its certified RSS
(1.43e-25) is the rounding floor of the decimal data, and reading the data into doubles alone
moves the exact optimum's RSS to 1.42955e-25 (LRE 3.06). Evaluating the model in double
precision perturbs an RSS that small by about 1e-3 relative (numpy's own evaluation at
powerfit's optimum scores 2.7-3.3), so powerfit recomputes the reported cost in double-double
when the residuals are that small against the data; it reports LRE 3.06 from both starts. The
test also recomputes the RSS at powerfit's parameters from the decimal data in 40-digit
arithmetic (it scores 5.7).
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pytest

import powerfit as pf

DATA = Path(__file__).parent / "data" / "nist"

#: (problem, law, variables); parameters are b1..bk in order.
PROBLEMS = [
    ("Misra1a", "b1*(1-exp(-b2*x))", ["x"]),
    ("Chwirut2", "exp(-b1*x)/(b2+b3*x)", ["x"]),
    ("Chwirut1", "exp(-b1*x)/(b2+b3*x)", ["x"]),
    ("Lanczos3", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)", ["x"]),
    ("Gauss1", "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)", ["x"]),
    ("Gauss2", "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)", ["x"]),
    ("DanWood", "b1*x**b2", ["x"]),
    ("Misra1b", "b1 * (1-(1+b2*x/2)**(-2))", ["x"]),
    ("Kirby2", "(b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2)", ["x"]),
    ("Hahn1", "(b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)", ["x"]),
    ("Nelson", "b1 - b2*x1 * exp(-b3*x2)", ["x1", "x2"]),  # a model of log(y)
    ("MGH17", "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)", ["x"]),
    ("Lanczos1", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)", ["x"]),
    ("Lanczos2", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)", ["x"]),
    ("Gauss3", "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)", ["x"]),
    ("Misra1c", "b1 * (1-(1+2*b2*x)**(-.5))", ["x"]),
    ("Misra1d", "b1*b2*x*((1+b2*x)**(-1))", ["x"]),
    ("Roszman1", "b1 - b2*x - atan(b3/(x-b4))/pi", ["x"]),
    (
        "ENSO",
        "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) + b6*sin(2*pi*x/b4)"
        " + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)",
        ["x"],
    ),
]

TOL = dict(ftol=1e-15, xtol=1e-15, gtol=1e-15, max_iter=1000)


def read_nist(name: str) -> dict:
    """Starts, certified values and RSS, and the data (y first, then the x columns)."""
    lines = (DATA / f"{name}.dat").read_text().splitlines()
    starts: list[list[float]] = [[], []]
    cert = []
    rss = math.nan
    for line in lines:
        t = line.strip()
        if t.startswith("b") and "=" in t:
            vals = t.split("=", 1)[1].split()
            starts[0].append(float(vals[0]))
            starts[1].append(float(vals[1]))
            cert.append(float(vals[2]))
        if t.startswith("Residual Sum of Squares:"):
            rss = float(t.split(":", 1)[1])
    first = max(i for i, line in enumerate(lines) if line.startswith("Data:")) + 1
    rows = [line.split() for line in lines[first:] if line.strip()]
    return {
        "starts": starts,
        "certified": cert,
        "rss": rss,
        "y": np.array([float(r[0]) for r in rows]),
        "x": [np.array([float(r[j]) for r in rows]) for j in range(1, len(rows[0]))],
        "rows": rows,
    }


def lre(est: float, cert: float) -> float:
    """Log relative error (log absolute error when the certified value is 0), capped at 15."""
    if est == cert:
        return 15.0
    err = abs(est - cert) / (abs(cert) if cert != 0 else 1.0)
    return min(15.0, -math.log10(err))


def solve(name: str, expr: str, variables: list[str]) -> list[dict]:
    """Fits from both starts; per start: parameter LREs, RSS LRE, the result."""
    prob = read_nist(name)
    k = len(prob["certified"])
    params = [f"b{i}" for i in range(1, k + 1)]
    law = pf.Law(expr, variables=variables, params=params, name=name)
    y = np.log(prob["y"]) if name == "Nelson" else prob["y"]
    data = {v: x for v, x in zip(variables, prob["x"])}
    data["y"] = y
    out = []
    for start in prob["starts"]:
        res = pf.fit(data, law=law, p0=start, starts="given", warn=False, **TOL)
        est = [res.params[p] for p in params]
        out.append(
            {
                "params": [lre(e, c) for e, c in zip(est, prob["certified"])],
                "rss": lre(2.0 * res.cost, prob["rss"]),
                "result": res,
                "estimate": est,
            }
        )
    return out


def exact_rss_lanczos(est: list[float]) -> float:
    """Lanczos1's RSS at `est` in 40-digit decimal arithmetic (data as decimal text)."""
    getcontext().prec = 40
    prob = read_nist("Lanczos1")
    b = [Decimal(float(v)) for v in est]  # the exact binary values
    total = Decimal(0)
    for r in prob["rows"]:
        y, x = Decimal(r[0]), Decimal(r[1])
        f = b[0] * (-b[1] * x).exp() + b[2] * (-b[3] * x).exp() + b[4] * (-b[5] * x).exp()
        total += (f - y) ** 2
    return float(total)


def check(name: str, runs: list[dict]) -> list[str]:
    problems = []
    for s, run in enumerate(runs, start=1):
        res = run["result"]
        if not res.success:
            problems.append(f"{name} start {s}: {res.status}")
        worst = min(run["params"])
        if worst < 6.0:
            problems.append(f"{name} start {s}: parameter LRE {worst:.2f} < 6")
        if name == "Lanczos1":
            exact = lre(exact_rss_lanczos(run["estimate"]), read_nist(name)["rss"])
            if exact < 3.0 or run["rss"] < 3.0:
                problems.append(
                    f"{name} start {s}: RSS LRE {run['rss']:.2f} (exact at the estimate "
                    f"{exact:.2f})"
                )
        elif run["rss"] < 6.0:
            problems.append(f"{name} start {s}: RSS LRE {run['rss']:.2f} < 6")
    return problems


@pytest.mark.parametrize("name,expr,variables", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_problem(name: str, expr: str, variables: list[str]) -> None:
    problems = check(name, solve(name, expr, variables))
    assert not problems, "\n".join(problems)


def test_whole_suite() -> None:
    """All 19 problems from both starts, with the LRE table printed (pytest -s)."""
    problems = []
    lines = [f"{'problem':<10}{'start 1':>10}{'RSS 1':>8}{'start 2':>10}{'RSS 2':>8}"]
    for name, expr, variables in PROBLEMS:
        runs = solve(name, expr, variables)
        problems += check(name, runs)
        cells = "".join(f"{min(r['params']):>10.2f}{r['rss']:>8.2f}" for r in runs)
        lines.append(f"{name:<10}{cells}")
    print("\n".join(lines))
    assert len(PROBLEMS) == 19
    assert not problems, "\n".join(problems)


def test_the_lanczos1_rss_floor_is_the_data_not_the_solver() -> None:
    """Both starts land on the same point (to 1e-9 relative); its exact RSS scores >= 3."""
    runs = solve("Lanczos1", PROBLEMS[12][1], ["x"])
    a, b = (np.array(r["estimate"]) for r in runs)
    assert np.allclose(a, b, rtol=1e-9, atol=0)
    assert lre(exact_rss_lanczos(list(a)), read_nist("Lanczos1")["rss"]) >= 3.0
