"""Benchmarks of the workflow modules, used by bench.py's sections ``passk``,
``passk_coverage`` and ``diagnose``. Each function returns (rows, details): rows are dicts with
bench.py's Row fields, details are markdown lines. Every number comes from the run."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize as so
import scipy.special as ss

import powerfit as pf


def _best_of(fn: Callable[[], Any], repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def _chen(n: np.ndarray, c: np.ndarray, ks: list[int]) -> np.ndarray:
    """pass@k as Chen et al. 2021's reference code computes it: a numpy product per problem."""
    out = np.empty(len(ks))
    for j, k in enumerate(ks):
        vals = [
            1.0 if ni - ci < k else 1.0 - np.prod(1.0 - k / np.arange(ni - ci + 1, ni + 1))
            for ni, ci in zip(n, c)
        ]
        out[j] = np.mean(vals)
    return out


def _betabin_nll(theta: np.ndarray, n: np.ndarray, c: np.ndarray) -> float:
    a, b = np.exp(theta)
    return float(-np.sum(ss.betaln(c + a, n - c + b) - ss.betaln(a, b)))


def _scipy_coverage(n: np.ndarray, c: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """The Beta fit with a bootstrap over problems, written with scipy in a Python loop."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, 2))
    x0 = np.log([0.5, 2.0])
    for i in range(n_boot):
        idx = rng.integers(0, len(n), len(n))
        r = so.minimize(_betabin_nll, x0, args=(n[idx], c[idx]), method="L-BFGS-B")
        out[i] = np.exp(r.x)
    return out


def passk_section(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """pass@k over 10,000 problems, and the Beta fit with bootstrap over problems, against the
    same computations in numpy/scipy."""
    quick = ctx.quick
    runs = pf.testtime.simulate(10_000, 200, alpha=0.4, beta=3.0, seed=0)
    n, c = runs["n"].to_numpy(), runs["c"].to_numpy()
    ks = [1, 10, 100]
    ours = pf.pass_at_k(n=n, c=c, k=ks)["pass_at_k"].to_numpy()
    ref = _chen(n, c, ks)
    t_pf = _best_of(lambda: pf.pass_at_k(n=n, c=c, k=ks), 5)
    t_ref = _best_of(lambda: _chen(n, c, ks), 1 if quick else 2)
    rows = [
        {
            "benchmark": "pass@k, 10,000 problems x 200 samples, k = 1, 10, 100",
            "powerfit": t_pf,
            "peer": "numpy (Chen et al.'s per-problem product)",
            "peer_time": t_ref,
            "target": "same values",
            "notes": f"max |difference| {np.max(np.abs(ours - ref)):.1e}",
        }
    ]
    small = pf.testtime.simulate(1000, 50, alpha=0.4, beta=3.0, seed=1)
    sn, sc = small["n"].to_numpy(), small["c"].to_numpy()
    n_boot = 100 if quick else 400
    t_fit = _best_of(lambda: pf.fit_coverage(small, n_boot=n_boot, seed=0, progress=False), 3)
    t_sp = _best_of(lambda: _scipy_coverage(sn, sc, n_boot, 0), 1)
    cov = pf.fit_coverage(small, n_boot=n_boot, seed=0, progress=False)
    sp = _scipy_coverage(sn, sc, n_boot, 0)
    ours_ci = cov.params().set_index("parameter").loc["alpha", ["lower", "upper"]].to_numpy()
    sp_ci = np.quantile(sp[:, 0], [0.025, 0.975])
    rows.append(
        {
            "benchmark": f"Beta fit + {n_boot} bootstrap replicates, 1,000 problems x 50",
            "powerfit": t_fit,
            "peer": "scipy L-BFGS-B in a Python loop",
            "peer_time": t_sp,
            "target": "alpha interval",
            "notes": f"alpha 95% interval [{ours_ci[0]:.3f}, {ours_ci[1]:.3f}] vs scipy "
            f"[{sp_ci[0]:.3f}, {sp_ci[1]:.3f}] (different resamples); powerfit "
            f"also fits the power law and the curve per replicate",
        }
    )
    details = [
        (
            "- powerfit time is the best of several runs; the peers run once or twice "
            "(they take seconds). Ratios, not absolute times, are comparable across runs."
        )
    ]
    return rows, details


def passk_coverage_section(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Coverage of the bootstrap intervals of alpha and of pass@1000 on simulated
    benchmarks (Beta-distributed success rates)."""
    a0, b0 = 0.5, 2.0
    sims = 60 if ctx.quick else 200
    n_boot = 200 if ctx.quick else 400
    frames = [
        pf.testtime.simulate(300, 25, a0, b0, seed=1000 + s).assign(sim=s) for s in range(sims)
    ]
    t0 = time.perf_counter()
    cov = pf.fit_coverage(pd.concat(frames), by="sim", n_boot=n_boot, seed=1, progress=False)
    dt = time.perf_counter() - t0
    par = cov.params()
    al = par[par["parameter"] == "alpha"]
    hit_a = int(((al["lower"] <= a0) & (a0 <= al["upper"])).sum())
    pr = cov.predict([1000.0])
    truth = -np.expm1(ss.betaln(a0, b0 + 1000.0) - ss.betaln(a0, b0))
    hit_k = int(((pr["lower"] <= truth) & (truth <= pr["upper"])).sum())
    pw = par[par["parameter"] == "b_power"]
    hit_pw = int(((pw["lower"] <= a0) & (a0 <= pw["upper"])).sum())
    details = [
        (
            f"- {sims} simulated benchmarks: 300 problems each, success rates ~ Beta({a0}, {b0}), "
            f"25 attempts per problem; {n_boot} bootstrap replicates over problems each, all "
            f"benchmarks in one call ({dt:.1f} s)."
        ),
        "",
        "| quantity | truth | 95% interval covers it |",
        "|---|---|---|",
        f"| alpha (Beta fit) | {a0} | {hit_a} of {sims} ({hit_a / sims:.1%}) |",
        f"| pass@1000 (Beta law) | {truth:.4f} | {hit_k} of {sims} ({hit_k / sims:.1%}) |",
        (
            f"| exponent b of the power law fitted to the curve (k <= 25) | {a0} (asymptote) | "
            f"{hit_pw} of {sims} ({hit_pw / sims:.1%}): the curve has not reached its power law |"
        ),
    ]
    return [], details


def diagnose_section(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Recovery of the planted regimes of the synthetic sweep, and the OLMo ladder."""
    seeds = range(3 if ctx.quick else 5)
    details = [
        "| noise | accuracy per seed | lowest recall of a regime | time per diagnosis |",
        "|---|---|---|---|",
    ]
    for noise in (0.002, 0.003, 0.005):
        accs, recalls, times = [], {}, []
        for seed in seeds:
            runs = pf.diagnosis.synthetic_sweep(noise=noise, seed=seed)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = pf.diagnose(runs, by="U", n_boot=200, seed=seed)
            times.append(time.perf_counter() - t0)
            planted = runs.sort_values(["U", "N", "D"], kind="stable")["planted"].to_numpy()
            cells = d.cells.assign(planted=planted)
            scored = cells[cells["planted"] != "ambiguous"]
            accs.append(float((scored["planted"] == scored["regime"]).mean()))
            for r, sub in scored.groupby("planted"):
                recalls.setdefault(r, []).append(float((sub["regime"] == r).mean()))
        low = min((min(v), k) for k, v in recalls.items())
        details.append(
            f"| {noise:.1%} | {', '.join(f'{a:.3f}' for a in accs)} | "
            f"{low[0]:.2f} ({low[1]}) | {np.median(times):.2f} s |"
        )
    d = pf.diagnose(
        pf.datasets.olmo_ladder(),
        run=["size", "chinchilla_multiplier"],
        columns={"D": "tokens", "loss": "loss_c4"},
    )
    tab = d.cells.groupby(d.cells["tokens_per_param"].round(-1))["regime"].agg(
        lambda s: ", ".join(f"{v} {k}" for k, v in s.value_counts().items())
    )
    details += [
        "",
        (
            "- Synthetic sweep: 198 cells (two sweeps of 9 sizes x 11 token counts); "
            "accuracy over the cells whose planted label is unambiguous."
        ),
        "- OLMo ladder (C4 loss), regimes by tokens per parameter: "
        + "; ".join(f"{int(k)}: {v}" for k, v in tab.items())
        + ".",
    ]
    return [], details


def sections(make: Callable[[str, str, Callable[[Any], Any]], Any]) -> dict[str, Any]:
    """bench.py's sections for this file, built with its section maker."""
    return {
        "passk": make("passk", "pass@k and coverage fits (test-time scaling)", passk_section),
        "passk_coverage": make(
            "passk_coverage", "Coverage of the pass@k bootstrap intervals", passk_coverage_section
        ),
        "diagnose": make("diagnose", "Diagnosis: planted regimes recovered", diagnose_section),
    }
