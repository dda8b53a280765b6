"""Hypothesis properties of :func:`powerfit.fit`.

* exact recovery: noise-free data from random, realistic parameters are fitted back to 1e-6
  relative error by every built-in law, with the default ``starts="auto"`` and no ``p0``;
* invariance to row order;
* rescaling N by c multiplies A by c**alpha and leaves every other parameter unchanged;
* determinism: the same input gives bit-identical output;
* data sources: pandas, polars, pyarrow, dicts and keyword arrays give identical results, and
  ``columns=`` maps names;
* ``fixed``, ``bounds`` and the fields a result reports.

Designs follow real sweeps: N log-uniform in [1e7, 1e10], D log-uniform in [1e9, 1e12] (and,
for the additive law, an independent C log-uniform in [1e18, 1e21]), 30 to 100 points,
exponents in [0.1, 0.8], amplitudes such that each term is worth 0.1 to 3 (in loss units) at
the geometric middle of its variable's range, irreducible loss 0.5 to 3. For the Kaplan law,
N_c and D_c are such that each variable alone (the other one infinite) gives a loss of 1.5 to 4
at the middle of its range. The expected values are computed here with numpy, independently of
the Rust core.

A falsifying example prints as ``Case(law=..., seed=..., n=..., truth=...)``: the design is
``_design(seed, n, variables)`` and the losses ``law_value(law, truth, design)``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import powerfit as pf

RANGES = {"N": (1e7, 1e10), "D": (1e9, 1e12), "C": (1e18, 1e21)}
LOSSES = ["l2", "log"]
RECOVERY_RTOL = 1e-6

exponents = st.floats(0.1, 0.8)
term_sizes = st.floats(0.1, 3.0)  # a term's value at the middle of its variable's range
constants = st.floats(0.5, 3.0)  # irreducible loss (E / L_inf)
seeds = st.integers(0, 2**32 - 1)
n_points = st.integers(30, 100)


def _mid(var: str) -> float:
    lo, hi = RANGES[var]
    return math.sqrt(lo * hi)


def _design(seed: int, n: int, variables: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Independent log-uniform columns."""
    rng = np.random.default_rng(seed)
    return {
        v: np.exp(rng.uniform(math.log(RANGES[v][0]), math.log(RANGES[v][1]), n)) for v in variables
    }


def law_value(law: str, p: dict[str, float], x: dict[str, np.ndarray]) -> np.ndarray:
    """The built-in laws, written out in numpy (the reference for the Rust core)."""
    if law == "power":
        (col,) = x.values()
        return p["L_inf"] + p["A"] * col ** -p["alpha"]
    if law == "chinchilla":
        return p["E"] + p["A"] * x["N"] ** -p["alpha"] + p["B"] * x["D"] ** -p["beta"]
    if law == "additive":
        out = np.full_like(x["N"], p["L_inf"])
        for var, amp, exp in (("N", "A", "alpha"), ("D", "B", "beta"), ("C", "E", "gamma")):
            if var in x:
                out = out + p[amp] * x[var] ** -p[exp]
        return out
    if law == "kaplan":
        ratio = p["alpha_N"] / p["alpha_D"]
        return ((p["N_c"] / x["N"]) ** ratio + p["D_c"] / x["D"]) ** p["alpha_D"]
    raise AssertionError(law)


class Case:
    """A noise-free (or, with ``noise``, perturbed) data set drawn from known parameters.

    Its repr (what hypothesis prints for a falsifying example) shows how to rebuild it, not
    the arrays.
    """

    def __init__(self, law, x, y, truth, seed, n, noise=0.0):
        self.law, self.x, self.y, self.truth = law, x, y, truth
        self.seed, self.n, self.noise = seed, n, noise

    def __repr__(self) -> str:
        return (
            f"Case(law={self.law!r}, variables={tuple(self.x)}, seed={self.seed}, n={self.n}, "
            f"noise={self.noise}, truth={self.truth!r})"
        )

    def _repr_pretty_(self, p, cycle) -> None:  # hypothesis' and IPython's pretty printer
        p.text(repr(self))

    def fit(self, **kwargs) -> pf.FitResult:
        extra = {"x": next(iter(self.x))} if self.law == "power" else {}
        kwargs.setdefault("warn", False)
        return pf.fit(law=self.law, y=self.y, **self.x, **extra, **kwargs)

    def permuted(self, perm: np.ndarray) -> Case:
        return Case(
            self.law,
            {k: v[perm] for k, v in self.x.items()},
            self.y[perm],
            self.truth,
            self.seed,
            self.n,
            self.noise,
        )


def _finish(law, x, truth, seed, n, noise) -> Case:
    y = law_value(law, truth, x)
    if noise:
        rng = np.random.default_rng(seed ^ 0x5EED)
        y = y * np.exp(rng.normal(0.0, noise, n))
    return Case(law, x, y, truth, seed, n, noise)


@st.composite
def power_cases(draw, noise: float = 0.0, exps=exponents, terms=term_sizes):
    seed, n = draw(seeds), draw(n_points)
    x = _design(seed, n, ("N",))
    alpha = draw(exps)
    truth = {"L_inf": draw(constants), "A": draw(terms) * _mid("N") ** alpha, "alpha": alpha}
    return _finish("power", x, truth, seed, n, noise)


@st.composite
def chinchilla_cases(draw, noise: float = 0.0, exps=exponents, terms=term_sizes):
    seed, n = draw(seeds), draw(n_points)
    x = _design(seed, n, ("N", "D"))
    alpha, beta = draw(exps), draw(exps)
    truth = {
        "E": draw(constants),
        "A": draw(terms) * _mid("N") ** alpha,
        "B": draw(terms) * _mid("D") ** beta,
        "alpha": alpha,
        "beta": beta,
    }
    return _finish("chinchilla", x, truth, seed, n, noise)


@st.composite
def additive_cases(draw, with_c: bool = True, noise: float = 0.0, exps=exponents, terms=term_sizes):
    seed, n = draw(seeds), draw(n_points)
    variables = ("N", "D", "C") if with_c else ("N", "D")
    x = _design(seed, n, variables)
    alpha, beta = draw(exps), draw(exps)
    truth = {
        "L_inf": draw(constants),
        "A": draw(terms) * _mid("N") ** alpha,
        "B": draw(terms) * _mid("D") ** beta,
        "alpha": alpha,
        "beta": beta,
    }
    if with_c:
        gamma = draw(exps)
        truth["E"] = draw(terms) * _mid("C") ** gamma
        truth["gamma"] = gamma
    return _finish("additive", x, truth, seed, n, noise)


@st.composite
def kaplan_cases(draw, noise: float = 0.0):
    seed, n = draw(seeds), draw(n_points)
    x = _design(seed, n, ("N", "D"))
    alpha_n, alpha_d = draw(exponents), draw(exponents)
    # the loss each variable alone would give at the middle of its range (D or N infinite)
    loss_n, loss_d = draw(st.floats(1.5, 4.0)), draw(st.floats(1.5, 4.0))
    truth = {
        "N_c": _mid("N") * loss_n ** (1.0 / alpha_n),
        "alpha_N": alpha_n,
        "D_c": _mid("D") * loss_d ** (1.0 / alpha_d),
        "alpha_D": alpha_d,
    }
    return _finish("kaplan", x, truth, seed, n, noise)


CASES = {
    "power": power_cases(),
    "chinchilla": chinchilla_cases(),
    "additive_NDC": additive_cases(with_c=True),
    "additive_ND": additive_cases(with_c=False),
    "kaplan": kaplan_cases(),
}


def _rel_errors(got: dict[str, float], want: dict[str, float]) -> dict[str, float]:
    return {k: abs(got[k] - v) / abs(v) for k, v in want.items()}


def _describe(res: pf.FitResult, want: dict[str, float]) -> str:
    rows = [
        f"  {k:8s} want {v:.17g}  got {res.params[k]:.17g}  rel {err:.2e}"
        for (k, v), err in zip(want.items(), _rel_errors(res.params, want).values())
    ]
    return "\n".join([f"{res.law} loss={res.loss}: status={res.status} cost={res.cost:.3e}"] + rows)


# --- exact recovery -------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", list(CASES))
@given(data=st.data())
def test_exact_recovery(name, loss, data):
    case = data.draw(CASES[name], label="case")
    res = case.fit(loss=loss)
    note(_describe(res, case.truth))
    assert set(res.param_names) == set(case.truth)
    errs = _rel_errors(res.params, case.truth)
    assert max(errs.values()) <= RECOVERY_RTOL, _describe(res, case.truth)
    assert res.success, _describe(res, case.truth)


def test_recovery_of_published_chinchilla_law():
    """A fixed, readable example: Hoffmann et al.'s Approach 3 law on a 7 x 7 grid."""
    N, D = (a.ravel() for a in np.meshgrid(np.logspace(7, 10, 7), np.logspace(9, 12, 7)))
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    y = law_value("chinchilla", truth, {"N": N, "D": D})
    for loss in LOSSES:
        res = pf.fit(N=N, D=D, y=y, loss=loss, warn=False)
        assert max(_rel_errors(res.params, truth).values()) <= RECOVERY_RTOL, _describe(res, truth)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "truth",
    [
        # Kaplan et al. (2020), eq. 1.5
        {"N_c": 8.8e13, "alpha_N": 0.076, "D_c": 5.4e13, "alpha_D": 0.095},
        {"N_c": 1e10, "alpha_N": 0.3, "D_c": 1e11, "alpha_D": 0.5},
        {"N_c": 1e12, "alpha_N": 0.2, "D_c": 1e13, "alpha_D": 0.3},
    ],
    ids=["kaplan2020", "Nc1e10", "Nc1e12"],
)
def test_recovery_of_kaplan_law_on_grid(truth, loss):
    """Readable Kaplan examples on a 7 x 7 grid (N 1e7..1e10, D 1e9..1e12)."""
    N, D = (a.ravel() for a in np.meshgrid(np.logspace(7, 10, 7), np.logspace(9, 12, 7)))
    y = law_value("kaplan", truth, {"N": N, "D": D})
    res = pf.fit(law="kaplan", N=N, D=D, y=y, loss=loss, warn=False)
    assert max(_rel_errors(res.params, truth).values()) <= RECOVERY_RTOL, _describe(res, truth)


# Examples hypothesis found (thorough profile), pinned so that CI always runs them:
# (law, variables, design seed, n, loss, truth, fixed).
PINNED = [
    # a small, slowly varying N term (0.07 to 0.17 over the sweep)
    (
        "chinchilla",
        ("N", "D"),
        218,
        51,
        "l2",
        {"E": 1.0, "A": 1.2630427957540948, "B": 355655.88200778456, "alpha": 0.125, "beta": 0.5},
        None,
    ),
    (
        "chinchilla",
        ("N", "D"),
        0,
        30,
        "l2",
        {"E": 1.0, "A": 1.4434774808618227, "B": 25978.929700801957, "alpha": 0.125, "beta": 0.375},
        {"E": 1.0},  # recovered when E is free, not when it is held at its true value
    ),
    # additive law over N, D and an independent C
    (
        "additive",
        ("N", "D", "C"),
        0,
        30,
        "l2",
        {
            "L_inf": 1.0,
            "A": 34.64345954068374,
            "B": 10.26762513228573,
            "E": 5623413251.903491,
            "alpha": 0.125,
            "beta": 0.125,
            "gamma": 0.5,
        },
        None,
    ),
    (
        "additive",
        ("N", "D", "C"),
        0,
        30,
        "l2",
        {
            "L_inf": 1.0,
            "A": 23.389459924709897,
            "B": 9.9467618469018,
            "E": 9139.816994654904,
            "alpha": 0.109375,
            "beta": 0.125,
            "gamma": 0.203125,
        },
        None,  # found to ~1e-11, but reported as max_iterations (success=False)
    ),
    (
        "additive",
        ("N", "D", "C"),
        1,
        30,
        "log",
        {
            "L_inf": 1.0,
            "A": 23.095639693789163,
            "B": 41.07050052914292,
            "E": 136.92098171321805,
            "alpha": 0.125,
            "beta": 0.125,
            "gamma": 0.125,
        },
        None,
    ),
    # the true beta half-way between two grid exponents: next to it, the grid prefers to drop
    # the weak N term (A = 0), from where LM cannot regrow it (failed CI before the grid
    # cells were refined on the projected objective)
    (
        "chinchilla",
        ("N", "D"),
        152,
        43,
        "log",
        {
            "E": 2.0,
            "A": 1.172825453200231,
            "B": 2383.4270869366837,
            "alpha": 0.125,
            "beta": 0.29296875,
        },
        {"E": 2.0},
    ),
    # a slow term traded against a negative constant in the grid (before the grid's constant
    # was kept non-negative for positive losses)
    (
        "additive",
        ("N", "D", "C"),
        30,
        30,
        "log",
        {
            "L_inf": 1.0,
            "A": 2371373.7056616554,
            "B": 42.223939900195305,
            "alpha": 0.75,
            "beta": 0.109375,
            "E": 9373.677616655697,
            "gamma": 0.25,
        },
        None,
    ),
    (
        "additive",
        ("N", "D", "C"),
        89,
        30,
        "log",
        {
            "L_inf": 1.0,
            "A": 1.4434774808618227,
            "B": 20.53525026457146,
            "alpha": 0.125,
            "beta": 0.125,
            "E": 1265089510285746.8,
            "gamma": 0.75,
        },
        None,
    ),
    # Kaplan with the N term dropped along a whole row of the grid
    (
        "kaplan",
        ("N", "D"),
        0,
        30,
        "log",
        {"N_c": 8104571768.892476, "alpha_N": 0.125, "D_c": 2072430287367949.0, "alpha_D": 0.125},
        None,
    ),
    (
        "kaplan",
        ("N", "D"),
        0,
        30,
        "l2",
        {"N_c": 8104571768.892476, "alpha_N": 0.125, "D_c": 2072430287367949.0, "alpha_D": 0.125},
        None,
    ),
    # Kaplan with a weak D term: good fits lie along alpha_N, a diagonal of the old
    # (alpha_D, alpha_N / alpha_D) grid whose cells missed it
    (
        "kaplan",
        ("N", "D"),
        25,
        30,
        "l2",
        {"N_c": 6043875281779.469, "alpha_N": 0.140625, "D_c": 810457176889.2476, "alpha_D": 0.125},
        None,
    ),
    # a steep N term (alpha_N / alpha_D = 5.75): coarse cells trade the D term away under l2
    (
        "kaplan",
        ("N", "D"),
        0,
        38,
        "l2",
        {"N_c": 2175948856.989749, "alpha_N": 0.71875, "D_c": 810457176889.2476, "alpha_D": 0.125},
        None,
    ),
    (
        "kaplan",
        ("N", "D"),
        63,
        30,
        "log",
        {
            "N_c": 10563706857510.775,
            "alpha_N": 0.10546875,
            "D_c": 1288181997819.799,
            "alpha_D": 0.109375,
        },
        None,
    ),
]


@pytest.mark.parametrize("law, variables, seed, n, loss, truth, fixed", PINNED)
def test_exact_recovery_pinned(law, variables, seed, n, loss, truth, fixed):
    case = _finish(law, _design(seed, n, variables), truth, seed, n, 0.0)
    res = case.fit(loss=loss, fixed=fixed)
    assert max(_rel_errors(res.params, truth).values()) <= RECOVERY_RTOL, _describe(res, truth)
    assert res.success, _describe(res, truth)


# --- row order --------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", list(CASES))
@given(data=st.data(), perm_seed=seeds)
def test_row_order_noise_free(name, loss, data, perm_seed):
    """At an exact (zero-residual) optimum row order changes nothing beyond rounding."""
    case = data.draw(CASES[name], label="case")
    perm = np.random.default_rng(perm_seed).permutation(case.n)
    a = case.fit(loss=loss)
    b = case.permuted(perm).fit(loss=loss)
    note(_describe(a, case.truth))
    note(_describe(b, case.truth))
    for k in a.param_names:
        assert b.params[k] == pytest.approx(a.params[k], rel=1e-9, abs=0.0), k


# Noisy data sets (0.5% multiplicative noise) whose parameters the data do determine: with
# noise, a term worth 0.1 that changes by a factor of two over the sweep is not identifiable
# and the optimum lies in a flat valley, where no invariance can be tested to high precision.
NOISE = 0.005
_strong = {"exps": st.floats(0.2, 0.8), "terms": st.floats(0.5, 3.0)}
NOISY = {
    "power": power_cases(noise=NOISE, **_strong),
    "chinchilla": chinchilla_cases(noise=NOISE, **_strong),
    "additive_ND": additive_cases(with_c=False, noise=NOISE, **_strong),
}


def _close_in_stderr(a: pf.FitResult, b: pf.FitResult, want: dict[str, float], frac: float):
    """|b - want| <= frac * stderr + 1e-9 |want| for every parameter.

    With noise the optimum is found only as precisely as double precision resolves the cost:
    the residuals are ~0.5% of the loss, so the cost carries a relative rounding error of ~1e-14,
    and the solver (like any cost-based one) cannot tell apart points within ~1e-7 standard
    errors of the optimum (plus what ftol=1e-12 allows, ~1e-5 standard errors). A difference
    of 1e-4 standard errors is therefore "the same estimate"; a relative 1e-9 would test
    rounding, not the property.
    """
    se = b.stderr
    for k, v in want.items():
        assert math.isfinite(se[k]), (k, b.cov_note)
        tol = frac * se[k] + 1e-9 * abs(v)
        assert abs(b.params[k] - v) <= tol, (
            f"{k}: {b.params[k]!r} vs {v!r} (diff {abs(b.params[k] - v):.3g}, "
            f"stderr {se[k]:.3g}); statuses {a.status} / {b.status}"
        )


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", list(NOISY))
@given(data=st.data(), perm_seed=seeds)
def test_row_order_noisy(name, loss, data, perm_seed):
    case = data.draw(NOISY[name], label="case")
    perm = np.random.default_rng(perm_seed).permutation(case.n)
    a = case.fit(loss=loss)
    b = case.permuted(perm).fit(loss=loss)
    note(f"{a!r}\n{b!r}")
    assert a.success and b.success, (a.message, b.message)
    _close_in_stderr(a, b, a.params, 1e-4)
    assert b.cost == pytest.approx(a.cost, rel=1e-10)


# --- rescaling N ---------------------------------------------------------------------------


def _rescaled_params(law: str, p: dict[str, float], c: float) -> dict[str, float]:
    """Parameters after N -> c N: A -> A c^alpha, everything else unchanged."""
    q = dict(p)
    q["A"] = p["A"] * c ** p["alpha"]
    return q


scales = st.floats(-3.0, 3.0).map(lambda e: 10.0**e)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", ["power", "chinchilla"])
@given(data=st.data(), c=scales)
def test_rescaling_n_noise_free(name, loss, data, c):
    case = data.draw(CASES[name], label="case")
    a = case.fit(loss=loss)
    scaled = Case(case.law, dict(case.x, N=case.x["N"] * c), case.y, case.truth, case.seed, case.n)
    b = scaled.fit(loss=loss)
    want = _rescaled_params(case.law, a.params, c)
    note(_describe(b, want))
    errs = _rel_errors(b.params, want)
    assert max(errs.values()) <= 1e-6, _describe(b, want)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", ["power", "chinchilla"])
@given(data=st.data(), c=scales)
def test_rescaling_n_noisy(name, loss, data, c):
    case = data.draw(NOISY[name], label="case")
    a = case.fit(loss=loss)
    scaled = Case(case.law, dict(case.x, N=case.x["N"] * c), case.y, case.truth, case.seed, case.n)
    b = scaled.fit(loss=loss)
    note(f"{a!r}\n{b!r}")
    assert a.success and b.success, (a.message, b.message)
    _close_in_stderr(a, b, _rescaled_params(case.law, a.params, c), 1e-4)
    assert b.cost == pytest.approx(a.cost, rel=1e-10)


# --- determinism ---------------------------------------------------------------------------


def _assert_identical(a: pf.FitResult, b: pf.FitResult) -> None:
    assert a.param_names == b.param_names
    assert np.array_equal(a.values, b.values), (a.values, b.values)
    assert a.cost == b.cost or (math.isnan(a.cost) and math.isnan(b.cost))
    assert (a.status, a.message, a.success) == (b.status, b.message, b.success)
    assert (a.n_iter, a.nfev, a.n_starts, a.n_points, a.dof) == (
        b.n_iter,
        b.nfev,
        b.n_starts,
        b.n_points,
        b.dof,
    )
    ca, cb = a.covariance, b.covariance
    if ca is None or cb is None:
        assert ca is None and cb is None
    else:
        assert np.array_equal(ca, cb, equal_nan=True)
    assert np.array_equal(
        np.array(list(a.stderr.values())), np.array(list(b.stderr.values())), equal_nan=True
    )


ALL_CASES = dict(CASES, **{f"noisy_{k}": v for k, v in NOISY.items()})


@pytest.mark.parametrize("loss", ["l2", "log", "huber_log"])
@pytest.mark.parametrize("name", list(ALL_CASES))
@given(data=st.data())
def test_deterministic(name, loss, data):
    case = data.draw(ALL_CASES[name], label="case")
    a = case.fit(loss=loss)
    copy = Case(case.law, {k: v.copy() for k, v in case.x.items()}, case.y.copy(), {}, 0, 0)
    b = copy.fit(loss=loss)
    _assert_identical(a, b)


def test_deterministic_grid_starts():
    """The 4,500-start grid runs in parallel; the result must not depend on scheduling."""
    x = _design(7, 40, ("N", "D"))
    truth = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
    y = law_value("chinchilla", truth, x) * np.exp(np.random.default_rng(8).normal(0, 0.01, 40))
    runs = [
        pf.fit(N=x["N"].copy(), D=x["D"].copy(), y=y.copy(), loss="huber_log", starts="grid")
        for _ in range(3)
    ]
    assert runs[0].n_starts == 4500
    for r in runs[1:]:
        _assert_identical(runs[0], r)


# --- data sources --------------------------------------------------------------------------


def _table(seed: int = 3, n: int = 50) -> dict[str, np.ndarray]:
    x = _design(seed, n, ("N", "D", "C"))
    truth = {"E": 1.7, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.37}
    rng = np.random.default_rng(seed + 1)
    y = law_value("chinchilla", truth, x) * np.exp(rng.normal(0, 0.01, n))
    return {"N": x["N"], "D": x["D"], "C": x["C"], "loss": y}


def _to_container(kind: str, cols: dict[str, np.ndarray]):
    if kind == "pandas":
        import pandas as pd

        return pd.DataFrame(cols)
    if kind == "polars":
        import polars as pl

        return pl.DataFrame(cols)
    if kind == "pyarrow":
        import pyarrow as pa

        return pa.table(cols)
    if kind == "dict":
        return {k: np.array(v) for k, v in cols.items()}
    if kind == "dict_of_lists":
        return {k: [float(e) for e in v] for k, v in cols.items()}
    raise AssertionError(kind)


CONTAINERS = ["pandas", "polars", "pyarrow", "dict", "dict_of_lists"]


@pytest.mark.parametrize("loss", ["l2", "log", "huber_log"])
@pytest.mark.parametrize("kind", CONTAINERS)
def test_data_sources_identical(kind, loss):
    cols = _table()
    ref = pf.fit(law="chinchilla", N=cols["N"], D=cols["D"], y=cols["loss"], loss=loss)
    res = pf.fit(_to_container(kind, cols), law="chinchilla", loss=loss)
    _assert_identical(ref, res)
    # list-valued keyword arrays too
    lists = pf.fit(
        law="chinchilla", N=list(cols["N"]), D=list(cols["D"]), y=list(cols["loss"]), loss=loss
    )
    _assert_identical(ref, lists)


@pytest.mark.parametrize("kind", CONTAINERS)
def test_column_mapping(kind):
    cols = _table()
    ref = pf.fit(law="chinchilla", N=cols["N"], D=cols["D"], y=cols["loss"])
    renamed = {"params": cols["N"], "tokens": cols["D"], "val": cols["loss"], "flops": cols["C"]}
    res = pf.fit(
        _to_container(kind, renamed),
        law="chinchilla",
        columns={"N": "params", "D": "tokens", "loss": "val"},
    )
    _assert_identical(ref, res)


@pytest.mark.parametrize("kind", CONTAINERS)
def test_power_law_from_a_table(kind):
    cols = _table()
    ref = pf.fit(law="power", x="D", D=cols["D"], y=cols["loss"], warn=False)
    res = pf.fit(_to_container(kind, cols), law="power", x="D", warn=False)
    assert res.variables == ("D",)
    _assert_identical(ref, res)


@pytest.mark.parametrize("kind", CONTAINERS)
def test_additive_law_uses_the_columns_present(kind):
    cols = _table()
    with_c = pf.fit(_to_container(kind, cols), law="additive", warn=False)
    assert with_c.variables == ("N", "D", "C")
    ref = pf.fit(law="additive", N=cols["N"], D=cols["D"], C=cols["C"], y=cols["loss"], warn=False)
    _assert_identical(ref, with_c)
    no_c = {k: v for k, v in cols.items() if k != "C"}
    res = pf.fit(_to_container(kind, no_c), law="additive", warn=False)
    assert res.variables == ("N", "D")
    assert res.param_names == ("L_inf", "A", "B", "alpha", "beta")


def test_extra_columns_and_order_do_not_matter():
    import pandas as pd

    cols = _table()
    ref = pf.fit(pd.DataFrame(cols))
    shuffled = pd.DataFrame(
        {"run": np.arange(len(cols["N"])), "loss": cols["loss"], "D": cols["D"], "N": cols["N"]}
    )
    _assert_identical(ref, pf.fit(shuffled))


def test_integer_columns_equal_float_columns():
    import pandas as pd

    cols = _table()
    n_int = np.round(cols["N"]).astype(np.int64)
    d_int = np.round(cols["D"]).astype(np.int64)
    ref = pf.fit(N=n_int.astype(float), D=d_int.astype(float), y=cols["loss"])
    res = pf.fit(pd.DataFrame({"N": n_int, "D": d_int, "loss": cols["loss"]}))
    _assert_identical(ref, res)


# --- fixed, bounds, result fields ----------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@given(case=chinchilla_cases(), shift=st.sampled_from([0.0, 0.05, -0.05]))
def test_fixed_parameter_is_kept_exactly(case, loss, shift):
    value = case.truth["E"] + shift
    res = case.fit(loss=loss, fixed={"E": value})
    assert res.params["E"] == value  # exactly, not approximately
    assert res.fixed == {"E": value}
    assert res.dof == case.n - 4
    if shift == 0.0:
        errs = _rel_errors(res.params, case.truth)
        assert max(errs.values()) <= RECOVERY_RTOL, _describe(res, case.truth)
    else:
        assert res.cost > 0.0
    if res.covariance is not None:
        i = res.param_names.index("E")
        assert np.all(res.covariance[i] == 0.0) and np.all(res.covariance[:, i] == 0.0)
    assert res.stderr["E"] == 0.0


@given(case=NOISY["chinchilla"], alpha=st.floats(0.15, 0.7))
def test_fixed_exponent(case, alpha):
    res = case.fit(fixed={"alpha": alpha})
    assert res.params["alpha"] == alpha
    assert res.stderr["alpha"] == 0.0
    assert res.dof == case.n - 4
    free = case.fit()
    # holding a parameter cannot beat the free optimum
    assert res.cost >= free.cost * (1 - 1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@given(
    case=chinchilla_cases(),
    which=st.sampled_from(["E", "A", "B", "alpha", "beta"]),
    side=st.sampled_from(["below", "above"]),
    gap=st.floats(0.02, 0.5),
)
def test_bounds_are_respected(case, loss, which, side, gap):
    """A bound that excludes the true value is active at the result; the others hold too."""
    v = case.truth[which]
    if side == "below":  # the truth lies below the feasible interval
        lo, hi = v * (1 + gap), v * (1 + 10 * gap)
    else:  # above it (lo may be negative, also for the positive amplitudes)
        lo, hi = v * (1 - 10 * gap), v * (1 - gap)
    bounds = {"E": (0.0, None), "alpha": (0.0, 2.0), "beta": (0.0, 2.0)}
    bounds[which] = (lo, hi)
    res = case.fit(loss=loss, bounds=bounds)
    note(repr(res))
    for name, (b_lo, b_hi) in bounds.items():
        got = res.params[name]
        assert b_lo is None or got >= b_lo, f"{name}={got!r} below its lower bound {b_lo!r}"
        assert b_hi is None or got <= b_hi, f"{name}={got!r} above its upper bound {b_hi!r}"
    # the bound excludes the truth, so the fit cannot be exact
    assert res.cost > 0.0


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "bounds",
    [{"alpha": (0.0, 0.3)}, {"E": (1.8, None)}, {"A": (None, 300.0)}, {"B": (450.0, 1e4)}],
    ids=["alpha", "E", "A", "B"],
)
def test_fit_at_an_active_bound_converges(bounds, loss):
    """Hoffmann et al.'s law on a 7 x 7 grid, with one bound that excludes the truth: the
    constrained optimum lies on the bound and the solver should say it converged there."""
    N, D = (a.ravel() for a in np.meshgrid(np.logspace(7, 10, 7), np.logspace(9, 12, 7)))
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    y = law_value("chinchilla", truth, {"N": N, "D": D})
    res = pf.fit(N=N, D=D, y=y, loss=loss, bounds=bounds, warn=False)
    ((name, (lo, hi)),) = bounds.items()
    at = lo if lo is not None and lo > truth[name] else hi
    assert res.params[name] == pytest.approx(at)
    # The constrained optimum is the fit with that parameter held at the bound.
    held = pf.fit(N=N, D=D, y=y, loss=loss, fixed={name: at}, warn=False)
    assert held.success, held.message
    assert res.cost <= held.cost * (1 + 1e-9), (
        f"bounded fit: cost {res.cost:.10g} ({res.status}, {res.n_iter} iterations) {res!r}; "
        f"held at the bound: cost {held.cost:.10g} {held!r}"
    )
    # both stop when the cost changes by less than ftol = 1e-10; along the flat B-beta valley
    # that leaves each about 1e-6 (relative) from the exact optimum
    for k in truth:
        assert res.params[k] == pytest.approx(held.params[k], rel=1e-5), k
    assert res.success, f"{res.status} after {res.n_iter} iterations: {res!r}"


@pytest.mark.parametrize("loss", LOSSES)
@given(case=chinchilla_cases())
def test_bounds_containing_the_truth_change_nothing(case, loss):
    t = case.truth
    bounds = {
        "E": (0.0, 5.0),
        "A": (t["A"] / 100, t["A"] * 100),
        "B": (t["B"] / 100, None),
        "alpha": (0.05, 1.0),
        "beta": (None, 1.0),
    }
    res = case.fit(loss=loss, bounds=bounds)
    assert max(_rel_errors(res.params, t).values()) <= RECOVERY_RTOL, _describe(res, t)


STATUSES = {
    "converged_cost",
    "converged_step",
    "converged_gradient",
    "zero_residual",
    "no_further_reduction",
    "max_iterations",
    "non_finite",
    "interrupted",
}


@pytest.mark.parametrize("loss", ["l2", "log", "huber_log"])
@pytest.mark.parametrize("name", list(NOISY))
@given(data=st.data())
def test_result_reports_its_fields(name, loss, data):
    case = data.draw(NOISY[name], label="case")
    res = case.fit(loss=loss)
    p = len(res.param_names)
    assert isinstance(res.status, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", res.status)
    assert res.status in STATUSES
    assert isinstance(res.message, str) and res.message
    assert isinstance(res.success, bool)
    assert res.success == (res.status not in ("max_iterations", "non_finite", "interrupted"))
    assert isinstance(res.n_iter, int) and res.n_iter >= 0
    assert isinstance(res.nfev, int) and res.nfev >= 1
    assert isinstance(res.dof, int) and res.dof == case.n - p
    assert res.n_points == case.n
    assert list(res.params) == list(res.param_names)
    assert isinstance(res.stderr, dict) and list(res.stderr) == list(res.param_names)
    assert isinstance(res.cov_note, str) and res.cov_note
    cov = res.covariance
    if cov is None:
        # allowed only where the estimator is undefined: the robust losses' sandwich needs
        # points inside the quadratic region (delta=1e-3 on log residuals vs 0.5% noise)
        assert loss == "huber_log", res.cov_note
        assert all(math.isnan(v) for v in res.stderr.values())
        return
    assert isinstance(cov, np.ndarray) and cov.shape == (p, p)
    assert np.all(np.isfinite(cov))
    assert np.all(np.diag(cov) > 0)
    # symmetric up to rounding, on the scale of the correlations (the robust losses' sandwich
    # estimate is not symmetrised exactly: its asymmetry is ~1e-12 of stderr_i * stderr_j)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert np.max(np.abs(cov - cov.T) / scale) <= 1e-9
    assert np.allclose(list(res.stderr.values()), np.sqrt(np.diag(cov)), rtol=1e-14, atol=0.0)
    assert math.isfinite(res.cost) and res.cost >= 0.0


def test_non_convergence_is_data_not_an_error():
    case = _table()
    res = pf.fit(law="chinchilla", N=case["N"], D=case["D"], y=case["loss"], max_iter=1, warn=False)
    assert res.status == "max_iterations"
    assert res.success is False
    assert "iteration" in res.message
    with pytest.warns(pf.PowerfitWarning):
        pf.fit(law="chinchilla", N=case["N"], D=case["D"], y=case["loss"], max_iter=1)
