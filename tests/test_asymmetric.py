"""Asymmetric losses (``loss="asymmetric"`` / ``"asymmetric_log"``, ``overestimate_penalty``):
over-predictions (model above the observation) cost ``overestimate_penalty`` times as much as
under-predictions, so the fit follows the lower envelope of the data. On data where some runs
are under-tuned (their loss is higher than the law's), the asymmetric fit recovers the clean
law much better than least squares."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import powerfit as pf

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
A_TRUE = BETA / (ALPHA + BETA)
HERE = os.path.dirname(os.path.abspath(__file__))


def law(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return E + A * N**-ALPHA + B * D**-BETA


def one_sided(seed: int, n: int = 150, share: float = 0.3) -> pd.DataFrame:
    """Runs of the clean law with 0.2% symmetric noise; a ``share`` of them under-tuned, their
    loss raised by 2-10%."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(5e7), np.log(5e9), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(2e11), n))
    bad = rng.random(n) < share
    y = law(N, D) * np.exp(rng.normal(0.0, 0.002, n) + bad * rng.uniform(0.02, 0.10, n))
    return pd.DataFrame({"N": N, "D": D, "loss": y, "under_tuned": bad})


def errors(res: pf.FitResult) -> dict[str, float]:
    """How far a fit is from the clean law: rms log error over the data range, |a - a_true|,
    |alpha - ALPHA|, |beta - BETA|, |E - E_true|."""
    NN, DD = np.meshgrid(np.geomspace(5e7, 5e9, 20), np.geomspace(1e9, 2e11, 20))
    pred = res.predict(N=NN.ravel(), D=DD.ravel())
    p = res.params
    return {
        "rms": float(np.sqrt(np.mean((np.log(pred) - np.log(law(NN.ravel(), DD.ravel()))) ** 2))),
        "a": abs(p["beta"] / (p["alpha"] + p["beta"]) - A_TRUE),
        "alpha": abs(p["alpha"] - ALPHA),
        "beta": abs(p["beta"] - BETA),
        "E": abs(p["E"] - E),
    }


@pytest.mark.parametrize("loss", ["asymmetric", "asymmetric_log"])
def test_asymmetric_recovers_the_clean_law_better_than_l2(loss: str) -> None:
    l2_err, asym_err = [], []
    for seed in range(4):
        df = one_sided(seed)
        l2 = pf.fit(df, law="chinchilla", loss="l2", warn=False)
        asym = pf.fit(df, law="chinchilla", loss=loss, overestimate_penalty=10.0, warn=False)
        assert asym.success and asym.loss == loss and asym.overestimate_penalty == 10.0
        e2, ea = errors(l2), errors(asym)
        # measured (seeds 0-3): l2 rms log error 0.018-0.023 (the under-tuned runs pull the
        # surface up by ~2%), asymmetric 0.0023-0.0036
        assert ea["rms"] < 0.006 and e2["rms"] > 0.015, (seed, e2, ea)
        assert ea["rms"] < e2["rms"] / 4
        assert ea["E"] < e2["E"]
        l2_err.append(e2)
        asym_err.append(ea)
    mean = lambda errs, k: float(np.mean([e[k] for e in errs]))  # noqa: E731
    # the compute-optimal exponent a = beta/(alpha+beta): l2 misses by ~0.05 on average
    # (0.39-0.54 for a true 0.452), the asymmetric fit by ~0.01
    assert mean(asym_err, "a") < 0.02 and mean(l2_err, "a") > 0.03
    for k in ("alpha", "beta", "E"):
        assert mean(asym_err, k) < mean(l2_err, k) / 2, k


def test_the_penalty_pushes_the_fit_down() -> None:
    df = one_sided(7)
    y = df["loss"].to_numpy()
    clean = ~df["under_tuned"].to_numpy()
    above = {}  # share of clean runs the fit over-predicts
    for pen in (1.0, 10.0, 100.0):
        res = pf.fit(df, law="chinchilla", loss="asymmetric_log", overestimate_penalty=pen,
                     warn=False)  # fmt: skip
        r = res.residuals()  # prediction minus observation, on the log scale
        assert np.allclose(r, np.log(res.predict(N=df["N"], D=df["D"]) / y))
        above[pen] = float(np.mean(r[clean] > 0))
        if pen > 1.0:
            assert (r[~clean] < 0).all()  # every under-tuned run lies above the fit
    # measured: 1.0 (least squares: the under-tuned runs lift the surface above every clean
    # run), 0.90 (the fit sits ~0.2% above the clean runs, within their noise), 0.26
    assert above[1.0] > 0.95 and above[1.0] > above[10.0] > above[100.0]
    assert above[100.0] < 0.5


def test_penalty_one_is_least_squares() -> None:
    df = one_sided(3)
    for asym, sym in (("asymmetric", "l2"), ("asymmetric_log", "log")):
        a = pf.fit(df, law="chinchilla", loss=asym, overestimate_penalty=1.0, warn=False)
        s = pf.fit(df, law="chinchilla", loss=sym, warn=False)
        for k, v in s.params.items():
            assert a.params[k] == pytest.approx(v, rel=1e-6), k
        assert a.cost == pytest.approx(s.cost, rel=1e-9)


def test_cost_is_the_weighted_square() -> None:
    # a power law with fixed exponent: the cost at the optimum is sum of rho(r)
    rng = np.random.default_rng(0)
    x = np.geomspace(1e7, 1e10, 30)
    y = (2.0 + 50.0 * x**-0.3) * np.exp(rng.normal(0, 0.01, 30))
    res = pf.fit(law="power", x=x, y=y, loss="asymmetric", overestimate_penalty=5.0,
                 fixed={"alpha": 0.3}, warn=False)  # fmt: skip
    r = res.predict(x=x) - y
    rho = np.where(r > 0, 5.0, 1.0) * 0.5 * r**2
    assert res.cost == pytest.approx(rho.sum(), rel=1e-9)
    assert "overestimate_penalty=5" in res.summary()


def test_usable_in_every_fit() -> None:
    df = pd.concat([one_sided(s).assign(group=s) for s in range(3)], ignore_index=True)
    table = pf.fit_groups(df, by="group", law="chinchilla", loss="asymmetric_log",
                          overestimate_penalty=10.0)  # fmt: skip
    assert len(table) == 3
    for s in range(3):
        alone = pf.fit(df[df["group"] == s], law="chinchilla", loss="asymmetric_log",
                       overestimate_penalty=10.0, warn=False)  # fmt: skip
        row = table[table["group"] == s].iloc[0]
        assert row["alpha"] == pytest.approx(alone.params["alpha"], rel=1e-9)
    res = pf.fit(df[df["group"] == 0], law="chinchilla", loss="asymmetric_log",
                 overestimate_penalty=10.0, warn=False)  # fmt: skip
    boot = res.bootstrap(n_boot=100, seed=1, progress=False)
    ci = boot.ci(budgets=[1e22])
    a = ci.set_index("parameter").loc["a"]
    assert a["lower"] < A_TRUE + 0.03 and a["upper"] > A_TRUE - 0.03
    assert res.covariance is not None and "sandwich" in res.cov_note


def test_lower_envelope_of_training_curves(olmo_curves: pd.DataFrame) -> None:
    """As OLMo and the chinchilla package use it: a power law in compute fitted to every
    checkpoint of every run with a strong penalty follows the lowest curve (the envelope),
    where least squares runs through the middle of the curves."""
    curves = olmo_curves
    late = curves[curves["C"] > 1e19]
    env = pf.envelope(late, columns={"loss": "loss_c4"}, run=["size", "chinchilla_multiplier"], n_boot=0,
                      n_grid=60)  # fmt: skip
    lower = env.optima.dropna(subset=["L_env"])
    asym = pf.fit(late, law="power", x="C", columns={"loss": "loss_c4"}, loss="asymmetric_log",
                  overestimate_penalty=50.0, warn=False)  # fmt: skip
    l2 = pf.fit(late, law="power", x="C", columns={"loss": "loss_c4"}, loss="log", warn=False)
    gap_a = np.log(asym.predict(C=lower["C"].to_numpy()) / lower["L_env"].to_numpy())
    gap_l = np.log(l2.predict(C=lower["C"].to_numpy()) / lower["L_env"].to_numpy())
    # measured: median |log gap| to the envelope 0.0036 (asymmetric) vs 0.0100 (least squares,
    # which runs through the middle: half the checkpoints on each side)
    assert np.median(np.abs(gap_a)) < 0.6 * np.median(np.abs(gap_l))
    assert np.median(gap_l) > 0.005
    assert np.mean(asym.residuals() > 0) < 0.15 and 0.35 < np.mean(l2.residuals() > 0) < 0.65


def test_bad_penalty() -> None:
    df = one_sided(0)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(pf.InvalidOptionError, match="overestimate_penalty"):
            pf.fit(df, law="chinchilla", loss="asymmetric", overestimate_penalty=bad)
