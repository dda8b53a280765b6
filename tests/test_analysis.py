"""Scaling analysis: compute-optimal allocation, inference-aware sizing,
elasticities, forecasts, extrapolation checks and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

import powerfit as pf

EPOCH = {"E": 1.8169, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
C_CHIN = 5.88e23


def _law_at(params: dict[str, float]) -> pf.FitResult:
    """A FitResult holding given Chinchilla parameters (all fixed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.fit(pf.datasets.chinchilla(), law="chinchilla", fixed=params)


def _loss(p: dict[str, float], n: np.ndarray, d: np.ndarray) -> np.ndarray:
    return p["E"] + p["A"] * n ** -p["alpha"] + p["B"] * d ** -p["beta"]


@pytest.mark.parametrize("params", [EPOCH, HOFFMANN])
def test_closed_form_is_the_numeric_minimum(params: dict[str, float]) -> None:
    res = _law_at(params)
    budgets = [1e19, 1e21, C_CHIN, 1e26]
    table = res.compute_optimal(budgets, flops_per_param_token=6.0)
    for c, row in zip(budgets, table.itertuples()):
        f = lambda ln: _loss(params, np.exp(ln), c / (6.0 * np.exp(ln)))  # noqa: E731
        opt = minimize_scalar(
            f, bounds=(0.0, np.log(c / 6.0)), method="bounded", options={"xatol": 1e-10}
        )
        assert row.N_opt == pytest.approx(np.exp(opt.x), rel=1e-5)
        assert row.D_opt == pytest.approx(c / (6.0 * np.exp(opt.x)), rel=1e-5)
        assert row.L_opt == pytest.approx(opt.fun, rel=1e-12)
        assert 6.0 * row.N_opt * row.D_opt == pytest.approx(c, rel=1e-12)


def test_published_allocations() -> None:
    epoch = _law_at(EPOCH).compute_optimal([C_CHIN]).iloc[0]
    assert epoch["a"] == pytest.approx(0.513, abs=0.001)
    assert epoch["tokens_per_param"] == pytest.approx(18, abs=1.0)
    hoff = _law_at(HOFFMANN).compute_optimal([C_CHIN]).iloc[0]
    assert hoff["tokens_per_param"] == pytest.approx(93, abs=3.0)


def test_numeric_path_for_kaplan_matches_scipy() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="kaplan", loss="huber_log", warn=False)
    p = res.params
    table = res.compute_optimal([1e21, 1e23])

    def kaplan(n: float, d: float) -> float:
        return ((p["N_c"] / n) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / d) ** p["alpha_D"]

    for c, row in zip([1e21, 1e23], table.itertuples()):
        opt = minimize_scalar(
            lambda ln: kaplan(np.exp(ln), c / (6 * np.exp(ln))),
            bounds=(5.0, np.log(c / 6.0) - 5.0),
            method="bounded",
            options={"xatol": 1e-9},
        )
        assert row.N_opt == pytest.approx(np.exp(opt.x), rel=1e-4)
        assert row.L_opt == pytest.approx(opt.fun, rel=1e-10)


def test_bootstrap_adds_interval_columns() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    res.bootstrap(n_boot=300, seed=0, progress=False)
    t = res.compute_optimal([1e21, C_CHIN])
    for col in ("N_opt", "D_opt", "tokens_per_param", "L_opt"):
        assert (t[f"{col}_lower"] < t[col]).all() and (t[col] < t[f"{col}_upper"]).all()


def test_compute_term_confounded_is_refused_and_warned() -> None:
    df = pf.datasets.chinchilla()  # C = 6 N D exactly
    with pytest.warns(pf.PowerfitWarning, match="C = k N D"):
        res = pf.fit(df, law="additive", loss="l2")
    with pytest.raises(pf.InvalidOptionError, match="cannot be told apart"):
        res.compute_optimal([1e21])
    assert any("C = k N D" in w for w in res.warnings)


def test_compute_term_recorded_independently() -> None:
    rng = np.random.default_rng(0)
    n = 10 ** rng.uniform(7, 10, 300)
    d = 10 ** rng.uniform(9, 12, 300)
    c = 6 * n * d * 10 ** rng.uniform(-1, 1, 300)  # e.g. FLOPs measured with overheads
    p = dict(L_inf=1.7, A=400.0, B=2000.0, E=50.0, alpha=0.34, beta=0.37, gamma=0.15)
    y = (
        p["L_inf"]
        + p["A"] * n ** -p["alpha"]
        + p["B"] * d ** -p["beta"]
        + p["E"] * c ** -p["gamma"]
    )
    res = pf.fit({"N": n, "D": d, "C": c, "loss": y}, law="additive", loss="l2")
    assert not any("C = k N D" in w for w in res.warnings)
    table = res.compute_optimal([1e22])
    # at fixed C the C term is constant: the allocation is the N, D closed form
    a = p["beta"] / (p["alpha"] + p["beta"])
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    assert table["N_opt"].iloc[0] == pytest.approx(g * (1e22 / 6) ** a, rel=1e-4)


def test_inference_optimal_against_grid() -> None:
    res = _law_at(EPOCH)
    target, t_inf = 2.05, 2e12
    out = res.inference_optimal(target, t_inf)
    n = np.logspace(7, 13, 200_001)
    rest = target - EPOCH["E"] - EPOCH["A"] * n ** -EPOCH["alpha"]
    ok = rest > 0
    d = (EPOCH["B"] / rest[ok]) ** (1 / EPOCH["beta"])
    total = 6 * n[ok] * d + 2 * n[ok] * t_inf
    best = total.min()
    assert out.total_flops == pytest.approx(best, rel=1e-6)
    assert pytest.approx(n[ok][total.argmin()], rel=1e-3) == out.N
    assert _loss(EPOCH, np.array(out.N), np.array(out.D)) == pytest.approx(target, abs=1e-9)
    # the compute-optimal model of the same loss serves the same tokens at a higher total
    assert out.chinchilla_N > out.N and 0 < out.saving < 1
    train_only = 6 * n[ok] * d
    assert out.chinchilla_total_flops == pytest.approx(
        train_only.min() + 2 * n[ok][train_only.argmin()] * t_inf, rel=1e-3
    )
    assert res.inference_optimal(target, 0.0).saving == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(pf.InvalidOptionError, match="floor"):
        res.inference_optimal(1.5, 1e12)


def test_elasticities_closed_form() -> None:
    res = _law_at(EPOCH)
    n, d = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    t = res.elasticities(N=n, D=d)
    an = EPOCH["A"] * n ** -EPOCH["alpha"]
    bd = EPOCH["B"] * d ** -EPOCH["beta"]
    np.testing.assert_allclose(t["elasticity_N"], -EPOCH["alpha"] * an / (an + bd), rtol=1e-7)
    np.testing.assert_allclose(t["elasticity_D"], -EPOCH["beta"] * bd / (an + bd), rtol=1e-7)
    np.testing.assert_allclose(t["dL_dN"], -EPOCH["alpha"] * an / n, rtol=1e-7)
    np.testing.assert_allclose(
        t["token_vs_param"], (EPOCH["beta"] * bd / d) / (EPOCH["alpha"] * an / n), rtol=1e-6
    )


def test_prediction_intervals() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    with pytest.raises(pf.InvalidOptionError, match="bootstrap"):
        pf.fit(pf.datasets.chinchilla(), law="chinchilla").predict_interval(N=[1e9], D=[1e10])
    res.bootstrap(n_boot=400, seed=0, progress=False)
    conf = res.predict_interval(N=[7e10, 1e12], D=[1.4e12, 2e13])
    pred = res.predict_interval(N=[7e10, 1e12], D=[1.4e12, 2e13], kind="prediction")
    assert (conf["lower"] < conf["prediction"]).all() and (conf["prediction"] < conf["upper"]).all()
    assert ((pred["upper"] - pred["lower"]) > (conf["upper"] - conf["lower"])).all()
    # extrapolating further widens the band
    width = conf["upper"] - conf["lower"]
    assert width.iloc[1] > width.iloc[0]


def test_extrapolation_check() -> None:
    df = pf.datasets.chinchilla()
    out = pf.extrapolation_check(df, law="chinchilla", holdout={"N": 1e9}, loss="huber_log")
    assert out.n_train + out.n_test == len(df)
    assert (out.table["N"] >= 1e9).all()
    assert out.mean_abs_rel_error < 0.03
    assert "held-out" in out.summary()
    share = pf.extrapolation_check(df, law="chinchilla", holdout=0.2, loss="huber_log")
    assert share.n_test == pytest.approx(0.2 * len(df), abs=2)
    with pytest.raises(pf.InvalidOptionError):
        pf.extrapolation_check(df, holdout={"N": 1e30})
    with pytest.raises(pf.InvalidOptionError):
        pf.extrapolation_check(df, holdout=1.5)


def _synthetic(
    n_lo: float,
    n_hi: float,
    m: int = 40,
    distinct: int | None = None,
    noise: float = 0.003,
    seed: int = 0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if distinct is None:
        n = 10 ** rng.uniform(np.log10(n_lo), np.log10(n_hi), m)
    else:
        n = np.repeat(np.geomspace(n_lo, n_hi, distinct), m // distinct)
    y = (1.7 + 400 * n**-0.34) * np.exp(noise * rng.standard_normal(n.size))
    return pd.DataFrame({"N": n, "loss": y})


def _warns(res: pf.FitResult, pattern: str) -> bool:
    return any(pattern in w for w in res.warnings)


def test_warning_short_range() -> None:
    with pytest.warns(pf.PowerfitWarning, match="less than one decade"):
        short = pf.fit(_synthetic(1e9, 5e9), law="power", x="N")
    assert _warns(short, "less than one decade")
    assert not _warns(pf.fit(_synthetic(1e7, 1e10), law="power", x="N"), "decade")


def test_warning_too_few_distinct_values() -> None:
    few = pf.fit(_synthetic(1e7, 1e10, m=40, distinct=2), law="power", x="N", warn=False)
    assert _warns(few, "distinct value")
    assert not _warns(pf.fit(_synthetic(1e7, 1e10, distinct=8), law="power", x="N"), "distinct")


def test_warning_ill_conditioned() -> None:
    bad = pf.fit(_synthetic(1e9, 1.05e9, noise=1e-4), law="power", x="N", warn=False)
    assert _warns(bad, "nearly singular")
    # over a 5% range of N the amplitude and the exponent trade off against each other
    msg = next(w for w in bad.warnings if "nearly singular" in w)
    assert "involves A, alpha" in msg
    assert not _warns(pf.fit(_synthetic(1e7, 1e10), law="power", x="N"), "nearly singular")


def test_warning_parameter_at_bound() -> None:
    df = pf.datasets.chinchilla()
    at = pf.fit(df, law="chinchilla", loss="huber_log", bounds={"alpha": (0, 0.3)}, warn=False)
    assert _warns(at, "alpha is at its upper bound")
    free = pf.fit(df, law="chinchilla", loss="huber_log", bounds={"alpha": (0, 0.9)})
    assert not _warns(free, "bound")


def test_warning_constant_outside_range() -> None:
    df = pf.datasets.chinchilla()
    high = pf.fit(df, law="chinchilla", fixed={"E": 2.5}, warn=False)
    assert _warns(high, "above the smallest observed loss")
    neg = pf.fit(df, law="chinchilla", fixed={"E": -0.5}, warn=False)
    assert _warns(neg, "negative")
    ok = pf.fit(df, law="chinchilla", loss="huber_log")
    assert not _warns(ok, "smallest observed") and not _warns(ok, "negative")
    assert "warnings: none" in ok.summary()


def test_forecasts_far_beyond_the_data_say_how_far() -> None:
    import warnings

    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = res.compute_optimal([1e21, 1e27])
    far = [str(w.message) for w in caught if issubclass(w.category, pf.PowerfitWarning)]
    assert table["decades_beyond"].iloc[0] == 0.0
    assert 4.5 < table["decades_beyond"].iloc[1] < 5.5
    assert any("C=1e+27" in m and "decades" in m for m in far)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res.predict(N=[1e14], D=[1e14])
        res.predict(N=[1e9], D=[1e10])  # inside the data: silent
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 1 and "N by 3.8 decades" in msgs[0]
    assert res.decades_beyond(N=[1e9])["N"] == 0.0


def test_law_auto_picks_by_held_out_error() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="auto", warn=False)
    sel = res.selection
    assert sel is not None and res.law == str(sel.law)
    ev = sel.evidence
    assert list(ev["rank"]) == sorted(ev["rank"]) and ev["law"].iloc[0] == res.law
    assert {"heldout_log_rmse", "aic", "bic"} <= set(ev.columns)
    assert res.loss == "log"
    with pytest.raises(pf.InvalidOptionError, match="selection="):
        pf.fit(pf.datasets.chinchilla(), law="auto", selection={"nope": 1})


def test_bootstrap_flags_a_standard_error_driven_by_outliers() -> None:
    import warnings

    from powerfit import _core
    from powerfit.bootstrap import BootstrapResult

    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    rng = np.random.default_rng(0)
    n = 1000
    samples = res.values + rng.normal(0.0, 1e-3, (n, 5)) * res.values
    samples[:10, 3] *= 3.0  # ten replicates with alpha three times too large
    reps = _core.Replicates.restore(
        res.model, np.ascontiguousarray(samples), ["converged_cost"] * n, [0.0] * n, [5] * n
    )
    boot = BootstrapResult(res, reps, resample="case", seed=0, labels=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        boot.ci()
    heavy = [str(w.message) for w in caught if "outlying replicates" in str(w.message)]
    assert len(heavy) == 1 and "alpha" in heavy[0] and "beta" not in heavy[0]
    assert boot.se["alpha"] > 10 * boot.robust_se["alpha"]
    assert boot.robust_se["beta"] == pytest.approx(boot.se["beta"], rel=0.15)
    assert "robust_se" in boot.summary()
    # the real sweep's replicates are not heavy-tailed: no warning
    real = res.bootstrap(n_boot=200, seed=0, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        real.ci()
    assert not [w for w in caught if "outlying" in str(w.message)]


def test_warnings_point_at_the_callers_line() -> None:
    """A warning raised deep inside powerfit (behind the option-renaming wrapper, a facade or a
    helper) is attributed to the user's line, so filters and the printed location are theirs;
    a long list of budgets is shortened in the message."""
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    with pytest.warns(pf.PowerfitWarning) as rec:
        res.compute_optimal(np.logspace(26, 32, 300))
    assert {w.filename for w in rec} == {__file__}
    assert "more) ..." in str(rec[0].message) and len(str(rec[0].message)) < 400
    with pytest.warns(pf.PowerfitWarning, match="extrapolating") as rec:
        res.predict(N=1e15, D=1e15)
    assert {w.filename for w in rec} == {__file__}
