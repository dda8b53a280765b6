"""Rollout validation, law comparison and forecast intervals (public API only)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit.errors import InvalidDataError, InvalidOptionError

P = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}


def chinchilla_grid(noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    n = np.repeat(np.geomspace(5e7, 5e9, 9), 5)
    d = n * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 9)
    y = P["E"] + P["A"] * n ** -P["alpha"] + P["B"] * d ** -P["beta"]
    y = y * np.exp(np.random.default_rng(seed).normal(0.0, noise, y.size))
    return pd.DataFrame({"N": n, "D": d, "loss": y})


def curve(noise: float = 0.004, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    x = np.geomspace(1e5, 1e9, 25)
    y = (2.0 + 40.0 * x**-0.3) * np.exp(np.random.default_rng(seed).normal(0, noise, x.size))
    return x, y


def test_rollout_splits_hold_out_every_larger_scale() -> None:
    df = chinchilla_grid()
    roll = pf.rollout(df, law="chinchilla", by="N")
    assert list(roll.splits["split"]) == list(range(3, 9))  # 3..8 training sizes of 9
    for _, s in roll.splits.iterrows():
        assert s["n_train"] == 5 * s["split"] and s["n_train"] + s["n_test"] == len(df)
        held = roll.points[roll.points["split"] == s["split"]]
        assert (held["N"] > s["train_max"]).all() and len(held) == s["n_test"]
        assert np.allclose(held["distance"], np.log10(held["N"] / s["train_max"]))
    # noise-free data from the law itself: every split recovers it exactly
    assert roll.log_rmse < 1e-8 and roll.rel_error < 1e-8
    assert roll.n_failed == 0 and roll.scale_max == df["N"].max()


def test_rollout_on_arrays_and_keeping_the_last_splits() -> None:
    x, y = curve()
    roll = pf.rollout(x=x, y=y, law="m2", splits=4)
    assert roll.by == "x" and list(roll.splits["split"]) == [21, 22, 23, 24]
    assert (roll.splits["log_rmse"] < 0.05).all()
    s = roll.summary()
    assert "rollout of law 'm2' over x" in s


def test_rollout_merges_scales_within_rtol() -> None:
    df = chinchilla_grid()
    df.loc[df.index % 5 == 0, "N"] *= 1.002  # one model size recorded with rounding noise
    assert len(pf.rollout(df, law="chinchilla", by="N").splits) == 6
    assert len(pf.rollout(df, law="chinchilla", by="N", rtol=0.0).splits) > 6


def test_rollout_by_compute_without_a_c_column() -> None:
    df = chinchilla_grid()
    roll = pf.rollout(df, law="chinchilla", by="C")
    c = 6.0 * df["N"] * df["D"]
    assert roll.scale_max == pytest.approx(c.max())


def test_rollout_rejects_bad_input() -> None:
    df = chinchilla_grid()
    with pytest.raises(InvalidDataError, match="'Q'"):
        pf.rollout(df, law="chinchilla", by="Q")
    with pytest.raises(InvalidDataError, match="two distinct values"):
        pf.rollout(df.assign(N=1e9), law="chinchilla", by="N")
    with pytest.raises(InvalidOptionError, match="min_train"):
        pf.rollout(df, law="chinchilla", by="N", min_train=0)
    with pytest.raises(InvalidDataError, match="invalid value"):
        pf.rollout(df.assign(N=-df["N"]), law="chinchilla", by="N")
    with pytest.raises(InvalidDataError, match="no split leaves enough"):
        pf.rollout(df.iloc[:10], law="chinchilla", by="N")


def test_compare_laws_ranks_the_true_law_first() -> None:
    # data from an M4 law (the fit's prediction at its own parameters)
    x = np.geomspace(1e4, 1e9, 30)
    p = {"eps_inf": 1.5, "beta": 30.0, "c": 0.3, "alpha": 0.8, "eps_0": 6.0}
    seed = np.full(30, 2.0) + 30 * x**-0.3
    truth = pf.fit(law="m4", x=x, y=seed, starts="given", p0=p, max_iter=1, warn=False)
    np.testing.assert_allclose(list(truth.params.values()), list(p.values()), rtol=0.2)
    y = pf.fit(law="m4", x=x, y=seed, fixed=p, warn=False).predict(x=x)
    cmp = pf.compare_laws(x=x, y=y, laws=["m1", "power", "m4"], warn=False)
    assert cmp.table["law"].iloc[0] == "m4" and cmp.best == "m4"
    assert cmp.table["median_split_log_rmse"].iloc[0] < 1e-6
    assert set(cmp.rollouts) == {"m1", "power", "m4"}
    assert {"aic", "bic", "rank", "rank_aic", "insample_log_rmse"} <= set(cmp.table.columns)
    assert "best: m4" in cmp.summary()


def test_compare_laws_warns_when_in_sample_and_held_out_disagree() -> None:
    # a curve that steepens past 1e7: BNSL (its form) wins in sample, but fitted before the
    # bend it extrapolates worse than M2, which the rollout measures
    x = np.geomspace(1e3, 1e9, 40)
    z = np.log(x / 1e7) / 0.3
    y = 0.3 + 20 * x**-0.1 * np.exp(-0.1 * 0.3 * np.logaddexp(0, z))
    y = y * np.exp(np.random.default_rng(0).normal(0, 0.003, x.size))
    with pytest.warns(pf.PowerfitWarning, match="prefers law 'bnsl' but held-out error"):
        cmp = pf.compare_laws(x=x, y=y, laws=["bnsl", "m2", "m3"])
    assert cmp.best == "m2"
    assert cmp.table.set_index("law").loc["bnsl", "rank_aic"] == 1


def test_compare_laws_says_how_firmly_the_held_out_errors_separate_the_laws() -> None:
    # a power law with a floor: M1 (no floor) and M3 extrapolate it worse on every split, by
    # many standard errors, and no tie is reported
    x, y = curve()
    cmp = pf.compare_laws(x=x, y=y, laws=["m1", "m3", "power"], warn=False)
    t = cmp.table.set_index("law")
    assert cmp.best == "power" and np.isnan(t.loc["power", "z_vs_best"])
    assert t.loc["m1", "z_vs_best"] > 3 and t.loc["m3", "z_vs_best"] > 3
    assert not any("do not tell" in w for w in cmp.warnings)


def test_compare_laws_marks_a_law_that_repeats_the_winners_forecasts() -> None:
    # a written copy of the power law forecasts exactly as the built-in one: z = 0, marked as
    # the same forecasts, and no tie warning (there is no other forecast to choose)
    x, y = curve()
    twin = pf.Law("L_inf + A*x^-alpha", variables="x", name="twin", positive=["A"])
    cmp = pf.compare_laws(x=x, y=y, laws=["power", twin], warn=False)
    first, second = cmp.table["law"]
    assert cmp.table["z_vs_best"].iloc[1] == 0.0
    assert cmp.table["same_as"].iloc[1] == first and pd.isna(cmp.table["same_as"].iloc[0])
    assert {first, second} == {"power", "twin"}
    assert not any("do not tell" in w for w in cmp.warnings)
    assert cmp.runner_up is None


def test_compare_laws_warns_about_the_first_runner_up_with_other_forecasts() -> None:
    # one held-out forecast cannot separate the power law from M1; the tie warning names the
    # law with other forecasts, not the copy of the winner or of the runner-up
    x, y = curve()
    twin = pf.Law("L_inf + A*x^-alpha", variables="x", name="twin", positive=["A"])
    cmp = pf.compare_laws(x=x, y=y, laws=["power", twin, "m1"], validate="last", warn=False)
    ties = [w for w in cmp.warnings if "do not tell" in w]
    assert len(ties) == 1 and "'m1'" in ties[0] and "'twin'" not in ties[0]
    runner_up = cmp.runner_up
    assert runner_up is not None and runner_up["law"] in ("power", "m1")
    assert runner_up["law"] != cmp.best
    assert cmp.table.set_index("law").loc["twin", "same_as"] == "power"


def test_select_law_returns_the_winner_and_the_evidence() -> None:
    x, y = curve()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pf.PowerfitWarning)
        law, evidence = pf.select_law(x=x, y=y)
    assert law in pf.forecast.SINGLE_VARIABLE_CANDIDATES
    assert evidence["law"].iloc[0] == law
    assert pf.forecast.candidate_laws(chinchilla_grid()) == pf.forecast.ND_CANDIDATES


def test_compare_laws_rejects_bad_options() -> None:
    x, y = curve()
    with pytest.raises(InvalidOptionError, match="validate"):
        pf.compare_laws(x=x, y=y, laws=["power"], validate="kfold")
    with pytest.raises(InvalidOptionError, match="non-empty"):
        pf.compare_laws(x=x, y=y, laws=[])
    with pytest.raises(InvalidOptionError, match="named twice"):
        pf.compare_laws(x=x, y=y, laws=["power", "power"])


def test_validate_last_scores_only_the_final_split() -> None:
    x, y = curve()
    cmp = pf.compare_laws(x=x, y=y, laws=["power", "m1"], validate="last", warn=False)
    assert (cmp.table["n_splits"] == 1).all()
    # one held-out forecast cannot separate two laws, and the comparison says so
    assert np.isnan(cmp.table["z_vs_best"]).all()
    assert any("too few forecasts" in w for w in cmp.warnings)


def test_forecast_interval_combines_bootstrap_and_rollout() -> None:
    df = chinchilla_grid(noise=0.01)
    res = pf.fit(df, law="chinchilla", loss="log")
    roll = pf.rollout(df, law="chinchilla", by="N")
    boot = res.bootstrap(n_boot=300, seed=0)
    pts = {"N": [7e10, 1e12], "D": [1.4e12, 2e13]}
    both = pf.forecast_interval(res, roll, boot, **pts)
    ext = pf.forecast_interval(res, roll, **pts)
    assert list(both["distance"]) == pytest.approx(np.log10(np.array(pts["N"]) / 5e9))
    assert (both["lower"] < both["prediction"]).all() and (both["prediction"] < both["upper"]).all()
    # the bootstrap widens the extrapolation-only interval, and farther means wider
    assert (both["upper"] > ext["upper"]).all() and (both["lower"] < ext["lower"]).all()
    w = np.log(both["upper"] / both["lower"])
    assert w.iloc[1] > w.iloc[0]
    q = roll.error_scale(0.95)
    assert ext["extrapolation_halfwidth"].iloc[1] == pytest.approx(q * both["distance"].iloc[1])


def test_forecast_interval_says_which_points_lie_past_the_rollouts_reach() -> None:
    # sizes 5e7..5e9, rollout from 3 sizes: its farthest forecast is 1.5 decades out
    df = chinchilla_grid(noise=0.01)
    res = pf.fit(df, law="chinchilla", loss="log")
    roll = pf.rollout(df, law="chinchilla", by="N")
    reach = roll.points["distance"].max()
    assert reach == pytest.approx(1.5)
    with pytest.warns(pf.PowerfitWarning, match="1 of 2 forecast points lie up to 2.30 decades"):
        band = pf.forecast_interval(res, roll, N=[7e10, 1e12], D=[1.4e12, 2e13])
    assert list(band["within_rollout"]) == [True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error", pf.PowerfitWarning)
        near = pf.forecast_interval(res, roll, N=[7e10], D=[1.4e12])
    assert near["within_rollout"].all()


def test_forecast_intervals_cover_held_out_runs() -> None:
    # hold out the largest model size; intervals from the rest must cover most of its runs
    df = chinchilla_grid(noise=0.01, seed=3)
    train, test = df[df["N"] < df["N"].max()], df[df["N"] == df["N"].max()]
    res = pf.fit(train, law="chinchilla", loss="log")
    roll = pf.rollout(train, law="chinchilla", by="N")
    band = pf.forecast_interval(
        res, roll, res.bootstrap(n_boot=300, seed=0), N=test["N"], D=test["D"]
    )
    inside = (band["lower"].to_numpy() <= test["loss"].to_numpy()) & (
        test["loss"].to_numpy() <= band["upper"].to_numpy()
    )
    assert inside.mean() >= 0.8


def test_forecast_interval_rejects_mismatches() -> None:
    df = chinchilla_grid()
    res = pf.fit(df, law="chinchilla", loss="log")
    roll = pf.rollout(df, law="kaplan", by="N")
    with pytest.raises(InvalidOptionError, match="law 'kaplan'"):
        pf.forecast_interval(res, roll, N=[1e11], D=[1e12])
    roll = pf.rollout(df, law="chinchilla", by="N")
    with pytest.raises(InvalidDataError, match="need D"):
        pf.forecast_interval(res, roll, N=[1e11])
    with pytest.raises(InvalidOptionError, match="level"):
        pf.forecast_interval(res, roll, level=1.5, N=[1e11], D=[1e12])
    other = pf.fit(df, law="chinchilla", loss="log")
    with pytest.raises(InvalidOptionError, match="bootstrap of"):
        pf.forecast_interval(res, roll, other.bootstrap(n_boot=20, seed=0), N=[1e11], D=[1e12])


def test_few_held_out_points_use_a_gaussian_error_model() -> None:
    x, y = curve()
    res = pf.fit(law="m2", x=x, y=y, loss="log")
    roll = pf.rollout(x=x, y=y, law="m2", splits=2)  # three held-out predictions
    assert roll.error_scale_method(0.95) == "gaussian"
    pts = roll.points
    z = np.abs(pts["log_error"]) / np.maximum(pts["distance"], 0.1)
    want = 1.959963984540054 * np.sqrt(np.mean(z**2)) * np.sqrt(1 + 1 / 3)
    assert roll.error_scale(0.95) == pytest.approx(want)
    with pytest.warns(pf.PowerfitWarning, match="Gaussian model"):
        band = pf.forecast_interval(res, roll, x=[1e10])
    assert np.isfinite(band["upper"].iloc[0])
    full = pf.rollout(x=x, y=y, law="m2")
    assert full.error_scale_method(0.95) == "conformal"


def test_rollout_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    roll = pf.rollout(chinchilla_grid(noise=0.01), law="chinchilla", by="N")
    fig = roll.plot(path=tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 0
    assert "extrapolation distance" in fig.axes[0].get_xlabel()


def test_rollout_scores_a_runaway_forecast_without_numpy_warnings() -> None:
    # bnsl fitted on the first few runs of a noiseless power law forecasts losses that run
    # away: the perplexity ratio is infinite, and no RuntimeWarning reaches the user
    x = np.geomspace(1e3, 1e8, 30)
    y = 0.5 + 3 * x**-0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", pf.PowerfitWarning)
        roll = pf.rollout(x=x, y=y, law="bnsl")
    assert np.isinf(roll.points["ppl_ratio"]).any()
