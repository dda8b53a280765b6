"""How cost grows: with the number of points of one fit, of bootstrap replicates and of groups
(docs/scaling.md reads its figures from this section)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import powerfit as pf
from harness import P0, Context, Row, Section, say
from sections.groups import groups_sweep

TRUE = (1.69, 406.4, 410.7, 0.34, 0.28)  # E, A, B, alpha, beta: the law the points follow


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _points(n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    E, A, B, a, b = TRUE
    y = (E + A * N**-a + B * D**-b) * (1 + 0.005 * rng.standard_normal(n))
    return pd.DataFrame({"N": N, "D": D, "loss": y})


def bench_scaling(ctx: Context) -> Section:
    sec = Section(
        "scaling",
        "How cost grows: points of one fit, bootstrap replicates, groups (chinchilla, l2)",
    )
    reps = 2 if ctx.quick else 3
    threads = os.cpu_count() or 1
    details = []
    # one fit: cost per point per LM iteration, given start (the solver alone)
    per_point = {}
    for n in (2_400, 24_000, 240_000, 2_400_000):
        df = _points(n)
        t, res = _median_time(
            lambda df=df: pf.fit(df, law="chinchilla", starts="given", p0=P0, warn=False), reps
        )
        per_point[n] = t / n / max(res.nfev, 1)
        say(f"[scaling] one fit, {n:,} points: {t * 1e3:.1f} ms, {res.nfev} evaluations")
        details.append(
            f"- one fit, {n:,} points, starts='given': {t * 1e3:.1f} ms, {res.nfev} model "
            f"evaluations ({res.status}), {per_point[n] * 1e9:.1f} ns per point per evaluation"
        )
    base = per_point[24_000]
    sec.rows.append(
        Row(
            "one fit: cost per point per evaluation at 2.4 M points vs at 24 k points",
            per_point[2_400_000],
            "the same at 24,000 points",
            base,
            "≤ 1.3x",
            f"{per_point[2_400_000] / base:.2f}x ({per_point[2_400_000] * 1e9:.1f} vs "
            f"{base * 1e9:.1f} ns)",
        )
    )
    # bootstrap: cost per replicate
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", warn=False)
    per_rep = {}
    for n in (1_000, 10_000, 100_000):
        t, _ = _median_time(lambda n=n: res.bootstrap(n_boot=n, seed=0, progress=False), reps)
        per_rep[n] = t / n
        say(f"[scaling] bootstrap {n:,}: {t:.3f} s")
        details.append(
            f"- bootstrap of the 240-point Chinchilla fit, {n:,} case replicates: {t:.3f} s, "
            f"{per_rep[n] * 1e6:.2f} µs per replicate ({threads} threads)"
        )
    sec.rows.append(
        Row(
            "bootstrap: cost per replicate at 100,000 vs at 1,000 replicates",
            per_rep[100_000],
            "the same at 1,000 replicates",
            per_rep[1_000],
            "flat",
            f"{per_rep[100_000] / per_rep[1_000]:.2f}x",
        )
    )
    # groups: cost per 40-point group
    per_group = {}
    for n in (1_000, 10_000, 100_000):
        df = groups_sweep(n, 40)
        t, _ = _median_time(
            lambda df=df: pf.fit_groups(df, by=["sweep", "config"], law="chinchilla", loss="l2"),
            reps,
        )
        per_group[n] = t / n
        say(f"[scaling] fit_groups {n:,} groups: {t:.2f} s")
        details.append(
            f"- fit_groups, {n:,} groups x 40 points (default starts): {t:.2f} s, "
            f"{per_group[n] * 1e6:.1f} µs per group ({threads} threads)"
        )
    sec.rows.append(
        Row(
            "fit_groups: cost per group at 100,000 vs at 1,000 groups",
            per_group[100_000],
            "the same at 1,000 groups",
            per_group[1_000],
            "flat",
            f"{per_group[100_000] / per_group[1_000]:.2f}x",
        )
    )
    sec.details += [
        *details,
        "- Data: points of the Chinchilla law (E, A, B, alpha, beta = "
        f"{TRUE}) with 0.5% noise, N log-uniform in [1e7, 1e10], D in [1e9, 1e12]; groups from "
        "`groups_sweep` (section groups). Medians of "
        f"{reps} runs after a warm-up, in the bench process; rayon on all {threads} CPUs.",
    ]
    return sec
