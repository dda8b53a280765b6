"""The compute-optimal frontier straight from runs: IsoFLOP profiles on Porian et al.
2024's 15 configurations against the authors' exponents, the training-curve envelope on curves
from a known Chinchilla law and on the OLMo ladder, the three approaches side by side, groups,
determinism, input flavours, bad input and plots."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import powerfit as pf

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = ["source_file", "dataset", "hparams", "warmup", "decay", "param_count", "val"]

# the law the synthetic curves come from: a = beta / (alpha + beta) in closed form
E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
A_TRUE = BETA / (ALPHA + BETA)
G = (ALPHA * A / (BETA * B)) ** (1.0 / (ALPHA + BETA))


def n_opt_true(c: float) -> float:
    return G * (c / 6.0) ** A_TRUE


@pytest.fixture(scope="module")
def porian(porian_points: pd.DataFrame) -> pd.DataFrame:
    return porian_points


@pytest.fixture(scope="module")
def porian_ref(porian_summary: pd.DataFrame) -> pd.DataFrame:
    ref = porian_summary
    return ref[ref["fit"] == "basic"].set_index(CONFIG)


@pytest.fixture(scope="module")
def porian_iso(porian: pd.DataFrame) -> pf.IsoflopResult:
    return pf.isoflop(porian, columns={"C": "flops", "N": "n", "D": "t"}, by=CONFIG, n_boot=1000,
                      seed=0, budgets=[1e21, 1e23])  # fmt: skip


@pytest.fixture(scope="module")
def olmo(olmo_curves: pd.DataFrame) -> pd.DataFrame:
    return olmo_curves


def law_curves(seed: int, noise: float, n_sizes: int = 20) -> pd.DataFrame:
    """Training curves of the Chinchilla law above: n_sizes sizes from 1e7 to 1e10 parameters,
    three runs each (1, 4 and 16 times 20 tokens per parameter), checkpoints every factor 1.2
    in tokens from 1e8, multiplicative log-normal noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for j, n in enumerate(np.geomspace(1e7, 1e10, n_sizes)):
        for m in (1, 4, 16):
            k = max(2, int(np.log(20 * m * n / 1e8) / np.log(1.2)) + 1)
            d = np.geomspace(1e8, 20 * m * n, k)
            loss = (E + A * n**-ALPHA + B * d**-BETA) * np.exp(noise * rng.standard_normal(k))
            parts.append(pd.DataFrame({"run": f"{j}x{m}", "N": n, "D": d, "C": 6 * n * d,
                                       "loss": loss}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# IsoFLOP profiles: Porian et al. 2024
# --------------------------------------------------------------------------------------------


def test_porian_exponents_within_0035_of_the_authors(
    porian_iso: pf.IsoflopResult, porian_ref: pd.DataFrame
) -> None:
    t = porian_iso.table.set_index(CONFIG)
    assert len(t) == 15
    diff = t["a"] - porian_ref.loc[t.index, "n_exponent"]
    assert diff.abs().max() < 0.035, diff.round(4).to_string()
    # the systematic part is small: the parabola is slightly below the Akima optima on average
    assert abs(diff.mean()) < 0.01
    # D* = C/(6N*) here, so b follows a (b + a = 1 exactly)
    assert np.allclose(t["a"] + t["b"], 1.0, atol=1e-9)
    assert (t["b"] - porian_ref.loc[t.index, "t_exponent"]).abs().max() < 0.035
    # the headline configurations of the paper's README
    kaplan = t.loc[("summary_df", "rw", "base", "long", "kaplan", "kaplan", "train")]
    tuned = t.loc[("summary_df", "rw", "tuned", "short", "const", "standard", "val")]
    assert kaplan["a"] > 0.8 and abs(tuned["a"] - 0.5) < 0.01


def test_porian_intervals_and_dropped_budgets(porian_iso: pf.IsoflopResult) -> None:
    t = porian_iso.table
    assert (t["a_lower"] < t["a_upper"]).all()
    assert ((t["a_upper"] - t["a_lower"]) < 0.15).all()
    assert (t["n_boot_ok"] >= 990).all()
    assert (t["n_used"] + t["n_dropped"] == t["n_budgets"]).all()
    # six budgets in four configurations have their lowest loss at the smallest sampled size
    d = porian_iso.dropped
    assert len(d) == 6 and set(d["status"]) == {"edge_low"}
    assert (d["C"] < 1e17).all()
    opt = porian_iso.optima
    ok = opt["status"] == "ok"
    assert opt.loc[ok, "N_opt"].gt(0).all() and opt.loc[~ok, "N_opt"].isna().all()
    inside = (opt.loc[ok, "N_opt_lower"] <= opt.loc[ok, "N_opt"] * (1 + 1e-12)) & (
        opt.loc[ok, "N_opt"] <= opt.loc[ok, "N_opt_upper"] * (1 + 1e-12)
    )
    assert inside.mean() > 0.9
    p = porian_iso.predictions
    assert len(p) == 30 and (p["N_opt_lower"] < p["N_opt_upper"]).all()
    s = porian_iso.samples
    assert len(s) == 15 * 1000 and set(s.columns) >= {"a", "b", "k_N", "k_D", "replicate"}
    text = porian_iso.summary()
    assert "dropped (lowest loss at the smallest sampled size)" in text
    assert "15 group(s)" in text


def test_groups_do_not_depend_on_the_other_groups(
    porian: pd.DataFrame, porian_iso: pf.IsoflopResult
) -> None:
    one = porian[(porian["dataset"] == "owt2") & (porian["hparams"] == "tuned")]
    alone = pf.isoflop(one, columns={"C": "flops", "N": "n", "D": "t"}, by=CONFIG, n_boot=1000,
                       seed=0, budgets=[1e21, 1e23])  # fmt: skip
    full = porian_iso.table
    row = full[(full["dataset"] == "owt2") & (full["hparams"] == "tuned")].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.table, row)
    # row order does not matter either
    shuffled = one.sample(frac=1.0, random_state=3)
    again = pf.isoflop(shuffled, columns={"C": "flops", "N": "n", "D": "t"}, by=CONFIG, n_boot=1000,
                       seed=0, budgets=[1e21, 1e23])  # fmt: skip
    pd.testing.assert_frame_equal(again.table, alone.table)


def test_seed_and_determinism(porian: pd.DataFrame) -> None:
    one = porian[porian["source_file"] == "summary_df_kaplan_tuned_hparams"]
    kw = dict(columns={"C": "flops", "N": "n"}, n_boot=300, budgets=[1e22])
    r1 = pf.isoflop(one, seed=5, **kw)
    r2 = pf.isoflop(one, seed=5, **kw)
    r3 = pf.isoflop(one, seed=6, **kw)
    pd.testing.assert_frame_equal(r1.samples, r2.samples)
    assert not np.allclose(r1.samples["a"], r3.samples["a"])
    assert r1.a == r3.a  # the estimate does not depend on the seed
    # without bootstrap: estimates, no intervals
    r0 = pf.isoflop(one, columns={"C": "flops", "N": "n"}, n_boot=0)
    assert r0.a == r1.a and np.isnan(r0.table["a_lower"][0])
    # D* without tokens is C / (6 N*)
    o = r0.optima.query("status == 'ok'")
    assert np.allclose(o["D_opt"] * 6 * o["N_opt"], o["C"], rtol=1e-12)


def test_isoflop_recovers_a_known_law() -> None:
    rows = []
    for c in np.geomspace(1e18, 1e22, 9):
        for n in n_opt_true(c) * np.geomspace(1 / 6, 6, 9):
            d = c / (6 * n)
            rows.append((c, n, E + A * n**-ALPHA + B * d**-BETA))
    df = pd.DataFrame(rows, columns=["C", "N", "loss"])
    r = pf.isoflop(df, n_boot=100, budgets=[1e23])
    assert abs(r.a - A_TRUE) < 0.005 and abs(r.b - (1 - A_TRUE)) < 0.005
    assert abs(np.log(r.predictions["N_opt"][0] / n_opt_true(1e23))) < 0.1


# --------------------------------------------------------------------------------------------
# The training-curve envelope
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["argmin", "parabola"])
@pytest.mark.parametrize("noise", [0.0, 0.003])
def test_envelope_recovers_beta_over_alpha_plus_beta(estimator: str, noise: float) -> None:
    df = law_curves(seed=1, noise=noise)
    r = pf.envelope(df, run="run", columns={"D": "D"}, estimator=estimator, n_boot=200,
                    budgets=[1e22])  # fmt: skip
    assert abs(r.a - A_TRUE) < 0.02, (r.a, A_TRUE)
    assert abs(r.b - (1 - A_TRUE)) < 0.02
    t = r.table.iloc[0]
    assert t["a_lower"] <= r.a <= t["a_upper"] and t["n_used"] > 100
    n22 = r.predictions["N_opt"][0]
    assert abs(np.log(n22 / n_opt_true(1e22))) < 0.2
    opt = r.optima
    # early budgets are reached by the small models only: not an optimum
    assert opt["status"].iloc[0] in ("too_few_sizes", "edge_low")
    # the envelope is the lowest loss of any run at each budget
    ok = opt["status"] == "ok"
    assert (opt.loc[ok, "L_env"] <= opt.loc[ok, "L_opt"] * (1 + 1e-12)).all() or (
        estimator == "parabola"
    )
    assert opt.loc[ok, "run"].notna().all()


def test_envelope_infers_runs_from_consecutive_rows() -> None:
    df = law_curves(seed=2, noise=0.0, n_sizes=12)
    explicit = pf.envelope(df, run="run", n_boot=50)
    inferred = pf.envelope(df.drop(columns="run"), n_boot=50)
    assert inferred.a == explicit.a
    pd.testing.assert_frame_equal(inferred.samples, explicit.samples)
    assert inferred.optima["run"].dropna().iloc[0].startswith("rows ")


def test_olmo_ladder_envelope(olmo: pd.DataFrame) -> None:
    runs = ["size", "chinchilla_multiplier"]
    r = pf.envelope(olmo, columns={"loss": "loss_c4", "D": "tokens"}, run=runs, n_boot=500,
                    budgets=[1e21])  # fmt: skip
    t = r.table.iloc[0]
    # four sizes: only budgets where 370M or 760M is best have an interior optimum
    assert 20 <= t["n_used"] <= 80
    ok = r.optima.query("status == 'ok'")
    assert set(np.unique(ok["N_opt"])) <= {371262464.0, 758220288.0}
    assert ok["C"].between(5e18, 2e20).all()
    assert 0.2 < r.a < 0.8 and 0.2 < r.b < 0.8
    # a frontier that grows with compute and a sensible N* at 1e21 FLOPs
    assert 5e8 < r.predictions["N_opt"][0] < 1e10
    # the envelope falls with compute (up to evaluation noise)
    env = r.optima["L_env"].to_numpy()
    assert env[-1] < env[0] and np.mean(np.diff(env) <= 1e-3) > 0.9
    # the parabola across the four sizes gives a continuous N*
    rp = pf.envelope(olmo, columns={"loss": "loss_c4", "D": "tokens"}, run=runs, estimator="parabola",
                     n_boot=200)  # fmt: skip
    assert 0.3 < rp.a < 0.6 and rp.table["r2_N"][0] > 0.9
    assert rp.optima.query("status == 'ok'")["N_opt"].nunique() > 10


# --------------------------------------------------------------------------------------------
# The three approaches side by side
# --------------------------------------------------------------------------------------------


def test_compare_approaches_on_curves_from_a_known_law() -> None:
    df = law_curves(seed=3, noise=0.002, n_sizes=16)
    budgets = [1e20, 1e22]
    cmp = pf.compare_approaches(df, budgets, run="run", columns={"D": "D"}, n_boot=100,
                                loss="log")  # fmt: skip
    t = cmp.table
    assert list(t["approach"].unique()) == ["1 envelope", "2 isoflop", "3 parametric"]
    assert len(t) == 6 and set(t["C"]) == set(budgets)
    assert ((t["a"] - A_TRUE).abs() < 0.03).all(), t[["approach", "a"]]
    for c in budgets:
        rows = t[t["C"] == c]
        assert (np.log(rows["N_opt"] / n_opt_true(c)).abs() < 0.25).all()
        assert (rows["N_opt_lower"] <= rows["N_opt_upper"]).all()
    w = cmp.wide()
    assert len(w) == 3 and "N_opt(C=1e+22)" in w.columns
    assert "three approaches" in cmp.summary()
    # Approach 3 used the final checkpoint of every run
    assert cmp.parametric.n_points == df["run"].nunique()


def test_compare_approaches_on_isoflop_points(porian: pd.DataFrame) -> None:
    one = porian[(porian["source_file"] == "summary_df") & (porian["hparams"] == "tuned")]
    cmp = pf.compare_approaches(one, [1e21], columns={"C": "flops", "N": "n", "D": "t"},
                                n_boot=50)  # fmt: skip
    t = cmp.table.set_index("approach")
    assert abs(t.loc["2 isoflop", "a"] - 0.497) < 0.02
    # Approach 1 on IsoFLOP points is the best sampled size per budget
    assert abs(t.loc["1 envelope", "a"] - t.loc["2 isoflop", "a"]) < 0.05
    assert 0.3 < t.loc["3 parametric", "a"] < 0.7
    assert cmp.envelope.optima["N_opt"].dropna().isin(one["n"]).all()


# --------------------------------------------------------------------------------------------
# Input, errors, plots, data
# --------------------------------------------------------------------------------------------


def test_input_flavours_agree(porian: pd.DataFrame) -> None:
    one = porian[porian["source_file"] == "summary_df_att"].reset_index(drop=True)
    kw = dict(columns={"C": "flops", "N": "n", "D": "t"}, by=["decay", "warmup"], n_boot=50)
    ref = pf.isoflop(one, **kw).table
    as_dict = {c: one[c].to_numpy() for c in one.columns}
    pd.testing.assert_frame_equal(pf.isoflop(as_dict, **kw).table, ref)
    pa = pytest.importorskip("pyarrow")
    got = pf.isoflop(pa.Table.from_pandas(one), **kw).table
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    pl = pytest.importorskip("polars")
    got = pf.isoflop(pl.from_pandas(one), **kw).table
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)


def test_bad_input_raises(porian: pd.DataFrame) -> None:
    one = porian[porian["source_file"] == "summary_df_att"].reset_index(drop=True).copy()
    one.loc[7, "loss"] = np.nan
    with pytest.raises(pf.InvalidDataError, match=r"column 'loss'.* at row 7"):
        pf.isoflop(one, columns={"C": "flops", "N": "n"})
    with pytest.raises(pf.InvalidDataError, match="'flops_x'"):
        pf.isoflop(porian, columns={"C": "flops_x", "N": "n"})
    with pytest.raises(pf.InvalidDataError, match="by column"):
        pf.isoflop(porian, columns={"C": "flops", "N": "n"}, by="nope")
    with pytest.raises(pf.InvalidOptionError, match="level"):
        pf.isoflop(porian, columns={"C": "flops", "N": "n"}, level=1.5)
    with pytest.raises(pf.InvalidOptionError, match="window"):
        pf.isoflop(porian, columns={"C": "flops", "N": "n"}, window=0)
    with pytest.raises(pf.InvalidOptionError, match="budgets"):
        pf.isoflop(porian, columns={"C": "flops", "N": "n"}, budgets=[-1.0])
    curves = law_curves(0, 0.0, n_sizes=5)
    with pytest.raises(pf.InvalidOptionError, match="estimator"):
        pf.envelope(curves, run="run", estimator="akima")
    bad = curves.copy()
    bad.loc[3, "N"] = bad.loc[3, "N"] * 2
    with pytest.raises(pf.InvalidDataError, match="one model size"):
        pf.envelope(bad, run="run")
    with pytest.raises(pf.InvalidOptionError, match="budget"):
        pf.compare_approaches(curves, [], run="run")


def test_plots(porian_iso: pf.IsoflopResult, olmo: pd.DataFrame, tmp_path: os.PathLike) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = pf.plot_isoflop(porian_iso, group=4)
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    path = os.path.join(str(tmp_path), "iso.png")
    porian_iso.plot(group=0, path=path)
    assert os.path.getsize(path) > 1000
    env = pf.envelope(
        olmo, columns={"loss": "loss_c4"}, run=["size", "chinchilla_multiplier"], n_boot=20
    )
    fig = pf.plot_envelope(env)
    assert isinstance(fig, Figure)
    fig.savefig(os.path.join(str(tmp_path), "env.png"))
    with pytest.raises(pf.InvalidOptionError):
        pf.plot_isoflop(porian_iso, group=15)


def test_bundled_datasets(porian: pd.DataFrame, olmo: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(pf.datasets.porian2024(), porian)
    assert len(pf.datasets.porian2024(summary=True)) == 30
    pd.testing.assert_frame_equal(pf.datasets.olmo_ladder(), olmo)


def test_budget_resampling_keeps_the_estimates_and_centres_the_intervals(
    porian: pd.DataFrame, porian_iso: pf.IsoflopResult
) -> None:
    """resample="budgets" refits the power laws through resampled full-data optima: the same
    estimates, replicates centred on them (resampling runs thins 8-size profiles and shifts
    the median of a by up to -0.019 here), and no per-budget intervals."""
    res = pf.isoflop(porian, columns={"C": "flops", "N": "n", "D": "t"}, by=CONFIG, n_boot=1000,
                     seed=0, budgets=[1e21, 1e23], resample="budgets")  # fmt: skip
    t, ref = res.table.set_index(CONFIG), porian_iso.table.set_index(CONFIG)
    pd.testing.assert_series_equal(t["a"], ref["a"])
    pd.testing.assert_series_equal(t["b"], ref["b"])
    assert ((t["a_lower"] <= t["a"]) & (t["a"] <= t["a_upper"])).all()
    med = res.samples.groupby(CONFIG)["a"].median()
    assert (med - t["a"]).abs().max() < 0.005
    assert (t["n_boot_ok"] >= 990).all()
    ok = res.optima["status"] == "ok"
    assert res.optima.loc[ok, "N_opt_lower"].isna().all()
    assert res.settings["resample"] == "budgets"
    with pytest.raises(pf.InvalidOptionError, match="resample"):
        pf.isoflop(porian, columns={"C": "flops", "N": "n"}, by=CONFIG, n_boot=10, resample="rows")
