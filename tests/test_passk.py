"""Test-time scaling: the unbiased pass@k against enumeration and Chen et al.'s formula, its
standard errors against repeated draws, recovery of a known Beta distribution of success rates,
bootstrap coverage, thread independence, the sampling trade-off, and clear errors."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import special

import powerfit as pf
from powerfit import _core, testtime
from powerfit.errors import InvalidDataError, InvalidOptionError


def _enumerate(n: int, c: int, k: int) -> float:
    """pass@k as the share of k-subsets of n samples (the first c correct) with a success."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


def _chen(n: int, c: int, k: int) -> float:
    """Chen et al. 2021's numpy formula."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def test_pass_at_k_matches_enumeration_and_chen() -> None:
    cases = [(n, c) for n in range(1, 9) for c in range(n + 1)]
    n = np.array([a for a, _ in cases])
    c = np.array([b for _, b in cases])
    per = testtime.pass_at_k_problems(n=n, c=c, k=[1])
    assert per["pass@1"].tolist() == pytest.approx((c / n).tolist(), abs=1e-15)
    for k in range(1, 9):
        keep = n >= k
        got = testtime.pass_at_k_problems(n=n[keep], c=c[keep], k=[k])[f"pass@{k}"].to_numpy()
        want = [_enumerate(a, b, k) for a, b in zip(n[keep], c[keep])]
        np.testing.assert_allclose(got, want, atol=1e-14)
    big_n, big_c = np.array([200, 1000, 5000]), np.array([3, 10, 4000])
    got = testtime.pass_at_k_problems(n=big_n, c=big_c, k=[1, 7, 150]).to_numpy()
    want = [[_chen(a, b, k) for k in (1, 7, 150)] for a, b in zip(big_n, big_c)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_aggregate_and_both_input_forms() -> None:
    per_problem = pd.DataFrame(
        {"model": ["a", "a", "b", "b"], "n": [4, 4, 4, 4], "c": [1, 0, 4, 2]}
    )
    attempts = pd.DataFrame(
        {
            "model": np.repeat(["a", "a", "b", "b"], 4),
            "problem": np.repeat([0, 1, 0, 1], 4),
            "correct": [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0],
        }
    )
    t1 = pf.pass_at_k(per_problem, k=[1, 2], by="model")
    t2 = pf.pass_at_k(attempts, k=[1, 2], by="model")
    pd.testing.assert_frame_equal(t1, t2)
    a = t1[(t1.model == "a") & (t1.k == 2)]
    assert a["pass_at_k"].item() == pytest.approx((0.5 + 0.0) / 2)
    assert a["n_problems"].item() == 2
    assert (t1["variance"] == "unbiased").all()
    # k above n/2: the variance is the plug-in, and says so
    t3 = pf.pass_at_k(per_problem, k=[3], by="model")
    assert (t3["variance"] == "plug-in").all()


def test_standard_errors_match_repeated_draws() -> None:
    # fixed success probabilities, many independent runs of 16 attempts each: the spread of
    # the pass@k mean over runs is what se_samples estimates (problems held fixed)
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 2.0, size=40)
    reps = 3000
    c = rng.binomial(16, np.tile(p, reps))
    df = pd.DataFrame({"rep": np.repeat(np.arange(reps), 40), "n": 16, "c": c})
    tab = pf.pass_at_k(df, k=[1, 4, 8], by="rep")
    for k in (1, 4, 8):
        sub = tab[tab.k == k]
        truth = np.mean(1 - (1 - p) ** k)
        assert sub["pass_at_k"].mean() == pytest.approx(
            truth, abs=4 * sub["pass_at_k"].std() / np.sqrt(reps)
        )
        ratio = np.sqrt(np.mean(sub["se_samples"] ** 2)) / sub["pass_at_k"].std()
        assert ratio == pytest.approx(1.0, abs=0.06)


def test_beta_law_matches_scipy() -> None:
    a, b = np.array([0.3, 1.7]), np.array([2.0, 0.4])
    ks = [1.0, 3.0, 100.0, 12345.6, 1e9]
    got = _core.beta_pass_at_k(a, b, ks)
    for i in range(2):
        want = [-np.expm1(special.betaln(a[i], b[i] + k) - special.betaln(a[i], b[i])) for k in ks]
        np.testing.assert_allclose(got[i], want, rtol=1e-9)


def test_recovery_of_a_known_beta_distribution() -> None:
    a0, b0 = 0.3, 3.0
    runs = testtime.simulate(problems=3000, samples=100, alpha=a0, beta=b0, seed=7)
    cov = pf.fit_coverage(runs, n_boot=300, seed=1)
    par = cov.params().set_index("parameter")
    assert par.loc["alpha", "lower"] <= a0 <= par.loc["alpha", "upper"]
    assert par.loc["beta", "lower"] <= b0 <= par.loc["beta", "upper"]
    assert par.loc["alpha", "estimate"] == pytest.approx(a0, rel=0.1)
    assert par.loc["b_beta", "estimate"] == par.loc["alpha", "estimate"]
    # far beyond the 100 attempts seen: the truth is inside the interval
    pred = cov.predict([1e3, 1e5], law="beta")
    truth = -np.expm1(special.betaln(a0, b0 + pred["k"]) - special.betaln(a0, b0))
    assert ((pred["lower"] <= truth) & (truth <= pred["upper"])).all()
    assert pred["extrapolated"].all()
    assert cov.groups["beta_status"].item() == "converged"
    kf = cov.k_for(0.8)
    assert pred.shape[0] == 2 and kf["k"].item() > 100
    est = cov.predict(kf["k"].to_numpy())["pass_at_k"].item()
    assert est == pytest.approx(0.8, abs=1e-6)
    assert "Beta(alpha=" in cov.summary()


def test_bootstrap_intervals_cover_the_truth_at_about_their_level() -> None:
    a0, b0 = 0.5, 2.0
    sims = 40
    frames = [testtime.simulate(300, 25, a0, b0, seed=100 + s).assign(sim=s) for s in range(sims)]
    cov = pf.fit_coverage(pd.concat(frames), by="sim", n_boot=200, seed=0)
    par = cov.params()
    alpha = par[par.parameter == "alpha"]
    hits = int(((alpha["lower"] <= a0) & (a0 <= alpha["upper"])).sum())
    # nominal 95%: 38 of 40 expected; 34 is three binomial standard deviations below
    assert hits >= 34, hits
    assert (cov.groups["n_boot_ok"] >= 195).all()


def test_results_do_not_depend_on_the_number_of_threads(tmp_path: object) -> None:
    code = (
        "import powerfit as pf, numpy as np\n"
        "r = pf.testtime.simulate(400, 20, 0.4, 2.0, seed=5)\n"
        "c = pf.fit_coverage(r, n_boot=200, seed=9)\n"
        "print(c.params()['lower'].to_numpy().tobytes().hex())\n"
    )
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, RAYON_NUM_THREADS=threads)
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outs.append(res.stdout)
    assert outs[0] == outs[1]


def test_sampling_tradeoff_and_total_cost() -> None:
    small = testtime.simulate(400, 50, 0.4, 6.0, seed=1).assign(model="small", N=1e9)
    large = testtime.simulate(400, 50, 0.4, 1.0, seed=2).assign(model="large", N=3e10)
    cov = pf.fit_coverage(pd.concat([small, large]), by="model", size="N", n_boot=100, seed=0)
    budgets = [1e12, 1e14, 1e16]
    tab = pf.sampling_tradeoff(cov, budgets, tokens_per_sample=500)
    assert len(tab) == 6
    # attempts affordable: floor(B / (2 N T))
    expect = np.floor(np.array(budgets)[None, :] / (2 * np.array([[1e9], [3e10]]) * 500))
    got = tab.pivot(index="N", columns="budget_flops", values="k").to_numpy()
    np.testing.assert_array_equal(got, expect)
    assert tab.groupby("budget_flops")["best"].sum().tolist() == [1, 1, 1]
    # at 1e12 FLOPs only the small model affords an attempt
    row = tab[(tab.budget_flops == 1e12) & (tab.model == "large")]
    assert row["k"].item() == 0 and np.isnan(row["pass_at_k"].item())
    assert tab[tab.budget_flops == 1e12]["best"].tolist() == [True, False]

    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log", warn=False)
    cost = pf.sampling_cost(
        cov,
        0.7,
        tokens_per_sample=500,
        n_queries=1e6,
        train=res,
        hardware=pf.Budget(flops=1e24, accelerator="H100-SXM", mfu=0.4, price_per_hour=2.0),
    )
    assert cost["cheapest"].sum() == 1
    big = cost[cost.model == "large"].iloc[0]
    assert big["saving_vs_largest"] == 0.0
    assert big["inference_flops"] == pytest.approx(1e6 * big["k"] * 2 * 3e10 * 500)
    # D from the training law: the compute-optimal D at N = 3e10
    opt = res.compute_optimal(budgets=[6 * big["N"] * big["D"]])
    assert opt["N_opt"].item() == pytest.approx(3e10, rel=1e-3)
    assert big["total_flops_cost"] == pytest.approx(
        big["total_flops"] / (989.4e12 * 0.4 * 3600) * 2.0
    )
    with pytest.raises(InvalidOptionError, match="not both"):
        pf.sampling_cost(cov, 0.7, tokens_per_sample=1, n_queries=1, D=1e9, train=res)
    with pytest.raises(InvalidOptionError, match="no value for group"):
        pf.sampling_tradeoff(cov, 1e15, tokens_per_sample=5, N={"small": 1e9})


def test_plots_draw(tmp_path: object) -> None:
    pytest.importorskip("matplotlib")
    import pathlib

    runs = pd.concat(
        [
            testtime.simulate(200, 30, 0.4, 3.0, seed=s).assign(model=m, N=n)
            for s, m, n in ((1, "a", 1e9), (2, "b", 1e10))
        ]
    )
    cov = pf.fit_coverage(runs, by="model", size="N", n_boot=50)
    path = pathlib.Path(str(tmp_path)) / "cov.png"
    fig = cov.plot(path=path)
    assert path.stat().st_size > 1000 and len(fig.axes) == 2
    tab = pf.sampling_tradeoff(cov, np.geomspace(1e12, 1e16, 5), tokens_per_sample=100)
    assert len(pf.plot.plot_tradeoff(tab).axes) == 1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n": [3, 2], "c": [1, 3]}, InvalidDataError, "row 1 has 3 successes"),
        ({"n": [3, 2], "c": [1, -1]}, InvalidDataError, "whole numbers"),
        ({"n": [3, 2.5], "c": [1, 1]}, InvalidDataError, "whole numbers"),
        ({"n": [3, 0], "c": [0, 0]}, InvalidDataError, "needs a sample"),
        ({"n": [3, 2], "c": [1]}, InvalidDataError, "same length"),
        (
            {"n": [3, 2], "c": [1, 1], "k": [3]},
            InvalidOptionError,
            "exceeds the 2 samples of problem 1",
        ),
        ({"n": [3, 2], "c": [1, 1], "k": [0]}, InvalidOptionError, "k must be"),
        ({"n": [3, 2], "c": [1, 1], "k": [1.5]}, InvalidOptionError, "k must be"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        pf.pass_at_k(**kwargs)  # type: ignore[arg-type]


def test_bad_tables_and_options() -> None:
    with pytest.raises(InvalidDataError, match="expected per-problem columns"):
        pf.pass_at_k(pd.DataFrame({"x": [1]}))
    with pytest.raises(InvalidDataError, match="True/False or 0/1"):
        pf.pass_at_k(pd.DataFrame({"problem": [0, 0], "correct": [1, 2]}))
    runs = testtime.simulate(50, 10, 0.5, 2.0)
    with pytest.raises(InvalidOptionError, match="level"):
        pf.fit_coverage(runs, level=1.5)
    with pytest.raises(InvalidOptionError, match="n_boot"):
        pf.fit_coverage(runs, n_boot=-1)
    with pytest.raises(InvalidOptionError, match="problems"):
        testtime.simulate(0, 10, 0.5, 2.0)
    with pytest.raises(InvalidOptionError, match="alpha and beta"):
        testtime.simulate(10, 10, -0.5, 2.0)
    cov = pf.fit_coverage(runs, n_boot=10)
    with pytest.raises(InvalidOptionError, match="target"):
        cov.k_for(1.0)
    with pytest.raises(InvalidOptionError, match="law"):
        cov.predict(10, law="exp")
    # sizes that would exhaust memory are refused up front; huge counts are answered at once
    with pytest.raises(InvalidOptionError, match="too large"):
        pf.fit_coverage(runs, n_boot=10**9)
    huge = pf.pass_at_k(n=[10**15, 10**15], c=[10**9, 0], k=[10**12])
    assert huge["pass_at_k"].item() == pytest.approx((1 - np.exp(-1e12 * 1e-6)) / 2)
    # a data set with no success at all: reported, not an error
    none = pf.fit_coverage(n=[5, 5, 5], c=[0, 0, 0], n_boot=5)
    assert none.groups["beta_status"].item() == "no_successes"
    assert np.isnan(none.params()["estimate"].iloc[0])


def test_command_line(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import pathlib

    from powerfit.cli import main

    tmp = pathlib.Path(str(tmp_path))
    runs = pd.concat(
        [
            testtime.simulate(200, 30, 0.4, 3.0, seed=1).assign(model="a"),
            testtime.simulate(200, 30, 0.4, 1.0, seed=2).assign(model="b"),
        ]
    )
    runs.to_csv(tmp / "r.csv", index=False)
    assert (
        main(
            [
                "passk",
                str(tmp / "r.csv"),
                "--by",
                "model",
                "--k",
                "1",
                "10",
                "--out",
                str(tmp / "k.csv"),
                "-q",
            ]
        )
        == 0
    )
    tab = pd.read_csv(tmp / "k.csv")
    pd.testing.assert_frame_equal(tab, pf.pass_at_k(runs, k=[1, 10], by="model"), check_dtype=False)
    capsys.readouterr()
    assert (
        main(
            [
                "passk",
                str(tmp / "r.csv"),
                "--by",
                "model",
                "--predict",
                "1000",
                "--target",
                "0.9",
                "--n-boot",
                "50",
                "--out",
                str(tmp / "p.csv"),
                "-q",
            ]
        )
        == 0
    )
    assert "Beta(alpha=" in capsys.readouterr().out
    assert set(pd.read_csv(tmp / "p.csv")["parameter"]) >= {"alpha", "b_power"}
    assert main(["passk", str(tmp / "r.csv"), "--k", "31"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exceeds the 30 samples" in err[0]
    assert main(["passk", str(tmp / "r.csv"), "--plot", str(tmp / "x.png")]) == 2
    assert "--fit" in capsys.readouterr().err


def test_readme_examples_run() -> None:
    pytest.importorskip("matplotlib")
    from readme_blocks import run_python

    ns = run_python("Test-time compute")
    cov = ns["cov"]
    assert isinstance(cov, pf.CoverageResult) and len(cov.labels) == 2
