"""The laws for extrapolation through the public API: m1..m4, bnsl, bnsl2, data_constrained and
written implicit laws fit, bootstrap, predict and run in fit_groups; irreducible terms are
non-negative by default and the bound can be lifted."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit.errors import InvalidLawError

X = np.geomspace(1e4, 1e9, 30)
TRUTH = {
    "m1": {"beta": 40.0, "c": 0.2},
    "m2": {"eps_inf": 1.7, "beta": 400.0, "c": 0.35},
    "m3": {"beta": 3.0, "gamma": 2e-7, "c": 0.12},
    "m4": {"eps_inf": 1.5, "beta": 30.0, "c": 0.3, "alpha": 0.8, "eps_0": 6.0},
    "bnsl": {"a": 0.5, "b": 20.0, "c0": 0.05, "c1": 0.5, "d1": 1e6, "f1": 0.3},
}


def m4_by_bisection(x: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """M4's losses by plain bisection (an independent solver for the checks)."""
    e, e0 = p["eps_inf"], p["eps_0"]
    lo = np.full_like(x, e)
    hi = np.full_like(x, e0)
    f = p["beta"] * x ** -p["c"]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        up = (mid - e) / (e0 - mid) ** p["alpha"] > f
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def truth_values(law: str, x: np.ndarray) -> np.ndarray:
    p = TRUTH[law]
    if law == "m1":
        return p["beta"] * x ** -p["c"]
    if law == "m2":
        return p["eps_inf"] + p["beta"] * x ** -p["c"]
    if law == "m3":
        return p["beta"] * (1 / x + p["gamma"]) ** p["c"]
    if law == "m4":
        return m4_by_bisection(x, p)
    z = np.log(x / p["d1"]) / p["f1"]
    return p["a"] + p["b"] * x ** -p["c0"] * np.exp(-p["c1"] * p["f1"] * np.logaddexp(0, z))


@pytest.mark.parametrize("law", sorted(TRUTH))
def test_recovers_parameters_from_noise_free_data(law: str) -> None:
    y = truth_values(law, X)
    res = pf.fit(law=law, x=X, y=y, loss="log")
    assert res.success, res.message
    for k, v in TRUTH[law].items():
        assert res.params[k] == pytest.approx(v, rel=1e-3, abs=1e-12), (k, res.params)
    far = np.geomspace(1e9, 1e15, 7)
    np.testing.assert_allclose(res.predict(x=far), truth_values(law, far), rtol=1e-4)


def test_m4_predictions_agree_with_an_independent_solver() -> None:
    res = pf.fit(law="m4", x=X, y=truth_values("m4", X), loss="log")
    far = np.geomspace(1e2, 1e14, 40)
    np.testing.assert_allclose(res.predict(x=far), m4_by_bisection(far, res.params), rtol=1e-12)


def test_m4_with_eps0_fixed_on_error_rates() -> None:
    p = {"eps_inf": 0.05, "beta": 3.0, "c": 0.4, "alpha": 1.2, "eps_0": 1.0}
    x = np.geomspace(1e2, 1e6, 25)
    y = m4_by_bisection(x, p)
    res = pf.fit(law="m4", x=x, y=y, fixed={"eps_0": 1.0})
    assert res.success
    for k, v in p.items():
        assert res.params[k] == pytest.approx(v, rel=1e-4), res.params


def test_new_laws_bootstrap_and_take_a_column_name() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"D": X, "loss": truth_values("m4", X) * np.exp(rng.normal(0, 0.003, 30))})
    res = pf.fit(df, law="m4", x="D", loss="log")
    assert res.success and res.variables == ("D",)
    boot = res.bootstrap(n_boot=200, seed=1)
    ci = boot.ci()
    assert list(ci["parameter"]) == ["eps_inf", "beta", "c", "alpha", "eps_0"]
    row = ci.set_index("parameter").loc["c"]
    assert row["lower"] < res.params["c"] < row["upper"]
    band = res.predict_interval(D=[1e10, 1e11])
    assert np.all(np.isfinite(np.asarray(band["lower"])))


def test_fit_groups_runs_the_new_laws_like_fit() -> None:
    rows = []
    for g, scale in enumerate([1.0, 1.1, 1.2]):
        y = truth_values("m4", X) * scale
        rows.append(pd.DataFrame({"task": f"t{g}", "N": X, "loss": y}))
    table = pd.concat(rows, ignore_index=True)
    out = pf.fit_groups(table, by="task", law="m4", x="N", loss="log")
    for _, row in out.iterrows():
        one = pf.fit(table[table["task"] == row["task"]], law="m4", x="N", loss="log")
        for k in ("eps_inf", "beta", "c", "alpha", "eps_0"):
            assert row[k] == one.params[k]


def test_bnsl_predictions_stay_finite_far_beyond_the_data() -> None:
    for law in ("bnsl", "bnsl2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pf.PowerfitWarning)
            res = pf.fit(law=law, x=X, y=truth_values("bnsl", X), loss="log")
        assert math.isfinite(res.cost)
        out = res.predict(x=np.geomspace(1e-3, 1e30, 40))
        assert np.all(np.isfinite(out)) and np.all(out > 0)


def muennighoff_runs() -> pd.DataFrame:
    p = {
        "E": 1.69,
        "A": 406.4,
        "B": 410.7,
        "alpha": 0.34,
        "beta": 0.28,
        "R_N": 5.309743,
        "R_D": 15.387756,
    }
    rows = []
    for u in (1e8, 4e8, 1.5e9):
        for ep in (1, 2, 4, 8, 16, 30, 60):
            for n in (1e7, 4e7, 1.5e8, 6e8, 2.5e9):
                rows.append((n, u * ep, u))
    df = pd.DataFrame(rows, columns=["N", "D", "U"])
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    ud = np.minimum(df["U"], df["D"])
    un = np.minimum(g * (ud * g) ** (p["beta"] / p["alpha"]), df["N"])
    rd, rn = df["D"] / ud - 1, df["N"] / un - 1
    dp = ud * (1 + p["R_D"] * (1 - np.exp(-rd / p["R_D"])))
    np_ = un * (1 + p["R_N"] * (1 - np.exp(-rn / p["R_N"])))
    df["loss"] = p["E"] + p["A"] * np_ ** -p["alpha"] + p["B"] * dp ** -p["beta"]
    return df


def test_data_constrained_reproduces_the_repetition_constants() -> None:
    res = pf.fit(muennighoff_runs(), law="data_constrained", loss="log")
    assert res.success, res.message
    assert res.variables == ("N", "D", "U")
    assert res.params["R_D"] == pytest.approx(15.4, abs=0.05)
    assert res.params["R_N"] == pytest.approx(5.3, abs=0.05)


def test_irreducible_terms_are_non_negative_unless_lifted() -> None:
    # a pure power law bending down: the unconstrained constant is negative
    y = 5.0 * X**-0.05 - 0.4
    with pytest.warns(pf.PowerfitWarning, match="lower bound"):
        res = pf.fit(law="power", x=X, y=y)
    assert res.params["L_inf"] == 0.0
    lifted = pf.fit(law="power", x=X, y=y, bounds={"L_inf": (None, None)}, warn=False)
    assert lifted.params["L_inf"] < -0.1
    m2 = pf.fit(law="m2", x=X, y=y, warn=False)
    assert m2.params["eps_inf"] >= 0.0


def test_written_implicit_law_fits_and_predicts() -> None:
    law = pf.Law(
        "(L - e)/(e0 - L)^a = b*x^-c",
        variables="x",
        p0={"e": 1.3, "b": 25.0, "c": 0.25, "a": 0.7, "e0": 7.0},
        positive=["b"],
    )
    y = truth_values("m4", X)
    res = pf.fit(law=law, x=X, y=y, loss="log")
    assert res.success, res.message
    want = {"e": 1.5, "b": 30.0, "c": 0.3, "a": 0.8, "e0": 6.0}
    for k, v in want.items():
        assert res.params[k] == pytest.approx(v, rel=1e-5)
    far = np.geomspace(1e9, 1e14, 6)
    pred = res.predict(x=far)
    lhs = (pred - 1.5) / (6.0 - pred) ** 0.8
    np.testing.assert_allclose(lhs, 30.0 * far**-0.3, rtol=1e-6)
    assert "=" in res.summary().splitlines()[1]


def test_written_implicit_law_errors_name_the_problem() -> None:
    with pytest.raises(InvalidLawError, match="must contain the loss 'L'"):
        pf.Law("a*x = b", variables="x")
    with pytest.raises(InvalidLawError, match="'L' is the loss"):
        pf.Law("L - a = b*L", variables="L")


def test_a_fixed_value_overrides_the_default_bound_but_not_a_given_one() -> None:
    y = 5.0 * X**-0.05 - 0.4
    res = pf.fit(law="power", x=X, y=y, fixed={"L_inf": -0.4}, warn=False)
    assert res.params["L_inf"] == -0.4
    with pytest.raises(pf.InvalidOptionError, match="outside its bounds"):
        pf.fit(law="power", x=X, y=y, fixed={"L_inf": -0.4}, bounds={"L_inf": (0, None)})
